// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * DMA pools: fixed-size blocks carved from vfio_dma_alloc() chunks.
 *
 * Each chunk records the offsets of its blocks (ascending, so a free finds
 * its block by binary search), their device addresses, which are in use,
 * and a stack of free block indexes.  pool->lock protects the chunks and
 * counters; ctx->lock protects the context's list of pools.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "private.h"

#define HUGE_2M ((size_t)2 << 20)
#define MAX_BLOCK ((size_t)1 << 30)

struct pool_chunk {
	struct pool_chunk *next;
	struct vfio_dma *dma;
	char *base;
	size_t size;
	unsigned int nblocks, nfree;
	size_t *offs;		/* block offsets in the chunk, ascending */
	uint64_t *addrs;	/* device address of each block */
	unsigned char *used;
	unsigned int *free_idx;	/* stack of free block indexes, nfree deep */
};

struct vfio_dma_pool {
	struct vfio_dma_pool *next;	/* ctx->pools, under ctx->lock */
	struct vfio_context *ctx;
	pthread_mutex_t lock;		/* protects everything below */
	size_t block_size, stride, chunk_size;
	uint64_t pgsize;
	unsigned int flags;
	struct pool_chunk *chunks;
	unsigned int nr_chunks;
	size_t in_use;
};

int vfio_dma_pool_new(struct vfio_context *ctx, size_t block_size, size_t align,
		      unsigned int flags, struct vfio_dma_pool **out)
{
	struct vfio_dma_pool *p;

	if (!align)
		align = 8;
	if (!block_size || block_size > MAX_BLOCK || (align & (align - 1)) ||
	    align > ctx->pgsize || (flags & ~VFIO_DMA_BIDIRECTIONAL))
		return vfio__err(EINVAL,
				 "DMA pool: block size %zu (1..%zu), alignment %zu (a power of two up to the 0x%llx-byte page) or flags 0x%x invalid",
				 block_size, MAX_BLOCK, align, (unsigned long long)ctx->pgsize,
				 flags);
	if (!ctx->iommu)
		return vfio__err(ENODEV, "DMA pool: the context holds no device yet (open one first)");
	p = calloc(1, sizeof(*p));
	if (!p)
		return vfio__err(ENOMEM, "out of memory");
	pthread_mutex_init(&p->lock, NULL);
	p->ctx = ctx;
	p->block_size = block_size;
	p->stride = (block_size + align - 1) & ~(align - 1);
	p->pgsize = ctx->pgsize;
	p->flags = flags;
	/* Small blocks share a page; big ones get a chunk of their own size. */
	p->chunk_size = (block_size + ctx->pgsize - 1) & ~(size_t)(ctx->pgsize - 1);
	pthread_mutex_lock(&ctx->lock);
	p->next = ctx->pools;
	ctx->pools = p;
	pthread_mutex_unlock(&ctx->lock);
	*out = p;
	return 0;
}

static void chunk_free(struct pool_chunk *c)
{
	free(c->offs);
	free(c->addrs);
	free(c->used);
	free(c->free_idx);
	free(c);
}

/*
 * Cut a chunk into blocks: inside each device-contiguous run, at the
 * pool's stride, and (for blocks up to a page) never across a page.  The
 * runs start on page boundaries, so offsets aligned in the chunk are
 * aligned for the device too.
 */
static unsigned int carve(struct vfio_dma_pool *p, struct pool_chunk *c, bool record)
{
	uint64_t pg = p->pgsize, run_addr, run_len;
	size_t off = 0, n = 0;

	while (off < c->size) {
		size_t b = off, end;

		if (vfio_dma_device_addr(c->dma, off, &run_addr, &run_len))
			break;
		end = off + run_len;
		while (b + p->block_size <= end) {
			if (p->block_size <= pg && b / pg != (b + p->block_size - 1) / pg) {
				b = (b + pg - 1) & ~(size_t)(pg - 1);
				continue;
			}
			if (record) {
				c->offs[n] = b;
				c->addrs[n] = run_addr + (b - off);
			}
			n++;
			b += p->stride;
		}
		off = end;
	}
	return n;
}

