// SPDX-License-Identifier: GPL-2.0
/*
 * vfio-dkms-pci: the config space region.
 *
 * The permission model (docs/config-space.md has it as a table) follows
 * in-tree vfio-pci, so that the same accesses give the same results.  At the
 * first open the capability lists are walked and every byte of config space
 * gets two masks:
 *  - @cfg_vmask: bits that are virtual: reads return the copy in @vconfig,
 *    writes (where allowed) change only that copy;
 *  - @cfg_wmask: bits the user may write; written bits that are not virtual
 *    go to the device (read-modify-write of the same access size).
 * Bits in neither mask are read from the device and writes to them are
 * dropped (the write still reports success, as in-tree).
 *
 * Every byte also records which region it belongs to (@cfg_map: the
 * standard header, a capability identified by its start offset, or nothing),
 * and an access is split so that no piece crosses a dword or a region, as
 * in-tree does; the device sees accesses of the same sizes.
 *
 * Header: vendor/device ids, the capability pointer, the interrupt pin and
 * the status register's capability-list bit are virtual and read-only; the
 * BARs, the ROM BAR and the interrupt line are virtual and writable (BAR
 * sizing works, the device never moves); the command register is writable
 * to the device except INTx-disable, which is virtual and drives the
 * kernel's INTx masking (vfio_dkms_pci_intx_virt_disable()); cache line
 * size, latency timer and BIST are writable; the rest is read-only.
 *
 * Capabilities: next pointers are virtual (capabilities in-tree hides are
 * left out of the chain; their bytes become unassigned).  MSI: control,
 * address and data are virtual; enable reads back 0 unless MSI is on
 * through VFIO_DEVICE_SET_IRQS; nothing the user writes there reaches the
 * device.  MSI-X: read-only.  PM, PCIe, PCI-X, AF, AER and the
 * vendor-specific capabilities: as in-tree, see the table.  Bytes outside
 * every capability are passed through both ways, as in-tree.
 *
 * Locking: config_lock serialises config accesses and protects the virtual
 * state.  Order: config_lock -> irqs.igate -> memory_lock -> irqs.irqlock.
 * The command register is read-modified-written under memory_lock and
 * irqs.irqlock, so the INTx handler's masking (which flips INTx-disable
 * under irqlock) is never undone by a user write.  No user copy happens with
 * config_lock held.
 */
#include <linux/interrupt.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "vfio_dkms_pci_config.h"
#include "vfio_dkms_pci_mmap.h"
#include "vfio_dkms_pci_priv.h"

/* @cfg_map value of a byte outside the header and every capability. */
#define VFIO_DKMS_CFG_UNASSIGNED	0xffff

/* Set the masks of the @size (1, 2 or 4) bytes at @pos (little endian). */
static void cfg_perm(struct vfio_dkms_pci_device *vdev, int pos, int size,
		     u32 virt, u32 write)
{
	int i;

	for (i = 0; i < size && pos + i < vdev->pdev->cfg_size; i++) {
		vdev->cfg_vmask[pos + i] = virt >> (8 * i);
		vdev->cfg_wmask[pos + i] = write >> (8 * i);
	}
}

/*
 * Memory decode as the command register @cmd sets it.  An SR-IOV VF has no
 * memory enable bit (it reads as 0; the PF's VF MSE enables the VFs'
 * memory), so its BARs are always decoded, as in-tree assumes.
 */
static bool cfg_decodes_memory(struct pci_dev *pdev, u16 cmd)
{
	return pdev->is_virtfn || (cmd & PCI_COMMAND_MEMORY);
}

static u32 cfg_get(const u8 *p, int size)
{
	u32 v = 0;
	int i;

	for (i = 0; i < size; i++)
		v |= (u32)p[i] << (8 * i);
	return v;
}

static void cfg_put(u8 *p, int size, u32 v)
{
	int i;

	for (i = 0; i < size; i++)
		p[i] = v >> (8 * i);
}

static int cfg_hw_read(struct pci_dev *pdev, int pos, int size, u32 *val)
{
	u16 w;
	u8 b;
	int ret;

	switch (size) {
	case 1:
		ret = pci_user_read_config_byte(pdev, pos, &b);
		*val = b;
		break;
	case 2:
		ret = pci_user_read_config_word(pdev, pos, &w);
		*val = w;
		break;
	default:
		ret = pci_user_read_config_dword(pdev, pos, val);
		break;
	}
	return ret ? pcibios_err_to_errno(ret) : 0;
}

static int cfg_hw_write(struct pci_dev *pdev, int pos, int size, u32 val)
{
	int ret;

	switch (size) {
	case 1:
		ret = pci_user_write_config_byte(pdev, pos, val);
		break;
	case 2:
		ret = pci_user_write_config_word(pdev, pos, val);
		break;
	default:
		ret = pci_user_write_config_dword(pdev, pos, val);
		break;
	}
	return ret ? pcibios_err_to_errno(ret) : 0;
}

/* Copy @len bytes of the device's config space at @pos into @vconfig. */
static void cfg_fill(struct vfio_dkms_pci_device *vdev, int pos, int len)
{
	struct pci_dev *pdev = vdev->pdev;
	u32 v;
	u16 w;

	while (len > 0) {
		if (len >= 4 && !(pos % 4)) {
			pci_read_config_dword(pdev, pos, &v);
			cfg_put(&vdev->vconfig[pos], 4, v);
			pos += 4;
			len -= 4;
		} else if (len >= 2 && !(pos % 2)) {
			pci_read_config_word(pdev, pos, &w);
			cfg_put(&vdev->vconfig[pos], 2, w);
			pos += 2;
			len -= 2;
		} else {
			pci_read_config_byte(pdev, pos, &vdev->vconfig[pos]);
			pos++;
			len--;
		}
	}
}

/* --- header -------------------------------------------------------------- */

