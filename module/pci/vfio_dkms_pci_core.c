// SPDX-License-Identifier: GPL-2.0
/*
 * vfio-dkms-pci: PCI bus driver for vfio-dkms.
 *
 * Binds only through driver_override ("vfio-dkms-pci"): there is no id
 * table.  The device is enabled when its first device fd opens, with its
 * config state saved, and reset (when possible), restored and left with bus
 * mastering off when the last one closes.
 *
 * Interrupts (VFIO_DEVICE_SET_IRQS, the REQ relay on removal) are in
 * vfio_dkms_pci_intrs.c, revocable BAR mmaps in vfio_dkms_pci_mmap.c.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/io.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include <linux/vfio_dkms.h>

#include "../compat.h"
#include "vfio_dkms_pci_config.h"
#include "vfio_dkms_pci_feature.h"
#include "vfio_dkms_pci_flavor.h"
#include "vfio_dkms_pci_hot_reset.h"
#include "vfio_dkms_pci_ioeventfd.h"
#include "vfio_dkms_pci_mmap.h"
#include "vfio_dkms_pci_priv.h"
#include "vfio_dkms_pci_rdwr.h"

#define DRIVER_NAME	VFIO_DKMS_PCI_DRIVER
#define DRIVER_DESC	"vfio-dkms PCI bus driver"

static inline struct vfio_dkms_pci_device *
to_pci_vdev(struct vfio_dkms_device *core)
{
	return container_of(core, struct vfio_dkms_pci_device, vdev);
}

/* --- open / close ------------------------------------------------------ */

static void vfio_dkms_pci_probe_mmaps(struct vfio_dkms_pci_device *vdev)
{
	struct pci_dev *pdev = vdev->pdev;
	int bar;

	for (bar = 0; bar < PCI_STD_NUM_BARS; bar++) {
		struct resource *res = &pdev->resource[bar];

		/* Only whole pages of MMIO can be handed to user space. */
		vdev->bar_mmap_supported[bar] =
			res->flags & IORESOURCE_MEM &&
			resource_size(res) >= PAGE_SIZE &&
			PAGE_ALIGNED(res->start);
	}
}

static int vfio_dkms_pci_open_device(struct vfio_dkms_device *core)
{
	struct vfio_dkms_pci_device *vdev = to_pci_vdev(core);
	struct pci_dev *pdev = vdev->pdev;
	int ret;

	pci_set_power_state(pdev, PCI_D0);

	ret = pci_enable_device(pdev);
	if (ret)
		return ret;

	/* A reset that fails because the device lock is taken: try later. */
	ret = pci_try_reset_function(pdev);
	if (ret == -EAGAIN)
		goto err_disable;
	vdev->reset_works = !ret;

	pci_save_state(pdev);
	vdev->pci_saved_state = pci_store_saved_state(pdev);
	if (!vdev->pci_saved_state)
		pci_dbg(pdev, "%s: couldn't store saved state\n", __func__);

	vdev->msix_bar = VFIO_DKMS_PCI_NO_BAR;
	if (pdev->msix_cap) {
		u32 table;
		u16 flags;

		pci_read_config_word(pdev, pdev->msix_cap + PCI_MSIX_FLAGS,
				     &flags);
		pci_read_config_dword(pdev, pdev->msix_cap + PCI_MSIX_TABLE,
				      &table);
		vdev->msix_bar = table & PCI_MSIX_TABLE_BIR;
		vdev->msix_offset = table & PCI_MSIX_TABLE_OFFSET;
		vdev->msix_size = ((flags & PCI_MSIX_FLAGS_QSIZE) + 1) * 16;
	}

	vfio_dkms_pci_probe_mmaps(vdev);
	/* INTx-disable is cleared first: the virtual copy starts from it. */
	vfio_dkms_pci_intrs_open(vdev);
	ret = vfio_dkms_pci_config_init(vdev);
	if (ret)
		goto err_restore;
	return 0;

err_restore:
	pci_load_and_free_saved_state(pdev, &vdev->pci_saved_state);
	pci_restore_state(pdev);
err_disable:
	pci_disable_device(pdev);
	return ret;
}

