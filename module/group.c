// SPDX-License-Identifier: GPL-2.0
/*
 * vfio-dkms groups: /dev/vfio-dkms/<iommu group id> and its ioctls.
 *
 * A group is the unit of ownership: it exists while at least one device of
 * an IOMMU group is bound to a vfio-dkms bus driver, can be opened by one
 * file at a time, and claims DMA ownership of the IOMMU group while it is
 * attached to a container.
 *
 * Unless root made it shared (sysfs attribute "shared" of the group's class
 * device, docs/shared-ownership.md): then any number of files may have the
 * node open, each sets the container for itself (they all end up in the one
 * container the group is attached to) and opens device fds through itself.
 * The shared paths are the vfio_dkms_group_shared_*() functions.
 *
 * A no-IOMMU group (module parameter enable_unsafe_noiommu_mode, noiommu.c)
 * has the node /dev/vfio-dkms/noiommu-<id>, needs CAP_SYS_RAWIO to open and
 * holds the one device its IOMMU group was made for.
 */
#include <linux/cdev.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/idr.h>
#include <linux/iommu.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "compat.h"
#include "container.h"
#include "device.h"
#include "devname.h"
#include "group.h"
#include "vfio_dkms.h"

#define VFIO_DKMS_GROUP_MINORS	(MINORMASK + 1)

static struct {
	struct class *class;
	dev_t devt;
	struct ida ida;		/* minors of group nodes */
	struct mutex lock;	/* protects list */
	struct list_head list;	/* every live group */
} groups;

static struct vfio_dkms_group *
vfio_dkms_group_find(struct iommu_group *iommu_group)
{
	struct vfio_dkms_group *group;

	lockdep_assert_held(&groups.lock);
	list_for_each_entry(group, &groups.list, group_next)
		if (group->iommu_group == iommu_group)
			return group;
	return NULL;
}

/* --- shared ownership -------------------------------------------------- */

static struct vfio_dkms_group_opener *
vfio_dkms_group_shared_opener(struct vfio_dkms_group *group, struct file *file)
{
	struct vfio_dkms_group_opener *opener;

	lockdep_assert_held(&group->group_lock);
	list_for_each_entry(opener, &group->openers, next)
		if (opener->file == file)
			return opener;
	return NULL;
}

/* @file set the container: always, for a non-shared attached group. */
static bool vfio_dkms_group_shared_attached(struct vfio_dkms_group *group,
					    struct file *file)
{
	struct vfio_dkms_group_opener *opener;

	if (!group->shared)
		return group->container;
	opener = vfio_dkms_group_shared_opener(group, file);
	return opener && opener->attached;
}

static int vfio_dkms_group_shared_open(struct vfio_dkms_group *group,
				       struct file *filep)
{
	struct vfio_dkms_group_opener *opener;

	lockdep_assert_held(&group->group_lock);
	opener = kzalloc(sizeof(*opener), GFP_KERNEL);
	if (!opener)
		return -ENOMEM;
	opener->file = filep;
	opener->pid = get_pid(task_tgid(current));
	list_add_tail(&opener->next, &group->openers);
	return 0;
}

/*
 * The opener leaves the group's container; the group leaves it with the
 * last opener (or has left already, when its last device went away).
 */
static void vfio_dkms_group_shared_detach(struct vfio_dkms_group *group,
					  struct vfio_dkms_group_opener *opener)
{
	lockdep_assert_held(&group->group_lock);
	if (!opener->attached)
		return;
	opener->attached = false;
	if (!--group->nr_attached && group->container)
		vfio_dkms_container_detach_group(group);
}

static void vfio_dkms_group_shared_release(struct vfio_dkms_group *group,
					   struct file *filep)
{
	struct vfio_dkms_group_opener *opener;

