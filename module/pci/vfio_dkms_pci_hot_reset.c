// SPDX-License-Identifier: GPL-2.0
/*
 * vfio-dkms-pci: VFIO_DEVICE_GET_PCI_HOT_RESET_INFO.
 *
 * A hot reset resets a whole slot, or when the device's slot cannot be
 * reset on its own, the bus below the device's upstream bridge: every
 * function there, on the subordinate buses too, is reset with it.  The
 * answer lists them with their IOMMU group ids, so that a user (QEMU) can
 * see whether it owns all of them.  The scope, the errnos and the argsz
 * rules are those of the in-tree vfio-pci: -ENODEV when neither reset is
 * possible (e.g. a device on a root bus), -ENOSPC with @count set when the
 * array does not fit.
 */
#include <linux/iommu.h>
#include <linux/pci.h>
#include <linux/vfio.h>

#include "vfio_dkms_pci_hot_reset.h"
#include "vfio_dkms_pci_priv.h"

/**
 * struct vfio_dkms_pci_reset_walk - one pass over the reset scope
 * @slot: the slot that is reset, or NULL for the whole bus
 * @devices: where to fill the devices in, or NULL to count them only
 * @max: room in @devices
 * @count: devices seen so far
 * @ret: first error, which stops the walk
 */
struct vfio_dkms_pci_reset_walk {
	struct pci_slot *slot;
	struct vfio_pci_dependent_device *devices;
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
	if (walk->devices) {
		/* A device appeared since the count: let the user retry. */
		if (walk->count == walk->max) {
			walk->ret = -EAGAIN;
			return 1;
		}
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

	if (!pci_probe_reset_slot(pdev->slot))
		walk.slot = pdev->slot;
	else if (pci_probe_reset_bus(pdev->bus))
		return -ENODEV;

	pci_walk_bus(pdev->bus, vfio_dkms_pci_reset_visit, &walk);
	if (walk.ret)
		return walk.ret;
	/* The device itself is always in its own reset scope. */
	if (WARN_ON(!walk.count))
		return -ENODEV;

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
