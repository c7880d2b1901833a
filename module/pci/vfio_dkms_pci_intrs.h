/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vfio-dkms-pci: interrupt and removal-request state of a device
 * (vfio_dkms_pci_intrs.c).
 *
 * Lock order (outer to inner), together with the core's:
 *   device->open_lock (core) or the driver core's device lock (remove)
 *     config_lock (config region accesses, vfio_dkms_pci_config.c)
 *       irqs.igate
 *         memory_lock
 *           irqs.irqlock (the command register's read-modify-write)
 *     eventfd wait-queue lock (unmask eventfd wake-up)
 *       irqs.irqlock
 * mmap_lock -> memory_lock (BAR mmap faults).
 * No eventfd is ever signalled with irqs.irqlock held: the unmask eventfd's
 * wake-up callback runs under the eventfd's wait-queue lock and takes
 * irqlock, and user space may use one eventfd for both.
 */
#ifndef VFIO_DKMS_PCI_INTRS_H
#define VFIO_DKMS_PCI_INTRS_H

#include <linux/eventfd.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/vfio.h>

struct vfio_dkms_device;
struct vfio_dkms_pci_device;
struct vfio_dkms_pci_irq_ctx;

/**
 * struct vfio_dkms_pci_irqs - interrupt state of one device
 * @igate: serialises every change of the fields below (VFIO_DEVICE_SET_IRQS,
 *	teardown at close, the REQ relay from remove)
 * @irqlock: protects the INTx masked state, @virq_disabled and the
 *	physical INTx mask against the INTx handler; taken in hard interrupt
 *	context
 * @irq_type: VFIO_PCI_{INTX,MSI,MSIX}_IRQ_INDEX in use, VFIO_PCI_NUM_IRQS
 *	when none
 * @ctx: per-vector state, @num_ctx entries (the most vectors of @irq_type)
 * @num_ctx: entries in @ctx
 * @nvec: MSI/MSI-X vectors allocated when enabled
 * @pci_2_3: INTx can be masked with PCI_COMMAND_INTX_DISABLE (else the
 *	interrupt line is disabled at the interrupt controller)
 * @has_dyn_msix: MSI-X vectors can be allocated after MSI-X is enabled
 * @virq_disabled: the user set INTx-disable in the (virtual) command
 *	register: INTx stays masked whatever else unmasks it (written under
 *	igate and irqlock)
 * @msi_qmax: log2 of the MSI vectors last enabled, shown as "multiple
 *	message capable" in the virtual MSI capability (as in-tree)
 * @err_trigger: VFIO_PCI_ERR_IRQ_INDEX eventfd, or NULL
 * @req_trigger: VFIO_PCI_REQ_IRQ_INDEX eventfd, or NULL
 */
struct vfio_dkms_pci_irqs {
	struct mutex igate;
	spinlock_t irqlock;
	int irq_type;
	struct vfio_dkms_pci_irq_ctx *ctx;
	unsigned int num_ctx;
	unsigned int nvec;
	bool pci_2_3;
	bool has_dyn_msix;
	bool virq_disabled;
	u8 msi_qmax;
	struct eventfd_ctx *err_trigger;
	struct eventfd_ctx *req_trigger;
};

/* vfio_dkms_pci_intrs.c */
void vfio_dkms_pci_intrs_init(struct vfio_dkms_pci_device *vdev);
void vfio_dkms_pci_intrs_open(struct vfio_dkms_pci_device *vdev);
void vfio_dkms_pci_intrs_close(struct vfio_dkms_pci_device *vdev);
void vfio_dkms_pci_intrs_destroy(struct vfio_dkms_pci_device *vdev);
int vfio_dkms_pci_ioctl_set_irqs(struct vfio_dkms_pci_device *vdev,
				 struct vfio_dkms_ioctl_arg *arg);
void vfio_dkms_pci_request(struct vfio_dkms_device *core, unsigned int count);
void vfio_dkms_pci_intx_virt_disable(struct vfio_dkms_pci_device *vdev,
				     bool disable);
bool vfio_dkms_pci_msi_state(struct vfio_dkms_pci_device *vdev, u8 *qmax);

#endif /* VFIO_DKMS_PCI_INTRS_H */
