// SPDX-License-Identifier: GPL-2.0
/*
 * vfio-dkms core: module setup, device registration and the device file.
 *
 * An out-of-tree implementation of the VFIO group/container user API
 * (<linux/vfio.h>) that lives beside the in-tree framework: its nodes are
 * under /dev/vfio-dkms/ and nothing it registers shares a name with vfio.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/iommu.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/srcu.h>

#include "compat.h"
#include "vfio_dkms_private.h"

#define DRIVER_DESC	"VFIO-compatible user-space driver framework (DKMS)"

static unsigned int release_timeout = 30;
module_param(release_timeout, uint, 0644);
MODULE_PARM_DESC(release_timeout,
		 "Seconds a device removal waits for user space to close the device before revoking its fds (0: wait forever, like in-tree vfio; default 30)");

/*
 * Device file operations run inside this SRCU read section, so that a
 * revocation can wait for the ones in flight (synchronize_srcu()) without
 * a lock they would have to take: a read copying into a BAR mmap of the same
 * device faults under mmap_lock, which an rwsem here would invert against
 * mmap(2) (mmap_lock, then this).  One SRCU for all devices: readers are
 * short and revocations rare.  Reads, writes and ioctls copy from and to
 * the user outside the section (vfio_dkms_device_rw(),
 * vfio_dkms_device_fops_unl_ioctl()), so that no reader waits on a user
 * page there.
 */
DEFINE_STATIC_SRCU(vfio_dkms_fops_srcu);

/* --- capability chains ------------------------------------------------- */

/**
 * vfio_dkms_info_cap_add() - append a zeroed capability to a chain
 * @caps: the chain; its buffer is reallocated
 * @size: size of the capability including its header
 * @id: capability id
 * @version: capability version
 *
 * Every capability is padded to 8 bytes so the next one stays aligned.
 *
 * Return: the new header, or ERR_PTR(-ENOMEM) after freeing the chain.
 */
struct vfio_info_cap_header *
vfio_dkms_info_cap_add(struct vfio_dkms_info_cap *caps, size_t size, u16 id,
		       u16 version)
{
	struct vfio_info_cap_header *header, *tmp;
	void *buf;

	size = ALIGN(size, sizeof(u64));
	buf = krealloc(caps->buf, caps->size + size, GFP_KERNEL);
	if (!buf) {
		kfree(caps->buf);
		caps->buf = NULL;
		caps->size = 0;
		return ERR_PTR(-ENOMEM);
	}

	caps->buf = buf;
	header = buf + caps->size;
	memset(header, 0, size);
	header->id = id;
	header->version = version;

	/* Link the new capability at the end of the chain. */
	for (tmp = buf; tmp->next; tmp = buf + tmp->next)
		;
	if (tmp != header)
		tmp->next = caps->size;
	caps->size += size;

	return header;
}
EXPORT_SYMBOL_GPL(vfio_dkms_info_cap_add);

/**
 * vfio_dkms_info_add_capability() - append a filled-in capability
 * @caps: the chain
 * @cap: the capability, starting with its header (id and version set)
 * @size: size of @cap
 *
 * Return: 0 or -ENOMEM.
 */
int vfio_dkms_info_add_capability(struct vfio_dkms_info_cap *caps,
				  struct vfio_info_cap_header *cap,
				  size_t size)
{
	struct vfio_info_cap_header *header;

	header = vfio_dkms_info_cap_add(caps, size, cap->id, cap->version);
	if (IS_ERR(header))
		return PTR_ERR(header);

	memcpy(header + 1, cap + 1, size - sizeof(*header));
	return 0;
}
EXPORT_SYMBOL_GPL(vfio_dkms_info_add_capability);

/**
 * vfio_dkms_info_cap_shift() - make the chain's next offsets absolute
 * @caps: the chain
 * @offset: where the chain will start in the user's buffer (8-aligned)
 */
void vfio_dkms_info_cap_shift(struct vfio_dkms_info_cap *caps, size_t offset)
{
	struct vfio_info_cap_header *tmp;
	void *buf = caps->buf;

	for (tmp = buf; tmp->next; tmp = buf + tmp->next - offset)
		tmp->next += offset;
}
EXPORT_SYMBOL_GPL(vfio_dkms_info_cap_shift);

