# SPDX-License-Identifier: GPL-2.0
"""vfio-dkms's own user API (module/include/uapi/linux/vfio_dkms.h) in
ctypes: the no-IOMMU bus-address extension.  Same conventions as
vfio_uapi.py (ioctl() raises OSError with the kernel's errno)."""

import ctypes

import vfio_uapi as V

VFIO_NOIOMMU_IOMMU = 8                  # <linux/vfio.h>

VFIO_DKMS_EXTENSION_BASE = 0x76640000
VFIO_DKMS_NOIOMMU_DMA = VFIO_DKMS_EXTENSION_BASE | 1
VFIO_DKMS_TYPE = 0xD6
VFIO_DKMS_BASE = 0

VFIO_DKMS_NOIOMMU_MAP_DMA = (VFIO_DKMS_TYPE << 8) | (VFIO_DKMS_BASE + 0)
VFIO_DKMS_NOIOMMU_UNMAP_DMA = (VFIO_DKMS_TYPE << 8) | (VFIO_DKMS_BASE + 1)
VFIO_DKMS_NOIOMMU_DMA_MAP_FLAG_READ = 1 << 0
VFIO_DKMS_NOIOMMU_DMA_MAP_FLAG_WRITE = 1 << 1
VFIO_DKMS_NOIOMMU_DMA_UNMAP_FLAG_ALL = 1 << 1
VFIO_DKMS_NOIOMMU_MAX_PINS = 65535
RW = VFIO_DKMS_NOIOMMU_DMA_MAP_FLAG_READ | VFIO_DKMS_NOIOMMU_DMA_MAP_FLAG_WRITE


class DmaSegment(ctypes.Structure):
    _fields_ = [("bus_addr", ctypes.c_uint64), ("size", ctypes.c_uint64)]


class NoiommuDmaMapHdr(ctypes.Structure):
    _fields_ = [("argsz", ctypes.c_uint32), ("flags", ctypes.c_uint32),
                ("vaddr", ctypes.c_uint64), ("size", ctypes.c_uint64),
                ("nr_segments", ctypes.c_uint32), ("pad", ctypes.c_uint32)]


class NoiommuDmaUnmap(ctypes.Structure):
    _fields_ = [("argsz", ctypes.c_uint32), ("flags", ctypes.c_uint32),
                ("vaddr", ctypes.c_uint64), ("size", ctypes.c_uint64)]


MAP_MINSZ = ctypes.sizeof(NoiommuDmaMapHdr)     # 32
UNMAP_MINSZ = ctypes.sizeof(NoiommuDmaUnmap)    # 24


def make_map(vaddr, size, room, flags=RW, argsz=None, nr_segments=None, pad=0):
    """A map argument with room for @room segments: (raw buffer, header view)."""
    total = MAP_MINSZ + room * ctypes.sizeof(DmaSegment)
    raw = (ctypes.c_char * max(total, MAP_MINSZ))()
    hdr = NoiommuDmaMapHdr.from_buffer(raw)
    hdr.argsz = total if argsz is None else argsz
    hdr.flags = flags
    hdr.vaddr = vaddr
    hdr.size = size
    hdr.nr_segments = room if nr_segments is None else nr_segments
    hdr.pad = pad
    return raw, hdr


def segments_of(raw, n):
    arr = (DmaSegment * n).from_buffer(raw, MAP_MINSZ)
    return [(s.bus_addr, s.size) for s in arr]


def noiommu_map(container_fd, vaddr, size, room=64, flags=RW):
    """Pin; returns [(bus_addr, size)].  Raises OSError; on ENOSPC the
    exception carries .needed (the nr_segments the kernel wrote)."""
    raw, hdr = make_map(vaddr, size, room, flags)
    try:
        V.ioctl(container_fd, VFIO_DKMS_NOIOMMU_MAP_DMA, raw)
    except OSError as e:
        e.needed = hdr.nr_segments
        raise
    return segments_of(raw, hdr.nr_segments)


def noiommu_unmap(container_fd, vaddr, size, flags=0, argsz=UNMAP_MINSZ):
    """Unpin; returns the bytes unpinned."""
    u = NoiommuDmaUnmap(argsz=argsz, flags=flags, vaddr=vaddr, size=size)
    V.ioctl(container_fd, VFIO_DKMS_NOIOMMU_UNMAP_DMA, u)
    return u.size
