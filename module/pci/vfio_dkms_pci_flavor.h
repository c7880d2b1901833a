/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the PCI bus driver does differently per build flavor (names.h).
 */
#ifndef VFIO_DKMS_PCI_FLAVOR_H
#define VFIO_DKMS_PCI_FLAVOR_H

#include <linux/pci.h>

/* Adds the ids= module parameter's ids to @drv (drop-in flavor only). */
void vfio_dkms_pci_add_ids(struct pci_driver *drv);

#endif /* VFIO_DKMS_PCI_FLAVOR_H */
