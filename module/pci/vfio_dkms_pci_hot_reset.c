// SPDX-License-Identifier: GPL-2.0
/*
 * vfio-dkms-pci: VFIO_DEVICE_GET_PCI_HOT_RESET_INFO and
 * VFIO_DEVICE_PCI_HOT_RESET.
 *
 * A hot reset resets a whole slot, or when the device's slot cannot be
 * reset on its own, the bus below the device's upstream bridge: every
 * function there, on the subordinate buses too, is reset with it.  The
 * info answer lists them with their IOMMU group ids, so that a user (QEMU)
 * can see whether it owns all of them; the reset takes the files of those
 * groups as proof.  The scope, the errnos and the argsz rules are those of
 * the in-tree vfio-pci: -ENODEV when neither reset is possible (e.g. a
 * device on a root bus), -ENOSPC with @count set when the info array does
 * not fit, -EINVAL for a reset scope with a function that is not bound to
 * vfio-dkms-pci or not in one of the groups given.
 */
#include <linux/err.h>
#include <linux/file.h>
#include <linux/iommu.h>
#include <linux/mutex.h>
#include <linux/overflow.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/vfio.h>

#include "vfio_dkms_pci_hot_reset.h"
#include "vfio_dkms_pci_mmap.h"
#include "vfio_dkms_pci_priv.h"

/**
 * struct vfio_dkms_pci_reset_walk - one pass over the reset scope
 * @slot: the slot that is reset, or NULL for the whole bus
 * @devices: where to fill the devices in (info), or NULL
 * @pdevs: where to put referenced pci_devs (reset), or NULL; with neither,
 *	the walk counts the devices only
 * @max: room in @devices or @pdevs
 * @count: devices seen so far
 * @ret: first error, which stops the walk
 */
struct vfio_dkms_pci_reset_walk {
	struct pci_slot *slot;
	struct vfio_pci_dependent_device *devices;
	struct pci_dev **pdevs;
	u32 max;
	u32 count;
	int ret;
};

/* Is @pdev in @slot, or below a bridge that is? */
static bool vfio_dkms_pci_in_slot(struct pci_dev *pdev, struct pci_slot *slot)
{
	for (; pdev; pdev = pdev->bus->self)
		if (pdev->bus == slot->bus)
			return pdev->slot == slot;
	return false;
}

static int vfio_dkms_pci_reset_visit(struct pci_dev *pdev, void *data)
{
	struct vfio_dkms_pci_reset_walk *walk = data;
	struct vfio_pci_dependent_device *dep;
	struct iommu_group *group;

	if (walk->slot && !vfio_dkms_pci_in_slot(pdev, walk->slot))
		return 0;
	/* A device appeared since the count: let the user retry. */
	if ((walk->devices || walk->pdevs) && walk->count == walk->max) {
		walk->ret = -EAGAIN;
		return 1;
	}
	if (walk->pdevs)
		walk->pdevs[walk->count] = pci_dev_get(pdev);
	if (walk->devices) {
		group = iommu_group_get(&pdev->dev);
		if (!group) {
			walk->ret = -EPERM;
			return 1;
		}
		dep = &walk->devices[walk->count];
		dep->group_id = iommu_group_id(group);
		dep->segment = pci_domain_nr(pdev->bus);
		dep->bus = pdev->bus->number;
		dep->devfn = pdev->devfn;
		iommu_group_put(group);
	}
	walk->count++;
	return 0;
}

/*
 * Which reset (the slot's, else the bus's) and how many functions it
 * reaches: @walk is set up for that reset with its count, or -ENODEV when
 * neither is possible.
 */
static int vfio_dkms_pci_reset_count(struct pci_dev *pdev,
				     struct vfio_dkms_pci_reset_walk *walk)
{
	if (!pci_probe_reset_slot(pdev->slot))
		walk->slot = pdev->slot;
	else if (pci_probe_reset_bus(pdev->bus))
		return -ENODEV;

	pci_walk_bus(pdev->bus, vfio_dkms_pci_reset_visit, walk);
	if (walk->ret)
		return walk->ret;
	/*
	 * The device itself is in its own reset scope, unless it has just
	 * left the bus (surprise removal): nothing to reset then.
	 */
	return walk->count ? 0 : -ENODEV;
}

