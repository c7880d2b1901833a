// SPDX-License-Identifier: GPL-2.0
/*
 * vfio-dkms containers: /dev/vfio-dkms/vfio.
 *
 * Every open of the node is a new container.  Groups are attached to it with
 * VFIO_GROUP_SET_CONTAINER; VFIO_SET_IOMMU then picks the IOMMU backend
 * which every attached group shares: type1 for real IOMMU groups, the
 * no-IOMMU backend (noiommu.c) for no-IOMMU groups; a container holds one
 * kind of group only (-EPERM for the other, as upstream).  The IOMMU
 * ioctls on the container fd go to the backend.  Backends are instances of
 * struct vfio_dkms_iommu_ops (iommu.h): nothing here depends on which one
 * a container has.
 *
 * Shared ownership (docs/shared-ownership.md): a container holding a shared
 * group can be joined by other container files (see
 * vfio_dkms_container_shared_set()); their ioctls then go to it.  Each
 * file owns the mappings it made, and its release removes them.  Shared
 * and non-shared groups never mix in one container, and a non-shared group
 * only enters a container that one file reaches, so what a non-shared
 * group's owner sees is exactly what it saw before shared ownership.
 */
#include <linux/fs.h>
#include <linux/iommu.h>
#include <linux/miscdevice.h>
#include <linux/slab.h>
#include <linux/vfio.h>

#include "compat.h"
#include "container.h"
#include "group.h"
#include "iommu.h"

static atomic_long_t vfio_dkms_container_ids = ATOMIC_LONG_INIT(0);

/* The IOMMU models, in the order VFIO_CHECK_EXTENSION asks them. */
static const struct vfio_dkms_iommu_ops *const vfio_dkms_iommu_backends[] = {
	&vfio_dkms_type1_ops,
	&vfio_dkms_noiommu_ops,
};

static void vfio_dkms_container_release(struct kref *kref)
{
	struct vfio_dkms_container *container =
		container_of(kref, struct vfio_dkms_container, kref);

	/* The backend goes away with the last group. */
	WARN_ON(container->iommu_ops);
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
	ret = container->iommu_ops;
	up_read(&container->group_lock);
	return ret;
}

/*
 * A container holding shared groups (never mixed with non-shared ones).
 * group->shared cannot change while the group is attached: it only
 * changes while the group node is not open.
 */
static bool vfio_dkms_container_is_shared(struct vfio_dkms_container *container)
{
	lockdep_assert_held(&container->group_lock);
	return !list_empty(&container->group_list) &&
	       list_first_entry(&container->group_list, struct vfio_dkms_group,
				container_next)->shared;
}

/*
 * Whether a backend can serve the groups of @container: the groups are
 * either all no-IOMMU groups or all real ones; an empty container could
 * get either.
 */
static bool vfio_dkms_container_backend_fits(struct vfio_dkms_container *container,
					     const struct vfio_dkms_iommu_ops *ops)
{
	lockdep_assert_held(&container->group_lock);
	return list_empty(&container->group_list) ||
	       list_first_entry(&container->group_list, struct vfio_dkms_group,
				container_next)->noiommu == ops->noiommu;
}

/* Whether the file whose own container is @own set @container's backend. */
static bool vfio_dkms_container_file_set_iommu(struct vfio_dkms_container *own,
					       struct vfio_dkms_container *container)
{
	lockdep_assert_held(&container->group_lock);
	return container->iommu_ops &&
	       own->iommu_set_gen == container->iommu_gen;
}

/* The container a container file's ioctls go to. */
static struct vfio_dkms_container *vfio_dkms_container_used(struct file *filep)
{
	struct vfio_dkms_container *own = filep->private_data;
	struct vfio_dkms_container *joined = smp_load_acquire(&own->joined);

	return joined ?: own;
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
 * Return: 0 or a negative errno; -EINVAL when the group would mix shared
 * and non-shared groups, or would put a non-shared group in a container
 * that several files use.
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
	    list_first_entry(&container->group_list, struct vfio_dkms_group,
			     container_next)->noiommu != group->noiommu) {
		ret = -EPERM;
		goto out_unlock;
	}
	/*
	 * Shared ownership: see the comment at the top.  A container whose
	 * file joined another one is only the file's owner token.
	 */
	if (container->joined ||
	    (!list_empty(&container->group_list) &&
	     vfio_dkms_container_is_shared(container) != group->shared) ||
	    (!group->shared && container->users > 1)) {
		ret = -EINVAL;
		goto out_unlock;
	}
	if (!group->noiommu) {
		ret = vfio_dkms_claim_dma_owner(group->iommu_group, group);
		if (ret)
			goto out_unlock;
	}

	if (container->iommu_ops) {
		ret = container->iommu_ops->attach_group(container->iommu_data,
							 group->iommu_group);
		if (ret)
			goto err_release_owner;
	}

	kref_get(&container->kref);
	group->container = container;
	group->container_users = 1;
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
 * @group: an attached group without open device fds, or whose last device
 *	is being unregistered (its device fds are revoked)
 *
 * The backend, and with it every DMA mapping, is released when the last
 * group leaves.
 */
