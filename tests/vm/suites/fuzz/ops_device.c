// SPDX-License-Identifier: GPL-2.0
/*
 * Device ioctls: info queries with capability chains, SET_IRQS over every
 * index, action and data type (valid most of the time: one eventfd on
 * vector 0, or disabling), reset, hot reset, DEVICE_FEATURE and IOEVENTFD.
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "fuzz.h"
#include "linux/vfio_dkms.h"

/* Device fds, after a probe that guesses the right kind most of the time. */
static int device_fd(struct rng *r)
{
	return pick_fd(r, SLOT_DEVICE);
}

static uint32_t pick_index(struct rng *r, uint32_t n)
{
	if (rng_chance(r, 1, 10))
		return rng_chance(r, 1, 2) ? (uint32_t)rng_next(r) : n + (uint32_t)rng_below(r, 4);
	return (uint32_t)rng_below(r, n);
}

static void set_irqs(struct worker *w, int fd)
{
	struct vfio_irq_set *s = (void *)w->arena;
	struct rng *r = &w->rng;
	uint32_t index, action, type, size = 0;
	char what[96];

	memset(w->arena, 0, 512);
	index = rng_chance(r, 1, 2) ? VFIO_PCI_MSI_IRQ_INDEX : pick_index(r, VFIO_PCI_NUM_IRQS);
	action = VFIO_IRQ_SET_ACTION_TRIGGER;
	if (index == VFIO_PCI_INTX_IRQ_INDEX && rng_chance(r, 1, 2))
		action = rng_chance(r, 1, 2) ? VFIO_IRQ_SET_ACTION_MASK :
					       VFIO_IRQ_SET_ACTION_UNMASK;
	switch (rng_below(r, 8)) {
	case 0: case 1:
		type = VFIO_IRQ_SET_DATA_NONE;
		s->count = rng_chance(r, 1, 2) ? 0 : 1;
		break;
	case 2:
		type = VFIO_IRQ_SET_DATA_BOOL;
		s->count = 1;
		size = 1;
		w->arena[sizeof(*s)] = (uint8_t)rng_below(r, 2);
		break;
	default:
		type = VFIO_IRQ_SET_DATA_EVENTFD;
		s->count = 1;
		size = 4;
		*(int32_t *)(w->arena + sizeof(*s)) =
			rng_chance(r, 1, 5) ? -1 : pick_fd(r, SLOT_EVENTFD);
		break;
	}
	s->index = index;
	s->flags = pick_flags(r, type | action);
	if (rng_chance(r, 1, 12)) {
		s->start = rng_chance(r, 1, 2) ? (uint32_t)rng_boundary64(r) :
						 (uint32_t)rng_below(r, 40);
		s->count = rng_chance(r, 1, 2) ? (uint32_t)rng_boundary64(r) :
						 (uint32_t)rng_below(r, 40);
	}
	s->argsz = pick_argsz(r, offsetofend(struct vfio_irq_set, count),
			      sizeof(*s) + s->count * size);
	snprintf(what, sizeof(what), "argsz %u flags %#x index %u start %u count %u", s->argsz,
		 s->flags, s->index, s->start, s->count);
	fz_ioctl(w, OP_SET_IRQS, fd, VFIO_DEVICE_SET_IRQS, s, what);
}

static void hot_reset(struct worker *w, int fd)
{
	struct vfio_pci_hot_reset *h = (void *)w->arena;
	struct rng *r = &w->rng;
	uint32_t n = (uint32_t)rng_below(r, 3);

	memset(w->arena, 0, 256);
	for (uint32_t i = 0; i < n; i++)
		h->group_fds[i] = pick_fd(r, SLOT_GROUP);
	h->count = rng_chance(r, 1, 10) ? (uint32_t)rng_boundary64(r) : n;
	h->flags = pick_flags(r, 0);
	h->argsz = pick_argsz(r, sizeof(*h), sizeof(*h) + n * sizeof(int32_t));
	fz_ioctl(w, OP_HOT_RESET, fd, VFIO_DEVICE_PCI_HOT_RESET, h, NULL);
}

