/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vfio-dkms-pci: which devices a slot or bus reset of a device affects
 * (VFIO_DEVICE_GET_PCI_HOT_RESET_INFO).
 */
#ifndef VFIO_DKMS_PCI_HOT_RESET_H
#define VFIO_DKMS_PCI_HOT_RESET_H

struct vfio_dkms_pci_device;
struct vfio_pci_hot_reset_info;

int vfio_dkms_pci_ioctl_hot_reset_info(struct vfio_dkms_pci_device *vdev,
				       struct vfio_pci_hot_reset_info __user *arg);

#endif /* VFIO_DKMS_PCI_HOT_RESET_H */