	lockdep_assert_held(&group->group_lock);
	opener = vfio_dkms_group_shared_opener(group, filep);
	if (WARN_ON(!opener))
		return;
	/* Its device fds hold the file: none can be open any more. */
	WARN_ON(opener->device_users);
	vfio_dkms_group_shared_detach(group, opener);
	list_del(&opener->next);
	put_pid(opener->pid);
	kfree(opener);
}

static int vfio_dkms_group_shared_set_container(struct vfio_dkms_group *group,
						struct file *filep,
						struct file *container_file)
{
	struct vfio_dkms_group_opener *opener;
	int ret;

	mutex_lock(&group->group_lock);
	opener = vfio_dkms_group_shared_opener(group, filep);
	if (!group->iommu_group || !opener) {
		ret = -ENODEV;
		goto out_unlock;
	}
	if (opener->attached) {
		ret = -EINVAL;
		goto out_unlock;
	}
	ret = vfio_dkms_container_shared_set(container_file, group);
	if (ret)
		goto out_unlock;
	/* Attaching set container_users; joining openers share it. */
	group->nr_attached++;
	opener->attached = true;

out_unlock:
	mutex_unlock(&group->group_lock);
	return ret;
}

static int vfio_dkms_group_shared_unset_container(struct vfio_dkms_group *group,
						  struct file *filep)
{
	struct vfio_dkms_group_opener *opener;
	int ret = 0;

	mutex_lock(&group->group_lock);
	opener = vfio_dkms_group_shared_opener(group, filep);
	if (!opener || !opener->attached || !group->container) {
		ret = -EINVAL;
		goto out_unlock;
	}
	/* This file's device fds keep it in the container. */
	if (opener->device_users) {
		ret = -EBUSY;
		goto out_unlock;
	}
	vfio_dkms_group_shared_detach(group, opener);

out_unlock:
	mutex_unlock(&group->group_lock);
	return ret;
}

/**
 * vfio_dkms_group_shared_get_device() - a device fd opens through a file
 * @group: the group, with its group_lock held
 * @group_file: the group file of VFIO_GROUP_GET_DEVICE_FD
 *
 * Return: 0 if not shared or if @group_file has set the container (the
 * device fd is then counted on it), else -EINVAL as without a container.
 */
int vfio_dkms_group_shared_get_device(struct vfio_dkms_group *group,
				      struct file *group_file)
{
	struct vfio_dkms_group_opener *opener;

	lockdep_assert_held(&group->group_lock);
	if (!group->shared)
		return 0;
	opener = vfio_dkms_group_shared_opener(group, group_file);
	if (!opener || !opener->attached)
		return -EINVAL;
	opener->device_users++;
	return 0;
}

/**
 * vfio_dkms_group_shared_put_device() - a device fd of @group_file closes
 * @group: the group, with its group_lock held
 * @group_file: the group file the device fd was opened through
 */
void vfio_dkms_group_shared_put_device(struct vfio_dkms_group *group,
				       struct file *group_file)
{
	struct vfio_dkms_group_opener *opener;

	lockdep_assert_held(&group->group_lock);
	if (!group->shared)
		return;
	opener = vfio_dkms_group_shared_opener(group, group_file);
	if (!WARN_ON(!opener || !opener->device_users))
		opener->device_users--;
}

/*
 * /sys/class/vfio-dkms/<group>/shared: 0 or 1, root only (the file mode
 * and CAP_SYS_ADMIN at write time), changed only while nobody has the
 * group node open (-EBUSY).
 */
static ssize_t shared_show(struct device *dev, struct device_attribute *attr,
			   char *buf)
{
	struct vfio_dkms_group *group =
		container_of(dev, struct vfio_dkms_group, dev);
	bool shared;

	mutex_lock(&group->group_lock);
	shared = group->shared;
	mutex_unlock(&group->group_lock);
	return sysfs_emit(buf, "%d\n", shared);
}