/* --- device registration ----------------------------------------------- */

/**
 * vfio_dkms_init_device() - initialise an embedded struct vfio_dkms_device
 * @device: the structure to initialise
 * @dev: the physical device
 * @ops: bus driver operations
 */
void vfio_dkms_init_device(struct vfio_dkms_device *device, struct device *dev,
			   const struct vfio_dkms_device_ops *ops)
{
	device->dev = dev;
	device->ops = ops;
	INIT_LIST_HEAD(&device->group_next);
	refcount_set(&device->refcount, 1);
	init_completion(&device->comp);
	spin_lock_init(&device->put_lock);
	device->orphaned = false;
	mutex_init(&device->open_lock);
	device->open_count = 0;
	device->gone = false;
	device->force_closed = false;
}
EXPORT_SYMBOL_GPL(vfio_dkms_init_device);

/**
 * vfio_dkms_register_device() - expose a device to user space
 * @device: initialised device
 *
 * The device joins the vfio-dkms group of its IOMMU group; the group node
 * appears when the first device of the group registers.  A device without
 * an IOMMU group gets a no-IOMMU group of its own if
 * enable_unsafe_noiommu_mode is on (and the kernel is tainted, as upstream
 * does), and is refused otherwise.
 *
 * Return: 0, -EINVAL if the device has no IOMMU group (mode off), or
 * another errno.
 */
int vfio_dkms_register_device(struct vfio_dkms_device *device)
{
	struct iommu_group *iommu_group;
	bool noiommu = false;
	int ret;

	iommu_group = iommu_group_get(device->dev);
	if (!iommu_group) {
		if (!READ_ONCE(vfio_dkms_noiommu)) {
			dev_warn(device->dev,
				 "no IOMMU group, refusing (" KBUILD_MODNAME ".enable_unsafe_noiommu_mode is off)\n");
			return -EINVAL;
		}
		iommu_group = vfio_dkms_noiommu_group_alloc(device->dev);
		if (IS_ERR(iommu_group))
			return PTR_ERR(iommu_group);
		noiommu = true;
	}

	ret = vfio_dkms_group_add_device(device, iommu_group, noiommu);
	if (noiommu) {
		if (ret) {
			iommu_group_remove_device(device->dev);
		} else {
			add_taint(TAINT_USER, LOCKDEP_STILL_OK);
			dev_warn(device->dev,
				 "adding kernel taint for vfio-dkms no-IOMMU group %s\n",
				 dev_name(&device->group->dev));
		}
	}
	iommu_group_put(iommu_group);
	return ret;
}
EXPORT_SYMBOL_GPL(vfio_dkms_register_device);

/**
 * vfio_dkms_device_put() - drop a reference on a device
 * @device: the device; the last reference completes its unregistration,
 *	or frees it when it was unregistered while still referenced
 */
void vfio_dkms_device_put(struct vfio_dkms_device *device)
{
	bool orphaned;

	if (!refcount_dec_and_lock(&device->refcount, &device->put_lock))
		return;
	orphaned = device->orphaned;
	complete(&device->comp);
	spin_unlock(&device->put_lock);

	/* Unregistered long ago: nobody else will free it. */
	if (orphaned)
		device->ops->release(device);
}
EXPORT_SYMBOL_GPL(vfio_dkms_device_put);

/*
 * Take a device away from user space that does not give it back: new opens
 * fail, the file operations in flight finish, the bus driver quiesces the
 * device as on a last close (bus mastering and interrupts off), and every
 * BAR mmap is zapped (later faults get SIGBUS).  The fds stay valid until
 * the user closes them, answering -ENODEV.
 */