static void vfio_dkms_pci_close_device(struct vfio_dkms_device *core)
{
	struct vfio_dkms_pci_device *vdev = to_pci_vdev(core);
	struct pci_dev *pdev = vdev->pdev;
	int bar;

	/* Stop DMA first. */
	pci_clear_master(pdev);

	/* Whatever eventfds and interrupts the user left set up. */
	vfio_dkms_pci_ioeventfds_release(vdev);
	vfio_dkms_pci_intrs_close(vdev);
	vfio_dkms_pci_config_free(vdev);

	for (bar = 0; bar < PCI_STD_NUM_BARS; bar++) {
		if (!vdev->barmap[bar])
			continue;
		pci_iounmap(pdev, vdev->barmap[bar]);
		pci_release_selected_regions(pdev, 1 << bar);
		vdev->barmap[bar] = NULL;
	}

	/*
	 * Restore the state saved at open.  Without saved state, resetting
	 * with the current state is still better than nothing.
	 */
	if (pci_load_and_free_saved_state(pdev, &vdev->pci_saved_state)) {
		pci_info(pdev, "%s: couldn't reload saved state\n", __func__);
		if (!vdev->reset_works)
			goto out_disable;
		pci_save_state(pdev);
	}

	/* No INTx while the device is reset and restored. */
	pci_write_config_word(pdev, PCI_COMMAND, PCI_COMMAND_INTX_DISABLE);

	/* Trylock: someone holding the device lock may wait on us. */
	if (vdev->reset_works && pci_dev_trylock(pdev)) {
		__pci_reset_function_locked(pdev);
		pci_dev_unlock(pdev);
	}
	pci_restore_state(pdev);

out_disable:
	pci_disable_device(pdev);
	down_write(&vdev->memory_lock);
	vdev->mem_enabled = false;
	up_write(&vdev->memory_lock);
}

/* --- ioctls ------------------------------------------------------------ */

static int vfio_dkms_pci_ioctl_get_info(struct vfio_dkms_pci_device *vdev,
					struct vfio_dkms_ioctl_arg *arg)
{
	unsigned long minsz = offsetofend(struct vfio_device_info, num_irqs);
	unsigned long capsz = offsetofend(struct vfio_device_info, cap_offset);
	struct vfio_device_info *info = arg->buf;

	if (info->argsz < minsz)
		return -EINVAL;

	if (info->argsz >= capsz) {
		minsz = capsz;
		info->cap_offset = 0;
	}

	info->flags = VFIO_DEVICE_FLAGS_PCI;
	if (vdev->reset_works)
		info->flags |= VFIO_DEVICE_FLAGS_RESET;
	info->num_regions = VFIO_PCI_NUM_REGIONS;
	info->num_irqs = VFIO_PCI_NUM_IRQS;

	arg->out = minsz;
	return 0;
}

static int vfio_dkms_pci_rom_info(struct vfio_dkms_pci_device *vdev,
				  struct vfio_region_info *info)
{
	struct pci_dev *pdev = vdev->pdev;
	void __iomem *io;
	size_t size;
	u16 cmd;

	info->flags = 0;
	/* The size of the BAR, not of the ROM image. */
	info->size = pci_resource_len(pdev, PCI_ROM_RESOURCE);
	if (!info->size) {
		/* Shadow ROMs appear as PCI option ROMs. */
		if (pdev->resource[PCI_ROM_RESOURCE].flags &
		    IORESOURCE_ROM_SHADOW)
			info->size = 0x20000;
		else
			return 0;
	}

