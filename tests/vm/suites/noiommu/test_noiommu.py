# SPDX-License-Identifier: GPL-2.0
"""No-IOMMU mode (upstream CONFIG_VFIO_NOIOMMU semantics) and vfio-dkms's
bus-address extension (VFIO_DKMS_NOIOMMU_MAP_DMA/UNMAP_DMA), raw ioctls.

Debian builds the in-tree vfio without CONFIG_VFIO_NOIOMMU, so there is no
in-tree reference to compare with: the expected errnos are upstream's
(drivers/vfio/container.c, group.c), written down here.  Tests run in file
order (the first one checks the state before no-IOMMU mode is ever on).
"""

import ctypes
import errno
import mmap
import os
import re
import resource
import signal
import struct
import subprocess
import time

import pytest

import vfio_uapi as V
import vfio_dkms_uapi as D
import vfio_debugfs
import vfio_session
from conftest import base, dmesg, edus, get_mode, set_mode
from vfio_process import drop_cap, vm_lck_kb
from vfio_uapi import errno_of as eno

PAGE = mmap.PAGESIZE
EDU_ID = 0x010000ED
EDU_BUF = 0x40000
DMA_LEN = 4095          # QEMU 7.2's edu aborts on a full 4096-byte transfer
TAINT_USER = 1 << 6
CAP_SYS_RAWIO = 17
CAP_IPC_LOCK = 14
PR_SET_NAME = 15
_libc = ctypes.CDLL(None, use_errno=True)


def tainted():
    return int(open("/proc/sys/kernel/tainted").read())


def node_of(bdf):
    return "/dev/vfio-dkms/noiommu-" + base.group_of(bdf)


# --- capabilities and processes --------------------------------------------

def in_child(fn):
    """Run fn() in a forked child; its return value (a small int) is the
    exit status.  Returns (pid, status)."""
    pid = os.fork()
    if pid == 0:
        code = 99
        try:
            code = fn()
        except BaseException:
            import traceback
            traceback.print_exc()
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return pid, status


