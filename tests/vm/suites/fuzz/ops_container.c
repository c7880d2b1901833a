// SPDX-License-Identifier: GPL-2.0
/*
 * Container operations: the container's own ioctls, type1's MAP/UNMAP and
 * the no-IOMMU bus-address extension.  Ranges come from a small lattice
 * (64 KiB steps in the DMA buffer and in IOVA space below 256 MiB) so maps
 * overlap and unmaps find them; boundary values (2^32, 2^64 - size, ~0)
 * are mixed in.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "fuzz.h"
#include "linux/vfio_dkms.h"

#define PAGE		4096UL
#define STEP		(64UL * 1024)

void recent_add(struct worker *w, uint64_t start, uint64_t size)
{
	w->recent[w->nrecent % 8][0] = start;
	w->recent[w->nrecent % 8][1] = size;
	w->nrecent++;
}

/* An exact unmap succeeded: stop offering that range (it is gone). */
void recent_forget(struct worker *w, uint64_t start, uint64_t size)
{
	for (unsigned int i = 0; i < 8 && i < w->nrecent; i++)
		if (w->recent[i][0] == start && w->recent[i][1] == size)
			w->recent[i][0] = w->recent[i][1] = 0;
}

bool recent_pick(struct worker *w, uint64_t *start, uint64_t *size)
{
	unsigned int i;

	if (!w->nrecent)
		return false;
	i = (unsigned int)rng_below(&w->rng, w->nrecent < 8 ? w->nrecent : 8);
	*start = w->recent[i][0];
	*size = w->recent[i][1];
	return true;
}

static uint64_t pick_size(struct rng *r)
{
	if (rng_chance(r, 1, 10)) {
		switch (rng_below(r, 4)) {
		case 0:
			return 0;
		case 1:
			return rng_below(r, PAGE) + 1;	/* unaligned */
		case 2:
			return DMA_BUF_SIZE + PAGE;	/* past the buffer */
		default:
			return rng_boundary64(r);
		}
	}
	return (rng_below(r, 16) + 1) * PAGE;
}

static uint64_t pick_vaddr(struct rng *r)
{
	if (rng_chance(r, 1, 12)) {
		switch (rng_below(r, 4)) {
		case 0:
			return 0;
		case 1:
			return (uint64_t)(uintptr_t)dma_buf + 1;	/* unaligned */
		case 2:
			return (uint64_t)(uintptr_t)dma_buf + DMA_BUF_SIZE;	/* unmapped */
		default:
			return rng_boundary64(r) & ~(PAGE - 1);
		}
	}
	return (uint64_t)(uintptr_t)dma_buf + rng_below(r, DMA_BUF_SIZE / STEP - 1) * STEP;
}

static uint64_t pick_iova(struct rng *r)
{
	switch (rng_below(r, 20)) {
	case 0:
		return rng_boundary64(r) & ~(PAGE - 1);
	case 1:
		return rng_next(r) & ~(PAGE - 1) & ((1ULL << 48) - 1);
	default:
		return 0x100000 + rng_below(r, 64) * STEP + rng_below(r, 4) * PAGE;
	}
}

static void map_dma(struct worker *w, int fd)
{
	struct vfio_iommu_type1_dma_map *m = (void *)w->arena;
	struct rng *r = &w->rng;
	uint32_t rw = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
	char what[96];

	memset(m, 0, sizeof(*m));
	m->argsz = pick_argsz(r, offsetofend(struct vfio_iommu_type1_dma_map, size),
			      sizeof(*m));
	m->flags = pick_flags(r, rng_chance(r, 1, 8) ? VFIO_DMA_MAP_FLAG_READ : rw);
	m->vaddr = pick_vaddr(r);
	m->size = pick_size(r);
	m->iova = pick_iova(r);
	/* A range ending exactly at 2^64, the edge type1 must get right. */
	if (rng_chance(r, 1, 40))
		m->iova = -m->size;
	snprintf(what, sizeof(what), "argsz %u flags %#x iova %#llx size %#llx", m->argsz,
		 m->flags, (unsigned long long)m->iova, (unsigned long long)m->size);
	if (fz_ioctl(w, OP_MAP_DMA, fd, VFIO_IOMMU_MAP_DMA, m, what) == 0)
		recent_add(w, m->iova, m->size);
}

static void unmap_dma(struct worker *w, int fd)
{
	struct vfio_iommu_type1_dma_unmap *u = (void *)w->arena;
	struct rng *r = &w->rng;
	uint64_t iova, size;
	char what[96];

	memset(w->arena, 0, 256);
	u->argsz = pick_argsz(r, offsetofend(struct vfio_iommu_type1_dma_unmap, size),
			      sizeof(*u));
	u->flags = pick_flags(r, 0);
	if (rng_chance(r, 3, 4) && recent_pick(w, &iova, &size)) {
		u->iova = iova;
		u->size = size;
	} else {
		u->iova = pick_iova(r);
		u->size = pick_size(r);
	}
	if (rng_chance(r, 1, 20)) {
		u->flags = VFIO_DMA_UNMAP_FLAG_ALL;
		u->iova = 0;
		u->size = 0;
	}
	snprintf(what, sizeof(what), "argsz %u flags %#x iova %#llx size %#llx", u->argsz,
		 u->flags, (unsigned long long)u->iova, (unsigned long long)u->size);
	fz_ioctl(w, OP_UNMAP_DMA, fd, VFIO_IOMMU_UNMAP_DMA, u, what);
}