static void vfio_dkms_device_revoke(struct vfio_dkms_device *device)
{
	unsigned int open_count;

	mutex_lock(&device->open_lock);
	WRITE_ONCE(device->gone, true);
	mutex_unlock(&device->open_lock);

	synchronize_srcu(&vfio_dkms_fops_srcu);

	mutex_lock(&device->open_lock);
	open_count = device->open_count;
	/*
	 * The mmaps go first: close_device() disables and resets the device,
	 * which a user still reading or writing it through a mapping would
	 * see (or, with memory decode off, turn into Unsupported Requests).
	 */
	if (device->ops->revoke)
		device->ops->revoke(device);
	else if (device->mapping)
		unmap_mapping_range(device->mapping, 0, 0, true);
	if (open_count && device->ops->close_device)
		device->ops->close_device(device);
	device->force_closed = true;
	mutex_unlock(&device->open_lock);

	dev_warn(device->dev,
		 "device fds not closed within %u s: %u revoked, they now fail with ENODEV\n",
		 release_timeout, open_count);
}

/**
 * vfio_dkms_unregister_device() - withdraw a device from user space
 * @device: registered device
 *
 * Asks the user to close the device (ops->request, every 10 s) and waits.
 * With ops->release, the wait is bounded by the release_timeout parameter:
 * then the open fds are revoked (vfio_dkms_device_revoke()) and the device
 * leaves its group while they are still open.  Either way the bus driver may
 * tear the device down once this returns, but it frees its state only in
 * ops->release, which runs here if every fd is closed, else at the last
 * close.
 */
void vfio_dkms_unregister_device(struct vfio_dkms_device *device)
{
	unsigned long timeout = READ_ONCE(release_timeout) * HZ;
	unsigned long deadline = jiffies + timeout;
	bool bounded = timeout && device->ops->release;
	bool noiommu = device->group->noiommu;
	bool warned = false, revoked = false, orphaned;
	unsigned int i = 0;

	vfio_dkms_device_put(device);
	while (!try_wait_for_completion(&device->comp)) {
		long wait = 10 * HZ;

		/* Ask the user (REQ eventfd) to give the device back. */
		if (device->ops->request)
			device->ops->request(device, i++);
		if (bounded)
			wait = clamp_t(long, (long)(deadline - jiffies), 1, wait);
		if (wait_for_completion_timeout(&device->comp, wait))
			break;
		if (!warned) {
			dev_info(device->dev,
				 "device is in use, waiting for its file to be closed\n");
			warned = true;
		}
		if (bounded && time_after_eq(jiffies, deadline)) {
			vfio_dkms_device_revoke(device);
			revoked = true;
			break;
		}
	}

	/*
	 * Leave the group while the device cannot be freed under us: until
	 * @orphaned is set below, a last put only completes @comp.  Once out
	 * of the group, no VFIO_GROUP_GET_DEVICE_FD can take a new reference.
	 */
	vfio_dkms_group_remove_device(device);
	/* The IOMMU group made for a no-IOMMU device goes with it. */
	if (noiommu)
		iommu_group_remove_device(device->dev);

	/*
	 * Revoked fds (or a failing GET_DEVICE_FD) may still hold references:
	 * the last of them frees the device.  The device must not be touched
	 * here after @put_lock is dropped.
	 */
	orphaned = false;
	if (revoked) {
		spin_lock(&device->put_lock);
		orphaned = refcount_read(&device->refcount) != 0;
		device->orphaned = orphaned;
		spin_unlock(&device->put_lock);
	}
	if (!orphaned && device->ops->release)
		device->ops->release(device);
}
EXPORT_SYMBOL_GPL(vfio_dkms_unregister_device);

/* --- the device file --------------------------------------------------- */

/**
 * struct vfio_dkms_device_file - private data of a device fd
 * @device: the device
 * @group_file: the group file it was opened through, referenced: it keeps
 *	the group, and so the container, for the device fd (shared groups
 *	have several group files)
 */
struct vfio_dkms_device_file {
	struct vfio_dkms_device *device;
	struct file *group_file;
};

static struct vfio_dkms_device *vfio_dkms_device_of(struct file *filep)
{
	return ((struct vfio_dkms_device_file *)filep->private_data)->device;
}

