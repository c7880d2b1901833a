/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libvfio - DMA buffers, mappings and the IOVA allocator.
 *
 * A &struct vfio_dma is one mapping of process memory into a context's
 * IOMMU address space: either a buffer libvfio allocated
 * (vfio_dma_alloc()) or memory the caller owns (vfio_dma_map()).
 * IOVAs are chosen by the context's allocator unless the caller passes
 * one; the allocator only hands out IOVAs inside the container's usable
 * ranges and at or below the context's DMA limit (the smallest
 * vfio_device_set_dma_mask() of its devices).  Every mapping still alive
 * is unmapped (and allocated buffers freed) by vfio_context_free().
 *
 * A context needs at least one device open before anything can be mapped.
 *
 * In a no-IOMMU context (a device in a vfio-dkms no-IOMMU group,
 * docs/noiommu.md) nothing is translated: the memory is pinned with
 * vfio-dkms's bus-address extension and the device must be given its bus
 * addresses, one per physically contiguous segment
 * (vfio_dma_num_segments(), vfio_dma_get_segment()).  vfio_dma_iova() is
 * the bus address when the buffer is one segment (always true for a
 * buffer of one page, or of one 2 MiB hugepage with %VFIO_DMA_HUGEPAGE).
 * Mapping fails with -ERANGE when a segment lies beyond the context's DMA
 * limit.
 */
#ifndef VFIO_DMA_H
#define VFIO_DMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vfio/context.h>