static void cfg_init_bars(struct vfio_dkms_pci_device *vdev)
{
	struct pci_dev *pdev = vdev->pdev;
	struct resource *rom = &pdev->resource[PCI_ROM_RESOURCE];
	int i;

	for (i = 0; i < PCI_STD_NUM_BARS; i++) {
		struct resource *res = &pdev->resource[i];
		u64 mask = ~(u64)(resource_size(res) - 1);
		u32 flags;

		vdev->bar_mask[i] = 0;
		vdev->bar_flags[i] = 0;
		/* Not assigned by the host: unimplemented for the user. */
		if (!res->start || !resource_size(res))
			continue;
		if (res->flags & IORESOURCE_IO) {
			flags = PCI_BASE_ADDRESS_SPACE_IO;
		} else {
			flags = PCI_BASE_ADDRESS_SPACE_MEMORY;
			if (res->flags & IORESOURCE_PREFETCH)
				flags |= PCI_BASE_ADDRESS_MEM_PREFETCH;
			if (res->flags & IORESOURCE_MEM_64)
				flags |= PCI_BASE_ADDRESS_MEM_TYPE_64;
		}
		vdev->bar_mask[i] = lower_32_bits(mask);
		vdev->bar_flags[i] = flags;
		/* The upper half of a 64-bit BAR is the next register. */
		if (flags & PCI_BASE_ADDRESS_MEM_TYPE_64 &&
		    i + 1 < PCI_STD_NUM_BARS) {
			i++;
			vdev->bar_mask[i] = upper_32_bits(mask);
			vdev->bar_flags[i] = 0;
		}
	}

	if (rom->start && resource_size(rom))
		vdev->rom_mask = lower_32_bits(~(u64)(resource_size(rom) - 1)) |
				 PCI_ROM_ADDRESS_ENABLE;
	else if (rom->flags & IORESOURCE_ROM_SHADOW)
		vdev->rom_mask = ~(u32)(0x20000 - 1) | PCI_ROM_ADDRESS_ENABLE;
	else
		vdev->rom_mask = 0;
}

/* Make the virtual BARs look like hardware: size and type bits. */
static void cfg_fixup_bars(struct vfio_dkms_pci_device *vdev)
{
	u8 *vbar = &vdev->vconfig[PCI_BASE_ADDRESS_0];
	int i;

	for (i = 0; i < PCI_STD_NUM_BARS; i++, vbar += 4)
		cfg_put(vbar, 4, (cfg_get(vbar, 4) & vdev->bar_mask[i]) |
			vdev->bar_flags[i]);
	vbar = &vdev->vconfig[PCI_ROM_ADDRESS];
	cfg_put(vbar, 4, cfg_get(vbar, 4) & vdev->rom_mask);
}

static void cfg_init_header(struct vfio_dkms_pci_device *vdev)
{
	int i;

	cfg_fill(vdev, 0, PCI_STD_HEADER_SIZEOF);
	for (i = 0; i < PCI_STD_HEADER_SIZEOF; i++)
		vdev->cfg_map[i] = 0;

	cfg_perm(vdev, PCI_VENDOR_ID, 2, 0xffff, 0);
	cfg_perm(vdev, PCI_DEVICE_ID, 2, 0xffff, 0);
	cfg_perm(vdev, PCI_COMMAND, 2, PCI_COMMAND_INTX_DISABLE, 0xffff);
	cfg_perm(vdev, PCI_STATUS, 2, PCI_STATUS_CAP_LIST, 0);
	cfg_perm(vdev, PCI_CACHE_LINE_SIZE, 1, 0, 0xff);
	cfg_perm(vdev, PCI_LATENCY_TIMER, 1, 0, 0xff);
	cfg_perm(vdev, PCI_BIST, 1, 0, 0xff);
	for (i = PCI_BASE_ADDRESS_0; i <= PCI_BASE_ADDRESS_5; i += 4)
		cfg_perm(vdev, i, 4, ~0u, ~0u);
	cfg_perm(vdev, PCI_ROM_ADDRESS, 4, ~0u, ~0u);
	cfg_perm(vdev, PCI_CAPABILITY_LIST, 1, 0xff, 0);
	cfg_perm(vdev, PCI_INTERRUPT_LINE, 1, 0xff, 0xff);
	cfg_perm(vdev, PCI_INTERRUPT_PIN, 1, 0xff, 0);

	cfg_init_bars(vdev);
	cfg_fixup_bars(vdev);

	/* No INTx for the user without a connected interrupt line. */
	if (vdev->pdev->irq == IRQ_NOTCONNECTED)
		vdev->vconfig[PCI_INTERRUPT_PIN] = 0;
}

/* --- standard capabilities ----------------------------------------------- */

/*
 * The capability at @pos has @len bytes inside standard config space (its
 * length clamped there): does its field at @off of @size bytes fit?  A
 * device may place a capability so close to the end that some fields do
 * not: those are never touched, in @vconfig or its masks.
 */
static bool cfg_cap_has(int len, int off, int size)
{
	return off + size <= len;
}

/* cfg_perm() of a capability field, cut at the end of the capability. */
static void cfg_cap_perm(struct vfio_dkms_pci_device *vdev, int pos, int len,
			 int off, int size, u32 virt, u32 write)
{
	if (off < len)
		cfg_perm(vdev, pos + off, min(size, len - off), virt, write);
}