static int vfio_dkms_device_fops_release(struct inode *inode,
					 struct file *filep)
{
	struct vfio_dkms_device_file *df = filep->private_data;
	struct vfio_dkms_device *device = df->device;
	struct module *owner = device->ops->owner;
	struct vfio_dkms_group *group = device->group;

	mutex_lock(&group->group_lock);
	mutex_lock(&device->open_lock);
	if (!--device->open_count && !device->force_closed &&
	    device->ops->close_device)
		device->ops->close_device(device);
	mutex_unlock(&device->open_lock);

	group->container_users--;
	vfio_dkms_group_shared_put_device(group, df->group_file);
	mutex_unlock(&group->group_lock);

	/*
	 * The last put of a revoked device frees it through the bus driver's
	 * release: keep that module pinned until then.
	 */
	vfio_dkms_device_put(device);
	module_put(owner);
	/* Device fds keep the group file, and so the container, alive. */
	fput(df->group_file);
	kfree(df);
	return 0;
}

/* Largest piece of a read(2)/write(2) handed to the bus driver at once. */
#define VFIO_DKMS_RW_CHUNK	SZ_64K

/*
 * read(2)/write(2) go through a kernel bounce buffer, VFIO_DKMS_RW_CHUNK
 * at a time: the bus driver runs inside the SRCU read section, the user
 * copies run outside it.  A user buffer on a page that takes forever to arrive
 * (userfaultfd, FUSE) then holds up only its own thread, never a
 * revocation's synchronize_srcu().
 */
static ssize_t vfio_dkms_device_rw(struct vfio_dkms_device *device,
				   char __user *ubuf, size_t count,
				   loff_t *ppos, bool iswrite)
{
	size_t chunk = min_t(size_t, count, VFIO_DKMS_RW_CHUNK);
	ssize_t done = 0, ret = 0;
	u64 small;
	char *kbuf;
	int idx;

	if (!count)
		return 0;
	/* Register-sized accesses, the common case, need no allocation. */
	if (chunk <= sizeof(small)) {
		kbuf = (char *)&small;
	} else {
		kbuf = kvmalloc(chunk, GFP_KERNEL);
		if (!kbuf)
			return -ENOMEM;
	}

	while (count) {
		size_t n = min(count, chunk);

		if (iswrite && copy_from_user(kbuf, ubuf + done, n)) {
			ret = -EFAULT;
			break;
		}
		idx = srcu_read_lock(&vfio_dkms_fops_srcu);
		if (READ_ONCE(device->gone))
			ret = -ENODEV;
		else if (iswrite)
			ret = device->ops->write(device, kbuf, n, ppos);
		else
			ret = device->ops->read(device, kbuf, n, ppos);
		srcu_read_unlock(&vfio_dkms_fops_srcu, idx);
		if (ret <= 0)
			break;
		if (!iswrite && copy_to_user(ubuf + done, kbuf, ret)) {
			ret = -EFAULT;
			break;
		}
		done += ret;
		count -= ret;
		if (ret < n)
			break;
	}

	if (kbuf != (char *)&small)
		kvfree(kbuf);
	return done ? done : ret;
}

static ssize_t vfio_dkms_device_fops_read(struct file *filep, char __user *buf,
					  size_t count, loff_t *ppos)
{
	struct vfio_dkms_device *device = vfio_dkms_device_of(filep);

	if (unlikely(!device->ops->read))
		return -EINVAL;
	return vfio_dkms_device_rw(device, buf, count, ppos, false);
}

static ssize_t vfio_dkms_device_fops_write(struct file *filep,
					   const char __user *buf,
					   size_t count, loff_t *ppos)
{
	struct vfio_dkms_device *device = vfio_dkms_device_of(filep);

	if (unlikely(!device->ops->write))
		return -EINVAL;
	return vfio_dkms_device_rw(device, (char __user *)buf, count, ppos,
				   true);
}

static const struct vfio_dkms_ioctl_desc *
vfio_dkms_ioctl_desc(const struct vfio_dkms_device_ops *ops, unsigned int cmd)
{
	unsigned int i;

	for (i = 0; i < ops->num_ioctls; i++)
		if (ops->ioctls[i].cmd == cmd)
			return &ops->ioctls[i];
	return NULL;
}

