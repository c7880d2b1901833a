# SPDX-License-Identifier: GPL-2.0
"""The VFIO user API of <linux/vfio.h> for raw-ioctl tests, in ctypes.

Only what the tests use: ioctl numbers, structs, flags, a capability-chain
walker and an ioctl() that returns the ioctl's value and raises OSError with
the kernel's errno.  Works against /dev/vfio (in-tree) and /dev/vfio-dkms.
"""

import ctypes
import os

_libc = ctypes.CDLL(None, use_errno=True)
_libc.ioctl.argtypes = (ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p)
_libc.ioctl.restype = ctypes.c_int

VFIO_API_VERSION = 0
VFIO_TYPE = ord(";")
VFIO_BASE = 100


def _IO(nr):
    return (VFIO_TYPE << 8) | (VFIO_BASE + nr)


VFIO_GET_API_VERSION = _IO(0)
VFIO_CHECK_EXTENSION = _IO(1)
VFIO_SET_IOMMU = _IO(2)
VFIO_GROUP_GET_STATUS = _IO(3)
VFIO_GROUP_SET_CONTAINER = _IO(4)
VFIO_GROUP_UNSET_CONTAINER = _IO(5)
VFIO_GROUP_GET_DEVICE_FD = _IO(6)
VFIO_DEVICE_GET_INFO = _IO(7)
VFIO_DEVICE_GET_REGION_INFO = _IO(8)
VFIO_DEVICE_GET_IRQ_INFO = _IO(9)
VFIO_DEVICE_SET_IRQS = _IO(10)
VFIO_DEVICE_RESET = _IO(11)
VFIO_IOMMU_GET_INFO = _IO(12)
VFIO_IOMMU_MAP_DMA = _IO(13)
VFIO_IOMMU_UNMAP_DMA = _IO(14)
# Device fd ioctls sharing numbers with the container's.
VFIO_DEVICE_GET_PCI_HOT_RESET_INFO = _IO(12)
VFIO_DEVICE_PCI_HOT_RESET = _IO(13)
VFIO_DEVICE_IOEVENTFD = _IO(16)
VFIO_DEVICE_FEATURE = _IO(17)

# Extensions / IOMMU types
VFIO_TYPE1_IOMMU = 1
VFIO_SPAPR_TCE_IOMMU = 2
VFIO_TYPE1v2_IOMMU = 3
VFIO_DMA_CC_IOMMU = 4
VFIO_UNMAP_ALL = 9

VFIO_GROUP_FLAGS_VIABLE = 1 << 0
VFIO_GROUP_FLAGS_CONTAINER_SET = 1 << 1

VFIO_DEVICE_FLAGS_RESET = 1 << 0
VFIO_DEVICE_FLAGS_PCI = 1 << 1
VFIO_DEVICE_FLAGS_CAPS = 1 << 7

VFIO_REGION_INFO_FLAG_READ = 1 << 0
VFIO_REGION_INFO_FLAG_WRITE = 1 << 1
VFIO_REGION_INFO_FLAG_MMAP = 1 << 2
VFIO_REGION_INFO_FLAG_CAPS = 1 << 3

VFIO_IRQ_INFO_EVENTFD = 1 << 0
VFIO_IRQ_INFO_MASKABLE = 1 << 1
VFIO_IRQ_INFO_AUTOMASKED = 1 << 2
VFIO_IRQ_INFO_NORESIZE = 1 << 3

VFIO_IOMMU_INFO_PGSIZES = 1 << 0
VFIO_IOMMU_INFO_CAPS = 1 << 1
VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE = 1
VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL = 3

VFIO_DMA_MAP_FLAG_READ = 1 << 0
VFIO_DMA_MAP_FLAG_WRITE = 1 << 1
VFIO_DMA_UNMAP_FLAG_ALL = 1 << 1