static ssize_t shared_store(struct device *dev, struct device_attribute *attr,
			    const char *buf, size_t count)
{
	struct vfio_dkms_group *group =
		container_of(dev, struct vfio_dkms_group, dev);
	unsigned int val;
	int ret;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	ret = kstrtouint(buf, 10, &val);
	if (ret || val > 1)
		return -EINVAL;

	mutex_lock(&group->group_lock);
	if (!group->iommu_group)
		ret = -ENODEV;
	else if (group->opened_file || !list_empty(&group->openers))
		ret = -EBUSY;
	else if (val && group->noiommu)
		/*
		 * The no-IOMMU backend keeps its pins per container, not per
		 * file: sharing would leave one process's pins to another.
		 */
		ret = -EINVAL;
	else
		group->shared = val;
	mutex_unlock(&group->group_lock);
	return ret ?: count;
}
static DEVICE_ATTR_RW(shared);

static struct attribute *vfio_dkms_group_attrs[] = {
	&dev_attr_shared.attr,
	NULL,
};
ATTRIBUTE_GROUPS(vfio_dkms_group);

/* --- ioctls ------------------------------------------------------------ */

static int vfio_dkms_group_ioctl_get_status(struct vfio_dkms_group *group,
					    struct file *filep,
					    struct vfio_group_status __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_group_status, flags);
	struct vfio_group_status status;

	if (copy_from_user(&status, arg, minsz))
		return -EFAULT;
	if (status.argsz < minsz)
		return -EINVAL;

	status.flags = 0;

	mutex_lock(&group->group_lock);
	if (!group->iommu_group) {
		mutex_unlock(&group->group_lock);
		return -ENODEV;
	}
	/*
	 * Viable: we own the group's DMA (attached to a container), or nobody
	 * else does, i.e. no device of the group is bound to a kernel driver
	 * that uses the DMA API.  A shared group's container is set for the
	 * files that set it.
	 */
	if (group->container && !vfio_dkms_group_shared_attached(group, filep))
		status.flags |= VFIO_GROUP_FLAGS_VIABLE;
	else if (group->container)
		status.flags |= VFIO_GROUP_FLAGS_CONTAINER_SET |
				VFIO_GROUP_FLAGS_VIABLE;
	else if (!vfio_dkms_dma_owner_claimed(group->iommu_group))
		status.flags |= VFIO_GROUP_FLAGS_VIABLE;
	mutex_unlock(&group->group_lock);

	if (copy_to_user(arg, &status, minsz))
		return -EFAULT;
	return 0;
}

static int vfio_dkms_group_ioctl_set_container(struct vfio_dkms_group *group,
					       struct file *filep,
					       int __user *arg)
{
	struct vfio_dkms_container *container;
	struct file *file;
	int fd, ret;

	if (get_user(fd, arg))
		return -EFAULT;

	file = fget(fd);
	if (!file)
		return -EBADF;

	/* Fixed while the node is open (shared_store()). */
	if (group->shared) {
		ret = vfio_dkms_group_shared_set_container(group, filep, file);
		fput(file);
		return ret;
	}

	mutex_lock(&group->group_lock);
	if (group->container) {
		ret = -EINVAL;
		goto out_unlock;
	}
	if (!group->iommu_group) {
		ret = -ENODEV;
		goto out_unlock;
	}

	container = vfio_dkms_container_from_file(file);
	if (!container) {
		/* Not a container of ours (we have no iommufd). */
		ret = VFIO_DKMS_ERR_NOT_CONTAINER;
		goto out_unlock;
	}
	ret = vfio_dkms_container_attach_group(container, group);

out_unlock:
	mutex_unlock(&group->group_lock);
	fput(file);
	return ret;
}

static int vfio_dkms_group_ioctl_unset_container(struct vfio_dkms_group *group,
						 struct file *filep)
{
	int ret = 0;

	if (group->shared)
		return vfio_dkms_group_shared_unset_container(group, filep);

