/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vfio-dkms core internals shared by vfio_dkms_main.c, group.c, container.c
 * and iommu_type1.c.  Not for bus drivers.
 *
 * Lock order (outer to inner):
 *   kernfs active reference of a group's "shared" attribute (sysfs store)
 *   vfio_dkms groups lock (group.c)
 *     group->group_lock
 *       device->open_lock
 *       container->group_lock
 *         iommu->lock (iommu_type1.c) or noiommu->lock (noiommu.c)
 *
 * Two container group_locks are never held at once: joining a shared
 * container (container.c) takes the joining file's own container and the
 * joined one one after the other.  Shared ownership (docs/shared-ownership.md)
 * adds no lock: a shared group's openers are under its group_lock, a
 * container's file count under its group_lock.
 */
#ifndef VFIO_DKMS_PRIVATE_H
#define VFIO_DKMS_PRIVATE_H

#include <linux/cdev.h>
#include <linux/device.h>
#include <linux/fs.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/rwsem.h>

#include "vfio_dkms.h"

struct iommu_group;
struct mm_struct;
struct task_struct;
struct vfio_dkms_iommu;
struct vfio_dkms_noiommu;

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

/**
 * struct vfio_dkms_container - what an open /dev/vfio-dkms/vfio refers to
 * @kref: the container file and every attached group hold a reference
 * @group_lock: protects @group_list and @iommu; taken for read by the IOMMU
 *	ioctls, for write when groups or the IOMMU backend change
 * @group_list: attached groups
 * @iommu: type1 backend state, NULL until VFIO_SET_IOMMU
 * @noiommu_iommu: no-IOMMU backend state, NULL until VFIO_SET_IOMMU
 *	(at most one of @iommu and @noiommu_iommu is set)
 * @noiommu: the attached groups are no-IOMMU groups (meaningful while
 *	@group_list is not empty; real and no-IOMMU groups never mix)
 * @id: number shown by introspection, unique while the module is loaded
 * @iommu_type: the VFIO_SET_IOMMU argument that set @iommu
 * @users: container files whose ioctls go to this container: its own file
 *	plus the files that joined it (shared ownership); under @group_lock
 * @joined: the container this container's file joined (shared ownership),
 *	with a reference; set once, never cleared while the file is open.
 *	The file's ioctls then go to @joined, and this container only
 *	stands for the file: it names the owner of the file's mappings
 * @iommu_set: this container's file did VFIO_SET_IOMMU (shared ownership:
 *	each file sets the IOMMU of the container it uses once); only the
 *	file's own ioctls touch it, under the used container's @group_lock
 *
 * Every open of /dev/vfio-dkms/vfio makes one container, its file's
 * "own" container, whose address is the owner of the mappings made
 * through that file (iommu_type1.c).
 */
struct vfio_dkms_container {
	struct kref kref;
	unsigned long id;
	struct rw_semaphore group_lock;
	struct list_head group_list;
	struct vfio_dkms_iommu *iommu;
	unsigned long iommu_type;
	unsigned int users;
	struct vfio_dkms_container *joined;
	bool iommu_set;
	struct vfio_dkms_noiommu *noiommu_iommu;
	bool noiommu;
};

/* group.c */
int vfio_dkms_group_init(void);
void vfio_dkms_group_exit(void);
int vfio_dkms_group_add_device(struct vfio_dkms_device *device,
			       struct iommu_group *iommu_group, bool noiommu);
void vfio_dkms_group_remove_device(struct vfio_dkms_device *device);
int vfio_dkms_group_for_each(int (*fn)(struct vfio_dkms_group *group,
				       void *data),
			     void *data);
int vfio_dkms_group_shared_get_device(struct vfio_dkms_group *group,
				      struct file *group_file);
void vfio_dkms_group_shared_put_device(struct vfio_dkms_group *group,
				       struct file *group_file);

/* container.c */
int vfio_dkms_container_init(void);
void vfio_dkms_container_exit(void);
struct vfio_dkms_container *vfio_dkms_container_from_file(struct file *file);
int vfio_dkms_container_attach_group(struct vfio_dkms_container *container,
				     struct vfio_dkms_group *group);