# PCI regions and IRQs (enum in vfio.h)
VFIO_PCI_BAR0_REGION_INDEX = 0
VFIO_PCI_ROM_REGION_INDEX = 6
VFIO_PCI_CONFIG_REGION_INDEX = 7
VFIO_PCI_VGA_REGION_INDEX = 8
VFIO_PCI_NUM_REGIONS = 9
VFIO_PCI_INTX_IRQ_INDEX = 0
VFIO_PCI_MSI_IRQ_INDEX = 1
VFIO_PCI_MSIX_IRQ_INDEX = 2
VFIO_PCI_ERR_IRQ_INDEX = 3
VFIO_PCI_REQ_IRQ_INDEX = 4
VFIO_PCI_NUM_IRQS = 5


def region_offset(index):
    """File offset of PCI region @index (vfio-pci's index << 40)."""
    return index << 40


class _S(ctypes.Structure):
    def __init__(self, **kw):
        super().__init__(**kw)
        if "argsz" not in kw:
            self.argsz = ctypes.sizeof(self)


class GroupStatus(_S):
    _fields_ = [("argsz", ctypes.c_uint32), ("flags", ctypes.c_uint32)]


class DeviceInfo(_S):
    _fields_ = [("argsz", ctypes.c_uint32), ("flags", ctypes.c_uint32),
                ("num_regions", ctypes.c_uint32), ("num_irqs", ctypes.c_uint32),
                ("cap_offset", ctypes.c_uint32), ("pad", ctypes.c_uint32)]


class RegionInfo(_S):
    _fields_ = [("argsz", ctypes.c_uint32), ("flags", ctypes.c_uint32),
                ("index", ctypes.c_uint32), ("cap_offset", ctypes.c_uint32),
                ("size", ctypes.c_uint64), ("offset", ctypes.c_uint64)]


class IrqInfo(_S):
    _fields_ = [("argsz", ctypes.c_uint32), ("flags", ctypes.c_uint32),
                ("index", ctypes.c_uint32), ("count", ctypes.c_uint32)]


class IommuType1Info(_S):
    _fields_ = [("argsz", ctypes.c_uint32), ("flags", ctypes.c_uint32),
                ("iova_pgsizes", ctypes.c_uint64), ("cap_offset", ctypes.c_uint32),
                ("pad", ctypes.c_uint32)]


class DmaMap(_S):
    _fields_ = [("argsz", ctypes.c_uint32), ("flags", ctypes.c_uint32),
                ("vaddr", ctypes.c_uint64), ("iova", ctypes.c_uint64),
                ("size", ctypes.c_uint64)]


class DmaUnmap(_S):
    _fields_ = [("argsz", ctypes.c_uint32), ("flags", ctypes.c_uint32),
                ("iova", ctypes.c_uint64), ("size", ctypes.c_uint64)]


class DeviceFeature(_S):
    _fields_ = [("argsz", ctypes.c_uint32), ("flags", ctypes.c_uint32)]


VFIO_DEVICE_FEATURE_MASK = 0xffff
VFIO_DEVICE_FEATURE_GET = 1 << 16
VFIO_DEVICE_FEATURE_SET = 1 << 17
VFIO_DEVICE_FEATURE_PROBE = 1 << 18
VFIO_DEVICE_FEATURE_PCI_VF_TOKEN = 0
VFIO_DEVICE_FEATURE_MIGRATION = 1
VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE = 2
VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY = 3
VFIO_DEVICE_FEATURE_DMA_LOGGING_START = 6
VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP = 7
VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT = 8
VFIO_DEVICE_FEATURE_MIG_DATA_SIZE = 9


class HotResetInfo(_S):
    _fields_ = [("argsz", ctypes.c_uint32), ("flags", ctypes.c_uint32),
                ("count", ctypes.c_uint32)]


class DependentDevice(ctypes.Structure):
    _fields_ = [("group_id", ctypes.c_uint32), ("segment", ctypes.c_uint16),
                ("bus", ctypes.c_uint8), ("devfn", ctypes.c_uint8)]


