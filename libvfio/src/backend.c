// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Backends.  The in-tree framework and vfio-dkms share the legacy
 * container/group ioctl ABI (linux/vfio.h, type1 IOMMU); they differ in
 * the /dev directory and the PCI driver name, so both use the "type1"
 * operations below with their own paths.  An iommufd backend gets its
 * own operations (cdev + iommufd ioas) behind the same struct.
 *
 * No-IOMMU groups (node "noiommu-N", docs/noiommu.md) are found when the
 * node "N" is missing; their context uses VFIO_NOIOMMU_IOMMU and, on
 * vfio-dkms, maps DMA with the bus-address extension (linux/vfio_dkms.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/vfio.h>
#include <linux/vfio_dkms.h>

#include "private.h"

const char *const vfio__vfio_drivers[] = { "vfio-pci", "vfio-dkms-pci", NULL };

static int type1_ctx_open(struct vfio_context *ctx)
{
	char path[320];
	int fd, ver;

	snprintf(path, sizeof(path), "%s%s/vfio", vfio__dev_root, ctx->ops->dev_dir);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;

		if (e == ENOENT)
			return vfio__err(ENODEV, "open %s: no such file (is the %s module loaded?)",
					 path, ctx->ops->id == VFIO_BACKEND_VFIO ? "vfio" : "vfio_dkms");
		if (e == EACCES || e == EPERM)
			return vfio__err(e, "open %s: %s (are you root?)", path, strerror(e));
		return vfio__err_sys(e, "open %s", path);
	}
	ver = ioctl(fd, VFIO_GET_API_VERSION);
	if (ver != VFIO_API_VERSION) {
		close(fd);
		return vfio__err(EPROTO, "VFIO_GET_API_VERSION on %s: %d, expected %d", path, ver,
				 VFIO_API_VERSION);
	}
	if (ioctl(fd, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) <= 0 &&
	    ioctl(fd, VFIO_CHECK_EXTENSION, VFIO_TYPE1_IOMMU) <= 0) {
		close(fd);
		return vfio__err(ENOTSUP, "VFIO_CHECK_EXTENSION on %s: no type1 IOMMU support",
				 path);
	}
	ctx->container_fd = fd;
	return 0;
}

static void type1_ctx_close(struct vfio_context *ctx)
{
	if (ctx->container_fd >= 0)
		close(ctx->container_fd);
	ctx->container_fd = -1;
}

