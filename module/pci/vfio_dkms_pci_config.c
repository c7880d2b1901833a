// SPDX-License-Identifier: GPL-2.0
/*
 * vfio-dkms-pci: the config space region.
 *
 * What is virtualized (kept in vfio_dkms_pci_device, never written to the
 * device):
 *  - the six BAR registers and the expansion ROM BAR: writes only change the
 *    virtual value, so sizing (write ~0, read back) works but the device
 *    never moves; reads return the written address bits masked by the BAR
 *    size, with the read-only type bits of the real BAR;
 *  - the interrupt line register.
 * What is passed through:
 *  - command register writes, limited to I/O space, memory space, bus
 *    master, parity and SERR enables and INTx disable; the other command
 *    bits keep their hardware value;
 *  - every read outside the virtualized registers.
 * Every other write is dropped (and still reported as done, as in-tree
 * vfio-pci does for read-only fields): the status register, the cache line
 * and latency registers, the capabilities (MSI/MSI-X enable belongs to
 * VFIO_DEVICE_SET_IRQS, power management and PCIe control are not offered)
 * and the device-specific space.
 */
#include <linux/pci.h>
#include <linux/uaccess.h>

#include "vfio_dkms_pci_priv.h"

#define VFIO_DKMS_PCI_CMD_WRITABLE \
	(PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | \
	 PCI_COMMAND_PARITY | PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE)

/**
 * vfio_dkms_pci_config_init() - load the virtual registers from the device
 * @vdev: the device, being opened (enabled, state saved)
 */
void vfio_dkms_pci_config_init(struct vfio_dkms_pci_device *vdev)
{
	struct pci_dev *pdev = vdev->pdev;
	u16 cmd;
	int i;

	mutex_lock(&vdev->config_lock);
	for (i = 0; i < PCI_STD_NUM_BARS; i++) {
		struct resource *res = &pdev->resource[i];
		resource_size_t size = resource_size(res);

		pci_read_config_dword(pdev, PCI_BASE_ADDRESS_0 + 4 * i,
				      &vdev->vbar[i]);
		vdev->bar_mask[i] = 0;
		vdev->bar_flags[i] = 0;
		if (!size)
			continue;
		if (res->flags & IORESOURCE_IO) {
			vdev->bar_mask[i] = ~(u32)(size - 1) &
					    PCI_BASE_ADDRESS_IO_MASK;
			vdev->bar_flags[i] = vdev->vbar[i] &
					     ~PCI_BASE_ADDRESS_IO_MASK;
			continue;
		}
		vdev->bar_mask[i] = lower_32_bits(~(u64)(size - 1)) &
				    PCI_BASE_ADDRESS_MEM_MASK;
		vdev->bar_flags[i] = vdev->vbar[i] & ~PCI_BASE_ADDRESS_MEM_MASK;
		/* The upper half of a 64-bit BAR is the next register. */
		if (res->flags & IORESOURCE_MEM_64 && i + 1 < PCI_STD_NUM_BARS) {
			i++;
			pci_read_config_dword(pdev, PCI_BASE_ADDRESS_0 + 4 * i,
					      &vdev->vbar[i]);
			vdev->bar_mask[i] = upper_32_bits(~(u64)(size - 1));
			vdev->bar_flags[i] = 0;
		}
	}

	pci_read_config_dword(pdev, PCI_ROM_ADDRESS, &vdev->vrom);
	if (resource_size(&pdev->resource[PCI_ROM_RESOURCE]))
		vdev->rom_mask = (~(u32)(resource_size(&pdev->resource[PCI_ROM_RESOURCE]) - 1)
				  & PCI_ROM_ADDRESS_MASK) | PCI_ROM_ADDRESS_ENABLE;
	else
		vdev->rom_mask = 0;

	pci_read_config_byte(pdev, PCI_INTERRUPT_LINE, &vdev->virq_line);
	mutex_unlock(&vdev->config_lock);

	pci_read_config_word(pdev, PCI_COMMAND, &cmd);
	down_write(&vdev->memory_lock);
	vdev->mem_enabled = cmd & PCI_COMMAND_MEMORY;
	up_write(&vdev->memory_lock);
}

/* The value a read of the virtual register at dword @reg returns. */
static u32 vfio_dkms_pci_vreg(struct vfio_dkms_pci_device *vdev, int reg,
			      u32 hw)
{
	int bar;

	if (reg >= PCI_BASE_ADDRESS_0 && reg <= PCI_BASE_ADDRESS_5) {
		bar = (reg - PCI_BASE_ADDRESS_0) / 4;
		/* Address bits as written, type bits of the real BAR. */
		return (vdev->vbar[bar] & vdev->bar_mask[bar]) |
		       vdev->bar_flags[bar];
	}
	if (reg == PCI_ROM_ADDRESS)
		return vdev->vrom & vdev->rom_mask;
	if (reg == (PCI_INTERRUPT_LINE & ~3))
		return (hw & ~0xffu) | vdev->virq_line;
	return hw;
}