	/* Is there really a ROM?  Needs memory decode to look. */
	down_write(&vdev->memory_lock);
	pci_read_config_word(pdev, PCI_COMMAND, &cmd);
	if (!(cmd & PCI_COMMAND_MEMORY))
		pci_write_config_word(pdev, PCI_COMMAND,
				      cmd | PCI_COMMAND_MEMORY);
	io = pci_map_rom(pdev, &size);
	if (io) {
		info->flags = VFIO_REGION_INFO_FLAG_READ;
		pci_unmap_rom(pdev, io);
	} else {
		info->size = 0;
	}
	if (!(cmd & PCI_COMMAND_MEMORY))
		pci_write_config_word(pdev, PCI_COMMAND, cmd);
	up_write(&vdev->memory_lock);
	return 0;
}

static int
vfio_dkms_pci_ioctl_get_region_info(struct vfio_dkms_pci_device *vdev,
				    struct vfio_dkms_ioctl_arg *arg)
{
	unsigned long minsz = offsetofend(struct vfio_region_info, offset);
	struct vfio_dkms_info_cap caps = { .buf = NULL, .size = 0 };
	struct pci_dev *pdev = vdev->pdev;
	struct vfio_region_info info;
	int ret = 0;

	memcpy(&info, arg->buf, minsz);
	if (info.argsz < minsz)
		return -EINVAL;

	switch (info.index) {
	case VFIO_PCI_CONFIG_REGION_INDEX:
		info.offset = VFIO_DKMS_PCI_INDEX_TO_OFFSET(info.index);
		info.size = pdev->cfg_size;
		info.flags = VFIO_REGION_INFO_FLAG_READ |
			     VFIO_REGION_INFO_FLAG_WRITE;
		break;
	case VFIO_PCI_BAR0_REGION_INDEX ... VFIO_PCI_BAR5_REGION_INDEX:
		info.offset = VFIO_DKMS_PCI_INDEX_TO_OFFSET(info.index);
		info.size = pci_resource_len(pdev, info.index);
		if (!info.size) {
			info.flags = 0;
			break;
		}
		info.flags = VFIO_REGION_INFO_FLAG_READ |
			     VFIO_REGION_INFO_FLAG_WRITE;
		if (vdev->bar_mmap_supported[info.index]) {
			info.flags |= VFIO_REGION_INFO_FLAG_MMAP;
			/* The MSI-X table may be mmap()ed like the rest. */
			if (info.index == vdev->msix_bar) {
				struct vfio_info_cap_header header = {
					.id = VFIO_REGION_INFO_CAP_MSIX_MAPPABLE,
					.version = 1,
				};

				ret = vfio_dkms_info_add_capability(&caps,
								    &header,
								    sizeof(header));
				if (ret)
					return ret;
			}
		}
		break;
	case VFIO_PCI_ROM_REGION_INDEX:
		info.offset = VFIO_DKMS_PCI_INDEX_TO_OFFSET(info.index);
		ret = vfio_dkms_pci_rom_info(vdev, &info);
		if (ret)
			return ret;
		break;
	default:
		/* No VGA region and no device-specific regions. */
		return -EINVAL;
	}

	if (caps.size) {
		info.flags |= VFIO_REGION_INFO_FLAG_CAPS;
		/* arg->size is argsz, clamped to the buffer the table gives. */
		if (info.argsz < sizeof(info) + caps.size ||
		    arg->size < sizeof(info) + caps.size) {
			info.argsz = sizeof(info) + caps.size;
			info.cap_offset = 0;
		} else {
			vfio_dkms_info_cap_shift(&caps, sizeof(info));
			memcpy(arg->buf + sizeof(info), caps.buf, caps.size);
			info.cap_offset = sizeof(info);
			arg->out = sizeof(info) + caps.size;
		}
		kfree(caps.buf);
	}

	memcpy(arg->buf, &info, minsz);
	arg->out = max_t(u32, arg->out, minsz);
	return 0;
}

