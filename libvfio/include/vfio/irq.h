/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libvfio - interrupts.
 *
 * Interrupts are delivered to eventfds, one per vector, registered with
 * VFIO_DEVICE_SET_IRQS.  Interrupt handles belong to their device and are
 * valid from vfio_irq_enable() until vfio_irq_disable() of that type or
 * vfio_device_close().  Their fds can be put in poll/epoll sets; read
 * them (or call vfio_irq_wait()) to consume the events.
 */
#ifndef VFIO_IRQ_H
#define VFIO_IRQ_H

#include <stdint.h>

#include <vfio/device.h>

#ifdef __cplusplus
extern "C" {
#endif

struct vfio_irq;

/**
 * enum vfio_irq_type - Interrupt kinds (the VFIO PCI irq indexes).
 * @VFIO_IRQ_INTX: legacy pin interrupt (one vector, level, auto-masked)
 * @VFIO_IRQ_MSI: MSI
 * @VFIO_IRQ_MSIX: MSI-X
 */
enum vfio_irq_type {
	VFIO_IRQ_INTX = 0,
	VFIO_IRQ_MSI = 1,
	VFIO_IRQ_MSIX = 2,
};

/**
 * vfio_irq_type_name() - Name of an interrupt kind.
 * @type: the kind
 *
 * Return: "intx", "msi" or "msix"; NULL for an unknown value.
 */
const char *vfio_irq_type_name(enum vfio_irq_type type);

/**
 * vfio_irq_type_from_name() - Parse an interrupt kind.
 * @name: "intx", "msi" or "msix"
 * @out: where the kind is stored
 *
 * Return: 0 on success, -EINVAL for an unknown name.
 */
int vfio_irq_type_from_name(const char *name, enum vfio_irq_type *out);

/**
 * vfio_device_irq_count() - Vectors a device offers for a kind.
 * @dev: the device
 * @type: the kind
 *
 * Return: the vector count from VFIO_DEVICE_GET_IRQ_INFO (0 when the
 * device does not support the kind), or -EINVAL for an unknown kind.
 */
int vfio_device_irq_count(struct vfio_device *dev, enum vfio_irq_type type);

/**
 * vfio_irq_enable() - Enable vectors of one kind with eventfds.
 * @dev: the device
 * @type: the kind
 * @count: number of vectors, 1..vfio_device_irq_count()
 *
 * Creates @count eventfds and hands them to VFIO_DEVICE_SET_IRQS
 * (ACTION_TRIGGER).  Only one kind can be enabled at a time (a PCI rule):
 * enabling another kind while one is enabled fails.  Enabling the same
 * kind again first disables it.
 *
 * Return: 0 on success; -EINVAL for an unknown kind or a bad @count,
 * -EBUSY when another kind is enabled, -ENOMEM, or the negative errno of
 * eventfd or VFIO_DEVICE_SET_IRQS.
 */
int vfio_irq_enable(struct vfio_device *dev, enum vfio_irq_type type, unsigned int count);

/**
 * vfio_irq_enable_vector() - Add one vector, keeping those already enabled.
 * @dev: the device
 * @type: the kind (MSI-X is what this is for; MSI works the same way,
 *        INTx has only vector 0)
 * @vector: vector number, below vfio_device_irq_count()
 *
 * Gives @vector its own eventfd without touching the other vectors' (their
 * handles and fds stay valid), so a driver can enable an interrupt per queue
 * as it creates the queue.  When the kind is not enabled yet, the kernel
 * allocates vectors 0..@vector and only @vector gets an eventfd.  A vector
 * beyond those allocated is added in place on kernels with dynamic MSI-X
 * allocation (Linux 6.5 and later, both VFIO frameworks); elsewhere the
 * kind is re-enabled with the larger count and the same eventfds, during
 * which an interrupt from the device can be lost: add vectors before
 * starting I/O on them.  Enabling a vector that is enabled succeeds and
 * changes nothing.
 *
 * Return: 0 on success; -EINVAL for an unknown kind or a @vector out of
 * range, -EBUSY when another kind is enabled, or the negative errno of
 * eventfd or VFIO_DEVICE_SET_IRQS.  When growing by re-enabling fails and
 * the previous set cannot be restored either, the kind is left disabled and
 * all its handles are invalid (vfio_device_get_irq() tells).
 */
int vfio_irq_enable_vector(struct vfio_device *dev, enum vfio_irq_type type,
			   unsigned int vector);

/**
 * vfio_irq_disable_vector() - Remove one vector's eventfd.
 * @dev: the device
 * @type: the kind
 * @vector: the vector
 *
 * The vector's handle becomes invalid and its fd is closed; the other
 * vectors and the kind stay enabled (vfio_irq_disable() turns the kind
 * off).  Removing a vector that is not enabled succeeds.
 *
 * Return: 0 on success, -EINVAL for an unknown kind, or the negative errno
 * of VFIO_DEVICE_SET_IRQS.
 */
int vfio_irq_disable_vector(struct vfio_device *dev, enum vfio_irq_type type,
			    unsigned int vector);

/**
 * vfio_irq_disable() - Disable all vectors of one kind.
 * @dev: the device
 * @type: the kind
 *
 * The handles of that kind become invalid and their fds are closed.
 * Disabling a kind that is not enabled succeeds.
 *
 * Return: 0 on success, or the negative errno of VFIO_DEVICE_SET_IRQS.
 */
int vfio_irq_disable(struct vfio_device *dev, enum vfio_irq_type type);

/**
 * vfio_device_get_irq() - Handle of one enabled vector.
 * @dev: the device
 * @type: the kind
 * @vector: vector number, one enabled by vfio_irq_enable() or
 *          vfio_irq_enable_vector()
 * @out: where the handle is stored (owned by @dev)
 *
 * Return: 0 on success; -EINVAL when the kind is not enabled or @vector
 * has no eventfd.
 */
int vfio_device_get_irq(struct vfio_device *dev, enum vfio_irq_type type,
			unsigned int vector, struct vfio_irq **out);

/**
 * vfio_irq_fd() - eventfd of a vector.
 * @irq: the vector
 *
 * Readable when the interrupt fired; reading it returns (and clears) the
 * number of interrupts since the last read.  Owned by the library.
 *
 * Return: the fd.
 */
int vfio_irq_fd(const struct vfio_irq *irq);

/**
 * vfio_irq_get_type() - Kind of a vector.
 * @irq: the vector
 *
 * Return: its &enum vfio_irq_type.
 */
enum vfio_irq_type vfio_irq_get_type(const struct vfio_irq *irq);

/**
 * vfio_irq_vector() - Number of a vector.
 * @irq: the vector
 *
 * Return: the vector number.
 */
unsigned int vfio_irq_vector(const struct vfio_irq *irq);

/**
 * vfio_irq_wait() - Wait for a vector to fire.
 * @irq: the vector
 * @timeout_ms: milliseconds to wait; 0 polls, -1 waits forever
 *
 * Consumes the pending events.  Safe to call from another thread than the
 * one using the device (it only touches the eventfd).  For INTx,
 * remember that the kernel masks the line when it fires: call
 * vfio_irq_unmask() after acknowledging the device.
 *
 * Return: the number of interrupts since the last wait (>= 1, clamped to
 * INT_MAX), 0 on timeout, or a negative errno (-EINTR when a signal
 * interrupted the wait).
 */
int vfio_irq_wait(struct vfio_irq *irq, int timeout_ms);

/**
 * vfio_irq_mask() - Mask a vector (VFIO_IRQ_SET_ACTION_MASK).
 * @irq: the vector
 *
 * Return: 0 on success; the negative errno of VFIO_DEVICE_SET_IRQS
 * (vfio-pci supports masking INTx only and returns -EINVAL for MSI/MSI-X).
 */
int vfio_irq_mask(struct vfio_irq *irq);

/**
 * vfio_irq_unmask() - Unmask a vector (VFIO_IRQ_SET_ACTION_UNMASK).
 * @irq: the vector
 *
 * Return: as vfio_irq_mask().
 */
int vfio_irq_unmask(struct vfio_irq *irq);

/**
 * vfio_irq_trigger() - Fire a vector from software (loopback test).
 * @irq: the vector
 *
 * VFIO_DEVICE_SET_IRQS with DATA_NONE | ACTION_TRIGGER: the kernel
 * signals the vector's eventfd as if the device had interrupted.
 *
 * Return: 0 on success, or the negative errno of VFIO_DEVICE_SET_IRQS.
 */
int vfio_irq_trigger(struct vfio_irq *irq);

#ifdef __cplusplus
}
#endif

#endif /* VFIO_IRQ_H */
