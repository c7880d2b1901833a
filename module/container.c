// SPDX-License-Identifier: GPL-2.0
/*
 * vfio-dkms containers: /dev/vfio-dkms/vfio.
 *
 * Every open of the node is a new container.  Groups are attached to it with
 * VFIO_GROUP_SET_CONTAINER; VFIO_SET_IOMMU then picks the IOMMU backend
 * which every attached group shares: type1 for real IOMMU groups, the
 * no-IOMMU backend (noiommu.c) for no-IOMMU groups; a container holds one
 * kind of group only (-EPERM for the other, as upstream).  The IOMMU
 * ioctls on the container fd go to the backend.
 */
#include <linux/fs.h>
#include <linux/iommu.h>
#include <linux/miscdevice.h>
#include <linux/slab.h>

#include "compat.h"
#include "vfio_dkms_private.h"

static atomic_long_t vfio_dkms_container_ids = ATOMIC_LONG_INIT(0);

static void vfio_dkms_container_release(struct kref *kref)
{
	struct vfio_dkms_container *container =
		container_of(kref, struct vfio_dkms_container, kref);

	/* The backend goes away with the last group. */
	WARN_ON(container->iommu || container->noiommu_iommu);
	kfree(container);
}

static void vfio_dkms_container_put(struct vfio_dkms_container *container)
{
	kref_put(&container->kref, vfio_dkms_container_release);
}

bool vfio_dkms_container_has_iommu(struct vfio_dkms_container *container)
{
	bool ret;

	down_read(&container->group_lock);
	ret = container->iommu || container->noiommu_iommu;
	up_read(&container->group_lock);
	return ret;
}

/**
 * vfio_dkms_container_attach_group() - VFIO_GROUP_SET_CONTAINER
 * @container: the container
 * @group: a group with an IOMMU group, not in any container
 *
 * Claims DMA ownership of the IOMMU group, which fails with -EPERM while a
 * kernel driver is bound to any of its devices, and attaches the group to
 * the backend if one is set already.  A no-IOMMU group (no ownership to
 * claim: its IOMMU group is ours) needs CAP_SYS_RAWIO, and no-IOMMU and
 * real groups cannot share a container (-EPERM both ways, as upstream).
 *
 * Return: 0 or a negative errno.
 */
int vfio_dkms_container_attach_group(struct vfio_dkms_container *container,
				     struct vfio_dkms_group *group)
{
	int ret;

	lockdep_assert_held(&group->group_lock);

	if (group->noiommu && !capable(CAP_SYS_RAWIO))
		return -EPERM;

	down_write(&container->group_lock);
	if (!list_empty(&container->group_list) &&
	    container->noiommu != group->noiommu) {
		ret = -EPERM;
		goto out_unlock;
	}
	if (!group->noiommu) {
		ret = vfio_dkms_claim_dma_owner(group->iommu_group, group);
		if (ret)
			goto out_unlock;
	}

	if (container->iommu) {
		ret = vfio_dkms_type1_attach_group(container->iommu,
						   group->iommu_group);
		if (ret)
			goto err_release_owner;
	}

	kref_get(&container->kref);
	group->container = container;
	group->container_users = 1;
	container->noiommu = group->noiommu;
	list_add(&group->container_next, &container->group_list);
	up_write(&container->group_lock);
	return 0;

err_release_owner:
	if (!group->noiommu)
		vfio_dkms_release_dma_owner(group->iommu_group);
out_unlock:
	up_write(&container->group_lock);
	return ret;
}

/**
 * vfio_dkms_container_detach_group() - take a group out of its container
 * @group: an attached group without open device fds
 *
 * The backend, and with it every DMA mapping, is released when the last
 * group leaves.
 */
void vfio_dkms_container_detach_group(struct vfio_dkms_group *group)
{
	struct vfio_dkms_container *container = group->container;

	lockdep_assert_held(&group->group_lock);

	down_write(&container->group_lock);
	if (container->iommu)
		vfio_dkms_type1_detach_group(container->iommu,
					     group->iommu_group);
	if (!group->noiommu)
		vfio_dkms_release_dma_owner(group->iommu_group);
	list_del_init(&group->container_next);

	if (list_empty(&container->group_list)) {
		if (container->iommu)
			vfio_dkms_type1_release(container->iommu);
		container->iommu = NULL;
		/* Unpins and uncharges everything still pinned. */
		if (container->noiommu_iommu)
			vfio_dkms_noiommu_release(container->noiommu_iommu);
		container->noiommu_iommu = NULL;
	}
	up_write(&container->group_lock);

	group->container = NULL;
	group->container_users = 0;
	vfio_dkms_container_put(container);
}

