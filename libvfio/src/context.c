// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * IOMMU contexts: what the devices of one container share.  The context
 * counts the devices open through each group, brings a group into the
 * container (setting the IOMMU model with the first), and when the last
 * group leaves, unmaps what is still mapped before the kernel drops the
 * IOMMU.  It calls down into dma.c and the IOMMU model, never up into
 * device.c: devices still open when the context is freed are released
 * through the hook device.c left (release_device).
 */
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
	ctx->dma_limit = UINT64_MAX;
	ret = vfio__iova_init(&ctx->iova, NULL, 0, ctx->pgsize);
	if (ret) {
		free(ctx);
		return ret;
	}
	pthread_mutex_init(&ctx->lock, NULL);
	*out = ctx;
	return 0;
}

/* A group of another model than the context's cannot share its container. */
static int check_model(struct vfio_context *ctx, struct vfio_group *grp)
{
	if (ctx->iommu && ctx->iommu != vfio__iommu_for_group(grp))
		return vfio__err(EPERM,
				 "%s: a context holds either no-IOMMU groups or IOMMU groups, not both (open the device in a context of its own)",
				 grp->path);
	return 0;
}

/* Bring the freshly opened group into the container; the first sets the model. */
static int join_container(struct vfio_context *ctx, struct vfio_group *grp)
{
	bool in_container;
	int ret;

	ret = vfio__group_check_viable(grp, &in_container);
	if (ret)
		return ret;
	if (!in_container) {
		ret = vfio__group_set_container(grp, ctx->container_fd);
		if (ret)
			return ret;
	}
	if (!ctx->iommu)
		return vfio__container_set_iommu(ctx, vfio__iommu_for_group(grp));
	return 0;
}

static int attach_group(struct vfio_context *ctx, struct vfio_group *grp)
{
	int ret;

	ret = vfio__group_open(grp, ctx->backend);
	if (ret)
		return ret;
	ret = check_model(ctx, grp);
	if (!ret)
		ret = join_container(ctx, grp);
	if (ret)
		vfio__group_close(grp);
	return ret;
}

int vfio__context_get_group(struct vfio_context *ctx, int number, struct vfio_group **out)
{
	struct vfio_group *g;
	int ret;

	for (g = ctx->groups; g; g = g->next)
		if (g->number == number) {
			g->users++;
			*out = g;
			return 0;
		}
	g = calloc(1, sizeof(*g));
	if (!g)
		return vfio__err(ENOMEM, "out of memory");
	g->number = number;
	g->fd = -1;
	ret = attach_group(ctx, g);
	if (ret) {
		free(g);
		return ret;
	}
	g->users = 1;
	g->next = ctx->groups;
	ctx->groups = g;
	*out = g;
	return 0;
}

/*
 * The last group is leaving: unmap explicitly while the IOMMU is still
 * there, then keep the handles (buffers stay allocated) but mark them
 * unmapped, and start the next device with an empty address space.
 */
static void unmap_all(struct vfio_context *ctx)
{
	pthread_mutex_lock(&ctx->lock);
	for (struct vfio_dma *d = ctx->dmas; d; d = d->next)
		if (d->mapped)
			ctx->iommu->unmap(ctx, d);
	pthread_mutex_unlock(&ctx->lock);
}

static void forget_iommu(struct vfio_context *ctx)
{
	pthread_mutex_lock(&ctx->lock);
	for (struct vfio_dma *d = ctx->dmas; d; d = d->next)
		d->mapped = false;
	vfio__iova_fini(&ctx->iova);
	vfio__iova_init(&ctx->iova, NULL, 0, ctx->pgsize);
	ctx->iommu = NULL;
	ctx->bus_ext = false;
	pthread_mutex_unlock(&ctx->lock);
}

void vfio__context_put_group(struct vfio_context *ctx, struct vfio_group *grp)
{
	struct vfio_group **pp;

	if (--grp->users)
		return;
	for (pp = &ctx->groups; *pp; pp = &(*pp)->next)
		if (*pp == grp) {
			*pp = grp->next;
			break;
		}
	if (!ctx->groups && ctx->dmas)
		unmap_all(ctx);
	vfio__group_close(grp);
	free(grp);
	if (!ctx->groups)
		forget_iommu(ctx);
}

void vfio__context_add_device(struct vfio_context *ctx, struct vfio_device *dev)
{
	dev->next = ctx->devices;
	ctx->devices = dev;
	vfio__context_update_dma_limit(ctx);
}

void vfio__context_remove_device(struct vfio_context *ctx, struct vfio_device *dev)
{
	for (struct vfio_device **pp = &ctx->devices; *pp; pp = &(*pp)->next)
		if (*pp == dev) {
			*pp = dev->next;
			break;
		}
	vfio__context_update_dma_limit(ctx);
}

void vfio__context_update_dma_limit(struct vfio_context *ctx)
{
	uint64_t limit = UINT64_MAX;

	for (const struct vfio_device *d = ctx->devices; d; d = d->next) {
		uint64_t l = d->dma_bits >= 64 ? UINT64_MAX : (UINT64_C(1) << d->dma_bits) - 1;

		if (l < limit)
			limit = l;
	}
	ctx->dma_limit = limit;
}

bool vfio__context_maps_contiguous(const struct vfio_context *ctx)
{
	return !ctx->iommu || ctx->iommu->contiguous;
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
		struct vfio_group *grp = dev->group;

		ctx->devices = dev->next;
		ctx->release_device(dev);
		vfio__context_put_group(ctx, grp);
	}
	vfio__container_close(ctx);
	vfio__iova_fini(&ctx->iova);
	pthread_mutex_destroy(&ctx->lock);
	free(ctx);
}

enum vfio_backend vfio_context_backend(const struct vfio_context *ctx)
{
	return ctx->backend ? ctx->backend->id : VFIO_BACKEND_AUTO;
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
	return ctx->dma_limit;
}