/* Read page sizes and usable IOVA ranges once the IOMMU is set. */
static int type1_iommu_info(struct vfio_context *ctx)
{
	struct vfio_iommu_type1_info *info;
	struct vfio__iova_range *ranges = NULL;
	unsigned int nr = 0;
	size_t sz = sizeof(*info);
	int ret;

	for (;;) {
		info = calloc(1, sz);
		if (!info)
			return vfio__err(ENOMEM, "out of memory");
		info->argsz = sz;
		if (ioctl(ctx->container_fd, VFIO_IOMMU_GET_INFO, info)) {
			ret = vfio__err_sys(errno, "VFIO_IOMMU_GET_INFO on %s%s/vfio",
					    vfio__dev_root, ctx->ops->dev_dir);
			free(info);
			return ret;
		}
		if (info->argsz <= sz)
			break;
		sz = info->argsz;
		free(info);
	}
	ctx->pgsize = 4096;
	if ((info->flags & VFIO_IOMMU_INFO_PGSIZES) && info->iova_pgsizes)
		ctx->pgsize = info->iova_pgsizes & -info->iova_pgsizes;
	if (ctx->pgsize < 4096)
		ctx->pgsize = 4096;
	ret = 0;
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

static int type1_group_attach(struct vfio_context *ctx, struct vfio_group *grp)
{
	struct vfio_group_status st = { .argsz = sizeof(st) };
	char blocker[160];
	int ret;

	snprintf(grp->path, sizeof(grp->path), "%s%s/%d", vfio__dev_root, ctx->ops->dev_dir,
		 grp->number);
	grp->fd = open(grp->path, O_RDWR | O_CLOEXEC);
	if (grp->fd < 0 && errno == ENOENT) {
		/* A no-IOMMU group has its own node name. */
		snprintf(grp->path, sizeof(grp->path), "%s%s/noiommu-%d", vfio__dev_root,
			 ctx->ops->dev_dir, grp->number);
		grp->fd = open(grp->path, O_RDWR | O_CLOEXEC);
		if (grp->fd >= 0 || errno != ENOENT)
			grp->noiommu = true;
		else
			snprintf(grp->path, sizeof(grp->path), "%s%s/%d", vfio__dev_root,
				 ctx->ops->dev_dir, grp->number);
	}
	if (grp->fd < 0) {
		int e = errno;

		if (e == ENOENT)
			return vfio__err(ENODEV, "open %s: no such file (is the device bound to %s?)",
					 grp->path, ctx->ops->driver);
		if (e == EBUSY)
			return vfio__err(EBUSY, "open %s: group is already open (in use by another process)",
					 grp->path);
		if (grp->noiommu && e == EPERM)
			return vfio__err(e, "open %s: %s (a no-IOMMU group needs CAP_SYS_RAWIO)",
					 grp->path, strerror(e));
		if (e == EACCES || e == EPERM)
			return vfio__err(e, "open %s: %s (are you root?)", grp->path, strerror(e));
		return vfio__err_sys(e, "open %s", grp->path);
	}
	if (ctx->iommu_set && ctx->noiommu != grp->noiommu) {
		ret = vfio__err(EPERM,
				"%s: a context holds either no-IOMMU groups or IOMMU groups, not both (open the device in a context of its own)",
				grp->path);
		goto err_close;
	}
	if (ioctl(grp->fd, VFIO_GROUP_GET_STATUS, &st)) {
		ret = vfio__err_sys(errno, "VFIO_GROUP_GET_STATUS on %s", grp->path);
		goto err_close;
	}
	if (!(st.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		if (vfio__group_blocker(grp->number, vfio__vfio_drivers, blocker,
					sizeof(blocker)) != 1)
			snprintf(blocker, sizeof(blocker),
				 "a device in group %d is bound to a non-VFIO driver", grp->number);
		ret = vfio__err(EBUSY, "VFIO_GROUP_GET_STATUS on %s: group not viable: %s",
				grp->path, blocker);
		goto err_close;
	}
	/*
	 * Since 5.19 the kernel reports a group viable until someone claims
	 * its DMA ownership; a member bound to a kernel driver then makes
	 * SET_CONTAINER fail with EBUSY.  Name the blocker either way.
	 */
	if (!(st.flags & VFIO_GROUP_FLAGS_CONTAINER_SET) &&
	    ioctl(grp->fd, VFIO_GROUP_SET_CONTAINER, &ctx->container_fd)) {
		int e = errno;

		if (e == EBUSY && vfio__group_blocker(grp->number, vfio__vfio_drivers, blocker,
						      sizeof(blocker)) == 1)
			ret = vfio__err(EBUSY, "VFIO_GROUP_SET_CONTAINER on %s: group not viable: %s",
					grp->path, blocker);
		else
			ret = vfio__err_sys(e, "VFIO_GROUP_SET_CONTAINER on %s", grp->path);
		goto err_close;
	}
	if (!ctx->iommu_set && grp->noiommu) {
		if (ioctl(ctx->container_fd, VFIO_SET_IOMMU, VFIO_NOIOMMU_IOMMU)) {
			ret = vfio__err_sys(errno, "VFIO_SET_IOMMU(VFIO_NOIOMMU_IOMMU) on %s%s/vfio",
					    vfio__dev_root, ctx->ops->dev_dir);
			goto err_unset;
		}
		ctx->iommu_set = true;
		ctx->noiommu = true;
		ctx->bus_ext = ioctl(ctx->container_fd, VFIO_CHECK_EXTENSION,
				     VFIO_DKMS_NOIOMMU_DMA) > 0;
		ctx->pgsize = (uint64_t)sysconf(_SC_PAGESIZE);
		return 0;
	}
	if (!ctx->iommu_set) {
		unsigned long type = VFIO_TYPE1v2_IOMMU;

		if (ioctl(ctx->container_fd, VFIO_CHECK_EXTENSION, type) <= 0)
			type = VFIO_TYPE1_IOMMU;
		if (ioctl(ctx->container_fd, VFIO_SET_IOMMU, type)) {
			ret = vfio__err_sys(errno, "VFIO_SET_IOMMU on %s%s/vfio", vfio__dev_root,
					    ctx->ops->dev_dir);
			goto err_unset;
		}
		ctx->iommu_set = true;
		ret = type1_iommu_info(ctx);
		if (ret)
			goto err_unset;
	}
	return 0;

err_unset:
	ioctl(grp->fd, VFIO_GROUP_UNSET_CONTAINER);
err_close:
	close(grp->fd);
	grp->fd = -1;
	return ret;
}

static void type1_group_detach(struct vfio_context *ctx, struct vfio_group *grp)
{
	(void)ctx;
	if (grp->fd < 0)
		return;
	ioctl(grp->fd, VFIO_GROUP_UNSET_CONTAINER);
	close(grp->fd);
	grp->fd = -1;
}

static int type1_device_fd(struct vfio_group *grp, const char *addr)
{
	int fd = ioctl(grp->fd, VFIO_GROUP_GET_DEVICE_FD, addr);

	if (fd < 0)
		return vfio__err_sys(errno, "VFIO_GROUP_GET_DEVICE_FD %s on %s", addr, grp->path);
	return fd;
}

static int type1_dma_map(struct vfio_context *ctx, void *vaddr, uint64_t iova, uint64_t size,
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
		return vfio__err_sys(errno, "VFIO_IOMMU_MAP_DMA iova 0x%llx size 0x%llx on %s%s/vfio",
				     (unsigned long long)iova, (unsigned long long)size,
				     vfio__dev_root, ctx->ops->dev_dir);
	return 0;
}

static int type1_dma_unmap(struct vfio_context *ctx, uint64_t iova, uint64_t size)
{
	struct vfio_iommu_type1_dma_unmap u = {
		.argsz = sizeof(u),
		.iova = iova,
		.size = size,
	};

	if (ioctl(ctx->container_fd, VFIO_IOMMU_UNMAP_DMA, &u))
		return vfio__err_sys(errno, "VFIO_IOMMU_UNMAP_DMA iova 0x%llx size 0x%llx on %s%s/vfio",
				     (unsigned long long)iova, (unsigned long long)size,
				     vfio__dev_root, ctx->ops->dev_dir);
	if (u.size != size)
		return vfio__err(EIO, "VFIO_IOMMU_UNMAP_DMA iova 0x%llx: unmapped 0x%llx of 0x%llx bytes",
				 (unsigned long long)iova, (unsigned long long)u.size,
				 (unsigned long long)size);
	return 0;
}

/*
 * Pin @d with VFIO_DKMS_NOIOMMU_MAP_DMA and keep its segments.  Room for a
 * few segments first; on ENOSPC the kernel says how many are needed.
 */
int vfio__noiommu_map(struct vfio_context *ctx, struct vfio_dma *d, unsigned int flags)
{
	struct vfio_dkms_noiommu_dma_map *m = NULL;
	uint32_t room = 16;
	int ret;

	if (!ctx->bus_ext)
		return vfio__err(ENOTSUP,
				 "DMA in a no-IOMMU context needs vfio-dkms's bus-address extension (VFIO_DKMS_NOIOMMU_DMA), which %s%s/vfio does not offer",
				 vfio__dev_root, ctx->ops->dev_dir);
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
		if (!(flags & VFIO_DMA_BIDIRECTIONAL))
			flags |= VFIO_DMA_BIDIRECTIONAL;
		if (flags & VFIO_DMA_TO_DEVICE)
			m->flags |= VFIO_DKMS_NOIOMMU_DMA_MAP_FLAG_READ;
		if (flags & VFIO_DMA_FROM_DEVICE)
			m->flags |= VFIO_DKMS_NOIOMMU_DMA_MAP_FLAG_WRITE;
		if (!ioctl(ctx->container_fd, VFIO_DKMS_NOIOMMU_MAP_DMA, m))
			break;
		if (errno != ENOSPC || !m->nr_segments || m->nr_segments <= room) {
			ret = vfio__err_sys(errno, "VFIO_DKMS_NOIOMMU_MAP_DMA %p size 0x%llx on %s%s/vfio",
					    d->vaddr, (unsigned long long)d->size, vfio__dev_root,
					    ctx->ops->dev_dir);
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
	d->segs = calloc(m->nr_segments, sizeof(*d->segs));
	if (!d->segs) {
		struct vfio_dkms_noiommu_dma_unmap u = {
			.argsz = sizeof(u), .vaddr = m->vaddr, .size = m->size,
		};

		ioctl(ctx->container_fd, VFIO_DKMS_NOIOMMU_UNMAP_DMA, &u);
		free(m);
		return vfio__err(ENOMEM, "out of memory");
	}
	for (uint32_t i = 0; i < m->nr_segments; i++) {
		d->segs[i].bus = m->segments[i].bus_addr;
		d->segs[i].len = m->segments[i].size;
	}
	d->nr_segs = m->nr_segments;
	free(m);
	return 0;
}

int vfio__noiommu_unmap(struct vfio_context *ctx, struct vfio_dma *d)
{
	struct vfio_dkms_noiommu_dma_unmap u = {
		.argsz = sizeof(u),
		.vaddr = (uintptr_t)d->vaddr,
		.size = d->size,
	};

	if (ioctl(ctx->container_fd, VFIO_DKMS_NOIOMMU_UNMAP_DMA, &u))
		return vfio__err_sys(errno, "VFIO_DKMS_NOIOMMU_UNMAP_DMA %p size 0x%zx on %s%s/vfio",
				     d->vaddr, d->size, vfio__dev_root, ctx->ops->dev_dir);
	return 0;
}

static const struct vfio__backend backends[] = {
	{
		.id = VFIO_BACKEND_VFIO,
		.name = "vfio",
		.driver = "vfio-pci",
		.dev_dir = "/dev/vfio",
		.ctx_open = type1_ctx_open,
		.ctx_close = type1_ctx_close,
		.group_attach = type1_group_attach,
		.group_detach = type1_group_detach,
		.device_fd = type1_device_fd,
		.dma_map = type1_dma_map,
		.dma_unmap = type1_dma_unmap,
	},
	{
		.id = VFIO_BACKEND_VFIO_DKMS,
		.name = "vfio-dkms",
		.driver = "vfio-dkms-pci",
		.dev_dir = "/dev/vfio-dkms",
		.ctx_open = type1_ctx_open,
		.ctx_close = type1_ctx_close,
		.group_attach = type1_group_attach,
		.group_detach = type1_group_detach,
		.device_fd = type1_device_fd,
		.dma_map = type1_dma_map,
		.dma_unmap = type1_dma_unmap,
	},
};

const struct vfio__backend *vfio__backend_get(enum vfio_backend id)
{
	for (size_t i = 0; i < ARRAY_SIZE(backends); i++)
		if (backends[i].id == id)
			return &backends[i];
	return NULL;
}

const struct vfio__backend *vfio__backend_for_driver(const char *driver)
{
	for (size_t i = 0; i < ARRAY_SIZE(backends); i++)
		if (!strcmp(backends[i].driver, driver))
			return &backends[i];
	return NULL;
}

const char *vfio_backend_name(enum vfio_backend backend)
{
	const struct vfio__backend *b;

	if (backend == VFIO_BACKEND_AUTO)
		return "auto";
	b = vfio__backend_get(backend);
	return b ? b->name : NULL;
}

int vfio_backend_from_name(const char *name, enum vfio_backend *out)
{
	if (name && !strcmp(name, "auto")) {
		*out = VFIO_BACKEND_AUTO;
		return 0;
	}
	for (size_t i = 0; name && i < ARRAY_SIZE(backends); i++)
		if (!strcmp(backends[i].name, name)) {
			*out = backends[i].id;
			return 0;
		}
	return vfio__err(EINVAL, "unknown backend '%s' (auto, vfio, vfio-dkms)",
			 name ? name : "(null)");
}
