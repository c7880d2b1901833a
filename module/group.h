/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vfio-dkms groups (group.c): one node per IOMMU group with a bound device.
 *
 * Lock order of the core (outer to inner):
 *   kernfs active reference of a group's "shared" attribute (sysfs store)
 *   vfio_dkms groups lock (group.c)
 *     group->group_lock
 *       device->open_lock
 *       container->group_lock
 *         the IOMMU backend's own lock (iommu_type1.c, noiommu.c)
 *
 * Two container group_locks are never held at once: joining a shared
 * container (container.c) takes the joining file's own container and the
 * joined one one after the other.  Shared ownership (docs/shared-ownership.md)
 * adds no lock: a shared group's openers are under its group_lock, a
 * container's file count under its group_lock.
 */
#ifndef VFIO_DKMS_GROUP_H
#define VFIO_DKMS_GROUP_H

#include <linux/cdev.h>
#include <linux/device.h>
#include <linux/list.h>
#include <linux/mutex.h>

struct file;
struct iommu_group;
struct pid;
struct vfio_dkms_container;
struct vfio_dkms_device;

/**
 * struct vfio_dkms_group - one IOMMU group with at least one device bound
 * @dev: class device behind /dev/vfio-dkms/<id>; its release frees the group
 * @cdev: character device of the group node
 * @iommu_group: the IOMMU group; NULL once the last device has left
 * @group_next: entry on the global group list (group.c)
 * @group_lock: protects every field below and @iommu_group
 * @device_list: registered devices of this group
 * @opened_file: the one open file of the group node, or NULL
 * @container: the container the group is attached to, or NULL
 * @container_users: 1 for the attachment plus one per open device fd
 * @container_next: entry on @container's group list, protected by the
 *	container's group_lock
 * @opener: thread group of the process that opened the group node, while
 *	@opened_file is set (introspection only)
 * @shared: shared ownership enabled by root (sysfs attribute "shared");
 *	only changes while the group node is not open.  A shared group has
 *	no @opened_file/@opener but one entry per open file on @openers
 * @openers: open files of a shared group (struct vfio_dkms_group_opener)
 * @nr_attached: openers of a shared group that have set the container;
 *	the group stays in @container while this is not zero
 * @noiommu: a no-IOMMU group (noiommu.c): its @iommu_group was made for
 *	its one device, opening it needs CAP_SYS_RAWIO; set at creation
 */
struct vfio_dkms_group {
	struct device dev;
	struct cdev cdev;
	struct iommu_group *iommu_group;
	struct list_head group_next;
	struct mutex group_lock;	/* iommu_group and all below */
	struct list_head device_list;
	struct file *opened_file;
	struct vfio_dkms_container *container;
	unsigned int container_users;
	struct list_head container_next;
	struct pid *opener;
	bool shared;
	struct list_head openers;
	unsigned int nr_attached;
	bool noiommu;
};

/**
 * struct vfio_dkms_group_opener - one open file of a shared group's node
 * @next: entry on the group's @openers, under its group_lock
 * @file: the group file
 * @pid: thread group of the process that opened it (introspection)
 * @attached: this file did VFIO_GROUP_SET_CONTAINER (and no UNSET since)
 * @device_users: device fds opened through this file and still open
 */
struct vfio_dkms_group_opener {
	struct list_head next;
	struct file *file;
	struct pid *pid;
	bool attached;
	unsigned int device_users;
};

int vfio_dkms_group_init(void);
void vfio_dkms_group_exit(void);
int vfio_dkms_group_add_device(struct vfio_dkms_device *device,
			       struct iommu_group *iommu_group, bool noiommu);
void vfio_dkms_group_remove_device(struct vfio_dkms_device *device);
bool vfio_dkms_group_enforces_coherency(struct file *group_file);
int vfio_dkms_group_for_each(int (*fn)(struct vfio_dkms_group *group,
				       void *data),
			     void *data);
int vfio_dkms_group_shared_get_device(struct vfio_dkms_group *group,
				      struct file *group_file);
void vfio_dkms_group_shared_put_device(struct vfio_dkms_group *group,
				       struct file *group_file);

#endif /* VFIO_DKMS_GROUP_H */