static void get_info(struct worker *w, int fd)
{
	struct vfio_iommu_type1_info *i = (void *)w->arena;
	char what[48];

	memset(w->arena, 0, 4096);
	i->argsz = pick_argsz(&w->rng, offsetofend(struct vfio_iommu_type1_info, iova_pgsizes),
			      rng_chance(&w->rng, 1, 2) ? sizeof(*i) : 4096);
	if (i->argsz > ARENA_SIZE)
		i->argsz = ARENA_SIZE;
	i->flags = (uint32_t)rng_next(&w->rng);
	snprintf(what, sizeof(what), "argsz %u", i->argsz);
	fz_ioctl(w, OP_IOMMU_GET_INFO, fd, VFIO_IOMMU_GET_INFO, i, what);
}

static unsigned long pick_extension(struct rng *r)
{
	static const unsigned long ext[] = {
		VFIO_TYPE1_IOMMU, VFIO_TYPE1v2_IOMMU, VFIO_DMA_CC_IOMMU, VFIO_UNMAP_ALL,
		VFIO_NOIOMMU_IOMMU, VFIO_DKMS_NOIOMMU_DMA, VFIO_SPAPR_TCE_IOMMU, 0,
	};

	if (rng_chance(r, 1, 6))
		return (unsigned long)rng_boundary64(r);
	return ext[rng_below(r, sizeof(ext) / sizeof(ext[0]))];
}

static void noiommu_map(struct worker *w, int fd)
{
	struct vfio_dkms_noiommu_dma_map *m = (void *)w->arena;
	struct rng *r = &w->rng;
	uint32_t room = 1 + (uint32_t)rng_below(r, 32);
	uint32_t full = sizeof(*m) + room * sizeof(m->segments[0]);
	char what[112];

	memset(m, 0, full);
	m->argsz = pick_argsz(r, sizeof(*m), full);
	if (m->argsz > ARENA_SIZE && rng_chance(r, 1, 2))
		room = (ARENA_SIZE - sizeof(*m)) / sizeof(m->segments[0]);
	m->flags = pick_flags(r, VFIO_DKMS_NOIOMMU_DMA_MAP_FLAG_READ |
				 (rng_chance(r, 7, 8) ? VFIO_DKMS_NOIOMMU_DMA_MAP_FLAG_WRITE : 0));
	m->vaddr = pick_vaddr(r);
	m->size = pick_size(r);
	/* room stays within the arena whatever argsz claims */
	m->nr_segments = rng_chance(r, 1, 16) ? (uint32_t)rng_below(r, 2) : room;
	m->pad = rng_chance(r, 1, 30) ? 1 : 0;
	snprintf(what, sizeof(what), "argsz %u flags %#x vaddr %#llx size %#llx room %u",
		 m->argsz, m->flags, (unsigned long long)m->vaddr, (unsigned long long)m->size,
		 m->nr_segments);
	if (fz_ioctl(w, OP_NOIOMMU_MAP, fd, VFIO_DKMS_NOIOMMU_MAP_DMA, m, what) == 0)
		recent_add(w, m->vaddr, m->size);
}

static void noiommu_unmap(struct worker *w, int fd)
{
	struct vfio_dkms_noiommu_dma_unmap *u = (void *)w->arena;
	struct rng *r = &w->rng;
	uint64_t vaddr, size;
	char what[96];

	memset(w->arena, 0, 256);
	u->argsz = pick_argsz(r, sizeof(*u), sizeof(*u));
	u->flags = pick_flags(r, 0);
	if (rng_chance(r, 3, 4) && recent_pick(w, &vaddr, &size)) {
		u->vaddr = vaddr;
		u->size = size;
	} else {
		u->vaddr = pick_vaddr(r);
		u->size = pick_size(r);
	}
	if (rng_chance(r, 1, 20)) {
		u->flags = VFIO_DKMS_NOIOMMU_DMA_UNMAP_FLAG_ALL;
		u->vaddr = 0;
		u->size = 0;
	}
	snprintf(what, sizeof(what), "argsz %u flags %#x vaddr %#llx size %#llx", u->argsz,
		 u->flags, (unsigned long long)u->vaddr, (unsigned long long)u->size);
	if (fz_ioctl(w, OP_NOIOMMU_UNMAP, fd, VFIO_DKMS_NOIOMMU_UNMAP_DMA, u, what) == 0)
		recent_forget(w, u->vaddr, u->size);
}

void op_container(struct worker *w, enum op_id op)
{
	struct rng *r = &w->rng;
	int fd = pick_fd(r, SLOT_CONTAINER);
	char what[48];
	unsigned long arg;

	switch (op) {
	case OP_GET_API_VERSION:
		fz_ioctl(w, op, fd, VFIO_GET_API_VERSION, NULL, NULL);
		break;
	case OP_CHECK_EXTENSION:
		arg = pick_extension(r);
		snprintf(what, sizeof(what), "%#lx", arg);
		fz_ioctl(w, op, fd, VFIO_CHECK_EXTENSION, (void *)arg, what);
		break;
	case OP_SET_IOMMU:
		if (rng_chance(r, 1, 8))
			arg = pick_extension(r);
		else
			arg = cfg.noiommu ? VFIO_NOIOMMU_IOMMU :
			      rng_chance(r, 1, 5) ? VFIO_TYPE1_IOMMU : VFIO_TYPE1v2_IOMMU;
		snprintf(what, sizeof(what), "%#lx", arg);
		fz_ioctl(w, op, fd, VFIO_SET_IOMMU, (void *)arg, what);
		break;
	case OP_IOMMU_GET_INFO:
		get_info(w, fd);
		break;
	case OP_MAP_DMA:
		map_dma(w, fd);
		break;
	case OP_UNMAP_DMA:
		unmap_dma(w, fd);
		break;
	case OP_NOIOMMU_MAP:
		noiommu_map(w, fd);
		break;
	case OP_NOIOMMU_UNMAP:
		noiommu_unmap(w, fd);
		break;
	default:
		break;
	}
}