void vfio_dkms_container_detach_group(struct vfio_dkms_group *group);
bool vfio_dkms_container_has_iommu(struct vfio_dkms_container *container);
int vfio_dkms_container_shared_set(struct file *file,
				   struct vfio_dkms_group *group);

/* vfio_dkms_main.c */
struct file *vfio_dkms_device_open_file(struct vfio_dkms_device *device,
					struct file *group_file);
void vfio_dkms_device_put(struct vfio_dkms_device *device);

/* iommu_type1.c */
int vfio_dkms_account_locked_vm(struct mm_struct *mm, struct task_struct *task,
				bool lock_cap, long npage);
long vfio_dkms_type1_check_extension(struct vfio_dkms_iommu *iommu,
				     unsigned long arg);
struct vfio_dkms_iommu *vfio_dkms_type1_open(unsigned long arg);
void vfio_dkms_type1_release(struct vfio_dkms_iommu *iommu);
int vfio_dkms_type1_attach_group(struct vfio_dkms_iommu *iommu,
				 struct iommu_group *iommu_group);
void vfio_dkms_type1_detach_group(struct vfio_dkms_iommu *iommu,
				  struct iommu_group *iommu_group);
long vfio_dkms_type1_ioctl(struct vfio_dkms_iommu *iommu, const void *owner,
			   unsigned int cmd, unsigned long arg);
void vfio_dkms_type1_release_owner(struct vfio_dkms_iommu *iommu,
				   const void *owner);

/**
 * struct vfio_dkms_type1_visitor - introspection of a type1 backend
 * @summary: called first, once
 * @dma: called for every mapping, in IOVA order; @pid is the mapper's tgid
 *
 * Both run with the backend's lock held: they may not sleep on anything
 * that waits for the backend.
 */
struct vfio_dkms_type1_visitor {
	void (*summary)(void *data, bool v2, unsigned int nr_dma,
			unsigned long pinned_pages, unsigned int dma_avail);
	void (*dma)(void *data, dma_addr_t iova, size_t size, int prot,
		    pid_t pid);
};
void vfio_dkms_type1_introspect(struct vfio_dkms_iommu *iommu,
				const struct vfio_dkms_type1_visitor *v,
				void *data);

/* noiommu.c */
extern bool vfio_dkms_noiommu;
long vfio_dkms_noiommu_check_extension(struct vfio_dkms_noiommu *noiommu,
				       unsigned long arg);
struct vfio_dkms_noiommu *vfio_dkms_noiommu_open(unsigned long arg);
void vfio_dkms_noiommu_release(struct vfio_dkms_noiommu *noiommu);
long vfio_dkms_noiommu_ioctl(struct vfio_dkms_noiommu *noiommu,
			     unsigned int cmd, unsigned long arg);
struct iommu_group *vfio_dkms_noiommu_group_alloc(struct device *dev);

/**
 * struct vfio_dkms_noiommu_visitor - introspection of a no-IOMMU backend
 * @summary: called first, once
 * @pin: called for every pinned range, in vaddr order; @pid is the
 *	pinner's tgid
 * @segment: called for every segment of the range just passed to @pin
 *
 * All run with the backend's lock held.
 */
struct vfio_dkms_noiommu_visitor {
	void (*summary)(void *data, unsigned int nr_pins,
			unsigned long pinned_pages);
	void (*pin)(void *data, unsigned long vaddr, size_t size, bool write,
		    unsigned long nr_segs, pid_t pid);
	void (*segment)(void *data, u64 bus_addr, u64 size);
};
void vfio_dkms_noiommu_introspect(struct vfio_dkms_noiommu *noiommu,
				  const struct vfio_dkms_noiommu_visitor *v,
				  void *data);

/* debugfs.c (compiled only with CONFIG_DEBUG_FS) */
#ifdef CONFIG_DEBUG_FS
void vfio_dkms_debugfs_init(void);
void vfio_dkms_debugfs_exit(void);
#else
static inline void vfio_dkms_debugfs_init(void) { }
static inline void vfio_dkms_debugfs_exit(void) { }
#endif

#endif /* VFIO_DKMS_PRIVATE_H */