void vfio_dkms_container_detach_group(struct vfio_dkms_group *group)
{
	struct vfio_dkms_container *container = group->container;

	lockdep_assert_held(&group->group_lock);

	down_write(&container->group_lock);
	if (container->iommu_ops)
		container->iommu_ops->detach_group(container->iommu_data,
						   group->iommu_group);
	if (!group->noiommu)
		vfio_dkms_release_dma_owner(group->iommu_group);
	list_del_init(&group->container_next);

	/* Unmaps, unpins and uncharges everything still mapped. */
	if (list_empty(&container->group_list) && container->iommu_ops) {
		container->iommu_ops->release(container->iommu_data);
		container->iommu_ops = NULL;
		container->iommu_data = NULL;
	}
	up_write(&container->group_lock);

	group->container = NULL;
	/*
	 * Only the attachment's count goes.  A group whose last device was
	 * unregistered leaves its container while revoked device fds may
	 * still be open; each one's close drops its own count later.
	 */
	group->container_users--;
	vfio_dkms_container_put(container);
}

/* The backend of @container's groups that knows IOMMU type @arg, or NULL. */
static const struct vfio_dkms_iommu_ops *
vfio_dkms_container_backend_for(struct vfio_dkms_container *container,
				unsigned long arg)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(vfio_dkms_iommu_backends); i++) {
		const struct vfio_dkms_iommu_ops *ops =
			vfio_dkms_iommu_backends[i];

		if (vfio_dkms_container_backend_fits(container, ops) &&
		    ops->check_extension(NULL, arg) > 0)
			return ops;
	}
	return NULL;
}

static long vfio_dkms_container_set_iommu(struct vfio_dkms_container *own,
					  struct vfio_dkms_container *container,
					  unsigned long arg)
{
	const struct vfio_dkms_iommu_ops *ops;
	struct vfio_dkms_group *group;
	void *data;
	long ret;

	down_write(&container->group_lock);
	/*
	 * Shared ownership: another file set the backend already.  Each file
	 * sets it once; the same type is then a no-op, another type -EBUSY
	 * (the container is busy with another user's choice; -EINVAL stays
	 * the answer to a file that set the IOMMU itself before).
	 */
	if (container->iommu_ops &&
	    !vfio_dkms_container_file_set_iommu(own, container) &&
	    vfio_dkms_container_is_shared(container)) {
		ret = container->iommu_type == arg ? 0 : -EBUSY;
		if (!ret)
			own->iommu_set_gen = container->iommu_gen;
		goto out_unlock;
	}

	/* A backend needs a group to attach to, and is set only once. */
	if (list_empty(&container->group_list) || container->iommu_ops) {
		ret = -EINVAL;
		goto out_unlock;
	}

	/* No-IOMMU groups get the no-IOMMU backend, and only they do. */
	ops = vfio_dkms_container_backend_for(container, arg);
	if (!ops) {
		ret = -ENODEV;
		goto out_unlock;
	}

	data = ops->open(arg);
	if (IS_ERR(data)) {
		ret = PTR_ERR(data);
		goto out_unlock;
	}

	list_for_each_entry(group, &container->group_list, container_next) {
		ret = ops->attach_group(data, group->iommu_group);
		if (ret)
			goto err_detach;
	}

	container->iommu_ops = ops;
	container->iommu_data = data;
	container->iommu_type = arg;
	own->iommu_set_gen = ++container->iommu_gen;
	up_write(&container->group_lock);
	return 0;

err_detach:
	list_for_each_entry_continue_reverse(group, &container->group_list,
					     container_next)
		ops->detach_group(data, group->iommu_group);
	ops->release(data);
out_unlock:
	up_write(&container->group_lock);
	return ret;
}

/*
 * The backend answers once it is set.  Before, as upstream polls its IOMMU
 * drivers: the backends a container of these groups could get (every one
 * for an empty container), first positive answer wins.
 */
static long vfio_dkms_container_check_extension(struct vfio_dkms_container *container,
						unsigned long arg)
{
	unsigned int i;
	long ret = 0;

	lockdep_assert_held(&container->group_lock);

	if (container->iommu_ops)
		return container->iommu_ops->check_extension(container->iommu_data,
							     arg);
	for (i = 0; i < ARRAY_SIZE(vfio_dkms_iommu_backends) && ret <= 0; i++) {
		const struct vfio_dkms_iommu_ops *ops =
			vfio_dkms_iommu_backends[i];

		if (vfio_dkms_container_backend_fits(container, ops))
			ret = ops->check_extension(NULL, arg);
	}
	return ret;
}