static void cfg_perm_msi(struct vfio_dkms_pci_device *vdev, int pos, int len,
			 u16 flags)
{
	/* The upper byte of message control is reserved: read-only. */
	cfg_cap_perm(vdev, pos, len, PCI_MSI_FLAGS, 1, 0xff, 0xff);
	cfg_cap_perm(vdev, pos, len, PCI_MSI_ADDRESS_LO, 4, ~0u, ~0u);
	if (flags & PCI_MSI_FLAGS_64BIT) {
		cfg_cap_perm(vdev, pos, len, PCI_MSI_ADDRESS_HI, 4, ~0u, ~0u);
		cfg_cap_perm(vdev, pos, len, PCI_MSI_DATA_64, 2, 0xffff, 0xffff);
		if (flags & PCI_MSI_FLAGS_MASKBIT) {
			cfg_cap_perm(vdev, pos, len, PCI_MSI_MASK_64, 4, 0, ~0u);
			cfg_cap_perm(vdev, pos, len, PCI_MSI_PENDING_64, 4, 0, ~0u);
		}
	} else {
		cfg_cap_perm(vdev, pos, len, PCI_MSI_DATA_32, 2, 0xffff, 0xffff);
		if (flags & PCI_MSI_FLAGS_MASKBIT) {
			cfg_cap_perm(vdev, pos, len, PCI_MSI_MASK_32, 4, 0, ~0u);
			cfg_cap_perm(vdev, pos, len, PCI_MSI_PENDING_32, 4, 0, ~0u);
		}
	}
	vdev->msi_cap = pos;
}

/* Length of the standard capability @id at @pos; 0 hides it. */
static int cfg_cap_len(struct vfio_dkms_pci_device *vdev, u8 id, int pos)
{
	struct pci_dev *pdev = vdev->pdev;
	u32 dword;
	u16 word;
	u8 byte;
	int len;

	switch (id) {
	case PCI_CAP_ID_PM:
		return PCI_PM_SIZEOF;
	case PCI_CAP_ID_AGP:
		return PCI_AGP_SIZEOF;
	case PCI_CAP_ID_VPD:
		return PCI_CAP_VPD_SIZEOF;
	case PCI_CAP_ID_MSI:
		pci_read_config_word(pdev, pos + PCI_MSI_FLAGS, &word);
		len = 10;
		if (word & PCI_MSI_FLAGS_64BIT)
			len += 4;
		if (word & PCI_MSI_FLAGS_MASKBIT)
			len += 10;
		return len;
	case PCI_CAP_ID_PCIX:
		pci_read_config_word(pdev, pos + PCI_X_CMD, &word);
		if (!PCI_X_CMD_VERSION(word))
			return PCI_CAP_PCIX_SIZEOF_V0;
		if (pdev->cfg_size > PCI_CFG_SPACE_SIZE) {
			pci_read_config_dword(pdev, PCI_CFG_SPACE_SIZE, &dword);
			vdev->cfg_ext_caps = dword != 0;
		}
		return PCI_CAP_PCIX_SIZEOF_V2;
	case PCI_CAP_ID_HT:
		pci_read_config_byte(pdev, pos + 3, &byte);
		return byte & HT_3BIT_CAP_MASK ? HT_CAP_SIZEOF_SHORT :
						 HT_CAP_SIZEOF_LONG;
	case PCI_CAP_ID_VNDR:
		pci_read_config_byte(pdev, pos + PCI_CAP_FLAGS, &byte);
		return byte;
	case PCI_CAP_ID_EXP:
		if (pdev->cfg_size > PCI_CFG_SPACE_SIZE) {
			pci_read_config_dword(pdev, PCI_CFG_SPACE_SIZE, &dword);
			vdev->cfg_ext_caps = dword != 0;
		}
		if ((pcie_caps_reg(pdev) & PCI_EXP_FLAGS_VERS) == 1)
			return pci_pcie_type(pdev) == PCI_EXP_TYPE_RC_END ?
			       0xc : PCI_CAP_EXP_ENDPOINT_SIZEOF_V1;
		return pci_pcie_type(pdev) == PCI_EXP_TYPE_RC_END ?
		       0x2c : PCI_CAP_EXP_ENDPOINT_SIZEOF_V2;
	case PCI_CAP_ID_MSIX:
		return PCI_CAP_MSIX_SIZEOF;
	case PCI_CAP_ID_SATA:
		pci_read_config_byte(pdev, pos + PCI_SATA_REGS, &byte);
		return (byte & PCI_SATA_REGS_MASK) == PCI_SATA_REGS_INLINE ?
		       PCI_SATA_SIZEOF_LONG : PCI_SATA_SIZEOF_SHORT;
	case PCI_CAP_ID_AF:
		return PCI_CAP_AF_SIZEOF;
	default:
		/* Bridge, CompactPCI, debug, ... and unknown ids: hidden. */
		return 0;
	}
}