def pagemap_phys(va, npages):
    """Physical addresses of @npages pages at @va from /proc/self/pagemap
    (root sees the PFNs): the oracle for the extension's bus addresses."""
    out = []
    with open("/proc/self/pagemap", "rb") as f:
        f.seek((va // PAGE) * 8)
        raw = f.read(8 * npages)
    for i in range(npages):
        e = struct.unpack_from("<Q", raw, 8 * i)[0]
        assert e & (1 << 63), "page %d not present" % i
        out.append((e & ((1 << 55) - 1)) * PAGE)
    return out


def containers():
    """debugfs containers file: {id: {key: [values]}} (docs/introspection.md)."""
    return vfio_debugfs.parse("containers")


def groups_dbg():
    return vfio_debugfs.parse("groups")


def container_with(group_name):
    found = [c for c in containers().values() if group_name in c.get("group", [])]
    assert len(found) <= 1
    return found[0] if found else None


# --- sessions ----------------------------------------------------------------

class Session(vfio_session.Session):
    """Container + no-IOMMU group (+ VFIO_NOIOMMU_IOMMU, + device fd)."""

    def __init__(self, bdf, set_iommu=True, device=True):
        self.bdf = bdf
        self.name = "noiommu-" + base.group_of(bdf)
        super().__init__(base.BACKENDS["vfio-dkms"], base.Dev(bdf), iommu=D.VFIO_NOIOMMU_IOMMU,
                         set_iommu=set_iommu, device=device, group_path=node_of(bdf))

    def buffer(self, size):
        mm, va = super().buffer(size)
        mm.write(b"\x5a" * size)      # populate
        mm.seek(0)
        return mm, va


# --- mode off ----------------------------------------------------------------

def test_mode_off_refuses_probe(modules, edu_bdf):
    """Default off: a device without an IOMMU group does not bind, no node
    appears, nothing is tainted, and the refusal is logged."""
    assert not get_mode()
    assert tainted() & TAINT_USER == 0
    base.sysfs_write(os.path.join(base.PCI, edu_bdf, "driver_override"),
                     "vfio-dkms-pci")
    base.sysfs_write("/sys/bus/pci/drivers_probe", edu_bdf)
    try:
        assert base.driver_of(edu_bdf) is None
        assert not os.path.exists(os.path.join(base.PCI, edu_bdf, "iommu_group"))
        assert not [n for n in os.listdir("/dev/vfio-dkms") if n.startswith("noiommu-")]
        assert re.search(re.escape(edu_bdf) +
                         r": no IOMMU group, refusing \(vfio_dkms.enable_unsafe_noiommu_mode is off\)",
                         dmesg())
        assert tainted() & TAINT_USER == 0
        # The empty container does not offer the no-IOMMU backend either.
        c = os.open("/dev/vfio-dkms/vfio", os.O_RDWR)
        try:
            assert V.ioctl(c, V.VFIO_CHECK_EXTENSION, D.VFIO_NOIOMMU_IOMMU) == 0
            assert V.ioctl(c, V.VFIO_CHECK_EXTENSION, D.VFIO_DKMS_NOIOMMU_DMA) == 0
            assert V.ioctl(c, V.VFIO_CHECK_EXTENSION, V.VFIO_TYPE1v2_IOMMU) == 1
        finally:
            os.close(c)
    finally:
        base.unbind(edu_bdf)


def test_mode_off_same_as_in_tree(modules, edu_bdf):
    """In-tree vfio-pci (Debian: no CONFIG_VFIO_NOIOMMU) refuses the same
    device with the same probe errno as vfio-dkms-pci with the mode off."""
    r = base.sh("modprobe", "vfio-pci", check=False)
    assert r.returncode == 0, r.stderr
    errs = {}
    for drv in ("vfio-pci", "vfio-dkms-pci"):
        base.sysfs_write(os.path.join(base.PCI, edu_bdf, "driver_override"), drv)
        base.sysfs_write("/sys/bus/pci/drivers_probe", edu_bdf)
        try:
            assert base.driver_of(edu_bdf) is None, drv
        finally:
            base.unbind(edu_bdf)
        m = re.findall(re.escape(drv) + r" " + re.escape(edu_bdf) +
                       r": probe with driver " + re.escape(drv) +
                       r" failed with error (-\d+)", dmesg())
        m = m or re.findall(re.escape(drv) + r": probe of " + re.escape(edu_bdf) +
                            r" failed with error (-\d+)", dmesg())
        assert m, "no probe failure logged for %s" % drv
        errs[drv] = m[-1]
    assert errs["vfio-pci"] == errs["vfio-dkms-pci"] == "-22", errs


# --- mode on: the group ------------------------------------------------------

@pytest.fixture(scope="module")
def edu(modules, edu_bdf):
    mode = os.stat("/sys/module/vfio_dkms/parameters/enable_unsafe_noiommu_mode").st_mode
    assert mode & 0o777 == 0o644, oct(mode)
    set_mode(True)
    base.bind(edu_bdf, "vfio-dkms-pci")
    modules.wait_node("noiommu-" + base.group_of(edu_bdf))
    yield edu_bdf
    base.unbind(edu_bdf)
    set_mode(False)


def test_noiommu_group_created(edu):
    grp = base.group_of(edu)
    assert open("/sys/kernel/iommu_groups/%s/name" % grp).read().strip() == "vfio-noiommu"
    assert os.listdir("/sys/kernel/iommu_groups/%s/devices" % grp) == [edu]
    assert os.path.exists(node_of(edu))
    assert not os.path.exists("/dev/vfio-dkms/" + grp)
    assert tainted() & TAINT_USER
    assert re.search(re.escape(edu) + r": adding kernel taint for vfio-dkms no-IOMMU group noiommu-"
                     + grp, dmesg())
    g = groups_dbg()["noiommu-" + grp]
    assert g["type"] == ["noiommu"]
    assert g["owner"] == ["none"]
    assert g["shared"] == ["0"]


def test_cannot_be_shared(edu):
    """Shared ownership (docs/shared-ownership.md) is refused for a no-IOMMU
    group: its pins are kept per container, not per file."""
    attr = "/sys/class/vfio-dkms/noiommu-%s/shared" % base.group_of(edu)
    with open(attr) as f:
        assert f.read().strip() == "0"
    with pytest.raises(OSError) as e:
        with open(attr, "w") as f:
            f.write("1")
    assert e.value.errno == errno.EINVAL
    with open(attr, "w") as f:
        f.write("0")


def test_open_needs_cap_sys_rawio(edu):
    node = node_of(edu)

    def child():
        drop_cap(CAP_SYS_RAWIO)
        try:
            os.close(os.open(node, os.O_RDWR))
        except OSError as e:
            return 0 if e.errno == errno.EPERM else 2
        return 1
    _, st = in_child(child)
    assert os.WIFEXITED(st) and os.WEXITSTATUS(st) == 0, st

    # Opened with the capability, then dropped: attaching and device fds
    # need it too (as upstream).
    def child2():
        c = os.open("/dev/vfio-dkms/vfio", os.O_RDWR)
        g = os.open(node, os.O_RDWR)
        drop_cap(CAP_SYS_RAWIO)
        if eno(V.set_container, g, c) != errno.EPERM:
            return 1
        return 0
    _, st = in_child(child2)
    assert os.WIFEXITED(st) and os.WEXITSTATUS(st) == 0, st

    def child3():
        c = os.open("/dev/vfio-dkms/vfio", os.O_RDWR)
        g = os.open(node, os.O_RDWR)
        V.set_container(g, c)
        V.ioctl(c, V.VFIO_SET_IOMMU, D.VFIO_NOIOMMU_IOMMU)
        drop_cap(CAP_SYS_RAWIO)
        if eno(V.get_device_fd, g, edu) != errno.EPERM:
            return 1
        return 0
    _, st = in_child(child3)
    assert os.WIFEXITED(st) and os.WEXITSTATUS(st) == 0, st

    def child4():
        c = os.open("/dev/vfio-dkms/vfio", os.O_RDWR)
        g = os.open(node, os.O_RDWR)
        V.set_container(g, c)
        drop_cap(CAP_SYS_RAWIO)
        if eno(V.ioctl, c, V.VFIO_SET_IOMMU, D.VFIO_NOIOMMU_IOMMU) != errno.EPERM:
            return 1
        return 0
    _, st = in_child(child4)
    assert os.WIFEXITED(st) and os.WEXITSTATUS(st) == 0, st


def test_map_needs_cap_sys_rawio(edu):
    """Bus addresses are physical addresses: a container set up by root and
    handed to a process without CAP_SYS_RAWIO must not tell it any (pagemap
    keeps them from it too).  Unmapping what root mapped stays allowed."""
    def child():
        with Session(edu, device=False) as s:
            mm, va = s.buffer(2 * PAGE)
            D.noiommu_map(s.container, va, PAGE)
            drop_cap(CAP_SYS_RAWIO)
            if eno(D.noiommu_map, s.container, va + PAGE, PAGE) != errno.EPERM:
                return 1
            if D.noiommu_unmap(s.container, va, PAGE) != PAGE:
                return 2
            if container_with(s.name)["pinned_pages"] != ["0"]:
                return 3
        return 0
    _, st = in_child(child)
    assert os.WIFEXITED(st) and os.WEXITSTATUS(st) == 0, st


def test_check_extension_and_set_iommu(edu):
    c = os.open("/dev/vfio-dkms/vfio", os.O_RDWR)
    g = os.open(node_of(edu), os.O_RDWR)
    try:
        ce = lambda ext: V.ioctl(c, V.VFIO_CHECK_EXTENSION, ext)
        # Empty container: every backend answers (upstream polls them all).
        assert ce(D.VFIO_NOIOMMU_IOMMU) == 1
        assert ce(D.VFIO_DKMS_NOIOMMU_DMA) == 1
        assert ce(V.VFIO_TYPE1v2_IOMMU) == 1
        assert ce(D.VFIO_DKMS_EXTENSION_BASE | 0xffff) == 0
        # No backend yet: the extension's ioctls are refused like any other.
        raw, hdr = D.make_map(0x10000, PAGE, 1)
        assert eno(V.ioctl, c, D.VFIO_DKMS_NOIOMMU_MAP_DMA, raw) == errno.EINVAL

        st = V.GroupStatus()
        V.ioctl(g, V.VFIO_GROUP_GET_STATUS, st)
        assert st.flags == V.VFIO_GROUP_FLAGS_VIABLE
        V.set_container(g, c)
        V.ioctl(g, V.VFIO_GROUP_GET_STATUS, st)
        assert st.flags == V.VFIO_GROUP_FLAGS_VIABLE | V.VFIO_GROUP_FLAGS_CONTAINER_SET
        # A no-IOMMU container: only the no-IOMMU backend answers.
        assert ce(D.VFIO_NOIOMMU_IOMMU) == 1
        assert ce(D.VFIO_DKMS_NOIOMMU_DMA) == 1
        assert ce(V.VFIO_TYPE1v2_IOMMU) == 0
        assert ce(V.VFIO_TYPE1_IOMMU) == 0
        # No device fd before SET_IOMMU.
        assert eno(V.get_device_fd, g, edu) == errno.EINVAL
        for t in (V.VFIO_TYPE1_IOMMU, V.VFIO_TYPE1v2_IOMMU):
            assert eno(V.ioctl, c, V.VFIO_SET_IOMMU, t) == errno.ENODEV
        assert eno(V.ioctl, c, V.VFIO_SET_IOMMU, D.VFIO_DKMS_NOIOMMU_DMA) == errno.EINVAL
        # Mode switched off meanwhile: no backend to set (upstream: ENODEV).
        set_mode(False)
        try:
            assert ce(D.VFIO_NOIOMMU_IOMMU) == 0
            assert ce(D.VFIO_DKMS_NOIOMMU_DMA) == 0
            assert eno(V.ioctl, c, V.VFIO_SET_IOMMU, D.VFIO_NOIOMMU_IOMMU) == errno.ENODEV
        finally:
            set_mode(True)
        V.ioctl(c, V.VFIO_SET_IOMMU, D.VFIO_NOIOMMU_IOMMU)
        assert eno(V.ioctl, c, V.VFIO_SET_IOMMU, D.VFIO_NOIOMMU_IOMMU) == errno.EINVAL
        assert ce(D.VFIO_NOIOMMU_IOMMU) == 1
        assert ce(D.VFIO_DKMS_NOIOMMU_DMA) == 1
        assert ce(V.VFIO_TYPE1v2_IOMMU) == 0
        assert ce(V.VFIO_UNMAP_ALL) == 0
        # The backend set, the extension answers even with the mode off.
        set_mode(False)
        try:
            assert ce(D.VFIO_NOIOMMU_IOMMU) == 0
            assert ce(D.VFIO_DKMS_NOIOMMU_DMA) == 1
        finally:
            set_mode(True)
        # Upstream's IOMMU ioctls: ENOTTY from the no-IOMMU backend.
        assert eno(V.ioctl, c, V.VFIO_IOMMU_GET_INFO, V.IommuType1Info()) == errno.ENOTTY
        assert eno(V.map_dma, c, 0x10000, 0, PAGE) == errno.ENOTTY
        assert eno(V.unmap_dma, c, 0, PAGE) == errno.ENOTTY
        cont = container_with("noiommu-" + base.group_of(edu))
        assert cont["backend"] == ["noiommu"]
        assert cont["pins"] == ["0"] and cont["pinned_pages"] == ["0"]
    finally:
        os.close(g)
        os.close(c)


def test_device_fd_works_and_logs_opener(edu):
    comm = "noiommu-t%d" % (os.getpid() % 1000)

    def child():
        assert _libc.prctl(PR_SET_NAME, comm.encode(), 0, 0, 0) == 0
        with Session(edu) as s:
            info = V.DeviceInfo()
            V.ioctl(s.device, V.VFIO_DEVICE_GET_INFO, info)
            if not info.flags & V.VFIO_DEVICE_FLAGS_PCI:
                return 1
            if s.bar32(0) != EDU_ID:
                return 2
            s.bar32(4, 0x12345678)
            if s.bar32(4) != (~0x12345678) & 0xffffffff:
                return 3
            ri = V.RegionInfo(index=V.VFIO_PCI_CONFIG_REGION_INDEX)
            V.ioctl(s.device, V.VFIO_DEVICE_GET_REGION_INFO, ri)
            cfg = os.pread(s.device, 4, V.region_offset(V.VFIO_PCI_CONFIG_REGION_INDEX))
            if struct.unpack("<HH", cfg) != (0x1234, 0x11e8):
                return 4
            ii = V.IrqInfo(index=V.VFIO_PCI_MSI_IRQ_INDEX)
            V.ioctl(s.device, V.VFIO_DEVICE_GET_IRQ_INFO, ii)
            if ii.count != 1:
                return 5
            if info.flags & V.VFIO_DEVICE_FLAGS_RESET:
                V.ioctl(s.device, V.VFIO_DEVICE_RESET)
            if s.bar32(0) != EDU_ID:
                return 6
        return 0
    pid, st = in_child(child)
    assert os.WIFEXITED(st) and os.WEXITSTATUS(st) == 0, st
    assert tainted() & TAINT_USER
    assert re.search(re.escape(edu) + r": vfio-dkms no-IOMMU device opened by user \(%s:%d\)"
                     % (re.escape(comm), pid), dmesg())


# --- the bus-address extension -----------------------------------------------

def test_map_errors(edu):
    with Session(edu, device=False) as s:
        mm, va = s.buffer(16 * PAGE)
        c = s.container
        M = D.VFIO_DKMS_NOIOMMU_MAP_DMA

        def map_errno(**kw):
            args = dict(vaddr=va, size=PAGE, room=4)
            args.update(kw)
            raw, hdr = D.make_map(args.pop("vaddr"), args.pop("size"), args.pop("room"), **args)
            return eno(V.ioctl, c, M, raw)

        assert map_errno(argsz=D.MAP_MINSZ - 1, room=0) == errno.EINVAL
        assert map_errno(flags=0) == errno.EINVAL
        assert map_errno(flags=D.RW | 4) == errno.EINVAL
        assert map_errno(pad=1) == errno.EINVAL
        # nr_segments larger than argsz has room for
        assert map_errno(room=2, nr_segments=3) == errno.EINVAL
        assert map_errno(room=0, nr_segments=0xffffffff) == errno.EINVAL
        assert map_errno(vaddr=va + 1) == errno.EINVAL
        assert map_errno(size=0) == errno.EINVAL
        assert map_errno(size=PAGE + 1) == errno.EINVAL
        assert map_errno(vaddr=(1 << 64) - PAGE, size=2 * PAGE) == errno.EINVAL
        # Not mapped memory.
        assert map_errno(vaddr=0x1000) == errno.EFAULT
        # Absurd size with CAP_IPC_LOCK (no memlock limit): ENOMEM from the
        # segment table, no kernel warning (the health gate checks), no charge.
        lck = vm_lck_kb()
        assert map_errno(size=1 << 40) == errno.ENOMEM
        assert vm_lck_kb() == lck
        # Nothing of that is pinned.
        assert container_with(s.name)["pins"] == ["0"]

        segs = D.noiommu_map(c, va, 4 * PAGE)
        assert sum(sz for _, sz in segs) == 4 * PAGE
        # Overlaps: EEXIST, however they overlap.
        for v, sz in ((va, 4 * PAGE), (va + PAGE, PAGE), (va + 3 * PAGE, 2 * PAGE),
                      (va - 0, 16 * PAGE)):
            assert map_errno(vaddr=v, size=sz) == errno.EEXIST
        D.noiommu_map(c, va + 4 * PAGE, PAGE, flags=D.VFIO_DKMS_NOIOMMU_DMA_MAP_FLAG_READ)

        U = D.VFIO_DKMS_NOIOMMU_UNMAP_DMA
        assert eno(D.noiommu_unmap, c, va, 4 * PAGE, 0, D.UNMAP_MINSZ - 1) == errno.EINVAL
        assert eno(D.noiommu_unmap, c, va, 4 * PAGE, 1) == errno.EINVAL
        assert eno(D.noiommu_unmap, c, va, 4 * PAGE, 4) == errno.EINVAL
        assert eno(D.noiommu_unmap, c, va, 0, D.VFIO_DKMS_NOIOMMU_DMA_UNMAP_FLAG_ALL) == errno.EINVAL
        # Unmap needs the exact range.
        assert eno(D.noiommu_unmap, c, va, 2 * PAGE) == errno.EINVAL
        assert eno(D.noiommu_unmap, c, va + PAGE, 3 * PAGE) == errno.EINVAL
        assert eno(D.noiommu_unmap, c, va + 8 * PAGE, PAGE) == errno.EINVAL
        assert eno(D.noiommu_unmap, c, va, 0) == errno.EINVAL
        cont = container_with(s.name)
        assert cont["pins"] == ["2"] and cont["pinned_pages"] == ["5"]
        assert D.noiommu_unmap(c, va, 4 * PAGE) == 4 * PAGE
        assert eno(D.noiommu_unmap, c, va, 4 * PAGE) == errno.EINVAL
        assert D.noiommu_unmap(c, 0, 0, D.VFIO_DKMS_NOIOMMU_DMA_UNMAP_FLAG_ALL) == PAGE
        assert D.noiommu_unmap(c, 0, 0, D.VFIO_DKMS_NOIOMMU_DMA_UNMAP_FLAG_ALL) == 0
        assert container_with(s.name)["pinned_pages"] == ["0"]
        # Extension ioctls on a type1-style number are not ours: ENOTTY.
        assert eno(V.ioctl, c, (D.VFIO_DKMS_TYPE << 8) | 2, 0) == errno.ENOTTY


def test_segments_match_pagemap(edu):
    n = 64
    with Session(edu, device=False) as s:
        mm, va = s.buffer(n * PAGE)
        phys = pagemap_phys(va, n)
        # Runs of the pagemap: what the segments must be.
        want = []
        for p in phys:
            if want and want[-1][0] + want[-1][1] == p:
                want[-1] = (want[-1][0], want[-1][1] + PAGE)
            else:
                want.append((p, PAGE))
        # No room: ENOSPC, nr_segments says how many, nothing stays pinned.
        base_kb = vm_lck_kb()
        with pytest.raises(OSError) as e:
            D.noiommu_map(s.container, va, n * PAGE, room=0)
        assert e.value.errno == errno.ENOSPC and e.value.needed == len(want)
        if len(want) > 1:
            with pytest.raises(OSError) as e:
                D.noiommu_map(s.container, va, n * PAGE, room=len(want) - 1)
            assert e.value.errno == errno.ENOSPC and e.value.needed == len(want)
        assert container_with(s.name)["pins"] == ["0"]
        assert vm_lck_kb() == base_kb
        segs = D.noiommu_map(s.container, va, n * PAGE, room=len(want))
        assert segs == want
        assert pagemap_phys(va, n) == phys
        cont = container_with(s.name)
        assert cont["pins"] == ["1"] and cont["pinned_pages"] == [str(n)]
        assert cont["pin"] == ["[0x%x, 0x%x] rw pid %d segments %d"
                               % (va, va + n * PAGE - 1, os.getpid(), len(want))]
        assert cont["segment"] == ["[0x%x, 0x%x]" % (b, b + sz - 1) for b, sz in want]
        # Extra room is fine; nr_segments says how many were used.
        raw, hdr = D.make_map(va + 0, n * PAGE, len(want) + 5)
        assert eno(V.ioctl, s.container, D.VFIO_DKMS_NOIOMMU_MAP_DMA, raw) == errno.EEXIST
        D.noiommu_unmap(s.container, va, n * PAGE)
        raw, hdr = D.make_map(va, n * PAGE, len(want) + 5)
        V.ioctl(s.container, D.VFIO_DKMS_NOIOMMU_MAP_DMA, raw)
        assert hdr.nr_segments == len(want)
        assert D.segments_of(raw, hdr.nr_segments) == want
    # Closing the container unpinned it.
    assert container_with(s.name) is None


def test_hugepage_is_one_segment(edu):
    """A 2 MiB hugetlb page is physically contiguous: one segment."""
    try:
        with open("/proc/sys/vm/nr_hugepages", "w") as f:
            f.write("2")
    except OSError as e:
        pytest.fail("cannot reserve hugepages: %s" % e)
    if int(open("/proc/sys/vm/nr_hugepages").read()) < 1:
        pytest.fail("no hugepage could be reserved")
    MAP_HUGETLB = 0x40000
    size = 2 << 20
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mmap.restype = ctypes.c_void_p
    libc.mmap.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                          ctypes.c_int, ctypes.c_long)
    va = libc.mmap(None, size, 3, 0x22 | MAP_HUGETLB, -1, 0)
    assert va not in (None, ctypes.c_void_p(-1).value), os.strerror(ctypes.get_errno())
    try:
        ctypes.memset(va, 1, size)
        with Session(edu, device=False) as s:
            segs = D.noiommu_map(s.container, va, size, room=1)
            assert len(segs) == 1 and segs[0][1] == size
            assert segs[0][0] == pagemap_phys(va, 1)[0]
            assert segs[0][0] % size == 0
    finally:
        libc.munmap(ctypes.c_void_p(va), ctypes.c_size_t(size))
        with open("/proc/sys/vm/nr_hugepages", "w") as f:
            f.write("0")


def test_memlock_limit(edu):
    """RLIMIT_MEMLOCK without CAP_IPC_LOCK: ENOMEM; exact VmLck after map,
    unmap and close."""
    def child():
        with Session(edu, device=False) as s:
            mm, va = s.buffer(64 * PAGE)
            base_kb = vm_lck_kb()
            drop_cap(CAP_IPC_LOCK)
            resource.setrlimit(resource.RLIMIT_MEMLOCK,
                               (base_kb * 1024 + 16 * PAGE, base_kb * 1024 + 16 * PAGE))
            if eno(D.noiommu_map, s.container, va, 32 * PAGE) != errno.ENOMEM:
                return 1
            if vm_lck_kb() != base_kb or container_with(s.name)["pins"] != ["0"]:
                return 2
            D.noiommu_map(s.container, va, 8 * PAGE)
            if vm_lck_kb() != base_kb + 8 * PAGE // 1024:
                return 3
            # 8 more fit exactly, one page more does not.
            if eno(D.noiommu_map, s.container, va + 8 * PAGE, 9 * PAGE) != errno.ENOMEM:
                return 4
            D.noiommu_map(s.container, va + 8 * PAGE, 8 * PAGE)
            if vm_lck_kb() != base_kb + 16 * PAGE // 1024:
                return 5
            if D.noiommu_unmap(s.container, va, 8 * PAGE) != 8 * PAGE:
                return 6
            if vm_lck_kb() != base_kb + 8 * PAGE // 1024:
                return 7
            if container_with(s.name)["pinned_pages"] != ["8"]:
                return 8
        # Container closed: the rest went back.
        if vm_lck_kb() != base_kb:
            return 9
        return 0
    _, st = in_child(child)
    assert os.WIFEXITED(st) and os.WEXITSTATUS(st) == 0, st


def test_sigkill_releases_pins(edu):
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(rfd)
            s = Session(edu)
            mm, va = s.buffer(256 * PAGE)
            D.noiommu_map(s.container, va, 256 * PAGE, room=256)
            os.write(wfd, b"x")
            time.sleep(60)
        finally:
            os._exit(3)
    os.close(wfd)
    try:
        assert os.read(rfd, 1) == b"x"
        name = "noiommu-" + base.group_of(edu)
        cont = container_with(name)
        assert cont["pinned_pages"] == ["256"]
        assert vm_lck_kb(pid) == 256 * PAGE // 1024
    finally:
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        os.close(rfd)
    assert os.WIFSIGNALED(status)
    assert container_with(name) is None
    assert groups_dbg()[name]["owner"] == ["none"]
    # The group is usable again, nothing left pinned.
    with Session(edu) as s:
        assert D.noiommu_unmap(s.container, 0, 0, D.VFIO_DKMS_NOIOMMU_DMA_UNMAP_FLAG_ALL) == 0
        assert s.bar32(0) == EDU_ID


def _dma(s, src, dst, count, to_ram):
    s.bar64(0x80, src)
    s.bar64(0x88, dst)
    s.bar64(0x90, count)
    s.bar64(0x98, 1 | (2 if to_ram else 0))
    for _ in range(2000):
        if not s.bar64(0x98) & 1:
            return
        time.sleep(0.002)
    raise AssertionError("edu DMA did not complete")


def test_edu_dma_round_trip(edu):
    mask = int(os.environ.get("EDU_DMA_MASK", "0xfffffff"), 16)
    with Session(edu) as s:
        src, src_va = s.buffer(PAGE)
        dst, dst_va = s.buffer(PAGE)
        pattern = os.urandom(DMA_LEN)
        src[:DMA_LEN] = pattern
        dst[:] = b"\0" * PAGE
        (src_bus, n1), = D.noiommu_map(s.container, src_va, PAGE,
                                       flags=D.VFIO_DKMS_NOIOMMU_DMA_MAP_FLAG_READ)
        (dst_bus, n2), = D.noiommu_map(s.container, dst_va, PAGE)
        assert n1 == n2 == PAGE
        # edu masks DMA addresses: a wrapped address would hit other memory.
        for b in (src_bus, dst_bus):
            assert b + PAGE - 1 <= mask, "bus address 0x%x beyond edu's dma_mask 0x%x" % (b, mask)
        s.cfg16(4, s.cfg16(4) | 0x4)    # bus master
        try:
            _dma(s, src_bus, EDU_BUF, DMA_LEN, to_ram=False)     # RAM -> device
            _dma(s, EDU_BUF, dst_bus, DMA_LEN, to_ram=True)      # device -> RAM
            assert dst[:DMA_LEN] == pattern
            assert dst[DMA_LEN:] == b"\0" * (PAGE - DMA_LEN)
            # And once more with new content both ways.
            pattern2 = bytes(b ^ 0xff for b in pattern)
            src[:DMA_LEN] = pattern2
            _dma(s, src_bus, EDU_BUF, DMA_LEN, to_ram=False)
            _dma(s, EDU_BUF, dst_bus, DMA_LEN, to_ram=True)
            assert dst[:DMA_LEN] == pattern2
        finally:
            s.cfg16(4, s.cfg16(4) & ~0x4)


# --- through libvfio (C) and the Python package ---------------------------------

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
BUILD = os.environ.get("VFIO_BUILD", os.path.join(REPO, "build"))


def _mask_bits():
    return int(os.environ.get("EDU_DMA_MASK", "0xfffffff"), 16).bit_length()


class _Hugepages:
    def __enter__(self):
        with open("/proc/sys/vm/nr_hugepages", "w") as f:
            f.write("2")
        assert int(open("/proc/sys/vm/nr_hugepages").read()) >= 1, "no hugepage reserved"

    def __exit__(self, *exc):
        with open("/proc/sys/vm/nr_hugepages", "w") as f:
            f.write("0")


def _run_c(*args):
    prog = os.path.join(BUILD, "libvfio", "tests", "noiommu")
    assert os.access(prog, os.X_OK), "%s not built (make all)" % prog
    with _Hugepages():
        r = subprocess.run([prog] + list(args), capture_output=True, text=True, timeout=300)
    # Quoted: the program's own TAP lines must not count as this suite's.
    out = "\n".join("# " + l for l in (r.stdout + r.stderr).splitlines())
    print(out)
    oks = [l for l in r.stdout.splitlines() if l.startswith("ok ")]
    assert r.returncode == 0 and "not ok" not in r.stdout and len(oks) >= 10, out
    return oks


def test_libvfio_c(edu):
    _run_c(edu, str(_mask_bits()))


def test_python_package(edu):
    import vfio
    bits = _mask_bits()
    mask = (1 << bits) - 1
    with _Hugepages(), vfio.open(edu) as dev:
        assert dev.backend == "vfio-dkms"
        dev.set_dma_mask(bits)
        bar = dev.region(0)
        assert bar.read32(0) == EDU_ID
        src = dev.dma_alloc(PAGE, direction="to_device")
        dst = dev.dma_alloc(PAGE)
        for b in (src, dst):
            assert b.segments == [(b.iova, PAGE)]
            assert b.iova + PAGE - 1 <= mask
        pattern = os.urandom(DMA_LEN)
        memoryview(src)[:DMA_LEN] = pattern
        dev.set_bus_master(True)
        try:
            for s_, d_, n, to_ram in ((src.iova, EDU_BUF, DMA_LEN, 0), (EDU_BUF, dst.iova, DMA_LEN, 1)):
                bar.write64(0x80, s_)
                bar.write64(0x88, d_)
                bar.write64(0x90, n)
                bar.write64(0x98, 1 | (2 if to_ram else 0))
                for _ in range(2000):
                    if not bar.read64(0x98) & 1:
                        break
                    time.sleep(0.002)
                else:
                    raise AssertionError("edu DMA did not complete")
        finally:
            dev.set_bus_master(False)
        assert bytes(memoryview(dst)[:DMA_LEN]) == pattern

        big = dev.dma_alloc(64 * PAGE)
        assert sum(n for _, n in big.segments) == 64 * PAGE
        assert all(b + n - 1 <= mask for b, n in big.segments)
        if len(big.segments) > 1:
            with pytest.raises(vfio.Error) as e:
                big.iova
            assert e.value.errno == errno.EINVAL and "segments" in e.value.strerror
            assert "segments=%d" % len(big.segments) in repr(big)
        else:
            assert big.iova == big.segments[0][0]
        huge = dev.dma_alloc(2 << 20, hugepage_required=True)
        assert len(huge.segments) == 1 and huge.iova == huge.segments[0][0]
        assert huge.segments[0][1] == 2 << 20
        # Caller memory: the segments cover exactly the object's bytes.
        ba = bytearray(3 * PAGE)
        m = dev.dma_map(ba)
        assert sum(n for _, n in m.segments) == len(ba)
        m.unmap()
        name = "noiommu-" + base.group_of(edu)
        cont = container_with(name)
        assert cont["backend"] == ["noiommu"]
        assert cont["pinned_pages"] == [str(2 + 64 + 512)]
    assert container_with(name) is None


# --- a VM with both kinds of groups (suite noiommu-mixed) ----------------------

@pytest.fixture(scope="module")
def real_edu(modules, edu):
    found = [bdf for bdf, grouped in edus() if grouped]
    assert found, "no edu with an IOMMU group"
    bdf = found[0]
    base.bind(bdf, "vfio-dkms-pci")
    modules.wait_node(base.group_of(bdf))
    yield bdf
    base.unbind(bdf)


def test_mixed_set_container_eperm(edu, real_edu):
    noiommu_node = node_of(edu)
    real_node = "/dev/vfio-dkms/" + base.group_of(real_edu)
    assert os.path.exists(real_node)
    # Real group first, then the no-IOMMU group: EPERM.
    c = os.open("/dev/vfio-dkms/vfio", os.O_RDWR)
    gr = os.open(real_node, os.O_RDWR)
    gn = os.open(noiommu_node, os.O_RDWR)
    try:
        V.set_container(gr, c)
        assert V.ioctl(c, V.VFIO_CHECK_EXTENSION, D.VFIO_NOIOMMU_IOMMU) == 0
        assert V.ioctl(c, V.VFIO_CHECK_EXTENSION, D.VFIO_DKMS_NOIOMMU_DMA) == 0
        assert V.ioctl(c, V.VFIO_CHECK_EXTENSION, V.VFIO_TYPE1v2_IOMMU) == 1
        assert eno(V.set_container, gn, c) == errno.EPERM
        assert eno(V.ioctl, c, V.VFIO_SET_IOMMU, D.VFIO_NOIOMMU_IOMMU) == errno.ENODEV
        V.ioctl(c, V.VFIO_SET_IOMMU, V.VFIO_TYPE1v2_IOMMU)
        assert eno(V.set_container, gn, c) == errno.EPERM
        assert V.ioctl(c, V.VFIO_CHECK_EXTENSION, D.VFIO_DKMS_NOIOMMU_DMA) == 0
        raw, hdr = D.make_map(0x10000, PAGE, 1)
        assert eno(V.ioctl, c, D.VFIO_DKMS_NOIOMMU_MAP_DMA, raw) == errno.ENOTTY
        # The no-IOMMU group is untouched and usable elsewhere.
        st = V.GroupStatus()
        V.ioctl(gn, V.VFIO_GROUP_GET_STATUS, st)
        assert st.flags == V.VFIO_GROUP_FLAGS_VIABLE
    finally:
        for fd in (gn, gr, c):
            os.close(fd)
    # No-IOMMU group first, then the real group: EPERM.
    c = os.open("/dev/vfio-dkms/vfio", os.O_RDWR)
    gr = os.open(real_node, os.O_RDWR)
    gn = os.open(noiommu_node, os.O_RDWR)
    try:
        V.set_container(gn, c)
        assert eno(V.set_container, gr, c) == errno.EPERM
        V.ioctl(c, V.VFIO_SET_IOMMU, D.VFIO_NOIOMMU_IOMMU)
        assert eno(V.set_container, gr, c) == errno.EPERM
        st = V.GroupStatus()
        V.ioctl(gr, V.VFIO_GROUP_GET_STATUS, st)
        assert st.flags == V.VFIO_GROUP_FLAGS_VIABLE
        # Once the no-IOMMU group left, the container takes the real one.
        V.ioctl(gn, V.VFIO_GROUP_UNSET_CONTAINER)
        V.set_container(gr, c)
        V.ioctl(c, V.VFIO_SET_IOMMU, V.VFIO_TYPE1v2_IOMMU)
    finally:
        for fd in (gn, gr, c):
            os.close(fd)


def test_mixed_both_work_side_by_side(edu, real_edu):
    """Each in its own container, at the same time; edu DMA through both."""
    with Session(edu) as s:
        buf, va = s.buffer(PAGE)
        (bus, _), = D.noiommu_map(s.container, va, PAGE)
        c = os.open("/dev/vfio-dkms/vfio", os.O_RDWR)
        g = os.open("/dev/vfio-dkms/" + base.group_of(real_edu), os.O_RDWR)
        try:
            V.set_container(g, c)
            V.ioctl(c, V.VFIO_SET_IOMMU, V.VFIO_TYPE1v2_IOMMU)
            d = V.get_device_fd(g, real_edu)
            assert struct.unpack("<I", os.pread(d, 4, 0))[0] == EDU_ID
            os.close(d)
        finally:
            os.close(g)
            os.close(c)
        assert s.bar32(0) == EDU_ID


def test_mixed_libvfio_c(edu, real_edu):
    _run_c(edu, str(_mask_bits()), real_edu)