	mutex_lock(&group->group_lock);
	if (!group->container) {
		ret = -EINVAL;
		goto out_unlock;
	}
	/* Open device fds keep the group in its container. */
	if (group->container_users != 1) {
		ret = -EBUSY;
		goto out_unlock;
	}
	vfio_dkms_container_detach_group(group);

out_unlock:
	mutex_unlock(&group->group_lock);
	return ret;
}

/*
 * Find a registered device by name (devname.c) and take a reference on it:
 * the device, -ENODEV when none matches, or the match's error.
 */
static struct vfio_dkms_device *
vfio_dkms_group_get_device(struct vfio_dkms_group *group, const char *name)
{
	struct vfio_dkms_device *device, *found = ERR_PTR(-ENODEV);
	int match;

	mutex_lock(&group->group_lock);
	list_for_each_entry(device, &group->device_list, group_next) {
		match = vfio_dkms_devname_match(dev_name(device->dev), name);
		if (match < 0) {
			found = ERR_PTR(match);
			break;
		}
		if (match && refcount_inc_not_zero(&device->refcount)) {
			found = device;
			break;
		}
	}
	mutex_unlock(&group->group_lock);
	return found;
}

static int vfio_dkms_group_ioctl_get_device_fd(struct vfio_dkms_group *group,
					       struct file *group_file,
					       char __user *arg)
{
	struct vfio_dkms_device *device;
	struct file *filep;
	char *name;
	int fd, ret;

	name = strndup_user(arg, PAGE_SIZE);
	if (IS_ERR(name))
		return PTR_ERR(name);

	device = vfio_dkms_group_get_device(group, name);
	kfree(name);
	if (IS_ERR(device))
		return PTR_ERR(device);

	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		ret = fd;
		goto err_put_device;
	}

	filep = vfio_dkms_device_open_file(device, group_file);
	if (IS_ERR(filep)) {
		ret = PTR_ERR(filep);
		goto err_put_fd;
	}

	/* The file owns the device reference from here on. */
	fd_install(fd, filep);
	return fd;

err_put_fd:
	put_unused_fd(fd);
err_put_device:
	vfio_dkms_device_put(device);
	return ret;
}

static long vfio_dkms_group_fops_unl_ioctl(struct file *filep,
					   unsigned int cmd, unsigned long arg)
{
	struct vfio_dkms_group *group = filep->private_data;
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case VFIO_GROUP_GET_DEVICE_FD:
		return vfio_dkms_group_ioctl_get_device_fd(group, filep, uarg);
	case VFIO_GROUP_GET_STATUS:
		return vfio_dkms_group_ioctl_get_status(group, filep, uarg);
	case VFIO_GROUP_SET_CONTAINER:
		return vfio_dkms_group_ioctl_set_container(group, filep, uarg);
	case VFIO_GROUP_UNSET_CONTAINER:
		return vfio_dkms_group_ioctl_unset_container(group, filep);
	default:
		return -ENOTTY;
	}
}

/* --- file -------------------------------------------------------------- */

static int vfio_dkms_group_fops_open(struct inode *inode, struct file *filep)
{
	struct vfio_dkms_group *group =
		container_of(inode->i_cdev, struct vfio_dkms_group, cdev);
	int ret = 0;

	/* The open cdev keeps group->dev, and so the group, allocated. */
	mutex_lock(&group->group_lock);
	if (!group->iommu_group) {
		ret = -ENODEV;		/* its last device is leaving */
		goto out_unlock;
	}
	/* A device without an IOMMU can DMA anywhere: raw I/O privilege. */
	if (group->noiommu && !capable(CAP_SYS_RAWIO)) {
		ret = -EPERM;
		goto out_unlock;
	}
	if (group->shared) {
		ret = vfio_dkms_group_shared_open(group, filep);
		if (!ret)
			filep->private_data = group;
		goto out_unlock;
	}
	if (group->opened_file) {
		ret = -EBUSY;
		goto out_unlock;
	}
	group->opened_file = filep;
	group->opener = get_pid(task_tgid(current));
	filep->private_data = group;

out_unlock:
	mutex_unlock(&group->group_lock);
	return ret;
}

