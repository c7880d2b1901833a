// SPDX-License-Identifier: GPL-2.0
/*
 * vfio-dkms-pci: VFIO_DEVICE_IOEVENTFD.
 *
 * The user names a BAR offset, an access size (1, 2, 4 or 8 bytes), a
 * value and an eventfd; every signal of the eventfd writes the value
 * there, without a trip through the user's read/write path.  The same
 * (offset, size, value) with fd -1 removes it.  Rules and errnos follow
 * the in-tree vfio-pci: only BARs, not over the MSI-X table, at most
 * VFIO_DKMS_PCI_IOEVENTFD_MAX per device, EEXIST for a duplicate, ENODEV
 * when removing one that does not exist.  The region index is taken from
 * the 64-bit offset as an unsigned number, so an offset with its top bit
 * set is an index past the BARs (EINVAL), never a negative one.
 *
 * The write is done from the virqfd's work item, under memory_lock for
 * reading, and skipped while memory decode is off, as a user write would
 * be refused then.  ioeventfds_lock serialises the list; the ioeventfds
 * are all removed at close_device, before the BAR iomaps go.
 */
#include <linux/io.h>
#include <linux/io-64-nonatomic-lo-hi.h>
#include <linux/list.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/vfio.h>

#include "vfio_dkms_pci_ioeventfd.h"
#include "vfio_dkms_pci_priv.h"
#include "vfio_dkms_pci_rdwr.h"
#include "vfio_dkms_pci_virqfd.h"

/**
 * struct vfio_dkms_pci_ioeventfd - one registered eventfd
 * @next: entry on the device's ioeventfds list
 * @vdev: the device
 * @virqfd: the watched eventfd
 * @bar: BAR index
 * @pos: offset in the BAR
 * @data: the value written
 * @count: access size in bytes
 * @is_mem: the BAR is MMIO (needs memory decode)
 */
struct vfio_dkms_pci_ioeventfd {
	struct list_head next;
	struct vfio_dkms_pci_device *vdev;
	struct vfio_dkms_virqfd *virqfd;
	int bar;
	u64 pos;
	u64 data;
	int count;
	bool is_mem;
};

/* Under the eventfd's wait-queue lock: the write itself may sleep. */
static bool vfio_dkms_pci_ioeventfd_handler(void *opaque)
{
	return true;
}

static void vfio_dkms_pci_ioeventfd_write(void *opaque)
{
	struct vfio_dkms_pci_ioeventfd *ioeventfd = opaque;
	struct vfio_dkms_pci_device *vdev = ioeventfd->vdev;
	void __iomem *io = vdev->barmap[ioeventfd->bar] + ioeventfd->pos;

	down_read(&vdev->memory_lock);
	if (ioeventfd->is_mem && !vdev->mem_enabled)
		goto out;
	switch (ioeventfd->count) {
	case 1:
		iowrite8(ioeventfd->data, io);
		break;
	case 2:
		iowrite16(ioeventfd->data, io);
		break;
	case 4:
		iowrite32(ioeventfd->data, io);
		break;
	case 8:
		writeq(ioeventfd->data, io);
		break;
	}
out:
	up_read(&vdev->memory_lock);
}

static void vfio_dkms_pci_ioeventfd_free(struct vfio_dkms_pci_device *vdev,
					 struct vfio_dkms_pci_ioeventfd *ioeventfd)
{
	vfio_dkms_virqfd_disable(&ioeventfd->virqfd);
	list_del(&ioeventfd->next);
	vdev->ioeventfds_nr--;
	kfree(ioeventfd);
}

