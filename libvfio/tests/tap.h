/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Minimal TAP output for the libvfio C tests. */
#ifndef LIBVFIO_TEST_TAP_H
#define LIBVFIO_TEST_TAP_H

#include <stdio.h>

static int tap_n, tap_failed;

#define OK(cond, ...)                                                         \
	do {                                                                  \
		int ok_ = !!(cond);                                           \
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

#define DONE() (printf("1..%d\n", tap_n), tap_failed ? 1 : 0)

#endif