static void cfg_cap_perms(struct vfio_dkms_pci_device *vdev, u8 id, int pos,
			  int len)
{
	u8 *v = &vdev->vconfig[pos];
	int i;

	/* Next pointer virtual everywhere, so the chain can skip caps. */
	cfg_perm(vdev, pos + PCI_CAP_LIST_NEXT, 1, 0xff, 0);

	switch (id) {
	case PCI_CAP_ID_PM:
		/* PME cannot reach the user: PME support/enable/status virtual, 0. */
		cfg_cap_perm(vdev, pos, len, PCI_PM_PMC, 2, PCI_PM_CAP_PME_MASK,
			     0);
		cfg_cap_perm(vdev, pos, len, PCI_PM_CTRL, 4,
			     PCI_PM_CTRL_PME_ENABLE | PCI_PM_CTRL_PME_STATUS,
			     ~(PCI_PM_CTRL_PME_ENABLE | PCI_PM_CTRL_PME_STATUS |
			       PCI_PM_CTRL_STATE_MASK));
		if (cfg_cap_has(len, PCI_PM_PMC, 2))
			cfg_put(v + PCI_PM_PMC, 2, cfg_get(v + PCI_PM_PMC, 2) &
				~PCI_PM_CAP_PME_MASK);
		if (cfg_cap_has(len, PCI_PM_CTRL, 2))
			cfg_put(v + PCI_PM_CTRL, 2, cfg_get(v + PCI_PM_CTRL, 2) &
				~(PCI_PM_CTRL_PME_ENABLE |
				  PCI_PM_CTRL_PME_STATUS));
		break;
	case PCI_CAP_ID_MSI:
		/* Without its whole control word it stays read-only. */
		if (cfg_cap_has(len, PCI_MSI_FLAGS, 2))
			cfg_perm_msi(vdev, pos, len,
				     cfg_get(v + PCI_MSI_FLAGS, 2));
		break;
	case PCI_CAP_ID_PCIX:
		cfg_cap_perm(vdev, pos, len, PCI_X_CMD, 2, 0, 0xffff);
		if (len >= PCI_CAP_PCIX_SIZEOF_V2)
			cfg_cap_perm(vdev, pos, len, PCI_X_ECC_CSR, 4, 0, ~0u);
		break;
	case PCI_CAP_ID_VNDR:
		/* Raw: everything after the header goes to the device. */
		for (i = PCI_CAP_FLAGS; i < len; i++)
			cfg_perm(vdev, pos + i, 1, 0, 0xff);
		break;
	case PCI_CAP_ID_EXP:
		/* Device control is virtualised: it must be there whole. */
		if (!cfg_cap_has(len, PCI_EXP_DEVCTL, 2))
			break;
		cfg_perm(vdev, pos + PCI_EXP_DEVCTL, 2,
			 PCI_EXP_DEVCTL_BCR_FLR | PCI_EXP_DEVCTL_PAYLOAD |
			 PCI_EXP_DEVCTL_READRQ,
			 (u16)~PCI_EXP_DEVCTL_PHANTOM);
		if (len > PCI_EXP_DEVCTL2 + 1)
			cfg_perm(vdev, pos + PCI_EXP_DEVCTL2, 2, 0,
				 (u16)~PCI_EXP_DEVCTL2_ARI);
		vdev->exp_cap = pos;
		break;
	case PCI_CAP_ID_AF:
		if (!cfg_cap_has(len, PCI_AF_CTRL, 1))
			break;
		cfg_perm(vdev, pos + PCI_AF_CTRL, 1, PCI_AF_CTRL_FLR,
			 PCI_AF_CTRL_FLR);
		vdev->af_cap = pos;
		break;
	default:
		/* MSI-X, VPD, AGP, HT, SATA: read-only. */
		break;
	}
}

static void cfg_init_caps(struct vfio_dkms_pci_device *vdev)
{
	struct pci_dev *pdev = vdev->pdev;
	u8 *prev = &vdev->vconfig[PCI_CAPABILITY_LIST];
	int loops = (PCI_CFG_SPACE_SIZE - PCI_STD_HEADER_SIZEOF) / PCI_CAP_SIZEOF;
	int caps = 0, i;
	u16 status;
	u8 pos;

	pci_read_config_word(pdev, PCI_STATUS, &status);
	if (!(status & PCI_STATUS_CAP_LIST))
		return;

	pci_read_config_byte(pdev, PCI_CAPABILITY_LIST, &pos);
	while (pos >= PCI_STD_HEADER_SIZEOF && loops--) {
		u8 id, next;
		int len;

		/* A header cut by the end of config space ends the chain. */
		if (pos + PCI_CAP_LIST_NEXT >= PCI_CFG_SPACE_SIZE) {
			*prev = 0;
			break;
		}
		pci_read_config_byte(pdev, pos + PCI_CAP_LIST_ID, &id);
		pci_read_config_byte(pdev, pos + PCI_CAP_LIST_NEXT, &next);
		len = min(cfg_cap_len(vdev, id, pos), PCI_CFG_SPACE_SIZE - pos);
		if (len <= 0) {
			pci_dbg(pdev, "hiding capability %#x@%#x\n", id, pos);
			*prev = next;
			pos = next;
			continue;
		}
		for (i = 0; i < len; i++) {
			if (vdev->cfg_map[pos + i] != VFIO_DKMS_CFG_UNASSIGNED)
				pci_warn(pdev, "config space conflict at %#x\n",
					 pos + i);
			vdev->cfg_map[pos + i] = pos;
		}
		/* Read-only unless the capability's perms say otherwise. */
		memset(&vdev->cfg_wmask[pos], 0, len);
		cfg_fill(vdev, pos, len);
		cfg_cap_perms(vdev, id, pos, len);
		prev = &vdev->vconfig[pos + PCI_CAP_LIST_NEXT];
		pos = next;
		caps++;
	}
	/* A bogus pointer into the header ends the chain. */
	if (pos && pos < PCI_STD_HEADER_SIZEOF)
		*prev = 0;

	if (!caps)
		cfg_put(&vdev->vconfig[PCI_STATUS], 2,
			cfg_get(&vdev->vconfig[PCI_STATUS], 2) &
			~PCI_STATUS_CAP_LIST);
}

/* --- extended capabilities ----------------------------------------------- */

static int cfg_vc_len(struct pci_dev *pdev, int epos)
{
	int len = PCI_CAP_VC_BASE_SIZEOF, phases = 0;
	u32 cap1, cap2;

	pci_read_config_dword(pdev, epos + PCI_VC_PORT_CAP1, &cap1);
	pci_read_config_dword(pdev, epos + PCI_VC_PORT_CAP2, &cap2);
	if (cap2 & PCI_VC_CAP2_128_PHASE)
		phases = 128;
	else if (cap2 & PCI_VC_CAP2_64_PHASE)
		phases = 64;
	else if (cap2 & PCI_VC_CAP2_32_PHASE)
		phases = 32;

	len += (1 + (cap1 & PCI_VC_CAP1_EVCC)) * PCI_CAP_VC_PER_VC_SIZEOF;
	/* Arbitration tables: 4 bits per phase; never writable anyway. */
	if (phases)
		len = round_up(len, 16) + phases * 4 / 8;
	return len;
}

