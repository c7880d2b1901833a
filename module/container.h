/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vfio-dkms containers (container.c): /dev/vfio-dkms/vfio.  Lock order in
 * group.h.
 */
#ifndef VFIO_DKMS_CONTAINER_H
#define VFIO_DKMS_CONTAINER_H

#include <linux/kref.h>
#include <linux/list.h>
#include <linux/rwsem.h>

struct file;
struct vfio_dkms_group;
struct vfio_dkms_iommu_ops;

/**
 * struct vfio_dkms_container - what an open /dev/vfio-dkms/vfio refers to
 * @kref: the container file and every attached group hold a reference
 * @group_lock: protects @group_list and the backend; taken for read by the
 *	IOMMU ioctls, for write when groups or the IOMMU backend change
 * @group_list: attached groups (all no-IOMMU groups or all real ones)
 * @iommu_ops: the IOMMU backend (iommu.h), NULL until VFIO_SET_IOMMU and
 *	again once the last group has left
 * @iommu_data: its state, what @iommu_ops->open returned
 * @id: number shown by introspection, unique while the module is loaded
 * @iommu_type: the VFIO_SET_IOMMU argument that set the backend
 * @iommu_gen: counts the backends set on this container, so that a
 *	file's @iommu_set_gen names the backend it set
 * @users: container files whose ioctls go to this container: its own file
 *	plus the files that joined it (shared ownership); under @group_lock
 * @joined: the container this container's file joined (shared ownership),
 *	with a reference; set once, never cleared while the file is open.
 *	The file's ioctls then go to @joined, and this container only
 *	stands for the file: it names the owner of the file's mappings
 * @iommu_set_gen: this container's file did VFIO_SET_IOMMU (shared
 *	ownership: each file sets the IOMMU of the container it uses once) on
 *	the backend whose @iommu_gen this is, 0 for none; only the file's own
 *	ioctls touch it, under the used container's @group_lock
 *
 * Every open of /dev/vfio-dkms/vfio makes one container, its file's
 * "own" container, whose address is the owner of the mappings made
 * through that file (the ioctl op's owner, iommu.h).
 */
struct vfio_dkms_container {
	struct kref kref;
	unsigned long id;
	struct rw_semaphore group_lock;
	struct list_head group_list;
	const struct vfio_dkms_iommu_ops *iommu_ops;
	void *iommu_data;
	unsigned long iommu_type;
	unsigned long iommu_gen;
	unsigned int users;
	struct vfio_dkms_container *joined;
	unsigned long iommu_set_gen;
};

int vfio_dkms_container_init(void);
void vfio_dkms_container_exit(void);
struct vfio_dkms_container *vfio_dkms_container_from_file(struct file *file);
int vfio_dkms_container_attach_group(struct vfio_dkms_container *container,
				     struct vfio_dkms_group *group);
void vfio_dkms_container_detach_group(struct vfio_dkms_group *group);
bool vfio_dkms_container_has_iommu(struct vfio_dkms_container *container);
bool vfio_dkms_container_enforces_coherency(struct vfio_dkms_container *container);
int vfio_dkms_container_shared_set(struct file *file,
				   struct vfio_dkms_group *group);

#endif /* VFIO_DKMS_CONTAINER_H */
