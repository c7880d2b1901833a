/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libvfio - error reporting.
 *
 * Every libvfio function that can fail returns 0 (or a documented
 * non-negative value) on success and a negative errno on failure.  On
 * failure it also records a message for the calling thread, with the
 * operation and the object it failed on, e.g.
 * "VFIO_GROUP_GET_STATUS on /dev/vfio/7: group not viable:
 * 0000:00:1f.2 is bound to ahci".  The library never prints anything
 * unless vfio_set_verbose() asked it to.
 */
#ifndef VFIO_ERROR_H
#define VFIO_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

/**
 * vfio_last_error() - Message of the last failure in this thread.
 *
 * The message is kept per thread; it stays valid until the next failing
 * libvfio call in the same thread or vfio_clear_error().
 *
 * Return: a NUL-terminated string, "" when nothing failed yet.  Never NULL.
 */
const char *vfio_last_error(void);

/**
 * vfio_last_errno() - errno of the last failure in this thread.
 *
 * Return: the positive errno value the last failing call returned
 * (negated), 0 when nothing failed yet.
 */
int vfio_last_errno(void);

/**
 * vfio_clear_error() - Forget the last failure of this thread.
 */
void vfio_clear_error(void);

/**
 * vfio_set_verbose() - Print every recorded failure to stderr.
 * @on: non-zero to print each failure message (prefixed "libvfio: ")
 *      to stderr as it is recorded, zero (the default) to stay silent.
 *
 * The setting is process-wide.
 */
void vfio_set_verbose(int on);

#ifdef __cplusplus
}
#endif

#endif /* VFIO_ERROR_H */