int vfio_dkms_pci_ioctl_hot_reset_info(struct vfio_dkms_pci_device *vdev,
				       struct vfio_dkms_ioctl_arg *arg)
{
	unsigned long minsz = offsetofend(struct vfio_pci_hot_reset_info, count);
	struct vfio_pci_hot_reset_info *hdr = arg->buf;
	struct vfio_dkms_pci_reset_walk walk = { };
	struct pci_dev *pdev = vdev->pdev;
	size_t need;
	int ret = 0;

	if (hdr->argsz < minsz)
		return -EINVAL;
	hdr->flags = 0;

	ret = vfio_dkms_pci_reset_count(pdev, &walk);
	if (ret)
		return ret;

	/*
	 * The kernel copy holds arg->size bytes; a scope larger than that
	 * (more devices than the driver's ioctl table allows for) is refused
	 * as too large for any buffer.
	 */
	need = struct_size(hdr, devices, walk.count);
	if (need > arg->size && hdr->argsz >= need)
		return -E2BIG;
	if (hdr->argsz < need) {
		/* VFIO's "too small": the count needed goes back with ENOSPC. */
		hdr->count = walk.count;
		arg->out = minsz;
		return -ENOSPC;
	}

	walk.max = walk.count;
	walk.count = 0;
	walk.devices = hdr->devices;
	pci_walk_bus(pdev->bus, vfio_dkms_pci_reset_visit, &walk);
	ret = walk.ret;
	if (!ret) {
		/* Fewer devices than counted when one left in between. */
		hdr->count = walk.count;
		arg->out = struct_size(hdr, devices, walk.count);
	}
	return ret;
}

/*
 * One hot reset at a time, as in-tree's per-reset-set lock gives: two
 * resets of overlapping scopes would otherwise compete for the same
 * memory_locks and device locks.  Lock order: this lock, then a group's
 * group_lock (taken and dropped while the devices are looked up), then each
 * scope device's memory_lock (trylock, in walk order), then the PCI core's
 * device locks (pci_reset_bus() trylocks them).
 */
static DEFINE_MUTEX(vfio_dkms_pci_hot_reset_lock);

/**
 * struct vfio_dkms_pci_hot_reset_set - what one hot reset holds
 * @files: the group files given, referenced
 * @nr_files: entries of @files
 * @pdevs: the functions of the reset scope, referenced
 * @nr_pdevs: entries of @pdevs
 * @vdevs: their vfio-dkms-pci devices, referenced
 * @nr_vdevs: entries of @vdevs (found so far)
 * @nr_locked: leading entries of @vdevs whose memory_lock is held for write
 */
struct vfio_dkms_pci_hot_reset_set {
	struct file **files;
	u32 nr_files;
	struct pci_dev **pdevs;
	u32 nr_pdevs;
	struct vfio_dkms_pci_device **vdevs;
	u32 nr_vdevs;
	u32 nr_locked;
};

/* fget() every group fd: -EBADF for a closed fd, -EINVAL for another file. */
static int vfio_dkms_pci_hot_reset_files(struct vfio_dkms_pci_hot_reset_set *set,
					 const s32 *fds, u32 count)
{
	struct file *file;
	u32 i;

	set->files = kcalloc(count, sizeof(*set->files), GFP_KERNEL);
	if (!set->files)
		return -ENOMEM;
	for (i = 0; i < count; i++) {
		file = fget(fds[i]);
		if (!file)
			return -EBADF;
		if (!vfio_dkms_file_is_group(file)) {
			fput(file);
			return -EINVAL;
		}
		set->files[set->nr_files++] = file;
	}
	return 0;
}

/*
 * Take every function of the reset scope (@walk, counted) together with its
 * vfio-dkms-pci device from one of the groups: -EINVAL when one is not
 * ours or its group was not given, -EBUSY when someone else has it open.
 */
static int vfio_dkms_pci_hot_reset_devices(struct vfio_dkms_pci_device *vdev,
					   struct vfio_dkms_pci_reset_walk *walk,
					   struct vfio_dkms_pci_hot_reset_set *set)
{
	struct vfio_dkms_device *core;
	u32 i;

	set->pdevs = kcalloc(walk->count, sizeof(*set->pdevs), GFP_KERNEL);
	set->vdevs = kcalloc(walk->count, sizeof(*set->vdevs), GFP_KERNEL);
	if (!set->pdevs || !set->vdevs)
		return -ENOMEM;

	walk->pdevs = set->pdevs;
	walk->max = walk->count;
	walk->count = 0;
	pci_walk_bus(vdev->pdev->bus, vfio_dkms_pci_reset_visit, walk);
	set->nr_pdevs = walk->count;
	if (walk->ret)
		return walk->ret;