int vfio_dkms_pci_irq_count(struct vfio_dkms_pci_device *vdev, int index)
{
	struct pci_dev *pdev = vdev->pdev;
	u16 flags;
	u8 pin;

	switch (index) {
	case VFIO_PCI_INTX_IRQ_INDEX:
		if (pdev->is_virtfn)
			return 0;
		pci_read_config_byte(pdev, PCI_INTERRUPT_PIN, &pin);
		return pin ? 1 : 0;
	case VFIO_PCI_MSI_IRQ_INDEX:
		if (!pdev->msi_cap)
			return 0;
		pci_read_config_word(pdev, pdev->msi_cap + PCI_MSI_FLAGS,
				     &flags);
		return 1 << ((flags & PCI_MSI_FLAGS_QMASK) >> 1);
	case VFIO_PCI_MSIX_IRQ_INDEX:
		if (!pdev->msix_cap)
			return 0;
		pci_read_config_word(pdev, pdev->msix_cap + PCI_MSIX_FLAGS,
				     &flags);
		return (flags & PCI_MSIX_FLAGS_QSIZE) + 1;
	case VFIO_PCI_ERR_IRQ_INDEX:
		return pci_is_pcie(pdev) ? 1 : 0;
	case VFIO_PCI_REQ_IRQ_INDEX:
		return 1;
	default:
		return 0;
	}
}

static int vfio_dkms_pci_ioctl_get_irq_info(struct vfio_dkms_pci_device *vdev,
					    struct vfio_dkms_ioctl_arg *arg)
{
	unsigned long minsz = offsetofend(struct vfio_irq_info, count);
	struct vfio_irq_info *info = arg->buf;

	if (info->argsz < minsz || info->index >= VFIO_PCI_NUM_IRQS)
		return -EINVAL;

	switch (info->index) {
	case VFIO_PCI_INTX_IRQ_INDEX ... VFIO_PCI_MSIX_IRQ_INDEX:
	case VFIO_PCI_REQ_IRQ_INDEX:
		break;
	case VFIO_PCI_ERR_IRQ_INDEX:
		if (pci_is_pcie(vdev->pdev))
			break;
		fallthrough;
	default:
		return -EINVAL;
	}

	info->flags = VFIO_IRQ_INFO_EVENTFD;
	info->count = vfio_dkms_pci_irq_count(vdev, info->index);
	if (info->index == VFIO_PCI_INTX_IRQ_INDEX)
		info->flags |= VFIO_IRQ_INFO_MASKABLE | VFIO_IRQ_INFO_AUTOMASKED;
	else if (info->index != VFIO_PCI_MSIX_IRQ_INDEX ||
		 !vdev->irqs.has_dyn_msix)
		info->flags |= VFIO_IRQ_INFO_NORESIZE;

	arg->out = minsz;
	return 0;
}

/**
 * vfio_dkms_pci_ioctl_reset() - VFIO_DEVICE_RESET
 * @vdev: the device (open)
 *
 * BAR mmaps are revoked before the reset and fault back in after it.
 *
 * Return: 0, -EINVAL without a usable reset method, -EAGAIN when the PCI
 * device lock is taken (e.g. by a concurrent unbind), or another errno.
 */
static int vfio_dkms_pci_ioctl_reset(struct vfio_dkms_pci_device *vdev)
{
	int ret;

	if (!vdev->reset_works)
		return -EINVAL;

	down_write(&vdev->memory_lock);
	vfio_dkms_pci_zap_bars(vdev);
	ret = pci_try_reset_function(vdev->pdev);
	up_write(&vdev->memory_lock);
	return ret;
}

/*
 * The argument sizes the core copies (struct vfio_dkms_ioctl_desc).  Region
 * info has room for a capability chain of a page; SET_IRQS for one eventfd
 * per MSI-X vector (the largest data it takes); hot-reset info for a reset
 * scope of VFIO_DKMS_PCI_HOT_RESET_MAX_DEVICES functions, and the hot reset
 * for one group fd per function of such a scope; no feature is
 * implemented, so only the feature header is read.
 */
