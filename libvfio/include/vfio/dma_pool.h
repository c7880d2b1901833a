/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libvfio - DMA pools: small fixed-size blocks carved from mapped pages.
 *
 * A driver needs many small DMA objects: 16- or 64-byte queue entries,
 * PRP lists, 4 KiB identify buffers.  Giving each its own vfio_dma_alloc()
 * costs a page and an IOMMU mapping apiece.  A pool maps memory in chunks
 * and hands out blocks of one size and alignment, each with its process
 * address and its device address.
 *
 * Guarantees for every block:
 *  - its device address and its process address are aligned to the pool's
 *    alignment;
 *  - it is contiguous for the device, also in a no-IOMMU context;
 *  - a block of at most one page never crosses a page boundary;
 *  - it is zeroed when handed out.
 * Blocks larger than a page in a no-IOMMU context are cut from 2 MiB
 * hugepage chunks when possible (the only physically contiguous memory user
 * space can ask for); the pool fails with -ENOMEM when a chunk has no
 * contiguous run large enough.
 *
 * A pool belongs to its context: vfio_context_free() destroys the pools
 * still alive, after which their blocks must not be used.  Pool calls lock
 * the pool and may run concurrently.
 */
#ifndef VFIO_DMA_POOL_H
#define VFIO_DMA_POOL_H

#include <stddef.h>
#include <stdint.h>

#include <vfio/context.h>

#ifdef __cplusplus
extern "C" {
#endif

struct vfio_dma_pool;

/**
 * vfio_dma_pool_new() - Create a pool of fixed-size DMA blocks.
 * @ctx: the context (with at least one device open)
 * @block_size: bytes per block, 1 .. 1 GiB
 * @align: alignment of each block, a power of two from 1 up to the page
 *         size (0 means 8)
 * @flags: VFIO_DMA_TO_DEVICE and/or VFIO_DMA_FROM_DEVICE (0 = both)
 * @out: where the new pool is stored; release it with vfio_dma_pool_destroy()
 *
 * No memory is mapped until the first vfio_dma_pool_alloc().
 *
 * Return: 0 on success; -EINVAL for a bad size, alignment or flags,
 * -ENODEV when the context holds no device yet, -ENOMEM.
 */
int vfio_dma_pool_new(struct vfio_context *ctx, size_t block_size, size_t align,
		      unsigned int flags, struct vfio_dma_pool **out);

/**
 * vfio_dma_pool_destroy() - Free a pool and every block of it.
 * @pool: the pool, or NULL
 *
 * Unmaps and frees all its chunks, whether blocks are still in use or not;
 * pointers to its blocks are invalid afterwards.
 *
 * Return: 0 on success, or the first error of vfio_dma_free() (the pool
 * is freed anyway).
 */
int vfio_dma_pool_destroy(struct vfio_dma_pool *pool);

/**
 * vfio_dma_pool_alloc() - Take a zeroed block from a pool.
 * @pool: the pool
 * @vaddr: where the block's process address is stored
 * @addr: where its device address (IOVA, or bus address without an
 *        IOMMU) is stored
 *
 * Maps a new chunk when every block is in use.
 *
 * Return: 0 on success, or an error of vfio_dma_alloc() (-ENOMEM,
 * -ENOSPC...) when a new chunk could not be mapped.
 */
int vfio_dma_pool_alloc(struct vfio_dma_pool *pool, void **vaddr, uint64_t *addr);

/**
 * vfio_dma_pool_free() - Give a block back to its pool.
 * @pool: the pool
 * @vaddr: the block's process address, as vfio_dma_pool_alloc() gave it
 *
 * The chunk stays mapped for later allocations.
 *
 * Return: 0 on success; -EINVAL when @vaddr is not a block of @pool that
 * is in use (a double free, or a pointer into the middle of a block).
 */
int vfio_dma_pool_free(struct vfio_dma_pool *pool, void *vaddr);

/**
 * vfio_dma_pool_block_size() - Size of a pool's blocks.
 * @pool: the pool
 *
 * Return: the @block_size given to vfio_dma_pool_new().
 */
size_t vfio_dma_pool_block_size(const struct vfio_dma_pool *pool);

/**
 * vfio_dma_pool_in_use() - Number of blocks handed out and not freed.
 * @pool: the pool
 *
 * Return: the count.
 */
size_t vfio_dma_pool_in_use(struct vfio_dma_pool *pool);

/**
 * vfio_dma_pool_num_chunks() - Number of chunks a pool has mapped.
 * @pool: the pool
 *
 * Each chunk is one vfio_dma_alloc() mapping.
 *
 * Return: the count.
 */
unsigned int vfio_dma_pool_num_chunks(struct vfio_dma_pool *pool);

#ifdef __cplusplus
}
#endif

#endif /* VFIO_DMA_POOL_H */
