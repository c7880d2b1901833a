// SPDX-License-Identifier: LGPL-2.1-or-later
/* IOMMU contexts (containers). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "private.h"

int vfio_context_new(struct vfio_context **out)
{
	struct vfio_context *ctx;
	int ret;

	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return vfio__err(ENOMEM, "out of memory");
	ctx->container_fd = -1;
	ctx->pgsize = 4096;
	ret = vfio__iova_init(&ctx->iova, NULL, 0, ctx->pgsize);
	if (ret) {
		free(ctx);
		return ret;
	}
	pthread_mutex_init(&ctx->lock, NULL);
	*out = ctx;
	return 0;
}

/*
 * The last group left the container: the kernel dropped the IOMMU and
 * every mapping with it.  Keep the handles (buffers stay allocated) but
 * mark them unmapped.
 */
void vfio__context_dma_lost(struct vfio_context *ctx)
{
	pthread_mutex_lock(&ctx->lock);
	for (struct vfio_dma *d = ctx->dmas; d; d = d->next)
		d->mapped = false;
	vfio__iova_fini(&ctx->iova);
	vfio__iova_init(&ctx->iova, NULL, 0, ctx->pgsize);
	ctx->iommu_set = false;
	ctx->noiommu = false;
	ctx->bus_ext = false;
	pthread_mutex_unlock(&ctx->lock);
}

void vfio_context_free(struct vfio_context *ctx)
{
	if (!ctx)
		return;
	/* Pools first: their chunks are mappings in ctx->dmas. */
	while (ctx->pools)
		vfio_dma_pool_destroy(ctx->pools);
	while (ctx->dmas)
		vfio_dma_free(ctx->dmas);
	while (ctx->devices) {
		struct vfio_device *dev = ctx->devices;

		dev->own_ctx = false; /* we are freeing the context already */
		vfio_device_close(dev);
	}
	if (ctx->ops)
		ctx->ops->ctx_close(ctx);
	vfio__iova_fini(&ctx->iova);
	pthread_mutex_destroy(&ctx->lock);
	free(ctx);
}

enum vfio_backend vfio_context_backend(const struct vfio_context *ctx)
{
	return ctx->ops ? ctx->ops->id : VFIO_BACKEND_AUTO;
}

unsigned int vfio_context_num_devices(const struct vfio_context *ctx)
{
	unsigned int n = 0;

	for (const struct vfio_device *d = ctx->devices; d; d = d->next)
		n++;
	return n;
}

unsigned int vfio_context_num_iova_ranges(const struct vfio_context *ctx)
{
	return ctx->iova.nr_ranges;
}

int vfio_context_get_iova_range(const struct vfio_context *ctx, unsigned int i,
				uint64_t *start, uint64_t *last)
{
	if (i >= ctx->iova.nr_ranges)
		return vfio__err(EINVAL, "IOVA range %u does not exist (%u ranges)", i,
				 ctx->iova.nr_ranges);
	*start = ctx->iova.ranges[i].start;
	*last = ctx->iova.ranges[i].last;
	return 0;
}

uint64_t vfio_context_dma_limit(const struct vfio_context *ctx)
{
	uint64_t limit = UINT64_MAX;

	for (const struct vfio_device *d = ctx->devices; d; d = d->next) {
		uint64_t l = d->dma_bits >= 64 ? UINT64_MAX : (UINT64_C(1) << d->dma_bits) - 1;

		if (l < limit)
			limit = l;
	}
	return limit;
}