static const struct vfio_dkms_ioctl_desc vfio_dkms_pci_ioctls[] = {
	{
		.cmd = VFIO_DEVICE_GET_INFO,
		.minsz = offsetofend(struct vfio_device_info, num_irqs),
		.maxsz = offsetofend(struct vfio_device_info, cap_offset),
	}, {
		.cmd = VFIO_DEVICE_GET_REGION_INFO,
		.minsz = offsetofend(struct vfio_region_info, offset),
		.maxsz = PAGE_SIZE,
	}, {
		.cmd = VFIO_DEVICE_GET_IRQ_INFO,
		.minsz = offsetofend(struct vfio_irq_info, count),
		.maxsz = offsetofend(struct vfio_irq_info, count),
	}, {
		.cmd = VFIO_DEVICE_RESET,
	}, {
		.cmd = VFIO_DEVICE_SET_IRQS,
		.minsz = offsetofend(struct vfio_irq_set, count),
		.maxsz = offsetofend(struct vfio_irq_set, count) +
			 PCI_MSIX_FLAGS_QSIZE * sizeof(s32) + sizeof(s32),
		.in_all = true,
	}, {
		.cmd = VFIO_DEVICE_GET_PCI_HOT_RESET_INFO,
		.minsz = offsetofend(struct vfio_pci_hot_reset_info, count),
		.maxsz = offsetofend(struct vfio_pci_hot_reset_info, count) +
			 VFIO_DKMS_PCI_HOT_RESET_MAX_DEVICES *
			 sizeof(struct vfio_pci_dependent_device),
	}, {
		.cmd = VFIO_DEVICE_PCI_HOT_RESET,
		.minsz = offsetofend(struct vfio_pci_hot_reset, count),
		.maxsz = offsetofend(struct vfio_pci_hot_reset, count) +
			 VFIO_DKMS_PCI_HOT_RESET_MAX_DEVICES * sizeof(s32),
		.in_all = true,
	}, {
		.cmd = VFIO_DEVICE_IOEVENTFD,
		.minsz = offsetofend(struct vfio_device_ioeventfd, fd),
		.maxsz = offsetofend(struct vfio_device_ioeventfd, fd),
	}, {
		.cmd = VFIO_DEVICE_FEATURE,
		.minsz = offsetofend(struct vfio_device_feature, flags),
		.maxsz = offsetofend(struct vfio_device_feature, flags),
	},
};

static long vfio_dkms_pci_ioctl(struct vfio_dkms_device *core,
				unsigned int cmd, struct vfio_dkms_ioctl_arg *arg)
{
	struct vfio_dkms_pci_device *vdev = to_pci_vdev(core);

	switch (cmd) {
	case VFIO_DEVICE_GET_INFO:
		return vfio_dkms_pci_ioctl_get_info(vdev, arg);
	case VFIO_DEVICE_GET_REGION_INFO:
		return vfio_dkms_pci_ioctl_get_region_info(vdev, arg);
	case VFIO_DEVICE_GET_IRQ_INFO:
		return vfio_dkms_pci_ioctl_get_irq_info(vdev, arg);
	case VFIO_DEVICE_RESET:
		return vfio_dkms_pci_ioctl_reset(vdev);
	case VFIO_DEVICE_SET_IRQS:
		return vfio_dkms_pci_ioctl_set_irqs(vdev, arg);
	case VFIO_DEVICE_GET_PCI_HOT_RESET_INFO:
		return vfio_dkms_pci_ioctl_hot_reset_info(vdev, arg);
	case VFIO_DEVICE_PCI_HOT_RESET:
		return vfio_dkms_pci_ioctl_hot_reset(vdev, arg);
	case VFIO_DEVICE_IOEVENTFD:
		return vfio_dkms_pci_ioctl_ioeventfd(vdev, arg);
	case VFIO_DEVICE_FEATURE:
		return vfio_dkms_pci_ioctl_feature(vdev, arg);
	default:
		return -ENOTTY;
	}
}

/* --- read / write / mmap ----------------------------------------------- */

