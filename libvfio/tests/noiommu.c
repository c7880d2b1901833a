// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libvfio in a vfio-dkms no-IOMMU context (run by tests/vm/suites/noiommu
 * with the edu bound to vfio-dkms-pci and enable_unsafe_noiommu_mode on).
 * Usage:
 *   noiommu EDU_ADDR DMA_MASK_BITS [REAL_GROUP_EDU_ADDR]
 * The edu's DMA address mask must be DMA_MASK_BITS wide (QEMU property).
 * With a third address (a device in a real IOMMU group, also bound to
 * vfio-dkms-pci), checks that one context does not take both kinds.
 * Bus addresses are checked against /proc/self/pagemap (we run as root).
 * TAP on stdout.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <vfio/vfio.h>
#include "tap.h"

#define PAGE 4096u
#define EDU_DMA_SRC 0x80
#define EDU_DMA_DST 0x88
#define EDU_DMA_CNT 0x90
#define EDU_DMA_CMD 0x98
#define EDU_BUF 0x40000
#define DMA_LEN 4095u /* QEMU 7.2's edu aborts on a full 4096-byte transfer */

static int edu_dma(struct vfio_region *bar, uint64_t src, uint64_t dst, uint32_t len, int to_ram)
{
	uint32_t cmd = 1 | (to_ram ? 2 : 0);

	if (vfio_region_write64(bar, EDU_DMA_SRC, src) || vfio_region_write64(bar, EDU_DMA_DST, dst) ||
	    vfio_region_write64(bar, EDU_DMA_CNT, len) || vfio_region_write32(bar, EDU_DMA_CMD, cmd))
		return -1;
	for (int i = 0; i < 1000; i++) {
		if (vfio_region_read32(bar, EDU_DMA_CMD, &cmd))
			return -1;
		if (!(cmd & 1))
			return 0;
		usleep(10000);
	}
	return -1;
}

/* Physical address of the page at @va, 0 when unknown. */
static uint64_t phys_of(const void *va)
{
	uint64_t e = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY);

	if (fd < 0)
		return 0;
	if (pread(fd, &e, sizeof(e), (off_t)((uintptr_t)va / PAGE * 8)) != sizeof(e))
		e = 0;
	close(fd);
	if (!(e & (UINT64_C(1) << 63)))
		return 0;
	return (e & ((UINT64_C(1) << 55) - 1)) * PAGE;
}

/* Do the segments of @d describe exactly the pagemap of its pages? */
static int segments_match_pagemap(struct vfio_dma *d)
{
	const char *base = vfio_dma_vaddr(d);
	size_t off = 0;

	for (unsigned int i = 0; i < vfio_dma_num_segments(d); i++) {
		uint64_t bus, len;

		if (vfio_dma_get_segment(d, i, &bus, &len) || !len || len % PAGE)
			return 0;
		for (uint64_t o = 0; o < len; o += PAGE)
			if (phys_of(base + off + o) != bus + o)
				return 0;
		/* Segments are maximal: the next one does not continue this one. */
		if (i + 1 < vfio_dma_num_segments(d)) {
			uint64_t nbus, nlen;

			if (vfio_dma_get_segment(d, i + 1, &nbus, &nlen) || nbus == bus + len)
				return 0;
		}
		off += len;
	}
	return off == vfio_dma_size(d);
}

