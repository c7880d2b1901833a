// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * DMA buffers and mappings.  How memory is mapped is the IOMMU model's
 * (ctx->iommu); what a mapping looks like to the device is its list of
 * segments, which every lookup here walks without asking which model made
 * it.  All list/allocator access holds ctx->lock.
 */
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
	if (!ctx->iommu)
		return vfio__err(ENODEV, "%s: the context holds no device yet (open one first)",
				 what);
	return 0;
}

/* Map through the context's IOMMU model and list the mapping; ctx->lock held. */
static int map_locked(struct vfio_context *ctx, struct vfio_dma *d, uint64_t iova,
		      uint64_t align, unsigned int flags)
{
	int ret = ctx->iommu->map(ctx, d, iova, align, ctx->dma_limit, flags);

	if (ret)
		return ret;
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
	if (d->mapped)
		ret = ctx->iommu->unmap(ctx, d);
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

int vfio_dma_iova(const struct vfio_dma *dma, uint64_t *iova)
{
	if (dma->nr_segs != 1)
		return vfio__err(EINVAL,
				 "DMA buffer %p is %u physically separate segments in a no-IOMMU context: no single bus address (use vfio_dma_get_segment())",
				 dma->vaddr, dma->nr_segs);
	*iova = dma->segs[0].bus;
	return 0;
}

unsigned int vfio_dma_num_segments(const struct vfio_dma *dma)
{
	return dma->nr_segs;
}

int vfio_dma_get_segment(const struct vfio_dma *dma, unsigned int index, uint64_t *bus,
			 uint64_t *len)
{
	if (index >= dma->nr_segs)
		return vfio__err(EINVAL, "DMA buffer %p: no segment %u (it has %u)", dma->vaddr,
				 index, dma->nr_segs);
	*bus = dma->segs[index].bus;
	*len = dma->segs[index].len;
	return 0;
}

void vfio__segment_locate(const struct vfio__segment *segs, unsigned int nr, uint64_t offset,
			  uint64_t *addr, uint64_t *contig)
{
	unsigned int i = 0;

	while (i < nr - 1 && offset >= segs[i].len)
		offset -= segs[i++].len;
	*addr = segs[i].bus + offset;
	if (contig)
		*contig = segs[i].len - offset;
}

int vfio_dma_device_addr(const struct vfio_dma *dma, uint64_t offset, uint64_t *addr,
			 uint64_t *contig)
{
	if (offset >= dma->size)
		return vfio__err(ERANGE, "DMA buffer %p: offset 0x%llx is outside its 0x%zx bytes",
				 dma->vaddr, (unsigned long long)offset, dma->size);
	vfio__segment_locate(dma->segs, dma->nr_segs, offset, addr, contig);
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
			vfio__segment_locate(d->segs, d->nr_segs, v - (uintptr_t)d->vaddr, iova,
					     NULL);
			ret = 0;
			break;
		}
	pthread_mutex_unlock(&ctx->lock);
	if (ret)
		return vfio__err(ENOENT, "address %p is not mapped in this context", vaddr);
	return 0;
}