static ssize_t vfio_dkms_pci_rw(struct vfio_dkms_pci_device *vdev,
				char *buf, size_t count, loff_t *ppos,
				bool iswrite)
{
	unsigned int index = VFIO_DKMS_PCI_OFFSET_TO_INDEX(*ppos);

	if (!count)
		return 0;

	switch (index) {
	case VFIO_PCI_CONFIG_REGION_INDEX:
		return vfio_dkms_pci_config_rw(vdev, buf, count, ppos, iswrite);
	case VFIO_PCI_ROM_REGION_INDEX:
		if (iswrite)
			return -EINVAL;
		return vfio_dkms_pci_bar_rw(vdev, buf, count, ppos, false);
	case VFIO_PCI_BAR0_REGION_INDEX ... VFIO_PCI_BAR5_REGION_INDEX:
		return vfio_dkms_pci_bar_rw(vdev, buf, count, ppos, iswrite);
	default:
		return -EINVAL;
	}
}

static ssize_t vfio_dkms_pci_read(struct vfio_dkms_device *core,
				  char *buf, size_t count, loff_t *ppos)
{
	return vfio_dkms_pci_rw(to_pci_vdev(core), buf, count, ppos, false);
}

static ssize_t vfio_dkms_pci_write(struct vfio_dkms_device *core,
				   const char *buf, size_t count,
				   loff_t *ppos)
{
	return vfio_dkms_pci_rw(to_pci_vdev(core), (char *)buf, count,
				ppos, true);
}

static int vfio_dkms_pci_mmap(struct vfio_dkms_device *core,
			      struct vm_area_struct *vma)
{
	struct vfio_dkms_pci_device *vdev = to_pci_vdev(core);
	struct pci_dev *pdev = vdev->pdev;
	u64 phys_len, req_len, pgoff, req_start;
	unsigned int index;
	int ret;

	index = vma->vm_pgoff >> (VFIO_DKMS_PCI_OFFSET_SHIFT - PAGE_SHIFT);

	if (index >= VFIO_PCI_NUM_REGIONS)
		return -EINVAL;
	if (vma->vm_end < vma->vm_start)
		return -EINVAL;
	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	if (index >= VFIO_PCI_ROM_REGION_INDEX)
		return -EINVAL;
	if (!vdev->bar_mmap_supported[index])
		return -EINVAL;

	phys_len = PAGE_ALIGN(pci_resource_len(pdev, index));
	req_len = vma->vm_end - vma->vm_start;
	pgoff = vma->vm_pgoff &
		((1U << (VFIO_DKMS_PCI_OFFSET_SHIFT - PAGE_SHIFT)) - 1);
	req_start = pgoff << PAGE_SHIFT;

	if (req_start + req_len > phys_len)
		return -EINVAL;

	/* The mapping does not use the iomap, but the region is claimed. */
	ret = vfio_dkms_pci_setup_barmap(vdev, index);
	if (ret)
		return ret;

	/*
	 * The mapping lives as long as the vma, which holds the device file:
	 * the device is not closed (and disabled) under it, except by a
	 * revocation on removal, which marks memory disabled first so that
	 * later faults get SIGBUS.  Pages are inserted on fault, so that a
	 * reset or a revocation can take them away.
	 */
	vfio_dkms_pci_mmap_setup(vdev, vma);
	return 0;
}

/*
 * The last reference to the device is gone: at unbind, or at the last close
 * of an fd revoked by a removal that did not wait for it.  Until then the
 * vmas and fds may still point at @vdev, and it holds its pci_dev.
 */
static void vfio_dkms_pci_release(struct vfio_dkms_device *core)
{
	struct vfio_dkms_pci_device *vdev = to_pci_vdev(core);

	vfio_dkms_pci_inode_release(vdev);
	vfio_dkms_pci_intrs_destroy(vdev);
	mutex_destroy(&vdev->ioeventfds_lock);
	mutex_destroy(&vdev->config_lock);
	pci_dev_put(vdev->pdev);
	kfree(vdev);
}