static int vfio_dkms_group_fops_release(struct inode *inode,
					struct file *filep)
{
	struct vfio_dkms_group *group = filep->private_data;

	mutex_lock(&group->group_lock);
	if (group->shared) {
		vfio_dkms_group_shared_release(group, filep);
		mutex_unlock(&group->group_lock);
		return 0;
	}
	/* Device fds hold the group file: none can be open any more. */
	WARN_ON(group->container && group->container_users != 1);
	if (group->container)
		vfio_dkms_container_detach_group(group);
	group->opened_file = NULL;
	put_pid(group->opener);
	group->opener = NULL;
	mutex_unlock(&group->group_lock);
	return 0;
}

static const struct file_operations vfio_dkms_group_fops = {
	.owner		= THIS_MODULE,
	.open		= vfio_dkms_group_fops_open,
	.release	= vfio_dkms_group_fops_release,
	.unlocked_ioctl	= vfio_dkms_group_fops_unl_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= VFIO_DKMS_NO_LLSEEK,
};

/**
 * vfio_dkms_group_enforces_coherency() - is the group's DMA snooped?
 * @group_file: a group file (vfio_dkms_file_is_group())
 *
 * For KVM (kvm.c), which asks when a VFIO file is added to a VM.  A group
 * in no container answers true, as upstream's does: its devices can do no
 * DMA before it is in one, and userspace adds the group to KVM after
 * VFIO_GROUP_SET_CONTAINER.
 *
 * Return: whether the IOMMU context of the group's container makes every
 * DMA of its devices cache coherent.
 */
bool vfio_dkms_group_enforces_coherency(struct file *group_file)
{
	struct vfio_dkms_group *group = group_file->private_data;
	bool ret = true;

	mutex_lock(&group->group_lock);
	if (group->container)
		ret = vfio_dkms_container_enforces_coherency(group->container);
	mutex_unlock(&group->group_lock);
	return ret;
}

/* --- ownership of other devices (hot reset) ------------------------------ */

/**
 * vfio_dkms_file_is_group() - is @file an open group node of vfio-dkms?
 * @file: any file
 *
 * Return: true for a file of a group node, whose private_data is its group.
 */
bool vfio_dkms_file_is_group(struct file *file)
{
	return file->f_op == &vfio_dkms_group_fops;
}
EXPORT_SYMBOL_GPL(vfio_dkms_file_is_group);

static bool vfio_dkms_files_contain(struct file * const *files,
				    unsigned int nr, struct file *file)
{
	unsigned int i;

	for (i = 0; i < nr; i++)
		if (files[i] == file)
			return true;
	return false;
}

/*
 * Every device fd of @group was opened through one of @files.  A group that
 * is not shared has a single file, which is among @files when the caller
 * found the group through them.
 */
static bool vfio_dkms_group_users_in(struct vfio_dkms_group *group,
				     struct file * const *files,
				     unsigned int nr)
{
	struct vfio_dkms_group_opener *opener;

	lockdep_assert_held(&group->group_lock);
	if (!group->shared)
		return true;
	list_for_each_entry(opener, &group->openers, next)
		if (opener->device_users &&
		    !vfio_dkms_files_contain(files, nr, opener->file))
			return false;
	return true;
}

/**
 * vfio_dkms_group_files_get_device() - a device owned through group files
 * @files: group files (vfio_dkms_file_is_group()), held by the caller
 * @nr: entries of @files
 * @dev: the device looked for
 * @ops: the bus driver @dev must be registered by
 *
 * For an operation that reaches devices beyond the one of the ioctl (a bus
 * reset): the caller shows that it owns @dev by passing the file of its
 * group.  Takes and drops each group's group_lock.
 *
 * Return: the device with a reference taken (vfio_dkms_device_put()), or
 * ERR_PTR(-EINVAL) when @dev is not a device of @ops in one of the groups,
 * ERR_PTR(-EBUSY) when its group is shared and has device fds open through
 * a group file not in @files (another user of the device).
 */
