// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * VFIO capability chains.  The kernel appends capabilities after an info
 * struct; each starts with struct vfio_info_cap_header whose @next is the
 * offset of the next one from the start of the info struct (0 ends the
 * chain).  Parsing is defensive: offsets must stay inside the buffer and
 * the chain may not loop.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/vfio.h>

#include "private.h"

#define MAX_CAPS 64

/* Calls @fn for each capability; returns 0 or a negative errno. */
static int walk(const void *info, size_t size, uint32_t off,
		int (*fn)(const uint8_t *cap, size_t room, uint16_t id, void *arg), void *arg)
{
	const uint8_t *base = info;
	unsigned int n = 0;

	while (off) {
		struct vfio_info_cap_header h;
		int ret;

		if (off < sizeof(uint32_t) || off > size || size - off < sizeof(h) || (off & 3))
			return vfio__err(EPROTO, "capability chain: offset %u outside the %zu-byte info",
					 off, size);
		if (++n > MAX_CAPS)
			return vfio__err(EPROTO, "capability chain: more than %d entries (loop?)",
					 MAX_CAPS);
		memcpy(&h, base + off, sizeof(h));
		ret = fn(base + off, size - off, h.id, arg);
		if (ret)
			return ret;
		if (h.next && h.next <= off)
			return vfio__err(EPROTO, "capability chain: entry at %u points back to %u",
					 off, h.next);
		off = h.next;
	}
	return 0;
}

static int region_cap(const uint8_t *cap, size_t room, uint16_t id, void *arg)
{
	struct vfio__region_caps *out = arg;

	if (id == VFIO_REGION_INFO_CAP_SPARSE_MMAP && !out->has_sparse) {
		struct vfio_region_info_cap_sparse_mmap s;
		size_t need;

		if (room < sizeof(s))
			return vfio__err(EPROTO, "sparse-mmap capability truncated");
		memcpy(&s, cap, sizeof(s));
		if (s.nr_areas > (room - sizeof(s)) / sizeof(struct vfio_region_sparse_mmap_area))
			return vfio__err(EPROTO, "sparse-mmap capability: %u areas do not fit",
					 s.nr_areas);
		need = s.nr_areas * sizeof(struct vfio__sparse_area);
		out->areas = need ? malloc(need) : NULL;
		if (need && !out->areas)
			return vfio__err(ENOMEM, "out of memory");
		for (uint32_t i = 0; i < s.nr_areas; i++) {
			struct vfio_region_sparse_mmap_area a;

			memcpy(&a, cap + sizeof(s) + i * sizeof(a), sizeof(a));
			out->areas[i].offset = a.offset;
			out->areas[i].size = a.size;
		}
		out->nr_areas = s.nr_areas;
		out->has_sparse = true;
	} else if (id == VFIO_REGION_INFO_CAP_TYPE) {
		struct vfio_region_info_cap_type t;

		if (room < sizeof(t))
			return vfio__err(EPROTO, "type capability truncated");
		memcpy(&t, cap, sizeof(t));
		out->has_type = true;
		out->type = t.type;
		out->subtype = t.subtype;
	}
	return 0;
}

int vfio__parse_region_caps(const void *info, size_t size, uint32_t cap_offset,
			    struct vfio__region_caps *out)
{
	int ret;

	memset(out, 0, sizeof(*out));
	ret = walk(info, size, cap_offset, region_cap, out);
	if (ret) {
		free(out->areas);
		memset(out, 0, sizeof(*out));
	}
	return ret;
}

struct iova_arg {
	struct vfio__iova_range *ranges;
	unsigned int nr;
};

static int iova_cap(const uint8_t *cap, size_t room, uint16_t id, void *arg)
{
	struct vfio_iommu_type1_info_cap_iova_range r;
	struct iova_arg *out = arg;

	if (id != VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE || out->ranges)
		return 0;
	if (room < sizeof(r))
		return vfio__err(EPROTO, "IOVA-range capability truncated");
	memcpy(&r, cap, sizeof(r));
	if (!r.nr_iovas || r.nr_iovas > (room - sizeof(r)) / sizeof(struct vfio_iova_range))
		return vfio__err(EPROTO, "IOVA-range capability: %u ranges do not fit", r.nr_iovas);
	out->ranges = malloc(r.nr_iovas * sizeof(*out->ranges));
	if (!out->ranges)
		return vfio__err(ENOMEM, "out of memory");
	for (uint32_t i = 0; i < r.nr_iovas; i++) {
		struct vfio_iova_range v;

		memcpy(&v, cap + sizeof(r) + i * sizeof(v), sizeof(v));
		if (v.end < v.start || (i && v.start <= out->ranges[i - 1].last)) {
			free(out->ranges);
			out->ranges = NULL;
			return vfio__err(EPROTO, "IOVA-range capability: range %u unsorted or empty",
					 i);
		}
		out->ranges[i].start = v.start;
		out->ranges[i].last = v.end;
	}
	out->nr = r.nr_iovas;
	return 0;
}

/* *ranges = NULL, *nr = 0 when the chain has no IOVA-range capability. */
int vfio__parse_iova_ranges(const void *info, size_t size, uint32_t cap_offset,
			    struct vfio__iova_range **ranges, unsigned int *nr)
{
	struct iova_arg a = { 0 };
	int ret;

	ret = walk(info, size, cap_offset, iova_cap, &a);
	if (ret) {
		free(a.ranges);
		return ret;
	}
	*ranges = a.ranges;
	*nr = a.nr;
	return 0;
}
