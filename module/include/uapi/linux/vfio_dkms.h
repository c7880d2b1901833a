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

/*
 * --- The no-IOMMU bus-address extension (beyond upstream) ---------------
 *
 * In no-IOMMU mode (module parameter vfio_dkms.enable_unsafe_noiommu_mode,
 * container set to VFIO_NOIOMMU_IOMMU) a device sees bus addresses, not
 * IOVAs, and VFIO_IOMMU_MAP_DMA fails with ENOTTY as upstream.  These two
 * container ioctls let a program pin its own memory and learn the bus
 * addresses of it, without reading /proc/self/pagemap.
 *
 * Numbering: vfio-dkms's own VFIO_CHECK_EXTENSION ids are
 * VFIO_DKMS_EXTENSION_BASE | n (n < 0x10000), far above upstream's small
 * integers.  vfio-dkms's own ioctls use the type VFIO_DKMS_TYPE (0xD6,
 * free in Documentation/userspace-api/ioctl/ioctl-number.rst as of 6.12),
 * never VFIO_TYPE (';'), so they cannot collide with an upstream VFIO ioctl
 * on the same fd.  Like VFIO's, they are _IO() numbers carrying argsz
 * inside the structure, so the structures can grow.
 */
#define VFIO_DKMS_EXTENSION_BASE	0x76640000	/* "vd" << 16 */
#define VFIO_DKMS_TYPE			0xD6
#define VFIO_DKMS_BASE			0

/*
 * VFIO_CHECK_EXTENSION(VFIO_DKMS_NOIOMMU_DMA) is 1 wherever
 * VFIO_CHECK_EXTENSION(VFIO_NOIOMMU_IOMMU) is (the no-IOMMU backend answers
 * both): on a container without groups or with no-IOMMU groups, before
 * VFIO_SET_IOMMU, while the mode is enabled; and on a container set to
 * VFIO_NOIOMMU_IOMMU, where the two ioctls below work.  0 everywhere else
 * (type1 containers, containers of real groups, mode off).
 */
#define VFIO_DKMS_NOIOMMU_DMA		(VFIO_DKMS_EXTENSION_BASE | 1)

/* One physically contiguous run of a pinned range, in address order. */
struct vfio_dkms_dma_segment {
	__u64	bus_addr;	/* address the device uses */
	__u64	size;		/* bytes, a multiple of the page size */
};

/**
 * VFIO_DKMS_NOIOMMU_MAP_DMA - _IO(VFIO_DKMS_TYPE, VFIO_DKMS_BASE + 0),
 *				struct vfio_dkms_noiommu_dma_map
 *
 * Pin [vaddr, vaddr + size) of the caller's memory long-term (page aligned,
 * size > 0; WRITE: the device may write it, READ: it may read it, at least
 * one of them), charge it to RLIMIT_MEMLOCK unless the caller has
 * CAP_IPC_LOCK, and return its bus addresses: physically contiguous pages
 * merged into segments, in vaddr order.
 *
 * nr_segments is in/out: on input the room in segments[] (argsz must cover
 * it), on output the number of segments used.  If the range needs more
 * segments than there is room for, nothing stays pinned, nr_segments is
 * set to the number needed and the ioctl fails with ENOSPC.  ENOSPC with
 * nr_segments 0: the container already holds VFIO_DKMS_NOIOMMU_MAX_PINS
 * ranges.
 *
 * Errors: EINVAL (argsz, flags, pad, alignment, size 0, wrap-around, or the
 * container is not VFIO_NOIOMMU_IOMMU), EEXIST (overlaps a range this
 * container has pinned), ENOMEM (RLIMIT_MEMLOCK), EFAULT (not mapped
 * memory, or the copy-out failed: then nothing stays pinned), ENOSPC.
 */
struct vfio_dkms_noiommu_dma_map {
	__u32	argsz;
	__u32	flags;
#define VFIO_DKMS_NOIOMMU_DMA_MAP_FLAG_READ	(1 << 0)
#define VFIO_DKMS_NOIOMMU_DMA_MAP_FLAG_WRITE	(1 << 1)
	__u64	vaddr;
	__u64	size;
	__u32	nr_segments;
	__u32	pad;		/* must be 0 */
	struct vfio_dkms_dma_segment segments[];
};

#define VFIO_DKMS_NOIOMMU_MAP_DMA	_IO(VFIO_DKMS_TYPE, VFIO_DKMS_BASE + 0)
#define VFIO_DKMS_NOIOMMU_MAX_PINS	65535

/**
 * VFIO_DKMS_NOIOMMU_UNMAP_DMA - _IO(VFIO_DKMS_TYPE, VFIO_DKMS_BASE + 1),
 *				  struct vfio_dkms_noiommu_dma_unmap
 *
 * Unpin the range pinned with exactly this vaddr and size (EINVAL if there
 * is none), or with FLAG_ALL (vaddr and size 0) every range of the
 * container.  On return size holds the bytes unpinned.  Closing the
 * container (the last group leaving it) unpins everything as well.
 */
struct vfio_dkms_noiommu_dma_unmap {
	__u32	argsz;
	__u32	flags;
#define VFIO_DKMS_NOIOMMU_DMA_UNMAP_FLAG_ALL	(1 << 1)
	__u64	vaddr;
	__u64	size;
};

#define VFIO_DKMS_NOIOMMU_UNMAP_DMA	_IO(VFIO_DKMS_TYPE, VFIO_DKMS_BASE + 1)

/* Node of a no-IOMMU group: VFIO_DKMS_DEV_DIR "/noiommu-<iommu group>". */
#define VFIO_DKMS_NOIOMMU_PREFIX	"noiommu-"

#endif /* _UAPI_LINUX_VFIO_DKMS_H */
