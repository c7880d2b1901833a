/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vfio-dkms-pci: VFIO_DEVICE_FEATURE.
 */
#ifndef VFIO_DKMS_PCI_FEATURE_H
#define VFIO_DKMS_PCI_FEATURE_H

struct vfio_dkms_pci_device;
struct vfio_dkms_ioctl_arg;

int vfio_dkms_pci_ioctl_feature(struct vfio_dkms_pci_device *vdev,
				struct vfio_dkms_ioctl_arg *arg);

#endif /* VFIO_DKMS_PCI_FEATURE_H */