/* Arguments up to this size are copied to the stack, not allocated. */
#define VFIO_DKMS_IOCTL_SMALL	64

/*
 * ioctls, like read(2)/write(2), copy their argument in before the SRCU read
 * section and back out after it: the bus driver works on a kernel copy, and
 * an argument on a user page that never arrives holds up only its own
 * thread, never a revocation's synchronize_srcu().
 */
static long vfio_dkms_device_fops_unl_ioctl(struct file *filep,
					    unsigned int cmd, unsigned long arg)
{
	struct vfio_dkms_device *device = vfio_dkms_device_of(filep);
	const struct vfio_dkms_ioctl_desc *desc;
	void __user *uarg = (void __user *)arg;
	struct vfio_dkms_ioctl_arg karg = { };
	u64 small[VFIO_DKMS_IOCTL_SMALL / sizeof(u64)];
	u32 argsz = 0;
	long ret;
	int idx;

	if (unlikely(!device->ops->ioctl))
		return -EINVAL;
	desc = vfio_dkms_ioctl_desc(device->ops, cmd);
	if (!desc)
		return -ENOTTY;

	if (desc->maxsz) {
		if (get_user(argsz, (u32 __user *)uarg))
			return -EFAULT;
		karg.size = clamp(argsz, desc->minsz, desc->maxsz);
		if (karg.size <= sizeof(small)) {
			memset(small, 0, sizeof(small));
			karg.buf = small;
		} else {
			karg.buf = kvzalloc(karg.size, GFP_KERNEL);
			if (!karg.buf)
				return -ENOMEM;
		}
		if (copy_from_user(karg.buf, uarg,
				   desc->in_all ? karg.size : desc->minsz)) {
			ret = -EFAULT;
			goto out_free;
		}
	}

	idx = srcu_read_lock(&vfio_dkms_fops_srcu);
	ret = READ_ONCE(device->gone) ? -ENODEV :
	      device->ops->ioctl(device, cmd, &karg);
	srcu_read_unlock(&vfio_dkms_fops_srcu, idx);

	/* -ENOSPC is VFIO's "argsz too small": it comes with the size needed. */
	if ((ret >= 0 || ret == -ENOSPC) && karg.out) {
		if (WARN_ON_ONCE(karg.out > karg.size))
			ret = -EINVAL;
		else if (copy_to_user(uarg, karg.buf, karg.out))
			ret = -EFAULT;
	}
out_free:
	if (karg.buf != small)
		kvfree(karg.buf);
	return ret;
}

static int vfio_dkms_device_fops_mmap(struct file *filep,
				      struct vm_area_struct *vma)
{
	struct vfio_dkms_device *device = vfio_dkms_device_of(filep);
	int ret, idx;

	if (unlikely(!device->ops->mmap))
		return -EINVAL;
	idx = srcu_read_lock(&vfio_dkms_fops_srcu);
	ret = READ_ONCE(device->gone) ? -ENODEV : device->ops->mmap(device, vma);
	srcu_read_unlock(&vfio_dkms_fops_srcu, idx);
	return ret;
}

static const struct file_operations vfio_dkms_device_fops = {
	.owner		= THIS_MODULE,
	.release	= vfio_dkms_device_fops_release,
	.read		= vfio_dkms_device_fops_read,
	.write		= vfio_dkms_device_fops_write,
	.unlocked_ioctl	= vfio_dkms_device_fops_unl_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.mmap		= vfio_dkms_device_fops_mmap,
	.llseek		= VFIO_DKMS_NO_LLSEEK,
};

/**
 * vfio_dkms_device_file_group() - the group file behind a device fd
 * @file: any file
 *
 * Return: the group file @file was opened through when @file is a device
 * fd of this module (valid as long as @file is), else NULL.
 */
struct file *vfio_dkms_device_file_group(struct file *file)
{
	if (file->f_op != &vfio_dkms_device_fops)
		return NULL;
	return ((struct vfio_dkms_device_file *)file->private_data)->group_file;
}