/* Length of the extended capability @id at @epos; 0 hides it. */
static int cfg_ecap_len(struct pci_dev *pdev, u16 id, int epos)
{
	u32 dword;
	u8 byte;

	switch (id) {
	case PCI_EXT_CAP_ID_ERR:
		return PCI_ERR_ROOT_COMMAND;
	case PCI_EXT_CAP_ID_VC:
	case PCI_EXT_CAP_ID_VC9:
	case PCI_EXT_CAP_ID_MFVC:
		return cfg_vc_len(pdev, epos);
	case PCI_EXT_CAP_ID_DSN:
		return PCI_EXT_CAP_DSN_SIZEOF;
	case PCI_EXT_CAP_ID_PWR:
		return PCI_EXT_CAP_PWR_SIZEOF;
	case PCI_EXT_CAP_ID_VNDR:
		pci_read_config_dword(pdev, epos + PCI_VNDR_HEADER, &dword);
		return PCI_VNDR_HEADER_LEN(dword);
	case PCI_EXT_CAP_ID_ACS:
		pci_read_config_byte(pdev, epos + PCI_ACS_CAP, &byte);
		if (byte & PCI_ACS_EC) {
			int bits;

			pci_read_config_byte(pdev, epos + PCI_ACS_EGRESS_BITS,
					     &byte);
			bits = byte ? round_up(byte, 32) : 256;
			return 8 + bits / 8;
		}
		return 8;
	case PCI_EXT_CAP_ID_ARI:
		return PCI_EXT_CAP_ARI_SIZEOF;
	case PCI_EXT_CAP_ID_ATS:
		return PCI_EXT_CAP_ATS_SIZEOF;
	case PCI_EXT_CAP_ID_SRIOV:
		return PCI_EXT_CAP_SRIOV_SIZEOF;
	case PCI_EXT_CAP_ID_MCAST:
		return PCI_EXT_CAP_MCAST_ENDPOINT_SIZEOF;
	case PCI_EXT_CAP_ID_PRI:
		return PCI_EXT_CAP_PRI_SIZEOF;
	case PCI_EXT_CAP_ID_REBAR:
		pci_read_config_byte(pdev, epos + PCI_REBAR_CTRL, &byte);
		return 4 + ((byte & PCI_REBAR_CTRL_NBAR_MASK) >>
			    PCI_REBAR_CTRL_NBAR_SHIFT) * 8;
	case PCI_EXT_CAP_ID_DPA:
		pci_read_config_byte(pdev, epos + PCI_DPA_CAP, &byte);
		return PCI_DPA_BASE_SIZEOF +
		       (byte & PCI_DPA_CAP_SUBSTATE_MASK) + 1;
	case PCI_EXT_CAP_ID_TPH:
		pci_read_config_dword(pdev, epos + PCI_TPH_CAP, &dword);
		if ((dword & PCI_TPH_CAP_LOC_MASK) == PCI_TPH_LOC_CAP)
			return PCI_TPH_BASE_SIZEOF + 2 +
			       ((dword & PCI_TPH_CAP_ST_MASK) >>
				PCI_TPH_CAP_ST_SHIFT) * 2;
		return PCI_TPH_BASE_SIZEOF;
	case PCI_EXT_CAP_ID_LTR:
		return PCI_EXT_CAP_LTR_SIZEOF;
	case PCI_EXT_CAP_ID_DVSEC:
		pci_read_config_dword(pdev, epos + PCI_DVSEC_HEADER1, &dword);
		return PCI_DVSEC_HEADER1_LEN(dword);
	default:
		/* Root-port only, not yet supported or unknown: hidden. */
		return 0;
	}
}

static void cfg_ecap_perms(struct vfio_dkms_pci_device *vdev, u16 id,
			   int epos, int len)
{
	u32 mask;
	int i;

	/* The header holds the next pointer: virtual, read-only. */
	cfg_perm(vdev, epos, 4, ~0u, 0);

	switch (id) {
	case PCI_EXT_CAP_ID_ERR:
		mask = PCI_ERR_UNC_UND | PCI_ERR_UNC_DLP | PCI_ERR_UNC_SURPDN |
		       PCI_ERR_UNC_POISON_TLP | PCI_ERR_UNC_FCP |
		       PCI_ERR_UNC_COMP_TIME | PCI_ERR_UNC_COMP_ABORT |
		       PCI_ERR_UNC_UNX_COMP | PCI_ERR_UNC_RX_OVER |
		       PCI_ERR_UNC_MALF_TLP | PCI_ERR_UNC_ECRC |
		       PCI_ERR_UNC_UNSUP | PCI_ERR_UNC_ACSV | PCI_ERR_UNC_INTN |
		       PCI_ERR_UNC_MCBTLP | PCI_ERR_UNC_ATOMEG |
		       PCI_ERR_UNC_TLPPRE;
		cfg_perm(vdev, epos + PCI_ERR_UNCOR_STATUS, 4, 0, mask);
		cfg_perm(vdev, epos + PCI_ERR_UNCOR_MASK, 4, 0, mask);
		cfg_perm(vdev, epos + PCI_ERR_UNCOR_SEVER, 4, 0, mask);
		mask = PCI_ERR_COR_RCVR | PCI_ERR_COR_BAD_TLP |
		       PCI_ERR_COR_BAD_DLLP | PCI_ERR_COR_REP_ROLL |
		       PCI_ERR_COR_REP_TIMER | PCI_ERR_COR_ADV_NFAT |
		       PCI_ERR_COR_INTERNAL | PCI_ERR_COR_LOG_OVER;
		cfg_perm(vdev, epos + PCI_ERR_COR_STATUS, 4, 0, mask);
		cfg_perm(vdev, epos + PCI_ERR_COR_MASK, 4, 0, mask);
		cfg_perm(vdev, epos + PCI_ERR_CAP, 4, 0,
			 PCI_ERR_CAP_ECRC_GENE | PCI_ERR_CAP_ECRC_CHKE);
		break;
	case PCI_EXT_CAP_ID_PWR:
		cfg_perm(vdev, epos + PCI_PWR_DATA, 1, 0, 0xff);
		break;
	case PCI_EXT_CAP_ID_VNDR:
	case PCI_EXT_CAP_ID_DVSEC:
		for (i = 4; i < len; i++)
			cfg_perm(vdev, epos + i, 1, 0, 0xff);
		break;
	default:
		break;
	}
}

