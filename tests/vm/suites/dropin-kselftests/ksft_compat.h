/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Forced into every file of the kernel's VFIO selftests when their libvfio
 * calls calloc_assert() without defining it: Debian's linux-source-7.2
 * (7.2.13) carries a backported lib/vfio_pci_device.c that uses the helper,
 * without the assert.h change that adds it, and does not build as shipped.
 * Same contract as the other *_assert() helpers of that library: the
 * allocation or the test's end.
 */
#ifndef VFIO_DKMS_KSFT_COMPAT_H
#define VFIO_DKMS_KSFT_COMPAT_H

#include <stdio.h>
#include <stdlib.h>

static inline void *calloc_assert(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb, size);

	if (!p) {
		fprintf(stderr, "calloc(%zu, %zu) failed\n", nmemb, size);
		exit(1);	/* KSFT_FAIL */
	}
	return p;
}

#endif
