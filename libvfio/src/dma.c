// SPDX-License-Identifier: LGPL-2.1-or-later
/* DMA buffers and mappings.  All list/allocator access holds ctx->lock. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <linux/mman.h>

#include "private.h"

#define HUGE_2M (UINT64_C(2) << 20)
#define KNOWN_FLAGS (VFIO_DMA_BIDIRECTIONAL | VFIO_DMA_HUGEPAGE | VFIO_DMA_HUGEPAGE_REQUIRED)

static int need_device(struct vfio_context *ctx, const char *what)
{
	if (!ctx->iommu_set)
		return vfio__err(ENODEV, "%s: the context holds no device yet (open one first)",
				 what);
	return 0;
}

/*
 * No-IOMMU context: pin and take the bus addresses the kernel reports.
 * They must sit below every device's DMA mask: nothing translates or
 * bounces them.  ctx->lock held.
 */
static int map_noiommu_locked(struct vfio_context *ctx, struct vfio_dma *d, uint64_t iova,
			      unsigned int flags)
{
	uint64_t limit = vfio_context_dma_limit(ctx);
	int ret;

	if (iova != VFIO_IOVA_ANY)
		return vfio__err(EINVAL,
				 "DMA map at 0x%llx: a no-IOMMU context has no IOVAs (the bus address is where the memory is; pass VFIO_IOVA_ANY)",
				 (unsigned long long)iova);
	ret = vfio__noiommu_map(ctx, d, flags);
	if (ret)
		return ret;
	for (unsigned int i = 0; i < d->nr_segs; i++)
		if (d->segs[i].bus + (d->segs[i].len - 1) > limit) {
			ret = vfio__err(ERANGE,
					"DMA map %p: bus address 0x%llx+0x%llx is beyond the DMA mask 0x%llx (no IOMMU to remap it)",
					d->vaddr, (unsigned long long)d->segs[i].bus,
					(unsigned long long)d->segs[i].len, (unsigned long long)limit);
			vfio__noiommu_unmap(ctx, d);
			free(d->segs);
			d->segs = NULL;
			d->nr_segs = 0;
			return ret;
		}
	d->iova = d->nr_segs == 1 ? d->segs[0].bus : VFIO_IOVA_ANY;
	d->mapped = true;
	d->ctx = ctx;
	d->next = ctx->dmas;
	ctx->dmas = d;
	return 0;
}

/* Unmap @d, whatever kind of context it is in; ctx->lock held. */
int vfio__dma_unmap_locked(struct vfio_context *ctx, struct vfio_dma *d)
{
	if (d->segs)
		return vfio__noiommu_unmap(ctx, d);
	return ctx->ops->dma_unmap(ctx, d->iova, d->size);
}

/* Map [vaddr, +size) at a chosen or allocated IOVA; ctx->lock held. */
static int map_locked(struct vfio_context *ctx, struct vfio_dma *d, uint64_t iova,
		      uint64_t align, unsigned int flags)
{
	uint64_t limit = vfio_context_dma_limit(ctx);
	int ret;

	if (ctx->noiommu)
		return map_noiommu_locked(ctx, d, iova, flags);

	if (iova == VFIO_IOVA_ANY)
		ret = vfio__iova_alloc(&ctx->iova, d->size, align, limit, &iova);
	else
		ret = vfio__iova_reserve(&ctx->iova, iova, d->size, limit);
	if (ret)
		return ret;
	ret = ctx->ops->dma_map(ctx, d->vaddr, iova, d->size, flags);
	if (ret) {
		vfio__iova_release(&ctx->iova, iova);
		return ret;
	}
	d->iova = iova;
	d->mapped = true;
	d->ctx = ctx;
	d->next = ctx->dmas;
	ctx->dmas = d;
	return 0;
}

int vfio_dma_alloc(struct vfio_context *ctx, size_t size, unsigned int flags,
		   struct vfio_dma **out)
{
	uint64_t pg = ctx->pgsize, align = ctx->pgsize;
	struct vfio_dma *d;
	size_t len;
	void *p = MAP_FAILED;
	int ret;

