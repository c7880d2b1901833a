/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vfio-dkms-pci: BAR mmaps that can be revoked (vfio_dkms_pci_mmap.c).
 *
 * Pages are inserted on fault under memory_lock (read), only while memory
 * decode is on; vfio_dkms_pci_zap_bars() takes them all away with
 * memory_lock held for write.  Lock order: mmap_lock -> memory_lock.
 */
#ifndef VFIO_DKMS_PCI_MMAP_H
#define VFIO_DKMS_PCI_MMAP_H

struct vfio_dkms_device;
struct vfio_dkms_pci_device;
struct vm_area_struct;

int vfio_dkms_pci_inode_init(struct vfio_dkms_pci_device *vdev);
void vfio_dkms_pci_inode_release(struct vfio_dkms_pci_device *vdev);
void vfio_dkms_pci_zap_bars(struct vfio_dkms_pci_device *vdev);
void vfio_dkms_pci_revoke(struct vfio_dkms_device *core);
void vfio_dkms_pci_mmap_setup(struct vfio_dkms_pci_device *vdev,
			      struct vm_area_struct *vma);

#endif /* VFIO_DKMS_PCI_MMAP_H */