	for (i = 0; i < set->nr_pdevs; i++) {
		core = vfio_dkms_group_files_get_device(set->files,
							set->nr_files,
							&set->pdevs[i]->dev,
							vdev->vdev.ops);
		if (IS_ERR(core))
			return PTR_ERR(core);
		set->vdevs[set->nr_vdevs++] =
			container_of(core, struct vfio_dkms_pci_device, vdev);
	}
	return 0;
}

/*
 * Reset the scope.  Each device's memory_lock is held for write across the
 * reset with its BAR mmaps zapped, so that no user access (read/write,
 * mmap fault, config write of the command register) reaches a device in
 * reset; the mappings fault back in afterwards.  Contention on a
 * memory_lock answers -EBUSY (as in-tree) rather than risking a deadlock
 * between devices.  pci_reset_bus() saves and restores the config state
 * of every function it resets, the command register, and with it memory
 * decode (mem_enabled), included.
 */
static int vfio_dkms_pci_hot_reset_locked(struct vfio_dkms_pci_device *vdev,
					  struct vfio_dkms_pci_hot_reset_set *set)
{
	struct vfio_dkms_pci_device *cur;
	u32 i;

	for (i = 0; i < set->nr_vdevs; i++) {
		cur = set->vdevs[i];
		if (!down_write_trylock(&cur->memory_lock))
			return -EBUSY;
		set->nr_locked++;
		vfio_dkms_pci_zap_bars(cur);
	}
	/* The reset puts functions in low-power states back in D0 anyway. */
	for (i = 0; i < set->nr_vdevs; i++)
		pci_set_power_state(set->vdevs[i]->pdev, PCI_D0);

	return pci_reset_bus(vdev->pdev);
}

static void vfio_dkms_pci_hot_reset_release(struct vfio_dkms_pci_hot_reset_set *set)
{
	u32 i;

	for (i = set->nr_locked; i; i--)
		up_write(&set->vdevs[i - 1]->memory_lock);
	for (i = 0; i < set->nr_vdevs; i++)
		vfio_dkms_device_put(&set->vdevs[i]->vdev);
	for (i = 0; i < set->nr_pdevs; i++)
		pci_dev_put(set->pdevs[i]);
	for (i = 0; i < set->nr_files; i++)
		fput(set->files[i]);
	kfree(set->vdevs);
	kfree(set->pdevs);
	kfree(set->files);
}

int vfio_dkms_pci_ioctl_hot_reset(struct vfio_dkms_pci_device *vdev,
				  struct vfio_dkms_ioctl_arg *arg)
{
	unsigned long minsz = offsetofend(struct vfio_pci_hot_reset, count);
	struct vfio_pci_hot_reset *hdr = arg->buf;
	struct vfio_dkms_pci_reset_walk walk = { };
	struct vfio_dkms_pci_hot_reset_set set = { };
	int ret;

	if (hdr->argsz < minsz || hdr->flags)
		return -EINVAL;
	/*
	 * Without an iommufd device cdev, the groups are the only proof of
	 * ownership: an empty array is invalid (checked before the reset is
	 * probed, in the order of in-tree kernels that have the cdev).
	 */
	if (!hdr->count)
		return -EINVAL;

	ret = vfio_dkms_pci_reset_count(vdev->pdev, &walk);
	if (ret)
		return ret;
	/* At most one group per function of the scope. */
	if (hdr->count > walk.count)
		return -EINVAL;
	/* Only a scope larger than the kernel copy allows for gets here. */
	if (hdr->count > VFIO_DKMS_PCI_HOT_RESET_MAX_DEVICES)
		return -E2BIG;
	/* The fds must be inside argsz, the part the core copied. */
	if (struct_size(hdr, group_fds, hdr->count) > hdr->argsz)
		return -EINVAL;

	ret = vfio_dkms_pci_hot_reset_files(&set, hdr->group_fds, hdr->count);
	mutex_lock(&vfio_dkms_pci_hot_reset_lock);
	if (!ret)
		ret = vfio_dkms_pci_hot_reset_devices(vdev, &walk, &set);
	if (!ret)
		ret = vfio_dkms_pci_hot_reset_locked(vdev, &set);
	vfio_dkms_pci_hot_reset_release(&set);
	mutex_unlock(&vfio_dkms_pci_hot_reset_lock);
	return ret;
}
