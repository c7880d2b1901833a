/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libvfio - device regions (BARs, ROM, config space, ...).
 *
 * Region handles belong to their device: they are valid from
 * vfio_device_get_region() until vfio_device_close(), and are never freed
 * by the caller.  Accesses go straight to pread/pwrite on the device fd
 * at the region's offset after a bounds check: no allocation, no sysfs.
 */
#ifndef VFIO_REGION_H
#define VFIO_REGION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <vfio/device.h>

#ifdef __cplusplus
extern "C" {
#endif

struct vfio_region;

/**
 * enum vfio_pci_region - Fixed region indexes of a VFIO PCI device.
 * @VFIO_REGION_BAR0: BAR 0 (BAR1..5 follow, 1..5)
 * @VFIO_REGION_ROM: expansion ROM
 * @VFIO_REGION_CONFIG: PCI configuration space
 * @VFIO_REGION_VGA: legacy VGA ranges
 */
enum vfio_pci_region {
	VFIO_REGION_BAR0 = 0,
	VFIO_REGION_ROM = 6,
	VFIO_REGION_CONFIG = 7,
	VFIO_REGION_VGA = 8,
};

/**
 * vfio_device_get_region() - Region handle of a device.
 * @dev: the device
 * @index: region index, below vfio_device_num_regions()
 * @out: where the handle is stored (owned by @dev)
 *
 * Return: 0 on success; -EINVAL when @index is out of range.
 */
int vfio_device_get_region(struct vfio_device *dev, unsigned int index,
			   struct vfio_region **out);

/**
 * vfio_device_config() - Config-space region of a PCI device.
 * @dev: the device
 *
 * Return: the region handle (owned by @dev), NULL when the device has no
 * config region.
 */
struct vfio_region *vfio_device_config(struct vfio_device *dev);

/**
 * vfio_region_index() - Index of a region.
 * @r: the region
 *
 * Return: the region index.
 */
unsigned int vfio_region_index(const struct vfio_region *r);

/**
 * vfio_region_size() - Size of a region in bytes.
 * @r: the region
 *
 * Return: the size; 0 for an unimplemented region (e.g. an unused BAR).
 */
uint64_t vfio_region_size(const struct vfio_region *r);

/**
 * vfio_region_offset() - Offset of a region in the device fd.
 * @r: the region
 *
 * Return: the offset to use with pread/pwrite/mmap on vfio_device_fd().
 */
uint64_t vfio_region_offset(const struct vfio_region *r);

/**
 * vfio_region_flags() - VFIO_REGION_INFO_FLAG_* of a region.
 * @r: the region
 *
 * Return: the flags from VFIO_DEVICE_GET_REGION_INFO.
 */
uint32_t vfio_region_flags(const struct vfio_region *r);

/**
 * vfio_region_readable() - Whether the region can be read.
 * @r: the region
 *
 * Return: true when VFIO_REGION_INFO_FLAG_READ is set.
 */
bool vfio_region_readable(const struct vfio_region *r);

/**
 * vfio_region_writable() - Whether the region can be written.
 * @r: the region
 *
 * Return: true when VFIO_REGION_INFO_FLAG_WRITE is set.
 */
bool vfio_region_writable(const struct vfio_region *r);

/**
 * vfio_region_mappable() - Whether (parts of) the region can be mmapped.
 * @r: the region
 *
 * Return: true when VFIO_REGION_INFO_FLAG_MMAP is set.
 */
bool vfio_region_mappable(const struct vfio_region *r);

/**
 * vfio_region_num_sparse_areas() - Number of mmappable areas.
 * @r: the region
 *
 * From the region's VFIO_REGION_INFO_CAP_SPARSE_MMAP capability.  A
 * mappable region without that capability has one area, the whole region.
 *
 * Return: the number of areas; 0 when the region is not mappable.
 */
unsigned int vfio_region_num_sparse_areas(const struct vfio_region *r);

/**
 * vfio_region_get_sparse_area() - One mmappable area of a region.
 * @r: the region
 * @i: area index, below vfio_region_num_sparse_areas()
 * @offset: where the area's offset inside the region is stored
 * @size: where the area's size is stored
 *
 * Return: 0 on success, -EINVAL when @i is out of range.
 */
int vfio_region_get_sparse_area(const struct vfio_region *r, unsigned int i,
				uint64_t *offset, uint64_t *size);

/**
 * vfio_region_get_type() - Device-specific type of a region.
 * @r: the region
 * @type: where the type is stored
 * @subtype: where the subtype is stored
 *
 * From the region's VFIO_REGION_INFO_CAP_TYPE capability.
 *
 * Return: 0 on success, -ENOENT when the region has no type capability.
 */
int vfio_region_get_type(const struct vfio_region *r, uint32_t *type, uint32_t *subtype);

/**
 * vfio_region_read8() - Read 8 bits from a region.
 * @r: the region
 * @offset: byte offset inside the region
 * @val: where the value is stored
 *
 * The same holds for the 16-, 32- and 64-bit variants: one access of
 * that width at @offset (little endian, as the device sees it), which
 * must lie inside the region.
 *
 * Return: 0 on success; -ERANGE when the access is outside the region,
 * -EACCES when the region is not readable, -EIO on a short access, or
 * the negative errno of pread.
 */
int vfio_region_read8(struct vfio_region *r, uint64_t offset, uint8_t *val);

/**
 * vfio_region_read16() - Read 16 bits from a region.
 * @r: the region
 * @offset: byte offset inside the region
 * @val: where the value is stored
 *
 * Return: as vfio_region_read8().
 */
int vfio_region_read16(struct vfio_region *r, uint64_t offset, uint16_t *val);

/**
 * vfio_region_read32() - Read 32 bits from a region.
 * @r: the region
 * @offset: byte offset inside the region
 * @val: where the value is stored
 *
 * Return: as vfio_region_read8().
 */
int vfio_region_read32(struct vfio_region *r, uint64_t offset, uint32_t *val);

/**
 * vfio_region_read64() - Read 64 bits from a region.
 * @r: the region
 * @offset: byte offset inside the region
 * @val: where the value is stored
 *
 * Return: as vfio_region_read8().
 */
int vfio_region_read64(struct vfio_region *r, uint64_t offset, uint64_t *val);

/**
 * vfio_region_write8() - Write 8 bits to a region.
 * @r: the region
 * @offset: byte offset inside the region
 * @val: the value
 *
 * Return: 0 on success; -ERANGE when the access is outside the region,
 * -EACCES when the region is not writable, -EIO on a short access, or
 * the negative errno of pwrite.
 */
int vfio_region_write8(struct vfio_region *r, uint64_t offset, uint8_t val);

/**
 * vfio_region_write16() - Write 16 bits to a region.
 * @r: the region
 * @offset: byte offset inside the region
 * @val: the value
 *
 * Return: as vfio_region_write8().
 */
int vfio_region_write16(struct vfio_region *r, uint64_t offset, uint16_t val);

/**
 * vfio_region_write32() - Write 32 bits to a region.
 * @r: the region
 * @offset: byte offset inside the region
 * @val: the value
 *
 * Return: as vfio_region_write8().
 */
int vfio_region_write32(struct vfio_region *r, uint64_t offset, uint32_t val);

/**
 * vfio_region_write64() - Write 64 bits to a region.
 * @r: the region
 * @offset: byte offset inside the region
 * @val: the value
 *
 * Return: as vfio_region_write8().
 */
int vfio_region_write64(struct vfio_region *r, uint64_t offset, uint64_t val);

/**
 * vfio_region_read() - Read a range of bytes from a region.
 * @r: the region
 * @offset: byte offset inside the region
 * @buf: destination, @len bytes
 * @len: number of bytes
 *
 * The kernel splits the range into the widest aligned accesses it can.
 *
 * Return: 0 on success (all @len bytes read); errors as vfio_region_read8().
 */
int vfio_region_read(struct vfio_region *r, uint64_t offset, void *buf, size_t len);

/**
 * vfio_region_write() - Write a range of bytes to a region.
 * @r: the region
 * @offset: byte offset inside the region
 * @buf: source, @len bytes
 * @len: number of bytes
 *
 * Return: 0 on success (all @len bytes written); errors as
 * vfio_region_write8().
 */
int vfio_region_write(struct vfio_region *r, uint64_t offset, const void *buf, size_t len);

/**
 * vfio_region_map() - Map a region into the process.
 * @r: the region
 * @addr: where the address of byte 0 of the region is stored
 *
 * Reserves the whole region's size of address space and maps each
 * mmappable (sparse) area at its offset in it; the rest stays PROT_NONE
 * (access it with vfio_region_read()/write()).  Mapping an already mapped
 * region returns the same address and counts one more user; each map
 * needs one vfio_region_unmap().  Mappings are removed at
 * vfio_device_close() regardless.
 *
 * Return: 0 on success; -EINVAL when the region is not mappable or
 * empty, or the negative errno of mmap.
 */
int vfio_region_map(struct vfio_region *r, void **addr);

/**
 * vfio_region_unmap() - Drop one user of a region's mapping.
 * @r: the region
 *
 * The mapping goes away with its last user.
 *
 * Return: 0 on success, -EINVAL when the region is not mapped.
 */
int vfio_region_unmap(struct vfio_region *r);

/**
 * vfio_region_map_addr() - Current mapping of a region.
 * @r: the region
 *
 * Return: the address of byte 0 of the mapping, NULL when not mapped.
 */
void *vfio_region_map_addr(const struct vfio_region *r);

/**
 * vfio_mmio_read32() - Read 32 bits from mapped device memory.
 * @base: address of a mapping (from vfio_region_map())
 * @offset: byte offset, 4-byte aligned
 *
 * One volatile 32-bit load.  Variants for 8, 16 and 64 bits follow.
 * No bounds check: the caller keeps @offset inside a mapped area.
 *
 * Return: the value read.
 */
uint32_t vfio_mmio_read32(const void *base, uint64_t offset);

/**
 * vfio_mmio_read8() - Read 8 bits from mapped device memory.
 * @base: address of a mapping
 * @offset: byte offset
 *
 * Return: the value read.
 */
uint8_t vfio_mmio_read8(const void *base, uint64_t offset);

/**
 * vfio_mmio_read16() - Read 16 bits from mapped device memory.
 * @base: address of a mapping
 * @offset: byte offset, 2-byte aligned
 *
 * Return: the value read.
 */
uint16_t vfio_mmio_read16(const void *base, uint64_t offset);

/**
 * vfio_mmio_read64() - Read 64 bits from mapped device memory.
 * @base: address of a mapping
 * @offset: byte offset, 8-byte aligned
 *
 * Return: the value read.
 */
uint64_t vfio_mmio_read64(const void *base, uint64_t offset);

/**
 * vfio_mmio_write8() - Write 8 bits to mapped device memory.
 * @base: address of a mapping
 * @offset: byte offset
 * @val: the value
 */
void vfio_mmio_write8(void *base, uint64_t offset, uint8_t val);

/**
 * vfio_mmio_write16() - Write 16 bits to mapped device memory.
 * @base: address of a mapping
 * @offset: byte offset, 2-byte aligned
 * @val: the value
 */
void vfio_mmio_write16(void *base, uint64_t offset, uint16_t val);

/**
 * vfio_mmio_write32() - Write 32 bits to mapped device memory.
 * @base: address of a mapping
 * @offset: byte offset, 4-byte aligned
 * @val: the value
 */
void vfio_mmio_write32(void *base, uint64_t offset, uint32_t val);

/**
 * vfio_mmio_write64() - Write 64 bits to mapped device memory.
 * @base: address of a mapping
 * @offset: byte offset, 8-byte aligned
 * @val: the value
 */
void vfio_mmio_write64(void *base, uint64_t offset, uint64_t val);

#ifdef __cplusplus
}
#endif

#endif /* VFIO_REGION_H */
