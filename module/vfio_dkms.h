/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vfio-dkms: interface between the core module (vfio_dkms) and bus drivers
 * such as vfio_dkms_pci.
 *
 * A bus driver embeds a struct vfio_dkms_device in its per-device state,
 * initialises it with vfio_dkms_init_device() and registers it from probe.
 * The core then exposes the device through the IOMMU group node
 * /dev/vfio-dkms/<group> and forwards the device file operations to @ops.
 */
#ifndef VFIO_DKMS_H
#define VFIO_DKMS_H

#include <linux/completion.h>
#include <linux/device.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/refcount.h>
#include <linux/spinlock.h>
#include <linux/vfio.h>

struct file;
struct vfio_dkms_device;
struct vfio_dkms_group;

/**
 * struct vfio_dkms_ioctl_desc - how the core copies an ioctl's argument
 * @cmd: the ioctl number
 * @minsz: the fixed part of the argument, starting with its u32 argsz:
 *	always copied in (a smaller argsz is the handler's -EINVAL to give);
 *	0 with @maxsz 0: the command takes no argument
 * @maxsz: the kernel buffer's largest size: the user's argsz, clamped to
 *	[@minsz, @maxsz], sizes the buffer the handler reads and fills
 * @in_all: the argument carries data after its fixed part: copy in the
 *	whole buffer, not only @minsz bytes
 */
struct vfio_dkms_ioctl_desc {
	unsigned int cmd;
	u32 minsz;
	u32 maxsz;
	bool in_all;
};

/**
 * struct vfio_dkms_ioctl_arg - the kernel copy of an ioctl's argument
 * @buf: the buffer, zero past what was copied in
 * @size: bytes of @buf (at least the command's minsz)
 * @out: bytes of @buf the core copies back to the user when the handler
 *	returns a non-negative value, or -ENOSPC (VFIO's answer to a too
 *	small argsz, which carries the size needed); the handler sets it,
 *	at most @size
 */
struct vfio_dkms_ioctl_arg {
	void *buf;
	u32 size;
	u32 out;
};

/**
 * struct vfio_dkms_device_ops - what a bus driver implements
 * @owner: module implementing the ops; pinned while a device fd is open
 * @name: driver name, for messages
 * @open_device: first device fd opened; enable the device
 * @close_device: last device fd closed; quiesce and disable the device
 * @read: read(2)/pread(2) on the device fd, into a kernel buffer of at
 *	most 64 KiB (larger requests come in pieces): the core copies to
 *	the user outside the file operations' SRCU read section, so that a
 *	user page that never arrives cannot hold up a revocation
 * @write: write(2)/pwrite(2) on the device fd, from a kernel buffer (as
 *	@read)
 * @ioctls: the ioctls of the device fd and the size of their arguments
 *	(@num_ioctls entries); the core copies the argument in before @ioctl
 *	and back out after it, outside the SRCU read section, so that an
 *	argument on a user page that never arrives cannot hold up a
 *	revocation.  A command not in the table fails with -ENOTTY.
 * @num_ioctls: entries of @ioctls
 * @ioctl: an ioctl of @ioctls, on the kernel copy of its argument
 * @mmap: mmap(2) on the device fd
 * @request: the device is being removed while device fds are open; ask the
 *	user to close them (called again every 10 s, @count counting up)
 * @revoke: the device is being taken from the user (removal past the
 *	release_timeout): make every mmap of it fault (SIGBUS) and refuse new
 *	faults, before @close_device runs (called with the open lock held).
 *	Without it, the core zaps @mapping itself.
 * @release: free the bus driver's state of a device; called once, after
 *	vfio_dkms_unregister_device(), when the last device fd is gone.  A
 *	driver with @release gets a bounded removal: fds the user does not
 *	close within the core's release_timeout are revoked (see
 *	vfio_dkms_unregister_device()); without it removal waits for the user.
 */
struct vfio_dkms_device_ops {
	struct module *owner;
	const char *name;
	int (*open_device)(struct vfio_dkms_device *device);
	void (*close_device)(struct vfio_dkms_device *device);
	ssize_t (*read)(struct vfio_dkms_device *device, char *buf,
			size_t count, loff_t *ppos);
	ssize_t (*write)(struct vfio_dkms_device *device, const char *buf,
			 size_t count, loff_t *ppos);
	const struct vfio_dkms_ioctl_desc *ioctls;
	unsigned int num_ioctls;
	long (*ioctl)(struct vfio_dkms_device *device, unsigned int cmd,
		      struct vfio_dkms_ioctl_arg *arg);
	int (*mmap)(struct vfio_dkms_device *device, struct vm_area_struct *vma);
	void (*request)(struct vfio_dkms_device *device, unsigned int count);
	void (*revoke)(struct vfio_dkms_device *device);
	void (*release)(struct vfio_dkms_device *device);
};

/**
 * struct vfio_dkms_device - a device exposed through a group
 * @dev: the physical device
 * @ops: bus driver operations
 * @group: the group the device belongs to (set at registration)
 * @group_next: entry on @group's device list, protected by the group lock
 * @refcount: one for the registration plus one per open device fd
 * @comp: completed when @refcount drops to zero
 * @put_lock: makes "last reference dropped" and @orphaned one decision
 * @orphaned: unregistered while fds were open; the last put calls
 *	ops->release (under @put_lock)
 * @open_lock: serialises @open_count, @gone, @force_closed and the
 *	open/close_device callbacks
 * @open_count: number of open device fds
 * @gone: revoked: no new device fd, and the file operations of the open ones
 *	fail with -ENODEV instead of reaching the bus driver
 * @force_closed: close_device already ran at revocation; the release of
 *	the last fd must not run it again
 * @mapping: if set by the bus driver before registration, the f_mapping of
 *	every device fd, so that the driver can revoke their mmaps with
 *	unmap_mapping_range()
 */
struct vfio_dkms_device {
	struct device *dev;
	const struct vfio_dkms_device_ops *ops;
	struct vfio_dkms_group *group;
	struct list_head group_next;
	refcount_t refcount;
	struct completion comp;
	spinlock_t put_lock;	/* refcount reaching zero vs. orphaned */
	bool orphaned;
	struct mutex open_lock;	/* open_count, gone, open/close_device */
	unsigned int open_count;
	bool gone;
	bool force_closed;
	struct address_space *mapping;
};

void vfio_dkms_init_device(struct vfio_dkms_device *device, struct device *dev,
			   const struct vfio_dkms_device_ops *ops);
int vfio_dkms_register_device(struct vfio_dkms_device *device);
void vfio_dkms_unregister_device(struct vfio_dkms_device *device);
void vfio_dkms_device_put(struct vfio_dkms_device *device);

/* Devices other than the ioctl's own, owned through their groups' files. */
bool vfio_dkms_file_is_group(struct file *file);
struct vfio_dkms_device *
vfio_dkms_group_files_get_device(struct file * const *files, unsigned int nr,
				 struct device *dev,
				 const struct vfio_dkms_device_ops *ops);

/* Capability chains for the *_INFO ioctls, laid out as in-tree VFIO does. */
struct vfio_dkms_info_cap {
	void *buf;
	size_t size;
};

struct vfio_info_cap_header *
vfio_dkms_info_cap_add(struct vfio_dkms_info_cap *caps, size_t size, u16 id,
		       u16 version);
int vfio_dkms_info_add_capability(struct vfio_dkms_info_cap *caps,
				  struct vfio_info_cap_header *cap,
				  size_t size);
void vfio_dkms_info_cap_shift(struct vfio_dkms_info_cap *caps, size_t offset);

#endif /* VFIO_DKMS_H */
