/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libvfio - memory-ordering barriers for drivers sharing memory with a device.
 *
 * A driver that writes a command into a DMA buffer and then rings a
 * doorbell register, or that reads a completion's phase bit and then the
 * rest of the entry, depends on the order in which the CPU makes those
 * accesses visible.  x86-64 keeps that order for ordinary (write-back)
 * memory and uncached BAR mappings by itself, so there the first two
 * barriers only stop the compiler from reordering; arm64 (and other weakly
 * ordered CPUs) reorders them in hardware, and the barriers below emit the
 * instructions the Linux kernel uses for its dma_wmb(), dma_rmb() and mb().
 *
 * These are inline functions: they cost nothing to call and need no
 * library symbol.  Register accesses through vfio_region_read*() and
 * vfio_region_write*() are system calls and already act as full barriers;
 * the barriers matter for DMA memory and for BARs mapped with
 * vfio_region_map().
 */
#ifndef VFIO_BARRIER_H
#define VFIO_BARRIER_H

#ifdef __cplusplus
extern "C" {
#endif

/**
 * vfio_dma_wmb() - Order stores to DMA memory before later stores.
 *
 * Every store to memory shared with the device (a DMA buffer) issued before
 * the barrier becomes visible to the device before any store after it,
 * including a store to a device register through a mapped BAR.  Use it
 * between filling a submission entry and writing the doorbell, or between
 * writing an entry's payload and the flag that hands it to the device.
 *
 * x86-64: a compiler barrier (stores are not reordered with other stores).
 * arm64: ``dmb oshst``.
 */
static inline void
vfio_dma_wmb(void)
{
#if defined(__aarch64__)
	__asm__ __volatile__("dmb oshst" ::: "memory");
#elif defined(__x86_64__) || defined(__i386__)
	__asm__ __volatile__("" ::: "memory");
#else
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
#endif
}

/**
 * vfio_dma_rmb() - Order loads from DMA memory before later loads.
 *
 * Every load issued before the barrier is satisfied before any load after
 * it.  Use it after reading the word that says an entry is valid (an NVMe
 * completion's phase bit, a descriptor's "done" flag) and before reading
 * the rest of the entry, which the device may have written just before.
 *
 * x86-64: a compiler barrier (loads are not reordered with other loads).
 * arm64: ``dmb oshld``.
 */
static inline void
vfio_dma_rmb(void)
{
#if defined(__aarch64__)
	__asm__ __volatile__("dmb oshld" ::: "memory");
#elif defined(__x86_64__) || defined(__i386__)
	__asm__ __volatile__("" ::: "memory");
#else
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
#endif
}

/**
 * vfio_mb() - Full barrier: all earlier loads and stores before all later ones.
 *
 * Orders every kind of access against every other, including a store
 * followed by a load (which x86-64 may otherwise reorder) and accesses to
 * write-combining mappings.  Use it when a store must be visible before a
 * later load is made, e.g. updating a shared "interrupts enabled" word and
 * then re-reading the device's event queue.
 *
 * x86-64: ``mfence``.  arm64: ``dsb sy``.
 */
static inline void
vfio_mb(void)
{
#if defined(__aarch64__)
	__asm__ __volatile__("dsb sy" ::: "memory");
#elif defined(__x86_64__)
	__asm__ __volatile__("mfence" ::: "memory");
#else
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
#endif
}

#ifdef __cplusplus
}
#endif

#endif /* VFIO_BARRIER_H */
