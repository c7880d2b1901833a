// SPDX-License-Identifier: LGPL-2.1-or-later
/* Waiting for (word & mask) == value in a register or in memory. */
#include <errno.h>
#include <time.h>

#include <vfio/barrier.h>

#include "private.h"

/* Sleeps grow from 1 us to this, so a ready bit is seen soon after it flips. */
#define MAX_SLEEP_NS 1000000L

struct poll_clock {
	struct timespec deadline;
	long sleep_ns;
	int timeout_ms;
	bool expired;
};

static void clock_start(struct poll_clock *c, int timeout_ms)
{
	c->timeout_ms = timeout_ms;
	c->sleep_ns = 0;
	c->expired = timeout_ms == 0;
	clock_gettime(CLOCK_MONOTONIC, &c->deadline);
	if (timeout_ms > 0) {
		c->deadline.tv_sec += timeout_ms / 1000;
		c->deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
		if (c->deadline.tv_nsec >= 1000000000L) {
			c->deadline.tv_sec++;
			c->deadline.tv_nsec -= 1000000000L;
		}
	}
}

/*
 * Called after a check that did not match.  Returns false when the wait is
 * over; the caller then checks one last time only if the previous check
 * happened before the deadline (expired is set from the time of that check).
 */
static bool clock_wait(struct poll_clock *c)
{
	struct timespec now, ts;

	if (c->expired)
		return false;
	if (c->timeout_ms > 0) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec > c->deadline.tv_sec ||
		    (now.tv_sec == c->deadline.tv_sec && now.tv_nsec >= c->deadline.tv_nsec))
			c->expired = true;
	}
	c->sleep_ns = c->sleep_ns ? c->sleep_ns * 2 : 1000;
	if (c->sleep_ns > MAX_SLEEP_NS)
		c->sleep_ns = MAX_SLEEP_NS;
	if (!c->expired) {
		ts.tv_sec = 0;
		ts.tv_nsec = c->sleep_ns;
		nanosleep(&ts, NULL);
	}
	/* One more check after the deadline passed: the caller loops once more. */
	return true;
}

#define VFIO_POLL_FUNCS(BITS)								\
int vfio_region_poll##BITS(struct vfio_region *r, uint64_t offset, uint##BITS##_t mask,	\
			   uint##BITS##_t value, int timeout_ms, uint##BITS##_t *last)	\
{											\
	struct poll_clock c;								\
	uint##BITS##_t v = 0;								\
	int ret;									\
											\
	if (value & ~mask)								\
		return vfio__err(EINVAL, "poll: value 0x%llx has bits outside mask 0x%llx", \
				 (unsigned long long)value, (unsigned long long)mask);	\
	clock_start(&c, timeout_ms);							\
	do {										\
		ret = vfio_region_read##BITS(r, offset, &v);				\
		if (ret)								\
			return ret;							\
		if (last)								\
			*last = v;							\
		if ((v & mask) == value)						\
			return 0;							\
	} while (clock_wait(&c));							\
	return vfio__err(ETIMEDOUT,							\
			 "%s region %u offset 0x%llx: (0x%llx & 0x%llx) != 0x%llx after %d ms", \
			 r->dev->address, r->index, (unsigned long long)offset,		\
			 (unsigned long long)v, (unsigned long long)mask,		\
			 (unsigned long long)value, timeout_ms);			\
}											\
											\
int vfio_mem_poll##BITS(const volatile void *addr, uint##BITS##_t mask,		\
			uint##BITS##_t value, int timeout_ms, uint##BITS##_t *last)	\
{											\
	const volatile uint##BITS##_t *p = addr;					\
	struct poll_clock c;								\
	uint##BITS##_t v = 0;								\
											\
	if (!addr || ((uintptr_t)addr & (BITS / 8 - 1)))				\
		return vfio__err(EINVAL, "poll: address %p is not %d-byte aligned",	\
				 (const void *)addr, BITS / 8);				\
	if (value & ~mask)								\
		return vfio__err(EINVAL, "poll: value 0x%llx has bits outside mask 0x%llx", \
				 (unsigned long long)value, (unsigned long long)mask);	\
	clock_start(&c, timeout_ms);							\
	do {										\
		v = *p;									\
		if (last)								\
			*last = v;							\
		if ((v & mask) == value) {						\
			vfio_dma_rmb();							\
			return 0;							\
		}									\
	} while (clock_wait(&c));							\
	return vfio__err(ETIMEDOUT, "memory %p: (0x%llx & 0x%llx) != 0x%llx after %d ms", \
			 (const void *)addr, (unsigned long long)v,			\
			 (unsigned long long)mask, (unsigned long long)value, timeout_ms); \
}

VFIO_POLL_FUNCS(32)
VFIO_POLL_FUNCS(64)
