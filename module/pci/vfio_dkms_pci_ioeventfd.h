/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vfio-dkms-pci: VFIO_DEVICE_IOEVENTFD, BAR writes triggered by an eventfd
 * (vfio_dkms_pci_ioeventfd.c).
 */
#ifndef VFIO_DKMS_PCI_IOEVENTFD_H
#define VFIO_DKMS_PCI_IOEVENTFD_H

struct vfio_dkms_pci_device;
struct vfio_dkms_ioctl_arg;

/* At most this many per device, as in-tree. */
#define VFIO_DKMS_PCI_IOEVENTFD_MAX	1000

int vfio_dkms_pci_ioctl_ioeventfd(struct vfio_dkms_pci_device *vdev,
				  struct vfio_dkms_ioctl_arg *arg);
void vfio_dkms_pci_ioeventfds_release(struct vfio_dkms_pci_device *vdev);

#endif /* VFIO_DKMS_PCI_IOEVENTFD_H */
