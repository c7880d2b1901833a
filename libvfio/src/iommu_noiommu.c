// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The no-IOMMU model (VFIO_NOIOMMU_IOMMU, docs/noiommu.md): nothing
 * translates, so there are no IOVAs.  vfio-dkms's bus-address extension
 * (linux/vfio_dkms.h) pins the memory and reports its physically
 * contiguous runs, which become the mapping's segments; they must sit
 * below every device's DMA mask because nothing remaps or bounces them.
 * A container without the extension (the in-tree framework) cannot map.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/vfio.h>
#include <linux/vfio_dkms.h>

#include "private.h"

static int noiommu_set(struct vfio_context *ctx)
{
	if (ioctl(ctx->container_fd, VFIO_SET_IOMMU, VFIO_NOIOMMU_IOMMU))
		return vfio__err_sys(errno, "VFIO_SET_IOMMU(VFIO_NOIOMMU_IOMMU) on %s",
				     ctx->container_path);
	return 0;
}

static int noiommu_read_info(struct vfio_context *ctx)
{
	ctx->bus_ext = ioctl(ctx->container_fd, VFIO_CHECK_EXTENSION, VFIO_DKMS_NOIOMMU_DMA) > 0;
	ctx->pgsize = (uint64_t)sysconf(_SC_PAGESIZE);
	return 0;
}

unsigned int vfio__segments_beyond(const struct vfio__segment *segs, unsigned int nr,
				   uint64_t limit)
{
	unsigned int i;

	for (i = 0; i < nr; i++)
		if (segs[i].bus + (segs[i].len - 1) > limit)
			break;
	return i;
}

static void unpin(struct vfio_context *ctx, uint64_t vaddr, uint64_t size)
{
	struct vfio_dkms_noiommu_dma_unmap u = {
		.argsz = sizeof(u), .vaddr = vaddr, .size = size,
	};

	ioctl(ctx->container_fd, VFIO_DKMS_NOIOMMU_UNMAP_DMA, &u);
}

/*
 * VFIO_DKMS_NOIOMMU_MAP_DMA with room for a few segments first; on ENOSPC
 * the kernel says how many are needed.  Returns the filled request.
 */
static int pin(struct vfio_context *ctx, struct vfio_dma *d, unsigned int flags,
	       struct vfio_dkms_noiommu_dma_map **out)
{
	struct vfio_dkms_noiommu_dma_map *m = NULL;
	uint32_t room = 16;
	int ret;

	if (!(flags & VFIO_DMA_BIDIRECTIONAL))
		flags |= VFIO_DMA_BIDIRECTIONAL;
	for (int tries = 0; tries < 4; tries++) {
		size_t sz = sizeof(*m) + (size_t)room * sizeof(m->segments[0]);

		free(m);
		m = calloc(1, sz);
		if (!m)
			return vfio__err(ENOMEM, "out of memory");
		m->argsz = (uint32_t)sz;
		m->vaddr = (uintptr_t)d->vaddr;
		m->size = d->size;
		m->nr_segments = room;
		if (flags & VFIO_DMA_TO_DEVICE)
			m->flags |= VFIO_DKMS_NOIOMMU_DMA_MAP_FLAG_READ;
		if (flags & VFIO_DMA_FROM_DEVICE)
			m->flags |= VFIO_DKMS_NOIOMMU_DMA_MAP_FLAG_WRITE;
		if (!ioctl(ctx->container_fd, VFIO_DKMS_NOIOMMU_MAP_DMA, m))
			break;
		if (errno != ENOSPC || !m->nr_segments || m->nr_segments <= room) {
			ret = vfio__err_sys(errno, "VFIO_DKMS_NOIOMMU_MAP_DMA %p size 0x%llx on %s",
					    d->vaddr, (unsigned long long)d->size,
					    ctx->container_path);
			free(m);
			return ret;
		}
		room = m->nr_segments;
		m->nr_segments = 0;
	}
	if (!m->nr_segments) {
		free(m);
		return vfio__err(EAGAIN, "VFIO_DKMS_NOIOMMU_MAP_DMA %p: segment count kept changing",
				 d->vaddr);
	}
	*out = m;
	return 0;
}

static int noiommu_map(struct vfio_context *ctx, struct vfio_dma *d, uint64_t iova,
		       uint64_t align, uint64_t limit, unsigned int flags)
{
	struct vfio_dkms_noiommu_dma_map *m = NULL;
	struct vfio__segment *segs;
	unsigned int bad;
	int ret;

	(void)align; /* the memory is where it is */
	if (iova != VFIO_IOVA_ANY)
		return vfio__err(EINVAL,
				 "DMA map at 0x%llx: a no-IOMMU context has no IOVAs (the bus address is where the memory is; pass VFIO_IOVA_ANY)",
				 (unsigned long long)iova);
	if (!ctx->bus_ext)
		return vfio__err(ENOTSUP,
				 "DMA in a no-IOMMU context needs vfio-dkms's bus-address extension (VFIO_DKMS_NOIOMMU_DMA), which %s does not offer",
				 ctx->container_path);
	ret = pin(ctx, d, flags, &m);
	if (ret)
		return ret;
	segs = calloc(m->nr_segments, sizeof(*segs));
	if (!segs) {
		ret = vfio__err(ENOMEM, "out of memory");
		goto err_unpin;
	}
	for (uint32_t i = 0; i < m->nr_segments; i++) {
		segs[i].bus = m->segments[i].bus_addr;
		segs[i].len = m->segments[i].size;
	}
	bad = vfio__segments_beyond(segs, m->nr_segments, limit);
	if (bad < m->nr_segments) {
		ret = vfio__err(ERANGE,
				"DMA map %p: bus address 0x%llx+0x%llx is beyond the DMA mask 0x%llx (no IOMMU to remap it)",
				d->vaddr, (unsigned long long)segs[bad].bus,
				(unsigned long long)segs[bad].len, (unsigned long long)limit);
		free(segs);
		goto err_unpin;
	}
	d->segs = segs;
	d->nr_segs = m->nr_segments;
	free(m);
	return 0;

err_unpin:
	unpin(ctx, m->vaddr, m->size);
	free(m);
	return ret;
}

static int noiommu_unmap(struct vfio_context *ctx, struct vfio_dma *d)
{
	struct vfio_dkms_noiommu_dma_unmap u = {
		.argsz = sizeof(u),
		.vaddr = (uintptr_t)d->vaddr,
		.size = d->size,
	};

	if (ioctl(ctx->container_fd, VFIO_DKMS_NOIOMMU_UNMAP_DMA, &u))
		return vfio__err_sys(errno, "VFIO_DKMS_NOIOMMU_UNMAP_DMA %p size 0x%zx on %s",
				     d->vaddr, d->size, ctx->container_path);
	return 0;
}

const struct vfio__iommu_ops vfio__iommu_noiommu = {
	.name = "no-IOMMU",
	.set = noiommu_set,
	.read_info = noiommu_read_info,
	.map = noiommu_map,
	.unmap = noiommu_unmap,
	.contiguous = false,
};
