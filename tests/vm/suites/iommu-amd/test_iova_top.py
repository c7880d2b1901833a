# SPDX-License-Identifier: GPL-2.0
"""type1 mappings that end exactly at 2^64 (the top of an AMD-Vi aperture).

An exclusive end address (iova + size) wraps to 0 there.  These tests check
that such a mapping is still seen by the overlap check, removed by UNMAP_DMA
and UNMAP_ALL, and unpinned when the container goes, with the pins counted
by the kernel itself (/proc/vmstat nr_foll_pin_acquired/released) as well
as by our debugfs.

vfio-dkms only: Debian 6.12.117's in-tree type1 is wrong at this boundary
(it accepts an overlapping map there and UNMAP_ALL then returns 0, leaking
the pins; fixed upstream in 2025), so it is no reference here.  The wrap
past 2^64 (EINVAL) is compared with in-tree in the conformance suite
(test_map_dma_errors), on VT-d.
"""

import errno
import mmap
import os

import pytest

from conftest import Edu, bind, find_pci, group_of, setup_backend, unbind
import vfio_uapi as V

PAGE = mmap.PAGESIZE
TOP = 1 << 64
MAP_HUGETLB = 0x40000
HUGE = 2 << 20
DBG = "/sys/kernel/debug/vfio-dkms/containers"


@pytest.fixture(scope="module")
def edu():
    backend = setup_backend("vfio-dkms")
    bdf = find_pci("0x1234", "0x11e8")
    assert bdf, "no edu device"
    old = bind(bdf, backend.driver)
    backend.wait_node(group_of(bdf))
    yield backend, Edu(bdf)
    unbind(bdf, old)


@pytest.fixture(scope="module")
def hugepages():
    """2 MiB huge pages: runs of several physically contiguous pages (one
    per session, and room for what a broken module leaks)."""
    path = "/proc/sys/vm/nr_hugepages"
    old = open(path).read().strip()
    with open(path, "w") as f:
        f.write("8")
    yield
    with open(path, "w") as f:
        f.write(old)


def foll_pins():
    """Pages pinned with FOLL_PIN in the whole system and not unpinned."""
    # Fold the per-CPU counter deltas first: /proc/vmstat lags them.
    with open("/proc/sys/vm/stat_refresh", "w") as f:
        f.write("1")
    stat = {}
    with open("/proc/vmstat") as f:
        for line in f:
            key, val = line.split()
            stat[key] = int(val)
    return stat["nr_foll_pin_acquired"] - stat["nr_foll_pin_released"]


def vm_locked_kb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmLck:"):
                return int(line.split()[1])
    raise AssertionError("no VmLck")


def debugfs_container(group):
    """The containers block listing @group: {key: [values]}, or None."""
    with open(DBG) as f:
        blocks = f.read().split("\n\n")
    for block in blocks:
        rec = {}
        for line in block.splitlines()[1:]:
            key, _, val = line.partition(": ")
            rec.setdefault(key, []).append(val)
        if group in rec.get("group", []):
            return rec
    return None


class Session:
    def __init__(self, backend, edu):
        self.group_name = edu.group
        self.container = os.open(backend.container_path, os.O_RDWR)
        self.group = os.open(backend.group_path(edu.group), os.O_RDWR)
        V.set_container(self.group, self.container)
        V.ioctl(self.container, V.VFIO_SET_IOMMU, V.VFIO_TYPE1v2_IOMMU)
        self.bufs = []

    def huge(self):
        mm = mmap.mmap(-1, HUGE, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | MAP_HUGETLB)
        mm[0:1] = b"\1"      # fault it in
        self.bufs.append(mm)
        return V.buffer_address(mm)

    def pinned_pages(self):
        return int(debugfs_container(self.group_name)["pinned_pages"][0])

    def close(self):
        os.close(self.group)
        os.close(self.container)
        for mm in self.bufs:
            mm.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def eno(fn, *args):
    return V.errno_of(fn, *args)


