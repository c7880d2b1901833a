/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libvfio - umbrella header.  Include this one; the per-topic headers
 * are: vfio/error.h, vfio/pci.h, vfio/context.h, vfio/device.h,
 * vfio/region.h, vfio/dma.h, vfio/dma_pool.h, vfio/irq.h, vfio/poll.h and
 * vfio/barrier.h.
 *
 * Thread safety (details in docs/libvfio.md):
 *  - Error messages are per thread.
 *  - Region reads and writes (vfio_region_read*()/write*()), vfio_mmio_*()
 *    and vfio_irq_wait() may be called from any number of threads at once
 *    on the same device.
 *  - DMA calls (vfio_dma_*()) lock their context and may be called
 *    concurrently on the same context.
 *  - Everything else (open/close, region map/unmap, irq enable/disable,
 *    reset) must not run concurrently with any other call on the same
 *    device or context; different contexts are independent.
 *  - Handles must not be used after their owner is closed or freed.
 */
#ifndef VFIO_VFIO_H
#define VFIO_VFIO_H

#include <vfio/error.h>
#include <vfio/pci.h>
#include <vfio/context.h>
#include <vfio/device.h>
#include <vfio/region.h>
#include <vfio/dma.h>
#include <vfio/dma_pool.h>
#include <vfio/barrier.h>
#include <vfio/poll.h>
#include <vfio/irq.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * vfio_version() - Version of the loaded library.
 *
 * Return: the version string, e.g. "0.1.0".
 */
const char *vfio_version(void);

#ifdef __cplusplus
}
#endif

#endif /* VFIO_VFIO_H */
