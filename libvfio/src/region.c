// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Regions.  The access path is deliberately thin: a bounds check and one
 * pread/pwrite on the device fd (no allocation, no sysfs, no locks).
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/vfio.h>

#include "private.h"

int vfio_device_get_region(struct vfio_device *dev, unsigned int index,
			   struct vfio_region **out)
{
	if (index >= dev->num_regions)
		return vfio__err(EINVAL, "%s has no region %u (%u regions)", dev->address, index,
				 dev->num_regions);
	*out = &dev->regions[index];
	return 0;
}

struct vfio_region *vfio_device_config(struct vfio_device *dev)
{
	if (!(dev->flags & VFIO_DEVICE_FLAGS_PCI) ||
	    dev->num_regions <= VFIO_PCI_CONFIG_REGION_INDEX)
		return NULL;
	return &dev->regions[VFIO_PCI_CONFIG_REGION_INDEX];
}

unsigned int vfio_region_index(const struct vfio_region *r)
{
	return r->index;
}

uint64_t vfio_region_size(const struct vfio_region *r)
{
	return r->size;
}

uint64_t vfio_region_offset(const struct vfio_region *r)
{
	return r->offset;
}

uint32_t vfio_region_flags(const struct vfio_region *r)
{
	return r->flags;
}

bool vfio_region_readable(const struct vfio_region *r)
{
	return r->flags & VFIO_REGION_INFO_FLAG_READ;
}

bool vfio_region_writable(const struct vfio_region *r)
{
	return r->flags & VFIO_REGION_INFO_FLAG_WRITE;
}

bool vfio_region_mappable(const struct vfio_region *r)
{
	return (r->flags & VFIO_REGION_INFO_FLAG_MMAP) && r->size;
}

unsigned int vfio_region_num_sparse_areas(const struct vfio_region *r)
{
	if (!vfio_region_mappable(r))
		return 0;
	return r->caps.has_sparse ? r->caps.nr_areas : 1;
}

int vfio_region_get_sparse_area(const struct vfio_region *r, unsigned int i,
				uint64_t *offset, uint64_t *size)
{
	if (i >= vfio_region_num_sparse_areas(r))
		return vfio__err(EINVAL, "%s region %u has no mmappable area %u",
				 r->dev->address, r->index, i);
	if (r->caps.has_sparse) {
		*offset = r->caps.areas[i].offset;
		*size = r->caps.areas[i].size;
	} else {
		*offset = 0;
		*size = r->size;
	}
	return 0;
}

int vfio_region_get_type(const struct vfio_region *r, uint32_t *type, uint32_t *subtype)
{
	if (!r->caps.has_type)
		return vfio__err(ENOENT, "%s region %u has no type capability", r->dev->address,
				 r->index);
	*type = r->caps.type;
	*subtype = r->caps.subtype;
	return 0;
}

static int check(const struct vfio_region *r, uint64_t off, size_t len, uint32_t need,
		 const char *what)
{
	if (__builtin_expect(off > r->size || len > r->size - off, 0))
		return vfio__err(ERANGE, "%s %zu bytes at 0x%llx of %s region %u: outside its 0x%llx bytes",
				 what, len, (unsigned long long)off, r->dev->address, r->index,
				 (unsigned long long)r->size);
	if (__builtin_expect(!(r->flags & need), 0))
		return vfio__err(EACCES, "%s %s region %u: region is not %s", what,
				 r->dev->address, r->index,
				 need == VFIO_REGION_INFO_FLAG_READ ? "readable" : "writable");
	return 0;
}

static int do_read(struct vfio_region *r, uint64_t off, void *buf, size_t len)
{
	ssize_t n;
	int ret = check(r, off, len, VFIO_REGION_INFO_FLAG_READ, "read");

	if (ret)
		return ret;
	n = pread(r->fd, buf, len, (off_t)(r->offset + off));
	if (__builtin_expect((size_t)n == len, 1))
		return 0;
	if (n < 0)
		return vfio__err_sys(errno, "read %zu bytes at 0x%llx of %s region %u", len,
				     (unsigned long long)off, r->dev->address, r->index);
	return vfio__err(EIO, "read %zu bytes at 0x%llx of %s region %u: short read (%zd)", len,
			 (unsigned long long)off, r->dev->address, r->index, n);
}

static int do_write(struct vfio_region *r, uint64_t off, const void *buf, size_t len)
{
	ssize_t n;
	int ret = check(r, off, len, VFIO_REGION_INFO_FLAG_WRITE, "write");

	if (ret)
		return ret;
	n = pwrite(r->fd, buf, len, (off_t)(r->offset + off));
	if (__builtin_expect((size_t)n == len, 1))
		return 0;
	if (n < 0)
		return vfio__err_sys(errno, "write %zu bytes at 0x%llx of %s region %u", len,
				     (unsigned long long)off, r->dev->address, r->index);
	return vfio__err(EIO, "write %zu bytes at 0x%llx of %s region %u: short write (%zd)",
			 len, (unsigned long long)off, r->dev->address, r->index, n);
}

