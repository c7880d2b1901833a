# SPDX-License-Identifier: LGPL-2.1-or-later
"""Named bits of the flags VFIO reports (linux/vfio.h)."""

import enum

__all__ = ["DeviceFlags", "RegionFlags"]


class DeviceFlags(enum.IntFlag):
    """``Device.flags``: VFIO_DEVICE_FLAGS_* from VFIO_DEVICE_GET_INFO.

    An :class:`int` too, so ``dev.flags & vfio.DeviceFlags.RESET`` and
    comparisons with plain integers work; bits this version does not name
    are kept.
    """
    RESET = 1 << 0      #: VFIO_DEVICE_RESET is supported
    PCI = 1 << 1        #: a PCI device
    PLATFORM = 1 << 2   #: a platform device
    AMBA = 1 << 3       #: an ARM AMBA device
    CCW = 1 << 4        #: an s390 channel I/O device
    AP = 1 << 5         #: an s390 AP device
    FSL_MC = 1 << 6     #: a Freescale fsl-mc device
    CAPS = 1 << 7       #: the info carries a capability chain
    CDX = 1 << 8        #: an AMD CDX device


class RegionFlags(enum.IntFlag):
    """``Region.flags``: VFIO_REGION_INFO_FLAG_* from VFIO_DEVICE_GET_REGION_INFO."""
    READ = 1 << 0       #: the region can be read
    WRITE = 1 << 1      #: the region can be written
    MMAP = 1 << 2       #: (parts of) the region can be mmapped
    CAPS = 1 << 3       #: the info carries a capability chain
