/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libvfio - waiting for a register or memory word to reach a value.
 *
 * Drivers wait for a bit to flip all the time: a controller's "ready" bit
 * after enabling it, a descriptor's "done" flag the device writes by DMA.
 * These helpers check (word & mask) == value until it holds or a timeout
 * passes, backing off from a busy check to sleeps of up to a millisecond
 * so a long wait does not burn a CPU.  Timeouts are in milliseconds: 0
 * checks once, -1 waits forever.
 */
#ifndef VFIO_POLL_H
#define VFIO_POLL_H

#include <stdint.h>

#include <vfio/region.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * vfio_region_poll32() - Wait until a 32-bit register matches.
 * @r: the region (a BAR, config space...)
 * @offset: byte offset of the register, 4-byte aligned
 * @mask: bits to compare
 * @value: what (register & @mask) must equal
 * @timeout_ms: milliseconds to wait; 0 checks once, -1 waits forever
 * @last: where the last value read is stored (may be NULL)
 *
 * Each check is one vfio_region_read32().  The register is read at least
 * once, and once more after the deadline, so a slow scheduler never turns a
 * match into a timeout.
 *
 * Return: 0 when the register matched; -ETIMEDOUT when it did not within
 * @timeout_ms (with the last value in the message and in @last); -EINVAL
 * for a @value with bits outside @mask; or the error of vfio_region_read32().
 */
int vfio_region_poll32(struct vfio_region *r, uint64_t offset, uint32_t mask, uint32_t value,
		       int timeout_ms, uint32_t *last);

/**
 * vfio_region_poll64() - Wait until a 64-bit register matches.
 * @r: the region
 * @offset: byte offset of the register, 8-byte aligned
 * @mask: bits to compare
 * @value: what (register & @mask) must equal
 * @timeout_ms: milliseconds to wait; 0 checks once, -1 waits forever
 * @last: where the last value read is stored (may be NULL)
 *
 * Return: as vfio_region_poll32().
 */
int vfio_region_poll64(struct vfio_region *r, uint64_t offset, uint64_t mask, uint64_t value,
		       int timeout_ms, uint64_t *last);

/**
 * vfio_mem_poll32() - Wait until a 32-bit word in memory matches.
 * @addr: the word, 4-byte aligned: in a DMA buffer the device writes, or
 *        in a BAR mapped with vfio_region_map()
 * @mask: bits to compare
 * @value: what (word & @mask) must equal
 * @timeout_ms: milliseconds to wait; 0 checks once, -1 waits forever
 * @last: where the last value read is stored (may be NULL)
 *
 * Each check is one volatile 32-bit load.  On success a read barrier
 * (vfio_dma_rmb()) follows the matching load, so the caller's later loads
 * of the rest of the entry see what the device wrote before the flag.
 *
 * Return: 0 when the word matched; -ETIMEDOUT when it did not within
 * @timeout_ms; -EINVAL for a NULL or misaligned @addr or a @value with bits
 * outside @mask.
 */
int vfio_mem_poll32(const volatile void *addr, uint32_t mask, uint32_t value, int timeout_ms,
		    uint32_t *last);

/**
 * vfio_mem_poll64() - Wait until a 64-bit word in memory matches.
 * @addr: the word, 8-byte aligned
 * @mask: bits to compare
 * @value: what (word & @mask) must equal
 * @timeout_ms: milliseconds to wait; 0 checks once, -1 waits forever
 * @last: where the last value read is stored (may be NULL)
 *
 * Return: as vfio_mem_poll32().
 */
int vfio_mem_poll64(const volatile void *addr, uint64_t mask, uint64_t value, int timeout_ms,
		    uint64_t *last);

#ifdef __cplusplus
}
#endif

#endif /* VFIO_POLL_H */