struct vfio_dkms_device *
vfio_dkms_group_files_get_device(struct file * const *files, unsigned int nr,
				 struct device *dev,
				 const struct vfio_dkms_device_ops *ops)
{
	struct vfio_dkms_device *device, *found = ERR_PTR(-EINVAL);
	struct vfio_dkms_group *group;
	unsigned int i;

	for (i = 0; i < nr && IS_ERR(found); i++) {
		group = files[i]->private_data;
		mutex_lock(&group->group_lock);
		list_for_each_entry(device, &group->device_list, group_next) {
			if (device->dev != dev || device->ops != ops)
				continue;
			if (!vfio_dkms_group_users_in(group, files, nr))
				found = ERR_PTR(-EBUSY);
			else if (refcount_inc_not_zero(&device->refcount))
				found = device;
			break;
		}
		mutex_unlock(&group->group_lock);
		if (PTR_ERR_OR_ZERO(found) == -EBUSY)
			break;
	}
	return found;
}
EXPORT_SYMBOL_GPL(vfio_dkms_group_files_get_device);

/* --- lifetime ---------------------------------------------------------- */

static void vfio_dkms_group_release(struct device *dev)
{
	struct vfio_dkms_group *group =
		container_of(dev, struct vfio_dkms_group, dev);

	ida_free(&groups.ida, MINOR(group->dev.devt));
	mutex_destroy(&group->group_lock);
	kfree(group);
}

static struct vfio_dkms_group *
vfio_dkms_group_create(struct iommu_group *iommu_group, bool noiommu)
{
	struct vfio_dkms_group *group;
	int minor, ret;

	lockdep_assert_held(&groups.lock);

	group = kzalloc(sizeof(*group), GFP_KERNEL);
	if (!group)
		return ERR_PTR(-ENOMEM);

	minor = ida_alloc_max(&groups.ida, VFIO_DKMS_GROUP_MINORS - 1,
			      GFP_KERNEL);
	if (minor < 0) {
		kfree(group);
		return ERR_PTR(minor);
	}

	mutex_init(&group->group_lock);
	INIT_LIST_HEAD(&group->device_list);
	INIT_LIST_HEAD(&group->container_next);
	INIT_LIST_HEAD(&group->openers);

	/* From here on put_device() frees the group and its minor. */
	device_initialize(&group->dev);
	group->dev.devt = MKDEV(MAJOR(groups.devt), minor);
	group->dev.class = groups.class;
	group->dev.release = vfio_dkms_group_release;
	group->dev.groups = vfio_dkms_group_groups;
	cdev_init(&group->cdev, &vfio_dkms_group_fops);
	group->cdev.owner = THIS_MODULE;

	group->noiommu = noiommu;
	ret = dev_set_name(&group->dev, "%s%d", noiommu ? "noiommu-" : "",
			   iommu_group_id(iommu_group));
	if (ret)
		goto err_put;

	group->iommu_group = iommu_group_ref_get(iommu_group);
	ret = cdev_device_add(&group->cdev, &group->dev);
	if (ret) {
		iommu_group_put(group->iommu_group);
		goto err_put;
	}

	list_add(&group->group_next, &groups.list);
	return group;

err_put:
	put_device(&group->dev);
	return ERR_PTR(ret);
}

/**
 * vfio_dkms_group_add_device() - put a device in its group
 * @device: the device being registered
 * @iommu_group: its IOMMU group
 * @noiommu: @iommu_group was made for this device (no-IOMMU mode)
 *
 * Creates the group, and its node, for the first device of an IOMMU group.
 *
 * Return: 0 or a negative errno.
 */
