/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vfio-dkms-pci: an eventfd the kernel watches (vfio_dkms_pci_virqfd.c),
 * used for the INTx unmask eventfd.
 *
 * @handler runs from the eventfd's wake-up callback, under the eventfd's
 * wait-queue lock with interrupts off; when it returns true, @thread runs
 * later from a work item (it may signal eventfds, which the callback must
 * not).  vfio_dkms_virqfd_enable() and vfio_dkms_virqfd_disable() of one
 * @pvirqfd are serialised by the caller.
 */
#ifndef VFIO_DKMS_PCI_VIRQFD_H
#define VFIO_DKMS_PCI_VIRQFD_H

#include <linux/types.h>

struct vfio_dkms_virqfd;

int vfio_dkms_virqfd_enable(void *opaque, bool (*handler)(void *opaque),
			    void (*thread)(void *opaque),
			    struct vfio_dkms_virqfd **pvirqfd, int fd);
void vfio_dkms_virqfd_disable(struct vfio_dkms_virqfd **pvirqfd);
void vfio_dkms_virqfd_flush(struct vfio_dkms_virqfd *virqfd);

#endif /* VFIO_DKMS_PCI_VIRQFD_H */
