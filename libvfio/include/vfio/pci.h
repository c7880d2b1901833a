/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libvfio - PCI discovery and driver binding through sysfs.
 *
 * A &struct vfio_pci_device is a snapshot of one PCI function as sysfs
 * described it when it was read (address, ids, bound driver, IOMMU
 * group).  It does not hold the device open.
 */
#ifndef VFIO_PCI_H
#define VFIO_PCI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct vfio_pci_device;
struct vfio_pci_list;

/**
 * vfio_pci_list_new() - Read the list of PCI functions from sysfs.
 * @out: where the new list is stored; free it with vfio_pci_list_free()
 *
 * Entries are sorted by address.
 *
 * Return: 0 on success; -ENOENT when /sys/bus/pci/devices does not exist,
 * -ENOMEM, or another negative errno from reading sysfs.
 */
int vfio_pci_list_new(struct vfio_pci_list **out);

/**
 * vfio_pci_list_free() - Free a list and every entry in it.
 * @list: list from vfio_pci_list_new(), or NULL
 */
void vfio_pci_list_free(struct vfio_pci_list *list);

/**
 * vfio_pci_list_count() - Number of entries in a list.
 * @list: the list
 *
 * Return: the number of PCI functions in @list.
 */
size_t vfio_pci_list_count(const struct vfio_pci_list *list);

/**
 * vfio_pci_list_get() - One entry of a list.
 * @list: the list
 * @i: index, 0 <= @i < vfio_pci_list_count()
 *
 * Return: the entry, owned by @list (valid until vfio_pci_list_free()),
 * or NULL when @i is out of range.
 */
const struct vfio_pci_device *vfio_pci_list_get(const struct vfio_pci_list *list, size_t i);

/**
 * vfio_pci_device_new() - Read one PCI function from sysfs.
 * @address: PCI address "DDDD:BB:DD.F" (the short form "BB:DD.F" means
 *           domain 0000)
 * @out: where the new entry is stored; free it with vfio_pci_device_free()
 *
 * Return: 0 on success; -EINVAL for a malformed address, -ENOENT when no
 * such device exists, -ENOMEM.
 */
int vfio_pci_device_new(const char *address, struct vfio_pci_device **out);

/**
 * vfio_pci_device_free() - Free an entry from vfio_pci_device_new().
 * @pdev: the entry, or NULL.  Entries of a list are freed with the list.
 */
void vfio_pci_device_free(struct vfio_pci_device *pdev);

/**
 * vfio_pci_device_address() - PCI address of the function.
 * @pdev: the entry
 *
 * Return: the full address "DDDD:BB:DD.F", owned by @pdev.
 */
const char *vfio_pci_device_address(const struct vfio_pci_device *pdev);

/**
 * vfio_pci_device_vendor() - PCI vendor id.
 * @pdev: the entry
 *
 * Return: the vendor id (e.g. 0x1234).
 */
uint16_t vfio_pci_device_vendor(const struct vfio_pci_device *pdev);

/**
 * vfio_pci_device_device() - PCI device id.
 * @pdev: the entry
 *
 * Return: the device id (e.g. 0x11e8).
 */
uint16_t vfio_pci_device_device(const struct vfio_pci_device *pdev);

/**
 * vfio_pci_device_class() - PCI class code.
 * @pdev: the entry
 *
 * Return: the 24-bit class code (base class, subclass, prog-if).
 */
uint32_t vfio_pci_device_class(const struct vfio_pci_device *pdev);

/**
 * vfio_pci_device_driver() - Driver the function was bound to.
 * @pdev: the entry
 *
 * Return: the driver name (e.g. "vfio-pci", "vfio-dkms-pci", "ahci"),
 * owned by @pdev, or NULL when no driver is bound.
 */
const char *vfio_pci_device_driver(const struct vfio_pci_device *pdev);

/**
 * vfio_pci_device_iommu_group() - IOMMU group of the function.
 * @pdev: the entry
 *
 * Return: the group number, or -1 when the device has no IOMMU group
 * (no IOMMU, or the IOMMU is off).
 */
int vfio_pci_device_iommu_group(const struct vfio_pci_device *pdev);

/**
 * vfio_pci_bind() - Bind a PCI function to a driver.
 * @address: PCI address
 * @driver: driver name, e.g. "vfio-pci" or "vfio-dkms-pci"
 *
 * Unbinds the current driver (if any), writes @driver to the device's
 * driver_override and asks the PCI core to probe it (drivers_probe).
 * Binding to the driver already bound is a no-op.  Read the previous
 * driver with vfio_pci_device_new() first if you need it.
 *
 * Return: 0 on success; -EINVAL for a malformed address or driver name,
 * -ENOENT when no such device exists, -ENODEV when the driver is not
 * loaded (/sys/bus/pci/drivers/@driver missing), -EACCES/-EPERM when not
 * root, -EIO when the probe left the device on another or no driver.
 */
int vfio_pci_bind(const char *address, const char *driver);

/**
 * vfio_pci_unbind() - Unbind a PCI function from its driver.
 * @address: PCI address
 *
 * Also clears driver_override, so later probes pick the default driver.
 * Unbinding a device with no driver succeeds.
 *
 * Return: 0 on success; -EINVAL, -ENOENT, -EACCES/-EPERM as for
 * vfio_pci_bind().
 */
int vfio_pci_unbind(const char *address);

#ifdef __cplusplus
}
#endif

#endif /* VFIO_PCI_H */