int vfio_dkms_group_add_device(struct vfio_dkms_device *device,
			       struct iommu_group *iommu_group, bool noiommu)
{
	struct vfio_dkms_group *group;

	mutex_lock(&groups.lock);
	group = vfio_dkms_group_find(iommu_group);
	if (!group) {
		group = vfio_dkms_group_create(iommu_group, noiommu);
		if (IS_ERR(group)) {
			mutex_unlock(&groups.lock);
			return PTR_ERR(group);
		}
	}

	mutex_lock(&group->group_lock);
	device->group = group;
	list_add_tail(&device->group_next, &group->device_list);
	mutex_unlock(&group->group_lock);
	mutex_unlock(&groups.lock);
	return 0;
}

/**
 * vfio_dkms_group_remove_device() - take a device out of its group
 * @device: a device with no open fds left
 *
 * When the last device leaves, the group node goes away, the group is
 * detached from its container (giving DMA ownership back to the kernel) and
 * any still open group file is left with a group that answers -ENODEV.
 */
void vfio_dkms_group_remove_device(struct vfio_dkms_device *device)
{
	struct vfio_dkms_group *group = device->group;
	struct iommu_group *iommu_group = NULL;

	mutex_lock(&groups.lock);
	mutex_lock(&group->group_lock);
	list_del_init(&device->group_next);
	if (list_empty(&group->device_list)) {
		list_del(&group->group_next);
		if (group->container)
			vfio_dkms_container_detach_group(group);
		iommu_group = group->iommu_group;
		group->iommu_group = NULL;
	}
	mutex_unlock(&group->group_lock);
	mutex_unlock(&groups.lock);

	if (iommu_group) {
		cdev_device_del(&group->cdev, &group->dev);
		iommu_group_put(iommu_group);
		put_device(&group->dev);
	}
}

/**
 * vfio_dkms_group_for_each() - visit every live group (introspection)
 * @fn: called with the groups lock and the group's group_lock held, the
 *	locks the group ioctls take; a non-zero return stops the walk
 * @data: passed to @fn
 *
 * Return: the last value @fn returned, or 0.
 */
int vfio_dkms_group_for_each(int (*fn)(struct vfio_dkms_group *group,
				       void *data),
			     void *data)
{
	struct vfio_dkms_group *group;
	int ret = 0;

	mutex_lock(&groups.lock);
	list_for_each_entry(group, &groups.list, group_next) {
		mutex_lock(&group->group_lock);
		ret = fn(group, data);
		mutex_unlock(&group->group_lock);
		if (ret)
			break;
	}
	mutex_unlock(&groups.lock);
	return ret;
}

static char *vfio_dkms_group_devnode(VFIO_DKMS_DEVNODE_CONST struct device *dev,
				     umode_t *mode)
{
	return kasprintf(GFP_KERNEL, VFIO_DKMS_NODE_DIR "/%s", dev_name(dev));
}

int vfio_dkms_group_init(void)
{
	int ret;

	ida_init(&groups.ida);
	mutex_init(&groups.lock);
	INIT_LIST_HEAD(&groups.list);

	groups.class = vfio_dkms_class_create(VFIO_DKMS_CLASS_NAME);
	if (IS_ERR(groups.class))
		return PTR_ERR(groups.class);
	groups.class->devnode = vfio_dkms_group_devnode;

	ret = alloc_chrdev_region(&groups.devt, 0, VFIO_DKMS_GROUP_MINORS,
				  VFIO_DKMS_CHRDEV_NAME);
	if (ret)
		goto err_class;
	return 0;

err_class:
	class_destroy(groups.class);
	return ret;
}

void vfio_dkms_group_exit(void)
{
	WARN_ON(!list_empty(&groups.list));
	unregister_chrdev_region(groups.devt, VFIO_DKMS_GROUP_MINORS);
	class_destroy(groups.class);
	ida_destroy(&groups.ida);
	mutex_destroy(&groups.lock);
}
