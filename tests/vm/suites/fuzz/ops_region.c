// SPDX-License-Identifier: GPL-2.0
/*
 * Region access through the device fd: pread, pwrite and mmap at random
 * offsets of every region index (VFIO_PCI_INDEX << 40 + offset), mostly
 * inside edu's BAR0 and config space.
 *
 * Writes never reach edu's DMA registers (BAR0 0x80-0x9f): a DMA started
 * there with a random length makes QEMU 7.2 abort the VM, and in no-IOMMU
 * mode would write guest memory at random.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"
#include "linux/vfio_dkms.h"

#define SHIFT		40
#define BAR0		((uint64_t)VFIO_PCI_BAR0_REGION_INDEX)
#define DMA_REGS_START	0x80ULL
#define DMA_REGS_END	0xa0ULL

static bool hits_dma_regs(uint64_t off, uint64_t len)
{
	return (off >> SHIFT) == BAR0 && off < DMA_REGS_END && off + len > DMA_REGS_START;
}

static uint64_t pick_offset(struct rng *r)
{
	uint64_t idx;

	if (rng_chance(r, 1, 12))
		return rng_boundary64(r);
	switch (rng_below(r, 6)) {
	case 0: case 1: case 2:
		idx = BAR0;
		break;
	case 3: case 4:
		idx = VFIO_PCI_CONFIG_REGION_INDEX;
		break;
	default:
		idx = rng_below(r, VFIO_PCI_NUM_REGIONS + 2);
		break;
	}
	if (idx == VFIO_PCI_CONFIG_REGION_INDEX)
		return (idx << SHIFT) + rng_below(r, rng_chance(r, 4, 5) ? 0x100 : 0x1010);
	if (rng_chance(r, 3, 4))
		return (idx << SHIFT) + rng_below(r, 0x100);
	return (idx << SHIFT) + rng_below(r, (1 << 20) + 0x100);
}

static size_t pick_len(struct rng *r)
{
	static const size_t sizes[] = { 1, 2, 4, 4, 4, 8, 8 };

	if (rng_chance(r, 1, 8))
		return (size_t)rng_below(r, rng_chance(r, 1, 4) ? ARENA_SIZE : 4096) + 1;
	return sizes[rng_below(r, sizeof(sizes) / sizeof(sizes[0]))];
}

static void touch(struct worker *w, volatile uint8_t *p, size_t len, uint64_t off, bool wr)
{
	sigjmp_buf env;
	uint64_t at = rng_below(&w->rng, len) & ~3ULL;
	uint32_t val = (uint32_t)rng_next(&w->rng);
	volatile bool write = wr && !hits_dma_regs(off + at, 4);

	bus_guard = &env;
	if (!sigsetjmp(env, 1)) {
		if (write)
			*(volatile uint32_t *)(p + at) = val;
		else
			(void)*(volatile uint32_t *)(p + at);
	}
	bus_guard = NULL;
}

void drop_kept(struct worker *w)
{
	if (w->kept)
		munmap(w->kept, w->kept_len);
	w->kept = NULL;
}

static void do_mmap(struct worker *w, int fd)
{
	struct rng *r = &w->rng;
	uint64_t off = pick_offset(r) & ~0xfffULL;
	size_t len = (rng_below(r, 4) + 1) * 4096;
	int prot = rng_chance(r, 1, 8) ? PROT_READ : PROT_READ | PROT_WRITE;
	int flags = rng_chance(r, 1, 16) ? MAP_PRIVATE : MAP_SHARED;
	void *p;

	if (rng_chance(r, 1, 8))
		len = 1 << 20;
	if (w->kept) {
		ring_begin(w, "touch kept mapping off %#llx", (unsigned long long)w->kept_off);
		touch(w, w->kept, w->kept_len, w->kept_off, false);
		ring_end(w, 0);
	}
	ring_begin(w, "mmap(%d, off %#llx, len %#zx, prot %d, flags %d)", fd,
		   (unsigned long long)off, len, prot, flags);
	p = mmap(NULL, len, prot, flags, fd, (off_t)off);
	ring_end(w, p == MAP_FAILED ? -1 : 0);
	stat_count(OP_MMAP, p != MAP_FAILED);
	if (p == MAP_FAILED)
		return;
	ring_begin(w, "touch mapping");
	touch(w, p, len, off, (prot & PROT_WRITE) && rng_chance(r, 1, 3));
	ring_end(w, 0);
	if (rng_chance(r, 1, 8)) {
		drop_kept(w);
		w->kept = p;
		w->kept_until = w->done + 64;
		w->kept_len = len;
		w->kept_off = off;
	} else {
		munmap(p, len);
	}
}

void op_region(struct worker *w, enum op_id op)
{
	struct rng *r = &w->rng;
	int fd = pick_fd(r, SLOT_DEVICE);
	uint64_t off = pick_offset(r);
	size_t len = pick_len(r);
	void *buf = w->iobuf;
	ssize_t ret;

	/* Now and then a buffer the kernel cannot copy to or from. */
	if (rng_chance(r, 1, 40))
		buf = rng_chance(r, 1, 2) ? NULL : (void *)(dma_buf + DMA_BUF_SIZE - 2);

	switch (op) {
	case OP_PREAD:
		ring_begin(w, "pread(%d, len %#zx, off %#llx)", fd, len, (unsigned long long)off);
		ret = pread(fd, buf, len, (off_t)off);
		ring_end(w, ret);
		stat_count(op, ret >= 0);
		break;
	case OP_PWRITE:
		if (hits_dma_regs(off, len))
			off = (BAR0 << SHIFT) + DMA_REGS_END + rng_below(r, 0x40);
		if (buf == w->iobuf)
			for (size_t i = 0; i < 16; i++)
				w->iobuf[i] = (uint8_t)rng_next(r);
		ring_begin(w, "pwrite(%d, len %#zx, off %#llx)", fd, len, (unsigned long long)off);
		ret = pwrite(fd, buf, len, (off_t)off);
		ring_end(w, ret);
		stat_count(op, ret >= 0);
		break;
	case OP_MMAP:
		do_mmap(w, fd);
		break;
	default:
		break;
	}
}
