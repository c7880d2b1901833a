/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libvfio - devices.
 *
 * A device is a PCI function opened through VFIO in a context.  Its
 * regions and interrupts are reached through the handles in
 * <vfio/region.h> and <vfio/irq.h>, which live as long as the device.
 */
#ifndef VFIO_DEVICE_H
#define VFIO_DEVICE_H

#include <stdbool.h>
#include <stdint.h>

#include <vfio/context.h>

#ifdef __cplusplus
extern "C" {
#endif

struct vfio_device;

/**
 * vfio_device_open() - Open a PCI function through VFIO.
 * @ctx: context to open the device in, or NULL for a private context
 *       that is created for the device and freed with it
 * @address: PCI address "DDDD:BB:DD.F" (or "BB:DD.F")
 * @backend: VFIO_BACKEND_AUTO to choose from the bound driver, or an
 *           explicit backend
 * @out: where the new device is stored; close it with vfio_device_close()
 *
 * Opens the device's IOMMU group, checks that it is viable, attaches it
 * to the context's container (setting the type1 IOMMU on first use),
 * gets the device fd and reads the device, region and irq info.
 *
 * Return: 0 on success, or a negative errno:
 * -EINVAL malformed address or backend;
 * -ENOENT no such PCI device;
 * -ENXIO the device has no IOMMU group;
 * -ENODEV the device is not bound to the backend's driver (auto: to no
 * VFIO driver), or the backend's /dev node is missing (module not loaded);
 * -EXDEV the context already uses another backend;
 * -EACCES/-EPERM no permission to open the group or container;
 * -EBUSY the group is not viable (the message names the group member
 * bound to another driver) or is already open elsewhere;
 * -ENOMEM; other errnos from the VFIO ioctls.
 */
int vfio_device_open(struct vfio_context *ctx, const char *address,
		     enum vfio_backend backend, struct vfio_device **out);

/**
 * vfio_device_close() - Close a device.
 * @dev: the device, or NULL
 *
 * Disables its interrupts, unmaps its regions, releases the group (the
 * last device of a group detaches it from the container).  If the
 * device's context is private (opened with @ctx NULL), the context and all
 * its DMA mappings are freed too.
 */
void vfio_device_close(struct vfio_device *dev);

/**
 * vfio_device_context() - Context a device is open in.
 * @dev: the device
 *
 * Return: the context (the private one when opened with NULL).
 */
struct vfio_context *vfio_device_context(const struct vfio_device *dev);

/**
 * vfio_device_address() - PCI address of a device.
 * @dev: the device
 *
 * Return: the full address "DDDD:BB:DD.F", owned by @dev.
 */
const char *vfio_device_address(const struct vfio_device *dev);

/**
 * vfio_device_backend() - Backend a device is driven through.
 * @dev: the device
 *
 * Return: VFIO_BACKEND_VFIO or VFIO_BACKEND_VFIO_DKMS.
 */
enum vfio_backend vfio_device_backend(const struct vfio_device *dev);

/**
 * vfio_device_iommu_group() - IOMMU group number of a device.
 * @dev: the device
 *
 * Return: the group number.
 */
int vfio_device_iommu_group(const struct vfio_device *dev);

/**
 * vfio_device_fd() - VFIO device file descriptor.
 * @dev: the device
 *
 * For ioctls libvfio does not wrap.  The fd stays owned by @dev.
 *
 * Return: the fd.
 */
int vfio_device_fd(const struct vfio_device *dev);

/**
 * vfio_device_flags() - VFIO_DEVICE_FLAGS_* from VFIO_DEVICE_GET_INFO.
 * @dev: the device
 *
 * Return: the flags (VFIO_DEVICE_FLAGS_PCI, VFIO_DEVICE_FLAGS_RESET, ...).
 */
uint32_t vfio_device_flags(const struct vfio_device *dev);

/**
 * vfio_device_num_regions() - Number of regions of a device.
 * @dev: the device
 *
 * Return: num_regions from VFIO_DEVICE_GET_INFO (9 or more for PCI:
 * BAR0..5, ROM, config, VGA).
 */
unsigned int vfio_device_num_regions(const struct vfio_device *dev);

/**
 * vfio_device_num_irqs() - Number of interrupt indexes of a device.
 * @dev: the device
 *
 * Return: num_irqs from VFIO_DEVICE_GET_INFO (INTx, MSI, MSI-X, ... for PCI).
 */
unsigned int vfio_device_num_irqs(const struct vfio_device *dev);

/**
 * vfio_device_vendor() - PCI vendor id, read from config space at open.
 * @dev: the device
 *
 * Return: the vendor id.
 */
uint16_t vfio_device_vendor(const struct vfio_device *dev);

/**
 * vfio_device_device() - PCI device id, read from config space at open.
 * @dev: the device
 *
 * Return: the device id.
 */
uint16_t vfio_device_device(const struct vfio_device *dev);

/**
 * vfio_device_reset() - Reset a device (VFIO_DEVICE_RESET).
 * @dev: the device
 *
 * Return: 0 on success; -ENOTTY when the device cannot be reset
 * (VFIO_DEVICE_FLAGS_RESET not set), or the ioctl's negative errno.
 */
int vfio_device_reset(struct vfio_device *dev);

/**
 * vfio_device_set_bus_master() - Enable or disable bus mastering.
 * @dev: the device
 * @enable: true to set, false to clear the Bus Master bit (bit 2) of
 *          the PCI command register
 *
 * A device cannot DMA or send MSIs until bus mastering is enabled.
 *
 * Return: 0 on success, a negative errno from the config-space access.
 */
int vfio_device_set_bus_master(struct vfio_device *dev, bool enable);

/**
 * vfio_device_set_dma_mask() - Limit the IOVAs the device is given.
 * @dev: the device
 * @bits: number of address bits the device can drive (1..64); e.g. 28
 *        for QEMU's edu device, so IOVAs stay below 256 MiB
 *
 * The context's IOVA allocator then hands out only IOVAs whose last byte
 * is below 2^@bits (for all devices in the context).  Mappings already
 * made are not moved.
 *
 * Return: 0 on success, -EINVAL when @bits is not in 1..64.
 */
int vfio_device_set_dma_mask(struct vfio_device *dev, unsigned int bits);

/**
 * vfio_device_dma_mask() - DMA address width of a device.
 * @dev: the device
 *
 * Return: the bits set with vfio_device_set_dma_mask(), 64 by default.
 */
unsigned int vfio_device_dma_mask(const struct vfio_device *dev);

#ifdef __cplusplus
}
#endif

#endif /* VFIO_DEVICE_H */
