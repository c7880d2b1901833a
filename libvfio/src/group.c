// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Groups: one /dev node per IOMMU group, and the ioctls on it.  Which
 * groups a context holds and when the last one leaves is context.c's
 * business; this file only speaks to the kernel about one group, and
 * turns its refusals into messages that name the cause.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/vfio.h>

#include "private.h"

static void node_path(struct vfio_group *grp, const struct vfio__backend *b, const char *prefix)
{
	snprintf(grp->path, sizeof(grp->path), "%s%s/%s%d", vfio__dev_root, b->dev_dir, prefix,
		 grp->number);
}

/* Open node "N", or "noiommu-N" when there is no "N" (docs/noiommu.md). */
int vfio__group_open(struct vfio_group *grp, const struct vfio__backend *b)
{
	int e;

	node_path(grp, b, "");
	grp->fd = open(grp->path, O_RDWR | O_CLOEXEC);
	if (grp->fd < 0 && errno == ENOENT) {
		node_path(grp, b, "noiommu-");
		grp->fd = open(grp->path, O_RDWR | O_CLOEXEC);
		if (grp->fd >= 0 || errno != ENOENT)
			grp->noiommu = true;
		else
			node_path(grp, b, "");
	}
	if (grp->fd >= 0)
		return 0;
	e = errno;
	if (e == ENOENT)
		return vfio__err(ENODEV, "open %s: no such file (is the device bound to %s?)",
				 grp->path, b->driver);
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

/* Fill @msg with the member that keeps the group from being viable. */
static void name_blocker(const struct vfio_group *grp, char *msg, size_t len)
{
	if (vfio__group_blocker(grp->number, vfio__vfio_drivers, msg, len) != 1)
		snprintf(msg, len, "a device in group %d is bound to a non-VFIO driver",
			 grp->number);
}

int vfio__group_check_viable(struct vfio_group *grp, bool *in_container)
{
	struct vfio_group_status st = { .argsz = sizeof(st) };
	char blocker[160];

	if (ioctl(grp->fd, VFIO_GROUP_GET_STATUS, &st))
		return vfio__err_sys(errno, "VFIO_GROUP_GET_STATUS on %s", grp->path);
	if (!(st.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		name_blocker(grp, blocker, sizeof(blocker));
		return vfio__err(EBUSY, "VFIO_GROUP_GET_STATUS on %s: group not viable: %s",
				 grp->path, blocker);
	}
	*in_container = st.flags & VFIO_GROUP_FLAGS_CONTAINER_SET;
	return 0;
}

/*
 * Since 5.19 the kernel reports a group viable until someone claims its
 * DMA ownership; a member bound to a kernel driver then makes
 * SET_CONTAINER fail with EBUSY.  Name the blocker either way.
 */
int vfio__group_set_container(struct vfio_group *grp, int container_fd)
{
	char blocker[160];
	int e;

	if (!ioctl(grp->fd, VFIO_GROUP_SET_CONTAINER, &container_fd))
		return 0;
	e = errno;
	if (e == EBUSY &&
	    vfio__group_blocker(grp->number, vfio__vfio_drivers, blocker, sizeof(blocker)) == 1)
		return vfio__err(EBUSY, "VFIO_GROUP_SET_CONTAINER on %s: group not viable: %s",
				 grp->path, blocker);
	return vfio__err_sys(e, "VFIO_GROUP_SET_CONTAINER on %s", grp->path);
}

/* Leave the container (harmless when not in one) and close the node. */
void vfio__group_close(struct vfio_group *grp)
{
	if (grp->fd < 0)
		return;
	ioctl(grp->fd, VFIO_GROUP_UNSET_CONTAINER);
	close(grp->fd);
	grp->fd = -1;
}

int vfio__group_device_fd(struct vfio_group *grp, const char *addr)
{
	int fd = ioctl(grp->fd, VFIO_GROUP_GET_DEVICE_FD, addr);

	if (fd < 0)
		return vfio__err_sys(errno, "VFIO_GROUP_GET_DEVICE_FD %s on %s", addr, grp->path);
	return fd;
}
