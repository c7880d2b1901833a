// SPDX-License-Identifier: LGPL-2.1-or-later
/* Per-thread error messages. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "private.h"

static _Thread_local char err_msg[512];
static _Thread_local int err_num;
static int verbose;

static int record(int errnum, bool sys, const char *fmt, va_list ap)
{
	int n;

	if (errnum < 0)
		errnum = -errnum;
	n = vsnprintf(err_msg, sizeof(err_msg), fmt, ap);
	if (sys && n >= 0 && (size_t)n < sizeof(err_msg))
		snprintf(err_msg + n, sizeof(err_msg) - n, ": %s", strerror(errnum));
	err_num = errnum;
	if (__atomic_load_n(&verbose, __ATOMIC_RELAXED))
		fprintf(stderr, "libvfio: %s\n", err_msg);
	return -errnum;
}

/* Record "message" and return -errnum. */
int vfio__err(int errnum, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = record(errnum, false, fmt, ap);
	va_end(ap);
	return ret;
}

/* Record "message: strerror(errnum)" and return -errnum. */
int vfio__err_sys(int errnum, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = record(errnum, true, fmt, ap);
	va_end(ap);
	return ret;
}

const char *vfio_last_error(void)
{
	return err_msg;
}

int vfio_last_errno(void)
{
	return err_num;
}

void vfio_clear_error(void)
{
	err_msg[0] = '\0';
	err_num = 0;
}

void vfio_set_verbose(int on)
{
	__atomic_store_n(&verbose, on ? 1 : 0, __ATOMIC_RELAXED);
}

const char *vfio_version(void)
{
	return LIBVFIO_VERSION;
}