static bool vfio_dkms_pci_is_vreg(int reg)
{
	return (reg >= PCI_BASE_ADDRESS_0 && reg <= PCI_BASE_ADDRESS_5) ||
	       reg == PCI_ROM_ADDRESS || reg == (PCI_INTERRUPT_LINE & ~3);
}

static int vfio_dkms_pci_config_write_cmd(struct vfio_dkms_pci_device *vdev,
					  u16 val, u16 bytemask)
{
	struct pci_dev *pdev = vdev->pdev;
	u16 hw, new;
	int ret;

	down_write(&vdev->memory_lock);
	ret = pci_user_read_config_word(pdev, PCI_COMMAND, &hw);
	if (ret)
		goto out_unlock;
	new = (hw & ~(bytemask & VFIO_DKMS_PCI_CMD_WRITABLE)) |
	      (val & bytemask & VFIO_DKMS_PCI_CMD_WRITABLE);
	if (new != hw)
		ret = pci_user_write_config_word(pdev, PCI_COMMAND, new);
	if (!ret)
		vdev->mem_enabled = new & PCI_COMMAND_MEMORY;
	/* BAR mmaps fault back in when memory decode is on again. */
	if (!vdev->mem_enabled)
		vfio_dkms_pci_zap_bars(vdev);
out_unlock:
	up_write(&vdev->memory_lock);
	return ret;
}

/* Read or write @size (1, 2, 4) naturally aligned bytes at @pos. */
static int vfio_dkms_pci_config_rw_one(struct vfio_dkms_pci_device *vdev,
				       char __user *buf, loff_t pos,
				       size_t size, bool iswrite)
{
	struct pci_dev *pdev = vdev->pdev;
	int reg = pos & ~3, shift = (pos & 3) * 8;
	u32 mask = size == 4 ? ~0u : ((1u << (size * 8)) - 1) << shift;
	u32 hw = 0, val = 0;
	int ret = 0;

	if (iswrite) {
		if (copy_from_user(&val, buf, size))
			return -EFAULT;
		val = le32_to_cpu((__force __le32)val) << shift;

		if (reg == PCI_COMMAND) {
			if (mask & 0xffff)
				ret = vfio_dkms_pci_config_write_cmd(vdev, val,
								     mask);
			return ret ? pcibios_err_to_errno(ret) : 0;
		}

		mutex_lock(&vdev->config_lock);
		if (reg >= PCI_BASE_ADDRESS_0 && reg <= PCI_BASE_ADDRESS_5) {
			u32 *v = &vdev->vbar[(reg - PCI_BASE_ADDRESS_0) / 4];

			*v = (*v & ~mask) | (val & mask);
		} else if (reg == PCI_ROM_ADDRESS) {
			vdev->vrom = (vdev->vrom & ~mask) | (val & mask);
		} else if (reg == (PCI_INTERRUPT_LINE & ~3) && (mask & 0xff)) {
			vdev->virq_line = val & 0xff;
		}
		/* Anything else: dropped. */
		mutex_unlock(&vdev->config_lock);
		return 0;
	}

	ret = pci_user_read_config_dword(pdev, reg, &hw);
	if (ret)
		return pcibios_err_to_errno(ret);
	if (vfio_dkms_pci_is_vreg(reg)) {
		mutex_lock(&vdev->config_lock);
		hw = vfio_dkms_pci_vreg(vdev, reg, hw);
		mutex_unlock(&vdev->config_lock);
	}
	val = (__force u32)cpu_to_le32((hw & mask) >> shift);
	if (copy_to_user(buf, &val, size))
		return -EFAULT;
	return 0;
}

/**
 * vfio_dkms_pci_config_rw() - read or write the config region
 * @vdev: the device
 * @buf: user buffer
 * @count: bytes
 * @ppos: file offset; advanced on success
 * @iswrite: direction
 *
 * Return: @count, or -EFAULT for a range outside config space, another
 * negative errno.
 */
ssize_t vfio_dkms_pci_config_rw(struct vfio_dkms_pci_device *vdev,
				char __user *buf, size_t count, loff_t *ppos,
				bool iswrite)
{
	loff_t pos = *ppos & VFIO_DKMS_PCI_OFFSET_MASK;
	int cfg_size = vdev->pdev->cfg_size;
	size_t done = 0;
	int ret;

	while (count) {
		size_t size;

		if (pos < 0 || pos >= cfg_size || pos + count > cfg_size)
			return -EFAULT;

		if (count >= 4 && !(pos % 4))
			size = 4;
		else if (count >= 2 && !(pos % 2))
			size = 2;
		else
			size = 1;

		ret = vfio_dkms_pci_config_rw_one(vdev, buf, pos, size,
						  iswrite);
		if (ret)
			return ret;

		count -= size;
		done += size;
		buf += size;
		pos += size;
	}

	*ppos += done;
	return done;
}