int main(int argc, char **argv)
{
	struct vfio_context *ctx = NULL;
	struct vfio_device *edu = NULL, *other = NULL;
	struct vfio_region *bar = NULL;
	struct vfio_dma *src = NULL, *dst = NULL, *big = NULL, *tiny = NULL;
	unsigned int bits;
	uint64_t bus, len, iova, limit;
	int ret;

	if (argc < 3) {
		fprintf(stderr, "usage: %s EDU_ADDR DMA_MASK_BITS [REAL_GROUP_EDU_ADDR]\n", argv[0]);
		return 2;
	}
	bits = (unsigned int)atoi(argv[2]);
	limit = bits >= 64 ? UINT64_MAX : (UINT64_C(1) << bits) - 1;

	ret = vfio_context_new(&ctx);
	OK(ret == 0, "context");
	ret = vfio_device_open(ctx, argv[1], VFIO_BACKEND_AUTO, &edu);
	OK(ret == 0 && vfio_device_backend(edu) == VFIO_BACKEND_VFIO_DKMS,
	   "open %s (no-IOMMU group) with backend auto (%d)", argv[1], ret);
	if (ret)
		return DONE();
	{
		char node[64];

		snprintf(node, sizeof(node), "/dev/vfio-dkms/noiommu-%d",
			 vfio_device_iommu_group(edu));
		OK(vfio_device_iommu_group(edu) >= 0 && access(node, F_OK) == 0,
		   "iommu group %d, node %s", vfio_device_iommu_group(edu), node);
	}
	OK(vfio_device_set_dma_mask(edu, bits) == 0 && vfio_context_dma_limit(ctx) == limit,
	   "DMA mask %u bits", bits);
	ret = vfio_device_get_region(edu, 0, &bar);
	uint32_t id = 0;
	OK(ret == 0 && vfio_region_read32(bar, 0, &id) == 0 && id == 0x010000ed,
	   "edu BAR0 identity 0x%x", id);

	/* One page: one segment, its bus address is the IOVA. */
	ret = vfio_dma_alloc(ctx, PAGE, VFIO_DMA_TO_DEVICE, &src);
	OK(ret == 0 && vfio_dma_num_segments(src) == 1 &&
	   vfio_dma_get_segment(src, 0, &bus, &len) == 0 && len == PAGE &&
	   iova_of(src) == bus && bus == phys_of(vfio_dma_vaddr(src)) && bus + len - 1 <= limit,
	   "one-page buffer: one segment at bus 0x%llx = its physical address",
	   (unsigned long long)bus);
	ret = vfio_dma_alloc(ctx, PAGE, 0, &dst);
	OK(ret == 0 && vfio_dma_num_segments(dst) == 1 && iova_of(dst) != VFIO_IOVA_ANY &&
	   iova_of(dst) + PAGE - 1 <= limit, "second buffer at 0x%llx",
	   dst ? (unsigned long long)iova_of(dst) : 0ULL);
	OK(vfio_dma_get_segment(src, 1, &bus, &len) == -EINVAL, "segment index out of range: -EINVAL");

	/* edu DMA by bus address, both directions, content checked. */
	if (src && dst && bar) {
		uint8_t *s = vfio_dma_vaddr(src), *d = vfio_dma_vaddr(dst);

		for (unsigned int i = 0; i < DMA_LEN; i++)
			s[i] = (uint8_t)(i * 13 + 5);
		memset(d, 0, PAGE);
		ret = vfio_device_set_bus_master(edu, true);
		OK(ret == 0 && edu_dma(bar, iova_of(src), EDU_BUF, DMA_LEN, 0) == 0 &&
		   edu_dma(bar, EDU_BUF, iova_of(dst), DMA_LEN, 1) == 0 &&
		   !memcmp(s, d, DMA_LEN) && d[DMA_LEN] == 0,
		   "edu DMA round trip RAM -> device -> RAM by bus address");
		vfio_device_set_bus_master(edu, false);
	}

	/* 64 pages: segments are the pagemap's runs; iova only if one run. */
	ret = vfio_dma_alloc(ctx, 64 * PAGE, 0, &big);
	OK(ret == 0 && segments_match_pagemap(big), "64-page buffer: %u segments match pagemap",
	   big ? vfio_dma_num_segments(big) : 0);
	if (big && vfio_dma_num_segments(big) > 1) {
		vfio_clear_error();
		iova = 0x1234;
		OK(vfio_dma_iova(big, &iova) == -EINVAL && iova == 0x1234 &&
		   vfio_last_errno() == EINVAL &&
		   strstr(vfio_last_error(), "segments"),
		   "vfio_dma_iova() of a multi-segment buffer fails with EINVAL: %s",
		   vfio_last_error());
	} else if (big) {
		OK(vfio_dma_get_segment(big, 0, &bus, &len) == 0 && vfio_dma_iova(big, &iova) == 0 && iova == bus,
		   "vfio_dma_iova() of a one-segment 64-page buffer is its bus address");
	}
	if (big) {
		const char *p = (const char *)vfio_dma_vaddr(big) + 37 * PAGE + 123;
		void *back = NULL;

		OK(vfio_dma_vaddr_to_iova(ctx, p, &iova) == 0 && iova == phys_of(p) + 123 &&
		   vfio_dma_iova_to_vaddr(ctx, iova, &back) == 0 && back == p,
		   "address lookups per segment (0x%llx)", (unsigned long long)iova);
	}

	/* The device address of any byte: segment by segment. */
	if (big) {
		uint64_t off = 0, addr, contig;
		int bad = 0;

		for (unsigned int i = 0; i < vfio_dma_num_segments(big); i++) {
			vfio_dma_get_segment(big, i, &bus, &len);
			if (vfio_dma_device_addr(big, off, &addr, &contig) || addr != bus ||
			    contig != len ||
			    vfio_dma_device_addr(big, off + len - 1, &addr, &contig) ||
			    addr != bus + len - 1 || contig != 1)
				bad++;
			off += len;
		}
		OK(!bad && vfio_dma_device_addr(big, 37 * PAGE + 123, &addr, NULL) == 0 &&
		   addr == phys_of((char *)vfio_dma_vaddr(big) + 37 * PAGE) + 123 &&
		   vfio_dma_device_addr(big, 64 * PAGE, &addr, NULL) == -ERANGE,
		   "vfio_dma_device_addr() over %u segments: first and last byte of each, byte 37*4096+123",
		   vfio_dma_num_segments(big));
	}

	/* DMA pool blocks carry bus addresses and are contiguous for the device. */
	{
		struct vfio_dma_pool *pool = NULL, *bigpool = NULL;
		uint8_t *b[8];
		uint64_t a[8];
		int bad = 0;

		ret = vfio_dma_pool_new(ctx, 1024, 64, 0, &pool);
		for (int i = 0; !ret && i < 8; i++) {
			ret = vfio_dma_pool_alloc(pool, (void **)&b[i], &a[i]);
			if (!ret && (a[i] != phys_of(b[i]) + ((uintptr_t)b[i] & (PAGE - 1)) ||
				     (a[i] & 63) || a[i] + 1023 > limit))
				bad++;
		}
		OK(ret == 0 && !bad, "pool: 8 blocks of 1 KiB, bus address = physical address, 64-aligned");
		if (!ret && bar) {
			for (int i = 0; i < 1024; i++)
				b[0][i] = (uint8_t)(i * 7 + 3);
			vfio_dma_wmb();
			vfio_device_set_bus_master(edu, true);
			OK(edu_dma(bar, a[0], EDU_BUF, 1024, 0) == 0 &&
			   edu_dma(bar, EDU_BUF, a[7], 1024, 1) == 0 && !memcmp(b[0], b[7], 1024),
			   "pool: edu DMA block -> device -> block by bus address");
			vfio_device_set_bus_master(edu, false);
		}
		vfio_dma_pool_destroy(pool);

		ret = vfio_dma_pool_new(ctx, 3 * PAGE, PAGE, 0, &bigpool);
		if (!ret)
			ret = vfio_dma_pool_alloc(bigpool, (void **)&b[0], &a[0]);
		bad = 0;
		for (unsigned int i = 0; !ret && i < 3; i++)
			bad += phys_of(b[0] + i * PAGE) != a[0] + i * PAGE;
		OK(ret == 0 && !bad,
		   "pool: a 3-page block is physically contiguous (hugepage chunk; needs vm.nr_hugepages >= 1)");
		vfio_dma_pool_destroy(bigpool);
	}

	/* No caller-chosen IOVAs; DMA limit enforced. */
	{
		void *mem = vfio_dma_vaddr(big ? big : src);
		struct vfio_dma *x = NULL;

		ret = vfio_dma_map(ctx, mem, PAGE, 0x100000, 0, &x);
		OK(ret == -EINVAL && strstr(vfio_last_error(), "no-IOMMU"),
		   "vfio_dma_map at a fixed IOVA: -EINVAL (%s)", vfio_last_error());
	}
	OK(vfio_device_set_dma_mask(edu, 12) == 0, "DMA mask 12 bits");
	ret = vfio_dma_alloc(ctx, PAGE, 0, &tiny);
	OK(ret == -ERANGE && !tiny && strstr(vfio_last_error(), "DMA mask"),
	   "bus address beyond the DMA mask: -ERANGE (%s)", vfio_last_error());
	vfio_device_set_dma_mask(edu, bits);

	/* Hugepage: one 2 MiB segment. */
	ret = vfio_dma_alloc(ctx, 2u << 20, VFIO_DMA_HUGEPAGE_REQUIRED, &tiny);
	OK(ret == 0 && vfio_dma_num_segments(tiny) == 1 &&
	   vfio_dma_get_segment(tiny, 0, &bus, &len) == 0 && len == (2u << 20) &&
	   bus % (2u << 20) == 0 && iova_of(tiny) == bus,
	   "2 MiB hugepage buffer: one segment (needs vm.nr_hugepages >= 1)");
	vfio_dma_free(tiny);

	if (argc > 3) {
		ret = vfio_device_open(ctx, argv[3], VFIO_BACKEND_AUTO, &other);
		OK(ret == -EPERM && strstr(vfio_last_error(), "not both"),
		   "device of a real IOMMU group in the no-IOMMU context: -EPERM (%s)",
		   vfio_last_error());
		if (!ret)
			vfio_device_close(other);
		ret = vfio_device_open(NULL, argv[3], VFIO_BACKEND_AUTO, &other);
		OK(ret == 0, "the same device in a context of its own");
		if (!ret)
			vfio_device_close(other);
	}

	OK(vfio_dma_free(big) == 0 && vfio_dma_free(src) == 0 && vfio_dma_free(dst) == 0,
	   "free (unpin) the buffers");
	vfio_device_close(edu);
	vfio_context_free(ctx);
	return DONE();
}
