// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The type1 IOMMU model: the container translates, so libvfio picks the
 * IOVAs (iova.c, inside the ranges the kernel reports) and every mapping
 * is one run of device addresses.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/ioctl.h>

#include <linux/vfio.h>

#include "private.h"

static int type1_set(struct vfio_context *ctx)
{
	unsigned long type = VFIO_TYPE1v2_IOMMU;

	if (ioctl(ctx->container_fd, VFIO_CHECK_EXTENSION, type) <= 0)
		type = VFIO_TYPE1_IOMMU;
	if (ioctl(ctx->container_fd, VFIO_SET_IOMMU, type))
		return vfio__err_sys(errno, "VFIO_SET_IOMMU on %s", ctx->container_path);
	return 0;
}

/* VFIO_IOMMU_GET_INFO, grown until the capability chain fits. */
static int get_info(struct vfio_context *ctx, struct vfio_iommu_type1_info **out, size_t *size)
{
	struct vfio_iommu_type1_info *info;
	size_t sz = sizeof(*info);

	for (;;) {
		info = calloc(1, sz);
		if (!info)
			return vfio__err(ENOMEM, "out of memory");
		info->argsz = sz;
		if (ioctl(ctx->container_fd, VFIO_IOMMU_GET_INFO, info)) {
			int ret = vfio__err_sys(errno, "VFIO_IOMMU_GET_INFO on %s",
						ctx->container_path);

			free(info);
			return ret;
		}
		if (info->argsz <= sz)
			break;
		sz = info->argsz;
		free(info);
	}
	*out = info;
	*size = sz;
	return 0;
}

/* The smallest IOMMU page (at least 4 KiB) and the usable IOVA ranges. */
static int type1_read_info(struct vfio_context *ctx)
{
	struct vfio_iommu_type1_info *info = NULL;
	struct vfio__iova_range *ranges = NULL;
	unsigned int nr = 0;
	size_t sz = 0;
	int ret;

	ret = get_info(ctx, &info, &sz);
	if (ret)
		return ret;
	ctx->pgsize = 4096;
	if ((info->flags & VFIO_IOMMU_INFO_PGSIZES) && info->iova_pgsizes)
		ctx->pgsize = info->iova_pgsizes & -info->iova_pgsizes;
	if (ctx->pgsize < 4096)
		ctx->pgsize = 4096;
	if ((info->flags & VFIO_IOMMU_INFO_CAPS) && info->cap_offset)
		ret = vfio__parse_iova_ranges(info, sz, info->cap_offset, &ranges, &nr);
	free(info);
	if (ret)
		return ret;
	vfio__iova_fini(&ctx->iova);
	ret = vfio__iova_init(&ctx->iova, ranges, nr, ctx->pgsize);
	free(ranges);
	return ret;
}

static int map_ioctl(struct vfio_context *ctx, void *vaddr, uint64_t iova, uint64_t size,
		     unsigned int flags)
{
	struct vfio_iommu_type1_dma_map m = {
		.argsz = sizeof(m),
		.vaddr = (uintptr_t)vaddr,
		.iova = iova,
		.size = size,
	};

	if (!(flags & VFIO_DMA_BIDIRECTIONAL))
		flags |= VFIO_DMA_BIDIRECTIONAL;
	if (flags & VFIO_DMA_TO_DEVICE)
		m.flags |= VFIO_DMA_MAP_FLAG_READ;
	if (flags & VFIO_DMA_FROM_DEVICE)
		m.flags |= VFIO_DMA_MAP_FLAG_WRITE;
	if (ioctl(ctx->container_fd, VFIO_IOMMU_MAP_DMA, &m))
		return vfio__err_sys(errno, "VFIO_IOMMU_MAP_DMA iova 0x%llx size 0x%llx on %s",
				     (unsigned long long)iova, (unsigned long long)size,
				     ctx->container_path);
	return 0;
}

static int type1_map(struct vfio_context *ctx, struct vfio_dma *d, uint64_t iova, uint64_t align,
		     uint64_t limit, unsigned int flags)
{
	struct vfio__segment *seg;
	int ret;

	seg = calloc(1, sizeof(*seg));
	if (!seg)
		return vfio__err(ENOMEM, "out of memory");
	ret = vfio__iova_assign(&ctx->iova, iova, d->size, align, limit, &iova);
	if (ret)
		goto err_free;
	ret = map_ioctl(ctx, d->vaddr, iova, d->size, flags);
	if (ret)
		goto err_release;
	seg->bus = iova;
	seg->len = d->size;
	d->segs = seg;
	d->nr_segs = 1;
	return 0;

err_release:
	vfio__iova_release(&ctx->iova, iova);
err_free:
	free(seg);
	return ret;
}

/* The IOVA goes back to the allocator even when the kernel refused. */
static int type1_unmap(struct vfio_context *ctx, struct vfio_dma *d)
{
	struct vfio_iommu_type1_dma_unmap u = {
		.argsz = sizeof(u),
		.iova = d->segs[0].bus,
		.size = d->size,
	};
	int ret = 0;

	if (ioctl(ctx->container_fd, VFIO_IOMMU_UNMAP_DMA, &u))
		ret = vfio__err_sys(errno, "VFIO_IOMMU_UNMAP_DMA iova 0x%llx size 0x%llx on %s",
				    (unsigned long long)d->segs[0].bus,
				    (unsigned long long)d->size, ctx->container_path);
	else if (u.size != d->size)
		ret = vfio__err(EIO, "VFIO_IOMMU_UNMAP_DMA iova 0x%llx: unmapped 0x%llx of 0x%llx bytes",
				(unsigned long long)d->segs[0].bus, (unsigned long long)u.size,
				(unsigned long long)d->size);
	vfio__iova_release(&ctx->iova, d->segs[0].bus);
	return ret;
}

const struct vfio__iommu_ops vfio__iommu_type1 = {
	.name = "type1",
	.set = type1_set,
	.read_info = type1_read_info,
	.map = type1_map,
	.unmap = type1_unmap,
	.contiguous = true,
};
