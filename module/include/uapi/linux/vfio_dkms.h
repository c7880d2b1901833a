/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * vfio-dkms extensions to the VFIO user API.
 *
 * The ioctl ABI of vfio-dkms is the kernel's own <linux/vfio.h>; a program
 * written for the in-tree framework works unchanged on the nodes below.
 * This header only names what is specific to vfio-dkms.
 */
#ifndef _UAPI_LINUX_VFIO_DKMS_H
#define _UAPI_LINUX_VFIO_DKMS_H

#include <linux/vfio.h>

/* Device nodes: the container and one node per IOMMU group. */
#define VFIO_DKMS_DEV_DIR		"/dev/vfio-dkms"
#define VFIO_DKMS_CONTAINER_PATH	VFIO_DKMS_DEV_DIR "/vfio"

/* Name of the PCI driver to write into a device's driver_override. */
#define VFIO_DKMS_PCI_DRIVER_NAME	"vfio-dkms-pci"

#endif /* _UAPI_LINUX_VFIO_DKMS_H */