static int chunk_new(struct vfio_dma_pool *p, struct pool_chunk **out)
{
	unsigned int dflags = p->flags;
	struct pool_chunk *c;
	size_t size = p->chunk_size;
	int ret;

	/* Without an IOMMU only a hugepage is sure to be contiguous. */
	if (!vfio__context_maps_contiguous(p->ctx) && p->block_size > p->pgsize) {
		dflags |= VFIO_DMA_HUGEPAGE;
		size = (size + HUGE_2M - 1) & ~(HUGE_2M - 1);
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return vfio__err(ENOMEM, "out of memory");
	ret = vfio_dma_alloc(p->ctx, size, dflags, &c->dma);
	if (ret) {
		free(c);
		return ret;
	}
	c->base = vfio_dma_vaddr(c->dma);
	c->size = vfio_dma_size(c->dma);
	c->nblocks = carve(p, c, false);
	if (!c->nblocks) {
		vfio_dma_free(c->dma);
		free(c);
		return vfio__err(ENOMEM,
				 "DMA pool: no physically contiguous run of %zu bytes in a new chunk (no-IOMMU context; hugepages help)",
				 p->block_size);
	}
	c->offs = calloc(c->nblocks, sizeof(*c->offs));
	c->addrs = calloc(c->nblocks, sizeof(*c->addrs));
	c->used = calloc(c->nblocks, sizeof(*c->used));
	c->free_idx = calloc(c->nblocks, sizeof(*c->free_idx));
	if (!c->offs || !c->addrs || !c->used || !c->free_idx) {
		vfio_dma_free(c->dma);
		chunk_free(c);
		return vfio__err(ENOMEM, "out of memory");
	}
	carve(p, c, true);
	/* Hand out low addresses first: the stack's top is index 0. */
	for (unsigned int i = 0; i < c->nblocks; i++)
		c->free_idx[i] = c->nblocks - 1 - i;
	c->nfree = c->nblocks;
	*out = c;
	return 0;
}

int vfio_dma_pool_alloc(struct vfio_dma_pool *p, void **vaddr, uint64_t *addr)
{
	struct pool_chunk *c;
	unsigned int i;
	int ret = 0;

	pthread_mutex_lock(&p->lock);
	for (c = p->chunks; c && !c->nfree; c = c->next)
		;
	if (!c) {
		ret = chunk_new(p, &c);
		if (ret)
			goto out;
		c->next = p->chunks;
		p->chunks = c;
		p->nr_chunks++;
	}
	i = c->free_idx[--c->nfree];
	c->used[i] = 1;
	p->in_use++;
	memset(c->base + c->offs[i], 0, p->block_size);
	*vaddr = c->base + c->offs[i];
	*addr = c->addrs[i];
out:
	pthread_mutex_unlock(&p->lock);
	return ret;
}

int vfio_dma_pool_free(struct vfio_dma_pool *p, void *vaddr)
{
	uintptr_t v = (uintptr_t)vaddr;
	struct pool_chunk *c;
	int ret = -EINVAL;

	pthread_mutex_lock(&p->lock);
	for (c = p->chunks; c; c = c->next) {
		unsigned int lo = 0, hi;

		if (v < (uintptr_t)c->base || v - (uintptr_t)c->base >= c->size)
			continue;
		hi = c->nblocks;
		while (lo < hi) {
			unsigned int mid = lo + (hi - lo) / 2;

			if (c->offs[mid] < v - (uintptr_t)c->base)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo < c->nblocks && c->offs[lo] == v - (uintptr_t)c->base && c->used[lo]) {
			c->used[lo] = 0;
			c->free_idx[c->nfree++] = lo;
			p->in_use--;
			ret = 0;
		}
		break;
	}
	pthread_mutex_unlock(&p->lock);
	if (ret)
		return vfio__err(EINVAL, "DMA pool: %p is not a block of this pool in use", vaddr);
	return 0;
}

int vfio_dma_pool_destroy(struct vfio_dma_pool *p)
{
	struct vfio_context *ctx;
	struct vfio_dma_pool **pp;
	int ret = 0;

	if (!p)
		return 0;
	ctx = p->ctx;
	pthread_mutex_lock(&ctx->lock);
	for (pp = &ctx->pools; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	pthread_mutex_unlock(&ctx->lock);
	while (p->chunks) {
		struct pool_chunk *c = p->chunks;
		int r = vfio_dma_free(c->dma);

		if (r && !ret)
			ret = r;
		p->chunks = c->next;
		chunk_free(c);
	}
	pthread_mutex_destroy(&p->lock);
	free(p);
	return ret;
}

size_t vfio_dma_pool_block_size(const struct vfio_dma_pool *p)
{
	return p->block_size;
}

size_t vfio_dma_pool_in_use(struct vfio_dma_pool *p)
{
	size_t n;

	pthread_mutex_lock(&p->lock);
	n = p->in_use;
	pthread_mutex_unlock(&p->lock);
	return n;
}

unsigned int vfio_dma_pool_num_chunks(struct vfio_dma_pool *p)
{
	unsigned int n;

	pthread_mutex_lock(&p->lock);
	n = p->nr_chunks;
	pthread_mutex_unlock(&p->lock);
	return n;
}
