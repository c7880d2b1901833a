/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vfio-dkms-pci: which devices a slot or bus reset of a device affects
 * (VFIO_DEVICE_GET_PCI_HOT_RESET_INFO).
 */
#ifndef VFIO_DKMS_PCI_HOT_RESET_H
#define VFIO_DKMS_PCI_HOT_RESET_H

struct vfio_dkms_pci_device;
struct vfio_dkms_ioctl_arg;

/*
 * The largest reset scope answered, in functions: a bus with all its
 * subordinate buses rarely holds more than a few dozen; the kernel copy of
 * the answer is sized for this many (8 bytes each).
 */
#define VFIO_DKMS_PCI_HOT_RESET_MAX_DEVICES	1024

int vfio_dkms_pci_ioctl_hot_reset_info(struct vfio_dkms_pci_device *vdev,
				       struct vfio_dkms_ioctl_arg *arg);

#endif /* VFIO_DKMS_PCI_HOT_RESET_H */
