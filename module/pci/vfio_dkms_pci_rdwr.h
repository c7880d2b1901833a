/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vfio-dkms-pci: read/write of the BAR and ROM regions
 * (vfio_dkms_pci_rdwr.c).  Buffers are the core's kernel bounce buffers.
 */
#ifndef VFIO_DKMS_PCI_RDWR_H
#define VFIO_DKMS_PCI_RDWR_H

#include <linux/types.h>

struct vfio_dkms_pci_device;

int vfio_dkms_pci_setup_barmap(struct vfio_dkms_pci_device *vdev, int bar);
ssize_t vfio_dkms_pci_bar_rw(struct vfio_dkms_pci_device *vdev,
			     char *buf, size_t count, loff_t *ppos,
			     bool iswrite);

#endif /* VFIO_DKMS_PCI_RDWR_H */
