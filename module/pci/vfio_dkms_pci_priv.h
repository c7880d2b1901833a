/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vfio-dkms PCI bus driver internals.
 */
#ifndef VFIO_DKMS_PCI_PRIV_H
#define VFIO_DKMS_PCI_PRIV_H

#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/rwsem.h>

#include "../vfio_dkms.h"
#include "vfio_dkms_pci_intrs.h"

/* Region index <-> file offset, as in-tree vfio-pci lays them out. */
#define VFIO_DKMS_PCI_OFFSET_SHIFT	40
#define VFIO_DKMS_PCI_OFFSET_TO_INDEX(off) ((off) >> VFIO_DKMS_PCI_OFFSET_SHIFT)
#define VFIO_DKMS_PCI_INDEX_TO_OFFSET(index) \
	((u64)(index) << VFIO_DKMS_PCI_OFFSET_SHIFT)
#define VFIO_DKMS_PCI_OFFSET_MASK \
	(((u64)1 << VFIO_DKMS_PCI_OFFSET_SHIFT) - 1)

#define VFIO_DKMS_PCI_NO_BAR		0xff

/**
 * struct vfio_dkms_pci_device - per-device state of vfio-dkms-pci
 * @vdev: core device, first member
 * @pdev: the PCI device
 * @barmap: iomaps of the BARs accessed so far (regions requested)
 * @bar_mmap_supported: BAR may be mmap()ed (MMIO, page-aligned, >= a page)
 * @pci_saved_state: config state at first open, restored at last close
 * @reset_works: a function reset is available
 * @msix_bar: BAR holding the MSI-X table, or VFIO_DKMS_PCI_NO_BAR
 * @msix_offset: offset of the MSI-X table in @msix_bar
 * @msix_size: size of the MSI-X table
 * @config_lock: serialises config region accesses; protects the fields
 *	below up to @rom_mask (vfio_dkms_pci_config.c has the lock order)
 * @vconfig: virtual config space (cfg_size bytes) while open, else NULL
 * @cfg_vmask: per byte, the bits read and written in @vconfig
 * @cfg_wmask: per byte, the bits the user may write
 * @cfg_map: per byte, the region: 0 header, a capability's start offset,
 *	or unassigned
 * @msi_cap: offset of the (visible) MSI capability, or 0
 * @exp_cap: offset of the PCI Express capability, or 0
 * @af_cap: offset of the Advanced Features capability, or 0
 * @cfg_ext_caps: extended capabilities were found
 * @bar_mask: address bits of each virtual BAR register (0 if unused)
 * @bar_flags: type bits of each virtual BAR register
 * @rom_mask: address and enable bits of the virtual ROM BAR register
 * @memory_lock: taken for write while the command register changes, for
 *	read around BAR accesses that need memory decode
 * @mem_enabled: memory decode is on (command register MEMORY bit)
 * @irqs: interrupt state (vfio_dkms_pci_intrs.c)
 * @inode: gives the device fds their own address space (BAR mmap revocation,
 *	vfio_dkms_pci_mmap.c)
 * @ioeventfds_lock: protects @ioeventfds and @ioeventfds_nr
 * @ioeventfds: the VFIO_DEVICE_IOEVENTFD eventfds (vfio_dkms_pci_ioeventfd.c)
 * @ioeventfds_nr: entries on @ioeventfds
 */
struct vfio_dkms_pci_device {
	struct vfio_dkms_device vdev;
	struct pci_dev *pdev;
	void __iomem *barmap[PCI_STD_NUM_BARS];
	bool bar_mmap_supported[PCI_STD_NUM_BARS];
	struct pci_saved_state *pci_saved_state;
	bool reset_works;
	u8 msix_bar;
	u32 msix_offset;
	u32 msix_size;

	struct mutex config_lock;
	u8 *vconfig;
	u8 *cfg_vmask;
	u8 *cfg_wmask;
	u16 *cfg_map;
	u16 msi_cap;
	u16 exp_cap;
	u16 af_cap;
	bool cfg_ext_caps;
	u32 bar_mask[PCI_STD_NUM_BARS];
	u32 bar_flags[PCI_STD_NUM_BARS];
	u32 rom_mask;

	struct rw_semaphore memory_lock;
	bool mem_enabled;

	struct vfio_dkms_pci_irqs irqs;
	struct inode *inode;

	struct mutex ioeventfds_lock;
	struct list_head ioeventfds;
	unsigned int ioeventfds_nr;
};

/* vfio_dkms_pci_core.c: vectors of an interrupt index, as GET_IRQ_INFO. */
int vfio_dkms_pci_irq_count(struct vfio_dkms_pci_device *vdev, int index);

#endif /* VFIO_DKMS_PCI_PRIV_H */