/**
 * vfio_dkms_container_enforces_coherency() - is every DMA snooped?
 * @container: a container
 *
 * Return: whether the IOMMU context of @container makes every device DMA
 * cache coherent (VFIO_DMA_CC_IOMMU), as its backend or the backends it
 * could get answer.
 */
bool vfio_dkms_container_enforces_coherency(struct vfio_dkms_container *container)
{
	bool ret;

	down_read(&container->group_lock);
	ret = vfio_dkms_container_check_extension(container, VFIO_DMA_CC_IOMMU) > 0;
	up_read(&container->group_lock);
	return ret;
}

static long vfio_dkms_container_fops_unl_ioctl(struct file *filep,
					       unsigned int cmd,
					       unsigned long arg)
{
	struct vfio_dkms_container *own = filep->private_data;
	struct vfio_dkms_container *container = vfio_dkms_container_used(filep);
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
		return vfio_dkms_container_set_iommu(own, container, arg);
	default:
		/*
		 * Everything else is for the backend, once there is one (in a
		 * shared container: once this file has set it too).  The
		 * file's own container owns what it maps.
		 */
		down_read(&container->group_lock);
		if (container->iommu_ops &&
		    (vfio_dkms_container_file_set_iommu(own, container) ||
		     !vfio_dkms_container_is_shared(container)))
			ret = container->iommu_ops->ioctl(container->iommu_data,
							  own, cmd, arg);
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
	container->users = 1;
	container->id = atomic_long_inc_return(&vfio_dkms_container_ids);
	init_rwsem(&container->group_lock);
	INIT_LIST_HEAD(&container->group_list);
	filep->private_data = container;
	return 0;
}

static int vfio_dkms_container_fops_release(struct inode *inode,
					    struct file *filep)
{
	struct vfio_dkms_container *own = filep->private_data;
	struct vfio_dkms_container *container = vfio_dkms_container_used(filep);

	/*
	 * Shared ownership: the file's mappings go with it, the backend
	 * stays for the other users.  Without it they stay until the last
	 * group leaves, as before.
	 */
	down_write(&container->group_lock);
	container->users--;
	if (container->iommu_ops && container->iommu_ops->release_owner &&
	    vfio_dkms_container_is_shared(container))
		container->iommu_ops->release_owner(container->iommu_data, own);
	up_write(&container->group_lock);

	if (own->joined)
		vfio_dkms_container_put(own->joined);
	/* Attached groups keep the container until they leave it. */
	vfio_dkms_container_put(own);
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

/* The container the file's ioctls go to, NULL if not a container file. */
struct vfio_dkms_container *vfio_dkms_container_from_file(struct file *file)
{
	if (file->f_op != &vfio_dkms_container_fops)
		return NULL;
	return vfio_dkms_container_used(file);
}

/*
 * Make the container file @file, whose own container is @own, use
 * @container instead; @own must be unused (no group, never joined).
 */
static int vfio_dkms_container_join(struct vfio_dkms_container *own,
				    struct vfio_dkms_container *container)
{
	int ret = 0;

	down_write(&container->group_lock);
	container->users++;
	up_write(&container->group_lock);
	kref_get(&container->kref);

	/* A joined container takes no groups (attach checks, same lock). */
	down_write(&own->group_lock);
	if (!list_empty(&own->group_list) || own->joined)
		ret = -EINVAL;
	else
		/* The file's ioctls go to @container from here on. */
		smp_store_release(&own->joined, container);
	up_write(&own->group_lock);

	if (ret) {
		down_write(&container->group_lock);
		container->users--;
		up_write(&container->group_lock);
		vfio_dkms_container_put(container);
	}
	return ret;
}

/**
 * vfio_dkms_container_shared_set() - VFIO_GROUP_SET_CONTAINER, shared group
 * @file: the file passed to the ioctl
 * @group: a shared group, with its group_lock held
 *
 * A group not in a container yet is attached to the container @file uses.
 * A group in container X already stays there: @file must use X, or be an
 * unused container file, which then joins X (its ioctls go to X).
 *
 * Return: 0; -EINVAL when @file is not usable with the group's container;
 * another errno from attaching.
 */
int vfio_dkms_container_shared_set(struct file *file,
				   struct vfio_dkms_group *group)
{
	struct vfio_dkms_container *container;

	lockdep_assert_held(&group->group_lock);

	container = vfio_dkms_container_from_file(file);
	if (!container)
		return VFIO_DKMS_ERR_NOT_CONTAINER;
	if (!group->container)
		return vfio_dkms_container_attach_group(container, group);
	if (container == group->container)
		return 0;
	/* The group keeps group->container while its group_lock is held. */
	return vfio_dkms_container_join(file->private_data, group->container);
}

static struct miscdevice vfio_dkms_container_dev = {
	.minor		= VFIO_DKMS_CONTAINER_MINOR,
	.name		= VFIO_DKMS_CONTAINER_NAME,
	.fops		= &vfio_dkms_container_fops,
	.nodename	= VFIO_DKMS_CONTAINER_NODE,
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