	if (!size || (flags & ~KNOWN_FLAGS))
		return vfio__err(EINVAL, "DMA alloc: size %zu / flags 0x%x invalid", size, flags);
	ret = need_device(ctx, "DMA alloc");
	if (ret)
		return ret;
	d = calloc(1, sizeof(*d));
	if (!d)
		return vfio__err(ENOMEM, "out of memory");
	if (flags & (VFIO_DMA_HUGEPAGE | VFIO_DMA_HUGEPAGE_REQUIRED)) {
		len = (size + HUGE_2M - 1) & ~(HUGE_2M - 1);
		p = mmap(NULL, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE | MAP_HUGETLB | MAP_HUGE_2MB,
			 -1, 0);
		if (p == MAP_FAILED) {
			int e = errno;

			if (flags & VFIO_DMA_HUGEPAGE_REQUIRED) {
				free(d);
				return vfio__err_sys(e == EINVAL ? ENOMEM : e,
						     "DMA alloc of %zu bytes: no 2 MiB hugepages (mmap MAP_HUGETLB)",
						     size);
			}
			if (asprintf(&d->fallback,
				     "no 2 MiB hugepages available (mmap MAP_HUGETLB: %s); using %llu KiB pages",
				     strerror(e), (unsigned long long)(pg >> 10)) < 0)
				d->fallback = NULL;
		} else {
			d->hugepage = true;
			align = HUGE_2M;
		}
	}
	if (p == MAP_FAILED) {
		len = (size + pg - 1) & ~(pg - 1);
		/*
		 * Populated (written-to) pages: a read-only pin (TO_DEVICE) of
		 * a page never touched would pin the shared zero page on older
		 * kernels (seen on 6.1), which the device would then read
		 * instead of what is written into the buffer later.
		 */
		p = mmap(NULL, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
		if (p == MAP_FAILED) {
			ret = vfio__err_sys(errno, "DMA alloc of %zu bytes: mmap", size);
			free(d->fallback);
			free(d);
			return ret;
		}
		align = pg;
	}
	d->vaddr = p;
	d->size = len;
	d->alloc_size = len;
	pthread_mutex_lock(&ctx->lock);
	ret = map_locked(ctx, d, VFIO_IOVA_ANY, align, flags);
	pthread_mutex_unlock(&ctx->lock);
	if (ret) {
		munmap(p, len);
		free(d->fallback);
		free(d);
		return ret;
	}
	*out = d;
	return 0;
}

int vfio_dma_map(struct vfio_context *ctx, void *vaddr, size_t size, uint64_t iova,
		 unsigned int flags, struct vfio_dma **out)
{
	uint64_t pg = ctx->pgsize;
	struct vfio_dma *d;
	int ret;

	if (!vaddr || !size || ((uintptr_t)vaddr & (pg - 1)) || (size & (pg - 1)) ||
	    (iova != VFIO_IOVA_ANY && (iova & (pg - 1))) || (flags & ~VFIO_DMA_BIDIRECTIONAL))
		return vfio__err(EINVAL,
				 "DMA map %p+0x%zx at 0x%llx: address, size and IOVA must be non-zero multiples of the 0x%llx-byte page (flags 0x%x)",
				 vaddr, size, (unsigned long long)iova, (unsigned long long)pg,
				 flags);
	ret = need_device(ctx, "DMA map");
	if (ret)
		return ret;
	d = calloc(1, sizeof(*d));
	if (!d)
		return vfio__err(ENOMEM, "out of memory");
	d->vaddr = vaddr;
	d->size = size;
	pthread_mutex_lock(&ctx->lock);
	ret = map_locked(ctx, d, iova, pg, flags);
	pthread_mutex_unlock(&ctx->lock);
	if (ret) {
		free(d);
		return ret;
	}
	*out = d;
	return 0;
}

int vfio_dma_free(struct vfio_dma *d)
{
	struct vfio_context *ctx;
	struct vfio_dma **pp;
	int ret = 0;

	if (!d)
		return 0;
	ctx = d->ctx;
	pthread_mutex_lock(&ctx->lock);
	for (pp = &ctx->dmas; *pp; pp = &(*pp)->next)
		if (*pp == d) {
			*pp = d->next;
			break;
		}
	if (d->mapped) {
		ret = vfio__dma_unmap_locked(ctx, d);
		if (!d->segs)
			vfio__iova_release(&ctx->iova, d->iova);
	}
	pthread_mutex_unlock(&ctx->lock);
	if (d->alloc_size)
		munmap(d->vaddr, d->alloc_size);
	free(d->fallback);
	free(d->segs);
	free(d);
	return ret;
}

void *vfio_dma_vaddr(const struct vfio_dma *dma)
{
	return dma->vaddr;
}

uint64_t vfio_dma_iova(const struct vfio_dma *dma)
{
	if (dma->segs && dma->nr_segs != 1) {
		vfio__err(EINVAL,
			  "DMA buffer %p is %u physically separate segments in a no-IOMMU context: no single bus address (use vfio_dma_get_segment())",
			  dma->vaddr, dma->nr_segs);
		errno = EINVAL;
		return VFIO_IOVA_ANY;
	}
	return dma->iova;
}

unsigned int vfio_dma_num_segments(const struct vfio_dma *dma)
{
	return dma->segs ? dma->nr_segs : 1;
}

int vfio_dma_get_segment(const struct vfio_dma *dma, unsigned int index, uint64_t *bus,
			 uint64_t *len)
{
	if (index >= vfio_dma_num_segments(dma))
		return vfio__err(EINVAL, "DMA buffer %p: no segment %u (it has %u)", dma->vaddr,
				 index, vfio_dma_num_segments(dma));
	if (dma->segs) {
		*bus = dma->segs[index].bus;
		*len = dma->segs[index].len;
	} else {
		*bus = dma->iova;
		*len = dma->size;
	}
	return 0;
}

int vfio_dma_device_addr(const struct vfio_dma *dma, uint64_t offset, uint64_t *addr,
			 uint64_t *contig)
{
	uint64_t off = offset;
	unsigned int i = 0;

	if (offset >= dma->size)
		return vfio__err(ERANGE, "DMA buffer %p: offset 0x%llx is outside its 0x%zx bytes",
				 dma->vaddr, (unsigned long long)offset, dma->size);
	if (!dma->segs) {
		*addr = dma->iova + offset;
		if (contig)
			*contig = dma->size - offset;
		return 0;
	}
	while (i < dma->nr_segs - 1 && off >= dma->segs[i].len)
		off -= dma->segs[i++].len;
	*addr = dma->segs[i].bus + off;
	if (contig)
		*contig = dma->segs[i].len - off;
	return 0;
}

size_t vfio_dma_size(const struct vfio_dma *dma)
{
	return dma->size;
}

bool vfio_dma_is_hugepage(const struct vfio_dma *dma)
{
	return dma->hugepage;
}

const char *vfio_dma_fallback_reason(const struct vfio_dma *dma)
{
	return dma->fallback;
}

int vfio_dma_iova_to_vaddr(struct vfio_context *ctx, uint64_t iova, void **vaddr)
{
	int ret = -ENOENT;

	pthread_mutex_lock(&ctx->lock);
	for (struct vfio_dma *d = ctx->dmas; ret && d; d = d->next) {
		uint64_t off = 0;

		if (!d->mapped)
			continue;
		if (!d->segs) {
			if (iova >= d->iova && iova - d->iova < d->size) {
				*vaddr = (char *)d->vaddr + (iova - d->iova);
				ret = 0;
			}
			continue;
		}
		for (unsigned int i = 0; i < d->nr_segs; off += d->segs[i].len, i++)
			if (iova >= d->segs[i].bus && iova - d->segs[i].bus < d->segs[i].len) {
				*vaddr = (char *)d->vaddr + off + (iova - d->segs[i].bus);
				ret = 0;
				break;
			}
	}
	pthread_mutex_unlock(&ctx->lock);
	if (ret)
		return vfio__err(ENOENT, "IOVA 0x%llx is not mapped in this context",
				 (unsigned long long)iova);
	return 0;
}

int vfio_dma_vaddr_to_iova(struct vfio_context *ctx, const void *vaddr, uint64_t *iova)
{
	uintptr_t v = (uintptr_t)vaddr;
	int ret = -ENOENT;

	pthread_mutex_lock(&ctx->lock);
	for (struct vfio_dma *d = ctx->dmas; d; d = d->next)
		if (d->mapped && v >= (uintptr_t)d->vaddr && v - (uintptr_t)d->vaddr < d->size) {
			uint64_t off = v - (uintptr_t)d->vaddr;

			if (!d->segs) {
				*iova = d->iova + off;
			} else {
				unsigned int i = 0;

				while (off >= d->segs[i].len)
					off -= d->segs[i++].len;
				*iova = d->segs[i].bus + off;
			}
			ret = 0;
			break;
		}
	pthread_mutex_unlock(&ctx->lock);
	if (ret)
		return vfio__err(ENOENT, "address %p is not mapped in this context", vaddr);
	return 0;
}