def test_aperture_reaches_top(edu):
    """Without this the other tests test nothing: the range must reach 2^64 - 1."""
    backend, dev = edu
    with Session(backend, dev) as s:
        info, raw = V.iommu_info(s.container)
        found = {cid: off for cid, ver, off in V.caps(raw, info.cap_offset)}
        ranges = V.parse_iova_ranges(raw, found[V.VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE])
        assert ranges[-1][1] == TOP - 1, ranges


def test_map_at_top_overlap_and_unmap(edu, hugepages):
    """8 KiB at 2^64 - 16 KiB: a range over it ending at 2^64 overlaps it."""
    backend, dev = edu
    pins0 = foll_pins()
    with Session(backend, dev) as s:
        va = s.huge()
        iova = TOP - 0x4000
        V.map_dma(s.container, va, iova, 0x2000)
        assert s.pinned_pages() == 0x2000 // PAGE
        assert debugfs_container(dev.group)["dma"] == [
            "[0xffffffffffffc000, 0xffffffffffffdfff] rw pid %d" % os.getpid()]
        assert foll_pins() == pins0 + 0x2000 // PAGE
        # Every overlapping map is refused, ending at 2^64 or not.
        assert eno(V.map_dma, s.container, va + 0x4000, iova, 0x4000) == errno.EEXIST
        assert eno(V.map_dma, s.container, va + 0x4000, iova + PAGE, 0x3000) == errno.EEXIST
        assert eno(V.map_dma, s.container, va + 0x4000, iova - PAGE, 2 * PAGE) == errno.EEXIST
        # A range that would wrap past 2^64 is no range.
        assert eno(V.unmap_dma, s.container, iova, 0x8000) == errno.EINVAL
        assert eno(V.map_dma, s.container, va + 0x4000, iova, 0x8000) == errno.EINVAL
        # v2: no unmap starting inside the mapping.
        assert eno(V.unmap_dma, s.container, iova + PAGE, 0x3000) == errno.EINVAL
        assert V.unmap_dma(s.container, iova, 0x2000) == 0x2000
        assert s.pinned_pages() == 0
        assert foll_pins() == pins0
        # A range ending at 2^64 removes what it covers.
        V.map_dma(s.container, va, iova, 0x2000)
        assert V.unmap_dma(s.container, iova, 0x4000) == 0x2000
        assert s.pinned_pages() == 0
        assert foll_pins() == pins0
    assert foll_pins() == pins0


def test_overlapping_map_below_top(edu, hugepages):
    """8 KiB ending at 2^64, then 16 KiB over it: refused; UNMAP_ALL sees it."""
    backend, dev = edu
    pins0 = foll_pins()
    with Session(backend, dev) as s:
        va = s.huge()
        V.map_dma(s.container, va, TOP - 0x2000, 0x2000)
        assert eno(V.map_dma, s.container, va + 0x4000, TOP - 0x4000, 0x4000) == errno.EEXIST
        V.map_dma(s.container, va + 0x4000, TOP - 0x4000, 0x2000)
        assert s.pinned_pages() == 4
        assert V.unmap_dma(s.container, 0, 0, V.VFIO_DMA_UNMAP_FLAG_ALL) == 0x4000
        assert s.pinned_pages() == 0
        assert foll_pins() == pins0


@pytest.mark.parametrize("size", [PAGE, 0x2000, HUGE])
def test_close_unpins_mapping_at_top(edu, hugepages, size):
    """A mapping at iova = -size goes with the container: every pin, every charge."""
    backend, dev = edu
    pins0 = foll_pins()
    locked0 = vm_locked_kb()
    with Session(backend, dev) as s:
        va = s.huge()
        V.map_dma(s.container, va, TOP - size, size)
        assert s.pinned_pages() == size // PAGE
        assert foll_pins() == pins0 + size // PAGE
        assert vm_locked_kb() == locked0 + size // 1024
    assert foll_pins() == pins0
    assert vm_locked_kb() == locked0