static void cfg_init_ecaps(struct vfio_dkms_pci_device *vdev)
{
	struct pci_dev *pdev = vdev->pdev;
	int loops = (pdev->cfg_size - PCI_CFG_SPACE_SIZE) / PCI_CAP_SIZEOF;
	int epos = PCI_CFG_SPACE_SIZE, ecaps = 0, prev = -1, i;

	if (!vdev->cfg_ext_caps)
		return;

	while (loops-- > 0 && epos >= PCI_CFG_SPACE_SIZE &&
	       epos + 4 <= pdev->cfg_size) {
		bool hidden = false;
		u32 header;
		u16 id;
		int len;

		pci_read_config_dword(pdev, epos, &header);
		id = PCI_EXT_CAP_ID(header);
		len = min(cfg_ecap_len(pdev, id, epos), pdev->cfg_size - epos);
		if (len <= 0) {
			pci_dbg(pdev, "hiding extended capability %#x@%#x\n",
				id, epos);
			if (prev >= 0) {
				u32 v = cfg_get(&vdev->vconfig[prev], 4);

				v &= ~(0xffcU << 20);
				v |= PCI_EXT_CAP_NEXT(header) << 20;
				cfg_put(&vdev->vconfig[prev], 4, v);
				epos = PCI_EXT_CAP_NEXT(header);
				continue;
			}
			/* First in the chain: keep a header with id 0. */
			len = PCI_CAP_SIZEOF;
			hidden = true;
		}
		for (i = 0; i < len; i++) {
			if (vdev->cfg_map[epos + i] != VFIO_DKMS_CFG_UNASSIGNED)
				pci_warn(pdev, "config space conflict at %#x\n",
					 epos + i);
			vdev->cfg_map[epos + i] = epos;
		}
		memset(&vdev->cfg_wmask[epos], 0, len);
		cfg_fill(vdev, epos, len);
		cfg_ecap_perms(vdev, hidden ? 0 : id, epos, len);
		if (hidden)
			cfg_put(&vdev->vconfig[epos], 4, header & (0xffcU << 20));
		else
			ecaps++;
		prev = epos;
		epos = PCI_EXT_CAP_NEXT(header);
	}

	if (!ecaps)
		cfg_put(&vdev->vconfig[PCI_CFG_SPACE_SIZE], 4, 0);
}

/* --- open / close -------------------------------------------------------- */

/**
 * vfio_dkms_pci_config_init() - build the virtual config space
 * @vdev: the device, being opened (enabled, state saved, INTx set up by
 *	vfio_dkms_pci_intrs_open())
 *
 * Return: 0 or -ENOMEM.
 */
int vfio_dkms_pci_config_init(struct vfio_dkms_pci_device *vdev)
{
	struct pci_dev *pdev = vdev->pdev;
	int size = pdev->cfg_size, i;
	u16 cmd;

	mutex_lock(&vdev->config_lock);
	vdev->vconfig = kzalloc(size, GFP_KERNEL_ACCOUNT);
	vdev->cfg_vmask = kzalloc(size, GFP_KERNEL_ACCOUNT);
	vdev->cfg_wmask = kmalloc(size, GFP_KERNEL_ACCOUNT);
	vdev->cfg_map = kmalloc_array(size, sizeof(*vdev->cfg_map),
				      GFP_KERNEL_ACCOUNT);
	if (!vdev->vconfig || !vdev->cfg_vmask || !vdev->cfg_wmask ||
	    !vdev->cfg_map) {
		mutex_unlock(&vdev->config_lock);
		vfio_dkms_pci_config_free(vdev);
		return -ENOMEM;
	}

	/* Default: unassigned, passed through both ways. */
	memset(vdev->cfg_wmask, 0xff, size);
	for (i = 0; i < size; i++)
		vdev->cfg_map[i] = VFIO_DKMS_CFG_UNASSIGNED;
	/* ...except in the header and capabilities, read-only by default. */
	memset(vdev->cfg_wmask, 0, PCI_STD_HEADER_SIZEOF);
	vdev->msi_cap = 0;
	vdev->exp_cap = 0;
	vdev->af_cap = 0;
	vdev->cfg_ext_caps = false;

	cfg_init_header(vdev);
	cfg_init_caps(vdev);
	cfg_init_ecaps(vdev);
	mutex_unlock(&vdev->config_lock);

	pci_read_config_word(pdev, PCI_COMMAND, &cmd);
	down_write(&vdev->memory_lock);
	vdev->mem_enabled = cfg_decodes_memory(pdev, cmd);
	up_write(&vdev->memory_lock);
	return 0;
}

/**
 * vfio_dkms_pci_config_free() - free the virtual config space (last close)
 * @vdev: the device
 */
void vfio_dkms_pci_config_free(struct vfio_dkms_pci_device *vdev)
{
	mutex_lock(&vdev->config_lock);
	kfree(vdev->vconfig);
	kfree(vdev->cfg_vmask);
	kfree(vdev->cfg_wmask);
	kfree(vdev->cfg_map);
	vdev->vconfig = NULL;
	vdev->cfg_vmask = NULL;
	vdev->cfg_wmask = NULL;
	vdev->cfg_map = NULL;
	mutex_unlock(&vdev->config_lock);
}

/* --- accesses ------------------------------------------------------------ */