#ifdef __cplusplus
extern "C" {
#endif

struct vfio_dma;

/** VFIO_IOVA_ANY - pass as @iova to let the allocator choose. */
#define VFIO_IOVA_ANY UINT64_MAX

/**
 * enum vfio_dma_flags - Flags for vfio_dma_alloc() and vfio_dma_map().
 * @VFIO_DMA_TO_DEVICE: the device may read the memory
 * @VFIO_DMA_FROM_DEVICE: the device may write the memory
 * @VFIO_DMA_BIDIRECTIONAL: both (what 0 means, too)
 * @VFIO_DMA_HUGEPAGE: vfio_dma_alloc() only: back the buffer with 2 MiB
 *                     hugepages (size rounded up to 2 MiB); when none are
 *                     available fall back to normal pages and say so in
 *                     vfio_dma_fallback_reason()
 * @VFIO_DMA_HUGEPAGE_REQUIRED: like @VFIO_DMA_HUGEPAGE, but fail with
 *                     -ENOMEM instead of falling back
 */
enum vfio_dma_flags {
	VFIO_DMA_TO_DEVICE = 1 << 0,
	VFIO_DMA_FROM_DEVICE = 1 << 1,
	VFIO_DMA_BIDIRECTIONAL = VFIO_DMA_TO_DEVICE | VFIO_DMA_FROM_DEVICE,
	VFIO_DMA_HUGEPAGE = 1 << 2,
	VFIO_DMA_HUGEPAGE_REQUIRED = 1 << 3,
};

/**
 * vfio_dma_alloc() - Allocate a zeroed, page-aligned buffer and map it.
 * @ctx: the context (with at least one device open)
 * @size: bytes wanted (rounded up to the page size, 2 MiB for hugepages)
 * @flags: &enum vfio_dma_flags
 * @out: where the new buffer is stored; release it with vfio_dma_free()
 *
 * The IOVA is chosen by the context's allocator and is aligned to the
 * buffer's page size.
 *
 * Return: 0 on success; -EINVAL for size 0 or unknown flags, -ENODEV when
 * the context holds no device yet, -ENOMEM when no memory (or, with
 * VFIO_DMA_HUGEPAGE_REQUIRED, no hugepages) is available, -ENOSPC when
 * no free IOVA range below the DMA limit is big enough, or the negative
 * errno of VFIO_IOMMU_MAP_DMA.
 */
int vfio_dma_alloc(struct vfio_context *ctx, size_t size, unsigned int flags,
		   struct vfio_dma **out);

/**
 * vfio_dma_map() - Map memory the caller owns.
 * @ctx: the context (with at least one device open)
 * @vaddr: start of the memory, page aligned
 * @size: bytes, a multiple of the page size
 * @iova: IOVA to map at (page aligned), or VFIO_IOVA_ANY
 * @flags: VFIO_DMA_TO_DEVICE and/or VFIO_DMA_FROM_DEVICE (0 = both)
 * @out: where the new mapping is stored; release it with vfio_dma_free()
 *
 * The memory must stay valid until the mapping is freed; libvfio never
 * frees it.
 *
 * Return: 0 on success; -EINVAL for misaligned or empty arguments,
 * -ENODEV when the context holds no device yet, -ENOSPC when the
 * allocator finds no room, -EEXIST when @iova overlaps a mapping, -ERANGE
 * when @iova is outside the usable ranges or above the DMA limit, or the
 * negative errno of VFIO_IOMMU_MAP_DMA.
 */
int vfio_dma_map(struct vfio_context *ctx, void *vaddr, size_t size, uint64_t iova,
		 unsigned int flags, struct vfio_dma **out);

/**
 * vfio_dma_free() - Unmap a mapping and free its buffer.
 * @dma: the mapping, or NULL
 *
 * Unmaps the IOVA range, returns it to the allocator and, for buffers from
 * vfio_dma_alloc(), frees the memory.  @dma is invalid afterwards even
 * when unmapping failed.
 *
 * Return: 0 on success, or the negative errno of VFIO_IOMMU_UNMAP_DMA.
 */
int vfio_dma_free(struct vfio_dma *dma);

/**
 * vfio_dma_vaddr() - Process address of a mapping.
 * @dma: the mapping
 *
 * Return: the address of its first byte.
 */
void *vfio_dma_vaddr(const struct vfio_dma *dma);

/**
 * vfio_dma_iova() - IOVA of a mapping.
 * @dma: the mapping
 * @iova: where the IOVA the device uses for its first byte is stored
 *
 * In a no-IOMMU context this is the bus address, if the buffer is one
 * physically contiguous segment.
 *
 * Return: 0 on success, -EINVAL (with a message in vfio_last_error()) for
 * a no-IOMMU buffer of several segments, where @iova is left alone.
 */
int vfio_dma_iova(const struct vfio_dma *dma, uint64_t *iova);

/**
 * vfio_dma_num_segments() - Number of device-visible address ranges.
 * @dma: the mapping
 *
 * Return: 1 for an IOMMU mapping (one IOVA range); for a no-IOMMU buffer
 * the number of physically contiguous segments, in process-address order.
 */
unsigned int vfio_dma_num_segments(const struct vfio_dma *dma);

/**
 * vfio_dma_get_segment() - One device-visible address range of a mapping.
 * @dma: the mapping
 * @index: 0 .. vfio_dma_num_segments() - 1
 * @bus: where the segment's first device address (IOVA or bus address)
 *       is stored
 * @len: where its length in bytes is stored
 *
 * Return: 0 on success, -EINVAL when @index is out of range.
 */
int vfio_dma_get_segment(const struct vfio_dma *dma, unsigned int index, uint64_t *bus,
			 uint64_t *len);

/**
 * vfio_dma_device_addr() - Device address of one byte of a mapping.
 * @dma: the mapping
 * @offset: byte offset into the mapping, below vfio_dma_size()
 * @addr: where the address the device must use for that byte is stored
 *        (IOVA, or bus address in a no-IOMMU context)
 * @contig: where the number of bytes from @offset on that stay contiguous
 *          for the device is stored (may be NULL): up to the end of the
 *          mapping with an IOMMU, up to the end of the physically
 *          contiguous segment without one
 *
 * What a driver needs to build scatter lists (NVMe PRP entries, descriptor
 * chains): it works for every buffer, including no-IOMMU buffers of
 * several segments, where vfio_dma_iova() has no single answer.
 *
 * Return: 0 on success, -ERANGE when @offset is not inside the mapping.
 */
int vfio_dma_device_addr(const struct vfio_dma *dma, uint64_t offset, uint64_t *addr,
			 uint64_t *contig);

/**
 * vfio_dma_size() - Size of a mapping.
 * @dma: the mapping
 *
 * Return: the mapped size in bytes (after rounding).
 */
size_t vfio_dma_size(const struct vfio_dma *dma);

/**
 * vfio_dma_is_hugepage() - Whether a buffer is hugepage-backed.
 * @dma: the mapping
 *
 * Return: true when the buffer sits in hugepages.
 */
bool vfio_dma_is_hugepage(const struct vfio_dma *dma);

/**
 * vfio_dma_fallback_reason() - Why a hugepage request fell back.
 * @dma: the mapping
 *
 * Return: a message such as "no 2 MiB hugepages available (mmap
 * MAP_HUGETLB: Cannot allocate memory); using 4 KiB pages", owned by
 * @dma; NULL when no fallback happened.
 */
const char *vfio_dma_fallback_reason(const struct vfio_dma *dma);

/**
 * vfio_dma_iova_to_vaddr() - Translate an IOVA of a context.
 * @ctx: the context
 * @iova: any IOVA inside a mapping
 * @vaddr: where the matching process address is stored
 *
 * Return: 0 on success, -ENOENT when @iova is not mapped.
 */
int vfio_dma_iova_to_vaddr(struct vfio_context *ctx, uint64_t iova, void **vaddr);

/**
 * vfio_dma_vaddr_to_iova() - Translate a process address.
 * @ctx: the context
 * @vaddr: any address inside a mapping
 * @iova: where the matching IOVA is stored
 *
 * Return: 0 on success, -ENOENT when @vaddr is not mapped in @ctx.
 */
int vfio_dma_vaddr_to_iova(struct vfio_context *ctx, const void *vaddr, uint64_t *iova);

#ifdef __cplusplus
}
#endif

#endif /* VFIO_DMA_H */
