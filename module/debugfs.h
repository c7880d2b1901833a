/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vfio-dkms introspection files (debugfs.c, docs/introspection.md), only
 * built with CONFIG_DEBUG_FS.
 */
#ifndef VFIO_DKMS_DEBUGFS_H
#define VFIO_DKMS_DEBUGFS_H

#ifdef CONFIG_DEBUG_FS
void vfio_dkms_debugfs_init(void);
void vfio_dkms_debugfs_exit(void);
#else
static inline void vfio_dkms_debugfs_init(void) { }
static inline void vfio_dkms_debugfs_exit(void) { }
#endif

#endif /* VFIO_DKMS_DEBUGFS_H */