/* Does [@pos, @pos + @size) cover the byte at @reg? */
static bool covers(int pos, int size, int reg)
{
	return pos <= reg && reg < pos + size;
}

/*
 * An access to the MSI capability that reaches its message control, or
 * ends right before it: in-tree refreshes the virtual control then.
 */
static bool msi_flags_touched(struct vfio_dkms_pci_device *vdev, int pos,
			      int size)
{
	int flags = vdev->msi_cap + PCI_MSI_FLAGS;

	return vdev->msi_cap && pos >= vdev->msi_cap && pos <= flags &&
	       pos + size >= flags;
}

/* Reads and writes of one piece: @size bytes at @pos, one dword, one region. */
static int cfg_read(struct vfio_dkms_pci_device *vdev, int pos, int size,
		    u32 *val)
{
	u32 full = size == 4 ? ~0u : (1u << (8 * size)) - 1;
	u32 virt = cfg_get(&vdev->cfg_vmask[pos], size);
	u32 hw;
	int ret;

	if (msi_flags_touched(vdev, pos, size)) {
		/* Multiple message capable: what SET_IRQS last enabled. */
		u8 *flags = &vdev->vconfig[vdev->msi_cap + PCI_MSI_FLAGS];
		u8 qmax;

		vfio_dkms_pci_msi_state(vdev, &qmax);
		*flags = (*flags & ~PCI_MSI_FLAGS_QMASK) | (qmax << 1);
	}

	*val = cfg_get(&vdev->vconfig[pos], size);
	if (virt == full)
		return 0;
	ret = cfg_hw_read(vdev->pdev, pos, size, &hw);
	if (ret)
		return ret;
	*val = (hw & ~virt) | (*val & virt);
	return 0;
}

/* Device half of a write: the writable bits that are not virtual. */
static int cfg_write_hw(struct vfio_dkms_pci_device *vdev, int pos, int size,
			u32 val, u32 hwbits)
{
	u32 hw;
	int ret;

	ret = cfg_hw_read(vdev->pdev, pos, size, &hw);
	if (ret)
		return ret;
	return cfg_hw_write(vdev->pdev, pos, size,
			    (hw & ~hwbits) | (val & hwbits));
}

/*
 * A write piece covering the command register (@pos 4 with @size 1, 2 or 4,
 * or @pos 5 with @size 1); @hwbits are the bits going to the device.  The
 * device's command register is read-modified-written with irqlock held:
 * INTx-disable (virtual) keeps its hardware value, which the INTx code
 * changes under irqlock.  Memory decode changes under memory_lock; BAR
 * mmaps are revoked while it is off.
 */
static int cfg_write_cmd(struct vfio_dkms_pci_device *vdev, int pos, int size,
			 u32 val, u32 hwbits)
{
	struct pci_dev *pdev = vdev->pdev;
	u16 cmd, new, cval, cbits;
	unsigned long flags;
	int ret;

	if (pos == PCI_COMMAND) {
		cval = val;
		cbits = hwbits;
	} else {
		cval = val << 8;
		cbits = hwbits << 8;
	}

	down_write(&vdev->memory_lock);
	spin_lock_irqsave(&vdev->irqs.irqlock, flags);
	ret = pci_read_config_word(pdev, PCI_COMMAND, &cmd);
	if (!ret) {
		new = (cmd & ~cbits) | (cval & cbits);
		if (new != cmd)
			ret = pci_write_config_word(pdev, PCI_COMMAND, new);
		if (!ret)
			cmd = new;
	}
	spin_unlock_irqrestore(&vdev->irqs.irqlock, flags);
	if (!ret)
		vdev->mem_enabled = cfg_decodes_memory(pdev, cmd);
	/* BAR mmaps fault back in when memory decode is on again. */
	if (!vdev->mem_enabled)
		vfio_dkms_pci_zap_bars(vdev);
	up_write(&vdev->memory_lock);
	if (ret)
		return pcibios_err_to_errno(ret);

	/* A dword write also covers the status register (read-only today). */
	if (size == 4 && hwbits >> 16)
		return cfg_write_hw(vdev, PCI_STATUS, 2, val >> 16,
				    hwbits >> 16);
	return 0;
}

/* MSI message control after a write: enable and queue size as in-tree. */
static void cfg_msi_flags_written(struct vfio_dkms_pci_device *vdev)
{
	u8 *flags = &vdev->vconfig[vdev->msi_cap + PCI_MSI_FLAGS];
	u8 qmax;
	bool on;

	on = vfio_dkms_pci_msi_state(vdev, &qmax);
	/* MSI is enabled through VFIO_DEVICE_SET_IRQS only. */
	if (!on)
		*flags &= ~PCI_MSI_FLAGS_ENABLE;
	if (((*flags & PCI_MSI_FLAGS_QSIZE) >> 4) > qmax)
		*flags = (*flags & ~PCI_MSI_FLAGS_QSIZE) | (qmax << 4);
}

/* A function reset asked through a virtual FLR bit (PCIe, AF). */
static void cfg_flr(struct vfio_dkms_pci_device *vdev)
{
	down_write(&vdev->memory_lock);
	vfio_dkms_pci_zap_bars(vdev);
	pci_try_reset_function(vdev->pdev);
	up_write(&vdev->memory_lock);
}

static void cfg_exp_devctl_written(struct vfio_dkms_pci_device *vdev,
				   u16 old)
{
	struct pci_dev *pdev = vdev->pdev;
	u8 *p = &vdev->vconfig[vdev->exp_cap + PCI_EXP_DEVCTL];
	u16 ctl = cfg_get(p, 2);
	u32 cap;

	if (ctl & PCI_EXP_DEVCTL_BCR_FLR) {
		/* Reads as 0 (spec); resets when the device has FLR. */
		ctl &= ~PCI_EXP_DEVCTL_BCR_FLR;
		cfg_put(p, 2, ctl);
		if (!pci_user_read_config_dword(pdev, vdev->exp_cap +
						PCI_EXP_DEVCAP, &cap) &&
		    cap & PCI_EXP_DEVCAP_FLR)
			cfg_flr(vdev);
	}
	/* Max read request: to the device, but not below max payload. */
	if ((ctl & PCI_EXP_DEVCTL_READRQ) != (old & PCI_EXP_DEVCTL_READRQ)) {
		int rq = 128 << ((ctl & PCI_EXP_DEVCTL_READRQ) >> 12);

		pcie_set_readrq(pdev, max(rq, pcie_get_mps(pdev)));
	}
}