static const struct vfio_dkms_device_ops vfio_dkms_pci_ops = {
	.owner		= THIS_MODULE,
	.name		= DRIVER_NAME,
	.open_device	= vfio_dkms_pci_open_device,
	.close_device	= vfio_dkms_pci_close_device,
	.read		= vfio_dkms_pci_read,
	.write		= vfio_dkms_pci_write,
	.ioctls		= vfio_dkms_pci_ioctls,
	.num_ioctls	= ARRAY_SIZE(vfio_dkms_pci_ioctls),
	.ioctl		= vfio_dkms_pci_ioctl,
	.mmap		= vfio_dkms_pci_mmap,
	.request	= vfio_dkms_pci_request,
	.revoke		= vfio_dkms_pci_revoke,
	.release	= vfio_dkms_pci_release,
};

/* --- driver ------------------------------------------------------------ */

static int vfio_dkms_pci_probe(struct pci_dev *pdev,
			       const struct pci_device_id *id)
{
	struct vfio_dkms_pci_device *vdev;
	int ret;

	/* Bridges are not assigned to user space. */
	if (pdev->hdr_type != PCI_HEADER_TYPE_NORMAL)
		return -EINVAL;

	vdev = kzalloc(sizeof(*vdev), GFP_KERNEL);
	if (!vdev)
		return -ENOMEM;

	vdev->pdev = pci_dev_get(pdev);
	vdev->msix_bar = VFIO_DKMS_PCI_NO_BAR;
	mutex_init(&vdev->config_lock);
	init_rwsem(&vdev->memory_lock);
	mutex_init(&vdev->ioeventfds_lock);
	INIT_LIST_HEAD(&vdev->ioeventfds);
	vfio_dkms_pci_intrs_init(vdev);
	vfio_dkms_init_device(&vdev->vdev, &pdev->dev, &vfio_dkms_pci_ops);
	ret = vfio_dkms_pci_inode_init(vdev);
	if (ret)
		goto err_free;

	dev_set_drvdata(&pdev->dev, vdev);
	ret = vfio_dkms_register_device(&vdev->vdev);
	if (ret)
		goto err_inode;
	return 0;

err_inode:
	dev_set_drvdata(&pdev->dev, NULL);
	vfio_dkms_pci_inode_release(vdev);
err_free:
	vfio_dkms_pci_intrs_destroy(vdev);
	mutex_destroy(&vdev->ioeventfds_lock);
	mutex_destroy(&vdev->config_lock);
	pci_dev_put(pdev);
	kfree(vdev);
	return ret;
}

static void vfio_dkms_pci_remove(struct pci_dev *pdev)
{
	struct vfio_dkms_pci_device *vdev = dev_get_drvdata(&pdev->dev);

	/*
	 * Returns when every device fd is closed or revoked; @vdev itself is
	 * freed by vfio_dkms_pci_release().
	 */
	dev_set_drvdata(&pdev->dev, NULL);
	vfio_dkms_unregister_device(&vdev->vdev);
}

static struct pci_driver vfio_dkms_pci_driver = {
	.name			= DRIVER_NAME,
	.id_table		= NULL,	/* driver_override only */
	.probe			= vfio_dkms_pci_probe,
	.remove			= vfio_dkms_pci_remove,
	/* DMA is managed by the user through the IOMMU group. */
	VFIO_DKMS_DRIVER_MANAGED_DMA
};

static int __init vfio_dkms_pci_init(void)
{
	int ret;

	ret = pci_register_driver(&vfio_dkms_pci_driver);
	if (ret)
		return ret;
	vfio_dkms_pci_add_ids(&vfio_dkms_pci_driver);
	return 0;
}

static void __exit vfio_dkms_pci_exit(void)
{
	pci_unregister_driver(&vfio_dkms_pci_driver);
}

module_init(vfio_dkms_pci_init);
module_exit(vfio_dkms_pci_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION(DRIVER_DESC);
MODULE_VERSION(VFIO_DKMS_VERSION);