/* x86 and all VFIO hosts we support are little endian, like PCI. */
int vfio_region_read8(struct vfio_region *r, uint64_t offset, uint8_t *val)
{
	return do_read(r, offset, val, 1);
}

int vfio_region_read16(struct vfio_region *r, uint64_t offset, uint16_t *val)
{
	return do_read(r, offset, val, 2);
}

int vfio_region_read32(struct vfio_region *r, uint64_t offset, uint32_t *val)
{
	return do_read(r, offset, val, 4);
}

int vfio_region_read64(struct vfio_region *r, uint64_t offset, uint64_t *val)
{
	return do_read(r, offset, val, 8);
}

int vfio_region_write8(struct vfio_region *r, uint64_t offset, uint8_t val)
{
	return do_write(r, offset, &val, 1);
}

int vfio_region_write16(struct vfio_region *r, uint64_t offset, uint16_t val)
{
	return do_write(r, offset, &val, 2);
}

int vfio_region_write32(struct vfio_region *r, uint64_t offset, uint32_t val)
{
	return do_write(r, offset, &val, 4);
}

int vfio_region_write64(struct vfio_region *r, uint64_t offset, uint64_t val)
{
	return do_write(r, offset, &val, 8);
}

int vfio_region_read(struct vfio_region *r, uint64_t offset, void *buf, size_t len)
{
	return do_read(r, offset, buf, len);
}

int vfio_region_write(struct vfio_region *r, uint64_t offset, const void *buf, size_t len)
{
	return do_write(r, offset, buf, len);
}

int vfio_region_map(struct vfio_region *r, void **addr)
{
	int prot = 0;
	void *base;

	if (r->map) {
		r->map_users++;
		*addr = r->map;
		return 0;
	}
	if (!vfio_region_mappable(r))
		return vfio__err(EINVAL, "mmap %s region %u: region is not mappable",
				 r->dev->address, r->index);
	if (r->flags & VFIO_REGION_INFO_FLAG_READ)
		prot |= PROT_READ;
	if (r->flags & VFIO_REGION_INFO_FLAG_WRITE)
		prot |= PROT_WRITE;
	base = mmap(NULL, r->size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (base == MAP_FAILED)
		return vfio__err_sys(errno, "mmap %s region %u: reserving 0x%llx bytes",
				     r->dev->address, r->index, (unsigned long long)r->size);
	for (unsigned int i = 0; i < vfio_region_num_sparse_areas(r); i++) {
		uint64_t off, size;
		void *p;

		vfio_region_get_sparse_area(r, i, &off, &size);
		if (!size)
			continue;
		if (off > r->size || size > r->size - off) {
			munmap(base, r->size);
			return vfio__err(EINVAL, "mmap %s region %u: sparse area %u outside the region",
					 r->dev->address, r->index, i);
		}
		p = mmap((char *)base + off, size, prot, MAP_SHARED | MAP_FIXED, r->fd,
			 (off_t)(r->offset + off));
		if (p == MAP_FAILED) {
			int e = errno;

			munmap(base, r->size);
			return vfio__err_sys(e, "mmap %s region %u area %u (0x%llx bytes at 0x%llx)",
					     r->dev->address, r->index, i,
					     (unsigned long long)size, (unsigned long long)off);
		}
	}
	r->map = base;
	r->map_users = 1;
	*addr = base;
	return 0;
}

int vfio_region_unmap(struct vfio_region *r)
{
	if (!r->map)
		return vfio__err(EINVAL, "%s region %u is not mapped", r->dev->address, r->index);
	if (--r->map_users == 0) {
		munmap(r->map, r->size);
		r->map = NULL;
	}
	return 0;
}

void vfio__region_unmap_all(struct vfio_region *r)
{
	if (r->map)
		munmap(r->map, r->size);
	r->map = NULL;
	r->map_users = 0;
}

void *vfio_region_map_addr(const struct vfio_region *r)
{
	return r->map;
}

uint8_t vfio_mmio_read8(const void *base, uint64_t offset)
{
	return *(const volatile uint8_t *)((const char *)base + offset);
}

uint16_t vfio_mmio_read16(const void *base, uint64_t offset)
{
	return *(const volatile uint16_t *)((const char *)base + offset);
}

uint32_t vfio_mmio_read32(const void *base, uint64_t offset)
{
	return *(const volatile uint32_t *)((const char *)base + offset);
}

uint64_t vfio_mmio_read64(const void *base, uint64_t offset)
{
	return *(const volatile uint64_t *)((const char *)base + offset);
}

void vfio_mmio_write8(void *base, uint64_t offset, uint8_t val)
{
	*(volatile uint8_t *)((char *)base + offset) = val;
}

void vfio_mmio_write16(void *base, uint64_t offset, uint16_t val)
{
	*(volatile uint16_t *)((char *)base + offset) = val;
}

void vfio_mmio_write32(void *base, uint64_t offset, uint32_t val)
{
	*(volatile uint32_t *)((char *)base + offset) = val;
}

void vfio_mmio_write64(void *base, uint64_t offset, uint64_t val)
{
	*(volatile uint64_t *)((char *)base + offset) = val;
}