static void cfg_af_ctrl_written(struct vfio_dkms_pci_device *vdev)
{
	u8 *ctrl = &vdev->vconfig[vdev->af_cap + PCI_AF_CTRL];
	u8 cap;

	if (!(*ctrl & PCI_AF_CTRL_FLR))
		return;
	*ctrl &= ~PCI_AF_CTRL_FLR;
	if (!pci_user_read_config_byte(vdev->pdev, vdev->af_cap + PCI_AF_CAP,
				       &cap) &&
	    (cap & PCI_AF_CAP_FLR) && (cap & PCI_AF_CAP_TP))
		cfg_flr(vdev);
}

static int cfg_write(struct vfio_dkms_pci_device *vdev, int pos, int size,
		     u32 val)
{
	u32 write = cfg_get(&vdev->cfg_wmask[pos], size);
	u32 virt = cfg_get(&vdev->cfg_vmask[pos], size);
	int exp_devctl = vdev->exp_cap + PCI_EXP_DEVCTL;
	u16 old_devctl = 0;
	int ret = 0;

	if (!write)
		return 0;	/* read-only: dropped */

	if (vdev->exp_cap && covers(pos, size, exp_devctl))
		old_devctl = cfg_get(&vdev->vconfig[exp_devctl], 2);

	if (write & virt) {
		u32 v = cfg_get(&vdev->vconfig[pos], size);

		v = (v & ~(write & virt)) | (val & write & virt);
		cfg_put(&vdev->vconfig[pos], size, v);
	}

	if (covers(pos, size, PCI_COMMAND) ||
	    covers(pos, size, PCI_COMMAND + 1)) {
		ret = cfg_write_cmd(vdev, pos, size, val, write & ~virt);
		if (ret)
			return ret;
		/* Virtual INTx-disable drives the kernel's INTx masking. */
		vfio_dkms_pci_intx_virt_disable(vdev,
			cfg_get(&vdev->vconfig[PCI_COMMAND], 2) &
			PCI_COMMAND_INTX_DISABLE);
	} else if (write & ~virt) {
		ret = cfg_write_hw(vdev, pos, size, val, write & ~virt);
		if (ret)
			return ret;
	}

	if (pos < PCI_STD_HEADER_SIZEOF &&
	    ((pos >= PCI_BASE_ADDRESS_0 && pos <= PCI_BASE_ADDRESS_5 + 3) ||
	     (pos >= PCI_ROM_ADDRESS && pos <= PCI_ROM_ADDRESS + 3)))
		cfg_fixup_bars(vdev);
	if (msi_flags_touched(vdev, pos, size))
		cfg_msi_flags_written(vdev);
	if (vdev->exp_cap && (covers(pos, size, exp_devctl) ||
			      covers(pos, size, exp_devctl + 1)))
		cfg_exp_devctl_written(vdev, old_devctl);
	if (vdev->af_cap && covers(pos, size, vdev->af_cap + PCI_AF_CTRL))
		cfg_af_ctrl_written(vdev);
	return 0;
}

/* Bytes from @pos to the end of its dword or of its region. */
static int cfg_piece(struct vfio_dkms_pci_device *vdev, int pos, size_t count)
{
	u16 region = vdev->cfg_map[pos];
	int n = 1;

	while ((pos + n) % 4 && n < count && vdev->cfg_map[pos + n] == region)
		n++;
	if (n == 4)
		return 4;
	if (n >= 2 && !(pos % 2))
		return 2;
	return 1;
}

/**
 * vfio_dkms_pci_config_rw() - read or write the config region
 * @vdev: the device
 * @buf: kernel buffer
 * @count: bytes
 * @ppos: file offset; advanced on success
 * @iswrite: direction
 *
 * Return: @count, or -EFAULT for a range outside config space, another
 * negative errno.
 */
ssize_t vfio_dkms_pci_config_rw(struct vfio_dkms_pci_device *vdev,
				char *buf, size_t count, loff_t *ppos,
				bool iswrite)
{
	loff_t pos = *ppos & VFIO_DKMS_PCI_OFFSET_MASK;
	int cfg_size = vdev->pdev->cfg_size;
	size_t done = 0;
	int ret;

	if (pos < 0 || pos >= cfg_size || pos + count > cfg_size)
		return -EFAULT;

	while (count) {
		u32 val = 0;
		int size;

		if (iswrite)
			memcpy(&val, buf, min_t(size_t, count, 4));

		mutex_lock(&vdev->config_lock);
		if (!vdev->vconfig) {
			mutex_unlock(&vdev->config_lock);
			return -ENODEV;
		}
		size = cfg_piece(vdev, pos, count);
		if (iswrite) {
			val = le32_to_cpu((__force __le32)val);
			if (size < 4)
				val &= (1u << (8 * size)) - 1;
			ret = cfg_write(vdev, pos, size, val);
		} else {
			ret = cfg_read(vdev, pos, size, &val);
		}
		mutex_unlock(&vdev->config_lock);
		if (ret)
			return ret;

		if (!iswrite) {
			val = (__force u32)cpu_to_le32(val);
			memcpy(buf, &val, size);
		}

		count -= size;
		done += size;
		buf += size;
		pos += size;
	}

	*ppos += done;
	return done;
}
