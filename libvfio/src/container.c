// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The container of a context: opened with the first device, set to an
 * IOMMU model when its first group joins.  The model is chosen here, once,
 * from the kind of group (a "noiommu-N" node or not); everything after
 * that goes through ctx->iommu and never asks which model it has.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/vfio.h>

#include "private.h"

const struct vfio__iommu_ops *vfio__iommu_for_group(const struct vfio_group *grp)
{
	return grp->noiommu ? &vfio__iommu_noiommu : &vfio__iommu_type1;
}

int vfio__container_open(struct vfio_context *ctx, const struct vfio__backend *b)
{
	const char *path = ctx->container_path;
	int fd, ver;

	snprintf(ctx->container_path, sizeof(ctx->container_path), "%s%s", vfio__dev_root,
		 b->container);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;

		if (e == ENOENT)
			return vfio__err(ENODEV, "open %s: no such file (is the %s module loaded?)",
					 path, b->module);
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
	ctx->backend = b;
	return 0;
}

void vfio__container_close(struct vfio_context *ctx)
{
	if (ctx->container_fd >= 0)
		close(ctx->container_fd);
	ctx->container_fd = -1;
}

/* The first group is in the container: set @iommu and learn its limits. */
int vfio__container_set_iommu(struct vfio_context *ctx, const struct vfio__iommu_ops *iommu)
{
	int ret = iommu->set(ctx);

	if (ret)
		return ret;
	ctx->iommu = iommu;
	ret = iommu->read_info(ctx);
	if (ret)
		ctx->iommu = NULL;
	return ret;
}
