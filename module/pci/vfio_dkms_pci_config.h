/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vfio-dkms-pci: the virtual config space (vfio_dkms_pci_config.c), built
 * at the first open and freed at the last close.  Buffers are the core's
 * kernel bounce buffers.
 */
#ifndef VFIO_DKMS_PCI_CONFIG_H
#define VFIO_DKMS_PCI_CONFIG_H

#include <linux/types.h>

struct vfio_dkms_pci_device;

int vfio_dkms_pci_config_init(struct vfio_dkms_pci_device *vdev);
void vfio_dkms_pci_config_free(struct vfio_dkms_pci_device *vdev);
ssize_t vfio_dkms_pci_config_rw(struct vfio_dkms_pci_device *vdev,
				char *buf, size_t count, loff_t *ppos,
				bool iswrite);

#endif /* VFIO_DKMS_PCI_CONFIG_H */