static void ioeventfd(struct worker *w, int fd)
{
	struct vfio_device_ioeventfd *e = (void *)w->arena;
	struct rng *r = &w->rng;
	char what[64];

	memset(e, 0, sizeof(*e));
	e->argsz = pick_argsz(r, sizeof(*e), sizeof(*e));
	e->flags = pick_flags(r, 1U << rng_below(r, 4));
	e->offset = rng_chance(r, 1, 2) ? rng_boundary64(r) :
		    ((uint64_t)rng_below(r, VFIO_PCI_NUM_REGIONS) << 40) + rng_below(r, 0x100);
	/*
	 * An armed write into edu's BAR0 goes to its liveness register only.
	 * Its DMA registers (0x80-0x9f) start a DMA that QEMU 7.2 aborts on;
	 * its interrupt registers (raise at 0x60, factorial with interrupt at
	 * 0x08/0x20) close a loop with an eventfd that is also an interrupt
	 * trigger: edu interrupts, the eventfd fires, the write raises the
	 * next interrupt.  That loop keeps QEMU busy in edu's MMIO, starving
	 * the other vCPU's timer (an RCU stall, seen on 6.12).
	 */
	if ((e->offset >> 40) == 0 && e->offset < 0x100)
		e->offset = 0x04;
	e->data = rng_next(r);
	e->fd = rng_chance(r, 1, 4) ? -1 : pick_fd(r, SLOT_EVENTFD);
	snprintf(what, sizeof(what), "offset %#llx flags %#x", (unsigned long long)e->offset,
		 e->flags);
	fz_ioctl(w, OP_IOEVENTFD, fd, VFIO_DEVICE_IOEVENTFD, e, what);
}

void op_device(struct worker *w, enum op_id op)
{
	struct rng *r = &w->rng;
	int fd = device_fd(r);
	char what[48];

	switch (op) {
	case OP_DEV_INFO: {
		struct vfio_device_info *i = (void *)w->arena;

		memset(w->arena, 0, 4096);
		i->argsz = pick_argsz(r, offsetofend(struct vfio_device_info, num_irqs),
				      rng_chance(r, 1, 2) ? sizeof(*i) : 4096);
		if (i->argsz > ARENA_SIZE)
			i->argsz = ARENA_SIZE;
		fz_ioctl(w, op, fd, VFIO_DEVICE_GET_INFO, i, NULL);
		break;
	}
	case OP_REGION_INFO: {
		struct vfio_region_info *i = (void *)w->arena;

		memset(w->arena, 0, 4096);
		i->argsz = pick_argsz(r, offsetofend(struct vfio_region_info, offset),
				      rng_chance(r, 1, 2) ? sizeof(*i) : 4096);
		if (i->argsz > ARENA_SIZE)
			i->argsz = ARENA_SIZE;
		i->index = pick_index(r, VFIO_PCI_NUM_REGIONS);
		snprintf(what, sizeof(what), "index %u argsz %u", i->index, i->argsz);
		fz_ioctl(w, op, fd, VFIO_DEVICE_GET_REGION_INFO, i, what);
		break;
	}
	case OP_IRQ_INFO: {
		struct vfio_irq_info *i = (void *)w->arena;

		memset(i, 0, sizeof(*i));
		i->argsz = pick_argsz(r, sizeof(*i), sizeof(*i));
		i->index = pick_index(r, VFIO_PCI_NUM_IRQS);
		snprintf(what, sizeof(what), "index %u argsz %u", i->index, i->argsz);
		fz_ioctl(w, op, fd, VFIO_DEVICE_GET_IRQ_INFO, i, what);
		break;
	}
	case OP_SET_IRQS:
		set_irqs(w, fd);
		break;
	case OP_RESET:
		fz_ioctl(w, op, fd, VFIO_DEVICE_RESET, NULL, NULL);
		break;
	case OP_HOT_RESET_INFO: {
		struct vfio_pci_hot_reset_info *h = (void *)w->arena;

		memset(w->arena, 0, 4096);
		h->argsz = pick_argsz(r, sizeof(*h), rng_chance(r, 1, 2) ? sizeof(*h) : 4096);
		if (h->argsz > ARENA_SIZE)
			h->argsz = ARENA_SIZE;
		fz_ioctl(w, op, fd, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, h, NULL);
		break;
	}
	case OP_HOT_RESET:
		hot_reset(w, fd);
		break;
	case OP_FEATURE: {
		struct vfio_device_feature *f = (void *)w->arena;

		memset(w->arena, 0, 256);
		f->argsz = pick_argsz(r, sizeof(*f), sizeof(*f) + 64);
		f->flags = (uint32_t)rng_below(r, 16) |
			   (uint32_t)(rng_below(r, 8) << 16) /* GET, SET, PROBE bits */;
		if (rng_chance(r, 1, 10))
			f->flags = (uint32_t)rng_next(r);
		snprintf(what, sizeof(what), "flags %#x", f->flags);
		fz_ioctl(w, op, fd, VFIO_DEVICE_FEATURE, f, what);
		break;
	}
	case OP_IOEVENTFD:
		ioeventfd(w, fd);
		break;
	default:
		break;
	}
}
