/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vfio-dkms-pci: which devices a slot or bus reset of a device affects
 * (VFIO_DEVICE_GET_PCI_HOT_RESET_INFO), and that reset
 * (VFIO_DEVICE_PCI_HOT_RESET).
 */
#ifndef VFIO_DKMS_PCI_HOT_RESET_H
#define VFIO_DKMS_PCI_HOT_RESET_H

struct vfio_dkms_pci_device;
struct vfio_dkms_ioctl_arg;

/*
 * The largest reset scope answered, in functions: a bus with all its
 * subordinate buses rarely holds more than a few dozen; the kernel copies
 * of the info answer (8 bytes each) and of the reset's group fds (4 bytes
 * each) are sized for this many.
 */
#define VFIO_DKMS_PCI_HOT_RESET_MAX_DEVICES	1024

int vfio_dkms_pci_ioctl_hot_reset_info(struct vfio_dkms_pci_device *vdev,
				       struct vfio_dkms_ioctl_arg *arg);
int vfio_dkms_pci_ioctl_hot_reset(struct vfio_dkms_pci_device *vdev,
				  struct vfio_dkms_ioctl_arg *arg);

#endif /* VFIO_DKMS_PCI_HOT_RESET_H */
