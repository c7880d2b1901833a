/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Minimal TAP output, and a helper or two, for the libvfio C tests. */
#ifndef LIBVFIO_TEST_TAP_H
#define LIBVFIO_TEST_TAP_H

#include <stdint.h>
#include <stdio.h>

static int tap_n, tap_failed, tap_last_ok;

#define OK(cond, ...)                                                         \
	do {                                                                  \
		int ok_ = !!(cond);                                           \
		tap_last_ok = ok_;                                            \
		printf("%sok %d - ", ok_ ? "" : "not ", ++tap_n);             \
		printf(__VA_ARGS__);                                          \
		printf("\n");                                                 \
		if (!ok_) {                                                   \
			tap_failed++;                                         \
			printf("#   %s:%d: %s\n", __FILE__, __LINE__, #cond); \
			printf("#   last error: %s\n", vfio_last_error());    \
		}                                                             \
		fflush(stdout);                                               \
	} while (0)

#define SKIP(...)                                                             \
	do {                                                                  \
		printf("ok %d - ", ++tap_n);                                  \
		printf(__VA_ARGS__);                                          \
		printf("\n");                                                 \
		fflush(stdout);                                               \
	} while (0)

/* The IOVA of @dma inside an expression; VFIO_IOVA_ANY when it has none. */
static inline uint64_t iova_of(const struct vfio_dma *dma)
{
	uint64_t iova;

	return vfio_dma_iova(dma, &iova) ? VFIO_IOVA_ANY : iova;
}

#define DONE() (printf("1..%d\n", tap_n), tap_failed ? 1 : 0)

#endif
