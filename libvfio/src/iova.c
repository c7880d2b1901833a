// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * IOVA allocator: first fit over the usable ranges, keeping a sorted
 * array of used intervals.  Callers serialise (the context lock).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "private.h"

int vfio__iova_init(struct vfio__iova *a, const struct vfio__iova_range *ranges,
		    unsigned int nr, uint64_t min)
{
	static const struct vfio__iova_range all = { 0, UINT64_MAX };

	memset(a, 0, sizeof(*a));
	if (!ranges || !nr) {
		ranges = &all;
		nr = 1;
	}
	a->ranges = malloc(nr * sizeof(*ranges));
	if (!a->ranges)
		return vfio__err(ENOMEM, "out of memory");
	memcpy(a->ranges, ranges, nr * sizeof(*ranges));
	a->nr_ranges = nr;
	a->min = min;
	return 0;
}

void vfio__iova_fini(struct vfio__iova *a)
{
	free(a->ranges);
	free(a->used);
	memset(a, 0, sizeof(*a));
}

/* Index of the first used interval with start > iova. */
static size_t upper(const struct vfio__iova *a, uint64_t iova)
{
	size_t lo = 0, hi = a->nr_used;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (a->used[mid].start <= iova)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int insert(struct vfio__iova *a, size_t pos, uint64_t start, uint64_t last)
{
	if (a->nr_used == a->cap_used) {
		size_t ncap = a->cap_used ? a->cap_used * 2 : 16;
		void *n = realloc(a->used, ncap * sizeof(*a->used));

		if (!n)
			return vfio__err(ENOMEM, "out of memory");
		a->used = n;
		a->cap_used = ncap;
	}
	memmove(&a->used[pos + 1], &a->used[pos], (a->nr_used - pos) * sizeof(*a->used));
	a->used[pos].start = start;
	a->used[pos].last = last;
	a->nr_used++;
	return 0;
}

static bool range_ok(const struct vfio__iova *a, uint64_t start, uint64_t last)
{
	for (unsigned int i = 0; i < a->nr_ranges; i++)
		if (start >= a->ranges[i].start && last <= a->ranges[i].last)
			return true;
	return false;
}

int vfio__iova_reserve(struct vfio__iova *a, uint64_t iova, uint64_t size, uint64_t limit)
{
	uint64_t last;
	size_t pos;

	if (!size || iova + (size - 1) < iova)
		return vfio__err(EINVAL, "IOVA range 0x%llx+0x%llx is empty or wraps",
				 (unsigned long long)iova, (unsigned long long)size);
	last = iova + (size - 1);
	if (last > limit || !range_ok(a, iova, last))
		return vfio__err(ERANGE,
				 "IOVA range 0x%llx-0x%llx is outside the usable ranges or above the DMA limit 0x%llx",
				 (unsigned long long)iova, (unsigned long long)last,
				 (unsigned long long)limit);
	pos = upper(a, iova);
	if ((pos > 0 && a->used[pos - 1].last >= iova) ||
	    (pos < a->nr_used && a->used[pos].start <= last))
		return vfio__err(EEXIST, "IOVA range 0x%llx-0x%llx overlaps a mapping",
				 (unsigned long long)iova, (unsigned long long)last);
	return insert(a, pos, iova, last);
}

static uint64_t align_up(uint64_t v, uint64_t align, bool *ovf)
{
	uint64_t r = (v + align - 1) & ~(align - 1);

	if (r < v)
		*ovf = true;
	return r;
}

int vfio__iova_alloc(struct vfio__iova *a, uint64_t size, uint64_t align, uint64_t limit,
		     uint64_t *iova)
{
	size_t u = 0;

	if (!size || !align || (align & (align - 1)))
		return vfio__err(EINVAL, "IOVA allocation: bad size 0x%llx or alignment 0x%llx",
				 (unsigned long long)size, (unsigned long long)align);
	for (unsigned int r = 0; r < a->nr_ranges; r++) {
		uint64_t rstart = a->ranges[r].start, rlast = a->ranges[r].last;
		uint64_t cand;
		bool ovf = false;

		if (rstart < a->min)
			rstart = a->min;
		if (rlast > limit)
			rlast = limit;
		if (rstart > rlast)
			continue;
		cand = align_up(rstart, align, &ovf);
		while (!ovf && cand <= rlast) {
			uint64_t last = cand + (size - 1);

			/* skip used intervals entirely below the candidate */
			while (u < a->nr_used && a->used[u].last < cand)
				u++;

			if (last < cand || last > rlast)
				break;
			if (u < a->nr_used && a->used[u].start <= last) {
				cand = align_up(a->used[u].last + 1, align, &ovf);
				if (a->used[u].last == UINT64_MAX)
					ovf = true;
				u++;
				continue;
			}
			*iova = cand;
			return insert(a, u, cand, last);
		}
		/* rewind: the next range may start below intervals we skipped */
		u = 0;
	}
	return vfio__err(ENOSPC,
			 "no free IOVA range of 0x%llx bytes below the DMA limit 0x%llx",
			 (unsigned long long)size, (unsigned long long)limit);
}

int vfio__iova_release(struct vfio__iova *a, uint64_t iova)
{
	size_t pos = upper(a, iova);

	if (!pos || a->used[pos - 1].start != iova)
		return vfio__err(ENOENT, "IOVA 0x%llx is not allocated", (unsigned long long)iova);
	pos--;
	memmove(&a->used[pos], &a->used[pos + 1], (a->nr_used - pos - 1) * sizeof(*a->used));
	a->nr_used--;
	return 0;
}

int vfio__iova_assign(struct vfio__iova *a, uint64_t iova, uint64_t size, uint64_t align,
		      uint64_t limit, uint64_t *out)
{
	int ret;

	if (iova == VFIO_IOVA_ANY)
		return vfio__iova_alloc(a, size, align, limit, out);
	ret = vfio__iova_reserve(a, iova, size, limit);
	if (!ret)
		*out = iova;
	return ret;
}