static long vfio_dkms_container_set_iommu(struct vfio_dkms_container *container,
					  unsigned long arg)
{
	struct vfio_dkms_iommu *iommu;
	struct vfio_dkms_group *group;
	long ret;

	down_write(&container->group_lock);
	/* A backend needs a group to attach to, and is set only once. */
	if (list_empty(&container->group_list) || container->iommu ||
	    container->noiommu_iommu) {
		ret = -EINVAL;
		goto out_unlock;
	}

	/* No-IOMMU groups get the no-IOMMU backend, and only they do. */
	if (container->noiommu) {
		struct vfio_dkms_noiommu *noiommu;

		noiommu = vfio_dkms_noiommu_open(arg);
		if (IS_ERR(noiommu)) {
			ret = PTR_ERR(noiommu);
			goto out_unlock;
		}
		container->noiommu_iommu = noiommu;
		ret = 0;
		goto out_unlock;
	}

	if (vfio_dkms_type1_check_extension(NULL, arg) <= 0) {
		ret = -ENODEV;
		goto out_unlock;
	}

	iommu = vfio_dkms_type1_open(arg);
	if (IS_ERR(iommu)) {
		ret = PTR_ERR(iommu);
		goto out_unlock;
	}

	list_for_each_entry(group, &container->group_list, container_next) {
		ret = vfio_dkms_type1_attach_group(iommu, group->iommu_group);
		if (ret)
			goto err_detach;
	}

	container->iommu = iommu;
	up_write(&container->group_lock);
	return 0;

err_detach:
	list_for_each_entry_continue_reverse(group, &container->group_list,
					     container_next)
		vfio_dkms_type1_detach_group(iommu, group->iommu_group);
	vfio_dkms_type1_release(iommu);
out_unlock:
	up_write(&container->group_lock);
	return ret;
}

/*
 * The backend answers once it is set.  Before, as upstream polls its IOMMU
 * drivers: the backends a container of these groups could get (both for an
 * empty one), first positive answer wins.
 */
static long vfio_dkms_container_check_extension(struct vfio_dkms_container *container,
						unsigned long arg)
{
	bool empty = list_empty(&container->group_list);
	long ret = 0;

	lockdep_assert_held(&container->group_lock);

	if (container->iommu)
		return vfio_dkms_type1_check_extension(container->iommu, arg);
	if (container->noiommu_iommu)
		return vfio_dkms_noiommu_check_extension(container->noiommu_iommu,
							 arg);
	if (empty || !container->noiommu)
		ret = vfio_dkms_type1_check_extension(NULL, arg);
	if (ret <= 0 && (empty || container->noiommu))
		ret = vfio_dkms_noiommu_check_extension(NULL, arg);
	return ret;
}

static long vfio_dkms_container_fops_unl_ioctl(struct file *filep,
					       unsigned int cmd,
					       unsigned long arg)
{
	struct vfio_dkms_container *container = filep->private_data;
	long ret;

	switch (cmd) {
	case VFIO_GET_API_VERSION:
		return VFIO_API_VERSION;
	case VFIO_CHECK_EXTENSION:
		down_read(&container->group_lock);
		ret = vfio_dkms_container_check_extension(container, arg);
		up_read(&container->group_lock);
		return ret;
	case VFIO_SET_IOMMU:
		return vfio_dkms_container_set_iommu(container, arg);
	default:
		/* Everything else is for the backend, once there is one. */
		down_read(&container->group_lock);
		if (container->iommu)
			ret = vfio_dkms_type1_ioctl(container->iommu, cmd, arg);
		else if (container->noiommu_iommu)
			ret = vfio_dkms_noiommu_ioctl(container->noiommu_iommu,
						      cmd, arg);
		else
			ret = -EINVAL;
		up_read(&container->group_lock);
		return ret;
	}
}

static int vfio_dkms_container_fops_open(struct inode *inode,
					 struct file *filep)
{
	struct vfio_dkms_container *container;

	container = kzalloc(sizeof(*container), GFP_KERNEL);
	if (!container)
		return -ENOMEM;

	kref_init(&container->kref);
	container->id = atomic_long_inc_return(&vfio_dkms_container_ids);
	init_rwsem(&container->group_lock);
	INIT_LIST_HEAD(&container->group_list);
	filep->private_data = container;
	return 0;
}

static int vfio_dkms_container_fops_release(struct inode *inode,
					    struct file *filep)
{
	/* Attached groups keep the container until they leave it. */
	vfio_dkms_container_put(filep->private_data);
	return 0;
}

static const struct file_operations vfio_dkms_container_fops = {
	.owner		= THIS_MODULE,
	.open		= vfio_dkms_container_fops_open,
	.release	= vfio_dkms_container_fops_release,
	.unlocked_ioctl	= vfio_dkms_container_fops_unl_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= VFIO_DKMS_NO_LLSEEK,
};

struct vfio_dkms_container *vfio_dkms_container_from_file(struct file *file)
{
	if (file->f_op != &vfio_dkms_container_fops)
		return NULL;
	return file->private_data;
}

static struct miscdevice vfio_dkms_container_dev = {
	.minor		= MISC_DYNAMIC_MINOR,
	.name		= "vfio-dkms",
	.fops		= &vfio_dkms_container_fops,
	.nodename	= "vfio-dkms/vfio",
	.mode		= 0666,
};

int vfio_dkms_container_init(void)
{
	return misc_register(&vfio_dkms_container_dev);
}

void vfio_dkms_container_exit(void)
{
	misc_deregister(&vfio_dkms_container_dev);
}