/**
 * vfio_dkms_device_open_file() - open a device fd (VFIO_GROUP_GET_DEVICE_FD)
 * @device: device, with a reference that the new file takes over
 * @group_file: the group file of the ioctl; the device fd holds it
 *
 * The group must be in a container with an IOMMU backend set (a shared
 * group: set by @group_file).  The first open enables the device through
 * the bus driver.
 *
 * Return: the new file or an ERR_PTR (-EINVAL without an IOMMU context).
 */
struct file *vfio_dkms_device_open_file(struct vfio_dkms_device *device,
					struct file *group_file)
{
	struct vfio_dkms_group *group = device->group;
	struct vfio_dkms_device_file *df;
	struct file *filep;
	int ret;

	df = kzalloc(sizeof(*df), GFP_KERNEL_ACCOUNT);
	if (!df)
		return ERR_PTR(-ENOMEM);
	df->device = device;
	df->group_file = group_file;

	mutex_lock(&group->group_lock);
	if (!group->container ||
	    !vfio_dkms_container_has_iommu(group->container)) {
		ret = -EINVAL;
		goto err_unlock;
	}
	if (group->noiommu && !capable(CAP_SYS_RAWIO)) {
		ret = -EPERM;
		goto err_unlock;
	}

	/* A shared group counts device fds on the group file too. */
	ret = vfio_dkms_group_shared_get_device(group, group_file);
	if (ret)
		goto err_unlock;

	if (!try_module_get(device->ops->owner)) {
		ret = -ENODEV;
		goto err_shared_put;
	}

	mutex_lock(&device->open_lock);
	if (device->gone) {
		mutex_unlock(&device->open_lock);
		ret = -ENODEV;
		goto err_module_put;
	}
	if (!device->open_count && device->ops->open_device) {
		ret = device->ops->open_device(device);
		if (ret) {
			mutex_unlock(&device->open_lock);
			goto err_module_put;
		}
	}
	device->open_count++;
	mutex_unlock(&device->open_lock);

	filep = anon_inode_getfile("[vfio-dkms-device]", &vfio_dkms_device_fops,
				   df, O_RDWR);
	if (IS_ERR(filep)) {
		ret = PTR_ERR(filep);
		goto err_close;
	}
	/* anon inode files are not seekable; allow pread/pwrite. */
	filep->f_mode |= FMODE_PREAD | FMODE_PWRITE;
	if (device->mapping)
		filep->f_mapping = device->mapping;

	group->container_users++;
	get_file(group_file);
	mutex_unlock(&group->group_lock);

	if (group->noiommu) {
		add_taint(TAINT_USER, LOCKDEP_STILL_OK);
		dev_warn(device->dev,
			 "vfio-dkms no-IOMMU device opened by user (%s:%d)\n",
			 current->comm, task_pid_nr(current));
	}
	return filep;

err_close:
	mutex_lock(&device->open_lock);
	if (!--device->open_count && !device->force_closed &&
	    device->ops->close_device)
		device->ops->close_device(device);
	mutex_unlock(&device->open_lock);
err_module_put:
	module_put(device->ops->owner);
err_shared_put:
	vfio_dkms_group_shared_put_device(group, group_file);
err_unlock:
	mutex_unlock(&group->group_lock);
	kfree(df);
	return ERR_PTR(ret);
}

/* --- module ------------------------------------------------------------ */

static int __init vfio_dkms_init(void)
{
	int ret;

	ret = vfio_dkms_group_init();
	if (ret)
		return ret;

	ret = vfio_dkms_container_init();
	if (ret)
		goto err_group;

	vfio_dkms_debugfs_init();
	pr_info(DRIVER_DESC "\n");
	return 0;

err_group:
	vfio_dkms_group_exit();
	return ret;
}

static void __exit vfio_dkms_exit(void)
{
	vfio_dkms_debugfs_exit();
	vfio_dkms_container_exit();
	vfio_dkms_group_exit();
}

module_init(vfio_dkms_init);
module_exit(vfio_dkms_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION(DRIVER_DESC);
MODULE_VERSION(VFIO_DKMS_VERSION);
