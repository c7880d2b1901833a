// SPDX-License-Identifier: GPL-2.0
/*
 * vfio-dkms-pci: read/write of the BAR and ROM regions.
 *
 * Accesses are split into naturally aligned 8/4/2/1-byte device accesses.
 * MMIO BARs and the ROM are only touched while memory decode is enabled
 * (-EIO otherwise); the MSI-X table reads as 0xff and ignores writes.  The
 * buffers are the core's kernel bounce buffers.
 */
#include <linux/io.h>
#include <linux/io-64-nonatomic-lo-hi.h>
#include <linux/pci.h>
#include <linux/uaccess.h>

#include "vfio_dkms_pci_priv.h"
#include "vfio_dkms_pci_rdwr.h"

/**
 * vfio_dkms_pci_setup_barmap() - request and iomap a BAR on first use
 * @vdev: the device
 * @bar: BAR index
 *
 * Return: 0 or a negative errno.
 */
int vfio_dkms_pci_setup_barmap(struct vfio_dkms_pci_device *vdev, int bar)
{
	struct pci_dev *pdev = vdev->pdev;
	void __iomem *io;
	int ret;

	if (vdev->barmap[bar])
		return 0;

	ret = pci_request_selected_regions(pdev, 1 << bar, "vfio-dkms-pci");
	if (ret)
		return ret;

	io = pci_iomap(pdev, bar, 0);
	if (!io) {
		pci_release_selected_regions(pdev, 1 << bar);
		return -ENOMEM;
	}

	vdev->barmap[bar] = io;
	return 0;
}

/*
 * One access of @size bytes at @io + @off, from or to the kernel buffer
 * @buf.  With @test_mem the access needs memory decode and is done under
 * memory_lock; without it the caller holds memory_lock (or the region is
 * port I/O).
 */
static int vfio_dkms_pci_io_one(struct vfio_dkms_pci_device *vdev,
				void __iomem *io, bool test_mem, char *buf,
				loff_t off, size_t size, bool iswrite)
{
	u64 val = 0;

	if (iswrite)
		memcpy(&val, buf, size);

	if (test_mem) {
		down_read(&vdev->memory_lock);
		if (!vdev->mem_enabled) {
			up_read(&vdev->memory_lock);
			return -EIO;
		}
	}

	switch (size) {
	case 8:
		/* Only MMIO gets here: port I/O has no 64-bit accessor. */
		if (iswrite)
			writeq(val, io + off);
		else
			val = readq(io + off);
		break;
	case 4:
		if (iswrite)
			iowrite32(val, io + off);
		else
			val = ioread32(io + off);
		break;
	case 2:
		if (iswrite)
			iowrite16(val, io + off);
		else
			val = ioread16(io + off);
		break;
	default:
		if (iswrite)
			iowrite8(val, io + off);
		else
			val = ioread8(io + off);
		break;
	}

	if (test_mem)
		up_read(&vdev->memory_lock);

	if (!iswrite)
		memcpy(buf, &val, size);
	return 0;
}

static ssize_t vfio_dkms_pci_do_io_rw(struct vfio_dkms_pci_device *vdev,
				      bool is_mmio, bool test_mem,
				      void __iomem *io,
				      char *buf, loff_t off,
				      size_t count, size_t x_start,
				      size_t x_end, bool iswrite)
{
	ssize_t done = 0;
	int ret;

	while (count) {
		size_t fillable, filled;

		if (off < x_start)
			fillable = min(count, (size_t)(x_start - off));
		else if (off >= x_end)
			fillable = count;
		else
			fillable = 0;

		if (fillable >= 8 && !(off % 8) && is_mmio)
			filled = 8;
		else if (fillable >= 4 && !(off % 4))
			filled = 4;
		else if (fillable >= 2 && !(off % 2))
			filled = 2;
		else if (fillable)
			filled = 1;
		else
			filled = 0;

		if (filled) {
			ret = vfio_dkms_pci_io_one(vdev, io, test_mem, buf,
						   off, filled, iswrite);
			if (ret)
				return ret;
		} else {
			/* Excluded range: reads return 0xff, writes dropped. */
			filled = min(count, (size_t)(x_end - off));
			if (!iswrite)
				memset(buf, 0xff, filled);
		}

		count -= filled;
		done += filled;
		off += filled;
		buf += filled;
	}

	return done;
}

/**
 * vfio_dkms_pci_bar_rw() - read or write a BAR or (read only) the ROM
 * @vdev: the device
 * @buf: kernel buffer
 * @count: bytes
 * @ppos: file offset (region index << 40 | offset); advanced on success
 * @iswrite: direction
 *
 * Return: bytes transferred, or -EINVAL outside the region, -EIO with
 * memory decode disabled, another negative errno.
 */
ssize_t vfio_dkms_pci_bar_rw(struct vfio_dkms_pci_device *vdev,
			     char *buf, size_t count, loff_t *ppos,
			     bool iswrite)
{
	struct pci_dev *pdev = vdev->pdev;
	loff_t pos = *ppos & VFIO_DKMS_PCI_OFFSET_MASK;
	int bar = VFIO_DKMS_PCI_OFFSET_TO_INDEX(*ppos);
	struct resource *res = &pdev->resource[bar];
	size_t x_start = 0, x_end = 0;
	resource_size_t end;
	void __iomem *io;
	ssize_t done;

	if (pci_resource_start(pdev, bar))
		end = pci_resource_len(pdev, bar);
	else if (bar == PCI_ROM_RESOURCE &&
		 res->flags & IORESOURCE_ROM_SHADOW)
		end = 0x20000;
	else
		return -EINVAL;

	if (pos >= end)
		return -EINVAL;

	count = min(count, (size_t)(end - pos));

	if (bar == PCI_ROM_RESOURCE) {
		/*
		 * The ROM is memory like a BAR: it is mapped and read only
		 * while memory decode is on, all under memory_lock.
		 */
		down_read(&vdev->memory_lock);
		if (!vdev->mem_enabled) {
			up_read(&vdev->memory_lock);
			return -EIO;
		}
		/* Past the actual ROM image the BAR reads as 0xff. */
		io = pci_map_rom(pdev, &x_start);
		if (io) {
			x_end = end;
			done = vfio_dkms_pci_do_io_rw(vdev, false, false, io,
						      buf, pos, count, x_start,
						      x_end, iswrite);
			pci_unmap_rom(pdev, io);
		} else {
			done = -ENOMEM;
		}
		up_read(&vdev->memory_lock);
	} else {
		done = vfio_dkms_pci_setup_barmap(vdev, bar);
		if (done)
			return done;
		io = vdev->barmap[bar];

		if (bar == vdev->msix_bar) {
			x_start = vdev->msix_offset;
			x_end = vdev->msix_offset + vdev->msix_size;
		}
		done = vfio_dkms_pci_do_io_rw(vdev, res->flags & IORESOURCE_MEM,
					      res->flags & IORESOURCE_MEM, io,
					      buf, pos, count, x_start, x_end,
					      iswrite);
	}

	if (done >= 0)
		*ppos += done;
	return done;
}