class DeviceIoeventfd(_S):
    _fields_ = [("argsz", ctypes.c_uint32), ("flags", ctypes.c_uint32),
                ("offset", ctypes.c_uint64), ("data", ctypes.c_uint64),
                ("fd", ctypes.c_int32), ("reserved", ctypes.c_uint32)]


class CapHeader(ctypes.Structure):
    _fields_ = [("id", ctypes.c_uint16), ("version", ctypes.c_uint16),
                ("next", ctypes.c_uint32)]


def ioctl(fd, req, arg=0):
    """ioctl(2): @arg is an int, a ctypes object (passed by reference), bytes
    (a C string) or a ctypes buffer.  Returns the ioctl's value; raises
    OSError(errno) on failure."""
    if isinstance(arg, int):
        ptr = arg
    elif isinstance(arg, bytes):
        buf = ctypes.create_string_buffer(arg)
        ptr = ctypes.addressof(buf)
    else:
        ptr = ctypes.addressof(arg)
    ret = _libc.ioctl(fd, req, ptr)
    if ret < 0:
        e = ctypes.get_errno()
        raise OSError(e, "%s (ioctl 0x%x)" % (os.strerror(e), req))
    return ret


def errno_of(fn, *args, **kw):
    """Run fn(*args, **kw); return the errno of the OSError it raises, or 0."""
    try:
        fn(*args, **kw)
    except OSError as e:
        return e.errno
    return 0


def set_container(group_fd, container_fd):
    v = ctypes.c_int32(container_fd)
    return ioctl(group_fd, VFIO_GROUP_SET_CONTAINER, v)


def get_device_fd(group_fd, name):
    return ioctl(group_fd, VFIO_GROUP_GET_DEVICE_FD, name.encode() + b"\0")


def caps(buf, first_offset):
    """Walk a capability chain in @buf (bytes-like) from @first_offset;
    yield (id, version, offset)."""
    off = first_offset
    seen = 0
    while off:
        hdr = CapHeader.from_buffer_copy(bytes(buf[off:off + ctypes.sizeof(CapHeader)]))
        yield hdr.id, hdr.version, off
        off = hdr.next
        seen += 1
        if seen > 64:
            raise ValueError("capability chain loops")


def iommu_info(container_fd):
    """VFIO_IOMMU_GET_INFO with room for the capability chain; returns
    (info, raw bytes)."""
    probe = IommuType1Info()
    ioctl(container_fd, VFIO_IOMMU_GET_INFO, probe)
    size = max(probe.argsz, ctypes.sizeof(IommuType1Info))
    raw = (ctypes.c_char * size)()
    info = IommuType1Info.from_buffer(raw)
    info.argsz = size
    ioctl(container_fd, VFIO_IOMMU_GET_INFO, raw)
    return IommuType1Info.from_buffer_copy(bytes(raw)[:ctypes.sizeof(IommuType1Info)]), bytes(raw)


def parse_iova_ranges(raw, off):
    nr = int.from_bytes(raw[off + 8:off + 12], "little")
    out = []
    for i in range(nr):
        base = off + 16 + 16 * i
        out.append((int.from_bytes(raw[base:base + 8], "little"),
                    int.from_bytes(raw[base + 8:base + 16], "little")))
    return out


def buffer_address(mm):
    """User address of a Python mmap object."""
    return ctypes.addressof(ctypes.c_char.from_buffer(mm))


def map_dma(container_fd, vaddr, iova, size,
            flags=VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE, argsz=None):
    m = DmaMap(flags=flags, vaddr=vaddr, iova=iova, size=size)
    if argsz is not None:
        m.argsz = argsz
    return ioctl(container_fd, VFIO_IOMMU_MAP_DMA, m)


def unmap_dma(container_fd, iova, size, flags=0, argsz=None):
    """Returns the number of bytes unmapped."""
    u = DmaUnmap(flags=flags, iova=iova, size=size)
    if argsz is not None:
        u.argsz = argsz
    ioctl(container_fd, VFIO_IOMMU_UNMAP_DMA, u)
    return u.size

