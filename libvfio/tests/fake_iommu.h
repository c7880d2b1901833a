/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A stand-in IOMMU model for tests that run without a device (libvfio's unit
 * tests, the Python package's host tests): a mapping succeeds at an IOVA the
 * context's allocator hands out, as one segment, and is counted.  Include it
 * after private.h, in one file of the test program.
 */
#ifndef VFIO_TESTS_FAKE_IOMMU_H
#define VFIO_TESTS_FAKE_IOMMU_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

/* Mappings made through the fake model and not yet unmapped. */
static int fake_iommu_maps;

static int fake_iommu_map(struct vfio_context *ctx, struct vfio_dma *d, uint64_t iova,
			  uint64_t align, uint64_t limit, unsigned int flags)
{
	int ret;

	(void)flags;
	d->segs = calloc(1, sizeof(*d->segs));
	if (!d->segs)
		return -ENOMEM;
	ret = vfio__iova_assign(&ctx->iova, iova, d->size, align, limit, &d->segs[0].bus);
	if (ret) {
		free(d->segs);
		d->segs = NULL;
		return ret;
	}
	d->segs[0].len = d->size;
	d->nr_segs = 1;
	fake_iommu_maps++;
	return 0;
}

static int fake_iommu_unmap(struct vfio_context *ctx, struct vfio_dma *d)
{
	fake_iommu_maps--;
	return vfio__iova_release(&ctx->iova, d->segs[0].bus);
}

static const struct vfio__iommu_ops fake_iommu = {
	.name = "fake",
	.map = fake_iommu_map,
	.unmap = fake_iommu_unmap,
	.contiguous = true,
};

/* Give @ctx the fake model and an IOVA space of 2^39 bytes. */
static inline void fake_iommu_attach(struct vfio_context *ctx)
{
	const struct vfio__iova_range r = { 0, (UINT64_C(1) << 39) - 1 };

	ctx->iommu = &fake_iommu;
	vfio__iova_fini(&ctx->iova);
	vfio__iova_init(&ctx->iova, &r, 1, ctx->pgsize);
}

#endif /* VFIO_TESTS_FAKE_IOMMU_H */
