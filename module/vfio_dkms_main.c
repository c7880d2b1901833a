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
#include <linux/module.h>
#include <linux/slab.h>

#include "compat.h"
#include "vfio_dkms_private.h"

#define DRIVER_DESC	"VFIO-compatible user-space driver framework (DKMS)"

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
	mutex_init(&device->open_lock);
	device->open_count = 0;
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
				 "no IOMMU group, refusing (vfio_dkms.enable_unsafe_noiommu_mode is off)\n");
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

void vfio_dkms_device_put(struct vfio_dkms_device *device)
{
	if (refcount_dec_and_test(&device->refcount))
		complete(&device->comp);
}

/**
 * vfio_dkms_unregister_device() - withdraw a device from user space
 * @device: registered device
 *
 * Blocks until every device fd of @device is closed: the bus driver may
 * tear the device down once this returns.
 */
void vfio_dkms_unregister_device(struct vfio_dkms_device *device)
{
	bool noiommu = device->group->noiommu;
	bool warned = false;
	unsigned int i = 0;

	vfio_dkms_device_put(device);
	while (!try_wait_for_completion(&device->comp)) {
		/* Ask the user (REQ eventfd) to give the device back. */
		if (device->ops->request)
			device->ops->request(device, i++);
		if (wait_for_completion_timeout(&device->comp, 10 * HZ))
			break;
		if (!warned) {
			dev_info(device->dev,
				 "device is in use, waiting for its file to be closed\n");
			warned = true;
		}
	}

	vfio_dkms_group_remove_device(device);
	/* The IOMMU group made for a no-IOMMU device goes with it. */
	if (noiommu)
		iommu_group_remove_device(device->dev);
}
EXPORT_SYMBOL_GPL(vfio_dkms_unregister_device);

/* --- the device file --------------------------------------------------- */

static int vfio_dkms_device_fops_release(struct inode *inode,
					 struct file *filep)
{
	struct vfio_dkms_device *device = filep->private_data;
	struct vfio_dkms_group *group = device->group;
	struct file *group_file;

	mutex_lock(&group->group_lock);
	mutex_lock(&device->open_lock);
	if (!--device->open_count && device->ops->close_device)
		device->ops->close_device(device);
	mutex_unlock(&device->open_lock);
	module_put(device->ops->owner);

	group->container_users--;
	group_file = group->opened_file;
	mutex_unlock(&group->group_lock);

	vfio_dkms_device_put(device);
	/* Device fds keep the group file, and so the container, alive. */
	fput(group_file);
	return 0;
}

static ssize_t vfio_dkms_device_fops_read(struct file *filep, char __user *buf,
					  size_t count, loff_t *ppos)
{
	struct vfio_dkms_device *device = filep->private_data;

	if (unlikely(!device->ops->read))
		return -EINVAL;
	return device->ops->read(device, buf, count, ppos);
}

static ssize_t vfio_dkms_device_fops_write(struct file *filep,
					   const char __user *buf,
					   size_t count, loff_t *ppos)
{
	struct vfio_dkms_device *device = filep->private_data;

	if (unlikely(!device->ops->write))
		return -EINVAL;
	return device->ops->write(device, buf, count, ppos);
}

static long vfio_dkms_device_fops_unl_ioctl(struct file *filep,
					    unsigned int cmd, unsigned long arg)
{
	struct vfio_dkms_device *device = filep->private_data;

	if (unlikely(!device->ops->ioctl))
		return -EINVAL;
	return device->ops->ioctl(device, cmd, arg);
}

static int vfio_dkms_device_fops_mmap(struct file *filep,
				      struct vm_area_struct *vma)
{
	struct vfio_dkms_device *device = filep->private_data;

	if (unlikely(!device->ops->mmap))
		return -EINVAL;
	return device->ops->mmap(device, vma);
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
 * vfio_dkms_device_open_file() - open a device fd (VFIO_GROUP_GET_DEVICE_FD)
 * @device: device, with a reference that the new file takes over
 *
 * The group must be in a container with an IOMMU backend set.  The first
 * open enables the device through the bus driver.
 *
 * Return: the new file or an ERR_PTR (-EINVAL without an IOMMU context).
 */
struct file *vfio_dkms_device_open_file(struct vfio_dkms_device *device)
{
	struct vfio_dkms_group *group = device->group;
	struct file *filep;
	int ret;

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

	if (!try_module_get(device->ops->owner)) {
		ret = -ENODEV;
		goto err_unlock;
	}

	mutex_lock(&device->open_lock);
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
				   device, O_RDWR);
	if (IS_ERR(filep)) {
		ret = PTR_ERR(filep);
		goto err_close;
	}
	/* anon inode files are not seekable; allow pread/pwrite. */
	filep->f_mode |= FMODE_PREAD | FMODE_PWRITE;
	if (device->mapping)
		filep->f_mapping = device->mapping;

	group->container_users++;
	get_file(group->opened_file);
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
	if (!--device->open_count && device->ops->close_device)
		device->ops->close_device(device);
	mutex_unlock(&device->open_lock);
err_module_put:
	module_put(device->ops->owner);
err_unlock:
	mutex_unlock(&group->group_lock);
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