static int vfio_dkms_pci_ioeventfd(struct vfio_dkms_pci_device *vdev,
				   u64 offset, u64 data, int count, int fd)
{
	u64 index = VFIO_DKMS_PCI_OFFSET_TO_INDEX(offset);
	u64 pos = offset & VFIO_DKMS_PCI_OFFSET_MASK;
	struct vfio_dkms_pci_ioeventfd *ioeventfd;
	struct pci_dev *pdev = vdev->pdev;
	int bar, ret;

	if (index > VFIO_PCI_BAR5_REGION_INDEX)
		return -EINVAL;
	bar = index;
	if (pos + count > pci_resource_len(pdev, bar))
		return -EINVAL;
	/* The MSI-X table is the kernel's: no way around that. */
	if (bar == vdev->msix_bar &&
	    pos + count > vdev->msix_offset &&
	    pos < (u64)vdev->msix_offset + vdev->msix_size)
		return -EINVAL;
	/* Port I/O has no 64-bit access. */
	if (count == 8 && !(pci_resource_flags(pdev, bar) & IORESOURCE_MEM))
		return -EINVAL;

	ret = vfio_dkms_pci_setup_barmap(vdev, bar);
	if (ret)
		return ret;

	mutex_lock(&vdev->ioeventfds_lock);
	list_for_each_entry(ioeventfd, &vdev->ioeventfds, next) {
		if (ioeventfd->bar == bar && ioeventfd->pos == pos &&
		    ioeventfd->data == data && ioeventfd->count == count) {
			if (fd == -1) {
				vfio_dkms_pci_ioeventfd_free(vdev, ioeventfd);
				ret = 0;
			} else {
				ret = -EEXIST;
			}
			goto out_unlock;
		}
	}
	if (fd < 0) {
		ret = -ENODEV;
		goto out_unlock;
	}
	if (vdev->ioeventfds_nr >= VFIO_DKMS_PCI_IOEVENTFD_MAX) {
		ret = -ENOSPC;
		goto out_unlock;
	}

	ioeventfd = kzalloc(sizeof(*ioeventfd), GFP_KERNEL_ACCOUNT);
	if (!ioeventfd) {
		ret = -ENOMEM;
		goto out_unlock;
	}
	ioeventfd->vdev = vdev;
	ioeventfd->bar = bar;
	ioeventfd->pos = pos;
	ioeventfd->data = data;
	ioeventfd->count = count;
	ioeventfd->is_mem = pci_resource_flags(pdev, bar) & IORESOURCE_MEM;
	/* On the list before the eventfd is watched: a pending signal writes. */
	list_add(&ioeventfd->next, &vdev->ioeventfds);
	vdev->ioeventfds_nr++;
	ret = vfio_dkms_virqfd_enable(ioeventfd, vfio_dkms_pci_ioeventfd_handler,
				      vfio_dkms_pci_ioeventfd_write,
				      &ioeventfd->virqfd, fd);
	if (ret)
		vfio_dkms_pci_ioeventfd_free(vdev, ioeventfd);
out_unlock:
	mutex_unlock(&vdev->ioeventfds_lock);
	return ret;
}

int vfio_dkms_pci_ioctl_ioeventfd(struct vfio_dkms_pci_device *vdev,
				  struct vfio_dkms_ioctl_arg *arg)
{
	unsigned long minsz = offsetofend(struct vfio_device_ioeventfd, fd);
	struct vfio_device_ioeventfd req = *(struct vfio_device_ioeventfd *)arg->buf;
	u32 count;

	if (req.argsz < minsz)
		return -EINVAL;
	if (req.flags & ~VFIO_DEVICE_IOEVENTFD_SIZE_MASK)
		return -EINVAL;
	count = req.flags & VFIO_DEVICE_IOEVENTFD_SIZE_MASK;
	if (hweight32(count) != 1 || req.fd < -1)
		return -EINVAL;

	return vfio_dkms_pci_ioeventfd(vdev, req.offset, req.data, count, req.fd);
}

/**
 * vfio_dkms_pci_ioeventfds_release() - remove every ioeventfd of a device
 * @vdev: the device, being closed
 *
 * On return no write is running or will run.
 */
void vfio_dkms_pci_ioeventfds_release(struct vfio_dkms_pci_device *vdev)
{
	struct vfio_dkms_pci_ioeventfd *ioeventfd, *tmp;

	mutex_lock(&vdev->ioeventfds_lock);
	list_for_each_entry_safe(ioeventfd, tmp, &vdev->ioeventfds, next)
		vfio_dkms_pci_ioeventfd_free(vdev, ioeventfd);
	mutex_unlock(&vdev->ioeventfds_lock);
}
