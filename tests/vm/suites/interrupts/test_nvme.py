# SPDX-License-Identifier: GPL-2.0
"""nvme: MSI-X vectors (setup, loopback, detach, teardown, one fired by an
admin command completion), VFIO_DEVICE_RESET, BAR mmaps revoked while
memory decode is off and faulted back after.  Same expectations for both
backends."""

import errno
import faulthandler
import mmap
import os
import signal
import struct
import time

import pytest

import vfio_uapi as V
import vfio_irqs as I
from vfio_irqs import BOOL, EVENTFD, NONE, TRIGGER
from vfio_backends import wait_for
from vfio_fixtures import IN_TREE
from vfio_session import Session
from vfio_uapi import errno_of as eno

MSIX, ERR = V.VFIO_PCI_MSIX_IRQ_INDEX, V.VFIO_PCI_ERR_IRQ_INDEX
QUIET = 0.5
IOVA = 0x100000
NVME_CAP, NVME_VS, NVME_CC, NVME_CSTS, NVME_AQA, NVME_ASQ, NVME_ACQ = (
    0x00, 0x08, 0x14, 0x1c, 0x24, 0x28, 0x30)


@pytest.fixture
def s(backend, nvme):
    with Session(backend, nvme) as sess:
        sess.bus_master()
        yield sess


def msix_lines(bdf):
    return [l for l in I.proc_interrupts_lines(bdf) if "msix[" in l]


def test_irq_info(backend, s):
    got = {}
    for index in range(V.VFIO_PCI_NUM_IRQS):
        info = I.irq_info(s.device, index)
        got[index] = (info.flags, info.count)
    assert got[MSIX][1] >= 4
    assert got[MSIX][0] & V.VFIO_IRQ_INFO_EVENTFD
    assert got[ERR] == (V.VFIO_IRQ_INFO_EVENTFD | V.VFIO_IRQ_INFO_NORESIZE, 1)
    if backend.name == "in-tree":
        IN_TREE["nvme_irq_info"] = got
    elif "nvme_irq_info" in IN_TREE:
        assert got == IN_TREE["nvme_irq_info"]


def test_msix_vectors(backend, s):
    d = s.device
    nvec = I.irq_info(d, MSIX).count
    efds = [s.eventfd() for _ in range(4)]
    assert I.set_irqs(d, MSIX, EVENTFD | TRIGGER, data=efds) == 0
    assert len(msix_lines(s.dev.bdf)) == 4
    # loopback: all, then some
    assert I.set_irqs(d, MSIX, NONE | TRIGGER, count=4) == 0
    assert [I.wait_event(e) for e in efds] == [1, 1, 1, 1]
    assert I.set_irqs(d, MSIX, BOOL | TRIGGER, start=1, data=[1, 0, 1]) == 0
    assert [I.wait_event(e, QUIET if i in (0, 2) else 5) for i, e in enumerate(efds)] == [0, 1, 0, 1]
    # detach vector 1
    assert I.set_irqs(d, MSIX, EVENTFD | TRIGGER, start=1, data=[-1]) == 0
    lines = msix_lines(s.dev.bdf)
    assert len(lines) == 3 and not any("msix[1]" in l for l in lines), lines
    assert I.set_irqs(d, MSIX, NONE | TRIGGER, count=4) == 0
    assert [I.wait_event(e, QUIET if i == 1 else 5) for i, e in enumerate(efds)] == [1, 0, 1, 1]
    # attach it again with another eventfd
    e1 = s.eventfd()
    assert I.set_irqs(d, MSIX, EVENTFD | TRIGGER, start=1, data=[e1]) == 0
    assert I.set_irqs(d, MSIX, NONE | TRIGGER, start=1, count=1) == 0
    assert I.wait_event(e1) == 1
    assert len(msix_lines(s.dev.bdf)) == 4
    # beyond the device's vectors
    assert eno(I.set_irqs, d, MSIX, EVENTFD | TRIGGER, start=nvec, data=[e1]) == errno.EINVAL
    # a vector beyond those enabled: refused, or added where MSI-X can grow
    # (in-tree and we decide alike)
    e9 = s.eventfd()
    res = eno(I.set_irqs, d, MSIX, EVENTFD | TRIGGER, start=9, data=[e9])
    grown = len(msix_lines(s.dev.bdf))
    noresize = bool(I.irq_info(d, MSIX).flags & V.VFIO_IRQ_INFO_NORESIZE)
    assert (res, grown) == ((errno.EINVAL, 4) if noresize else (0, 5))
    if backend.name == "in-tree":
        IN_TREE["msix_grow"] = (res, grown)
    elif "msix_grow" in IN_TREE:
        assert (res, grown) == IN_TREE["msix_grow"]
    # MSI cannot be enabled beside MSI-X
    assert eno(I.set_irqs, d, V.VFIO_PCI_MSI_IRQ_INDEX, EVENTFD | TRIGGER,
               data=[e1]) in (errno.EINVAL,)
    # disable
    assert I.set_irqs(d, MSIX, NONE | TRIGGER, count=0) == 0
    assert I.proc_interrupts_lines(s.dev.bdf) == []
    # enable again starting at a later vector: vectors 0..start-1 unused
    assert I.set_irqs(d, MSIX, EVENTFD | TRIGGER, start=2, data=efds[:2]) == 0
    lines = msix_lines(s.dev.bdf)
    assert len(lines) == 2 and "msix[2]" in " ".join(lines), lines
    # closing the device with MSI-X enabled tears it down (fixture)


def test_close_with_msix_enabled(backend, nvme):
    with Session(backend, nvme) as sess:
        efds = [sess.eventfd() for _ in range(3)]
        assert I.set_irqs(sess.device, MSIX, EVENTFD | TRIGGER, data=efds) == 0
        assert len(msix_lines(nvme.bdf)) == 3
    assert I.proc_interrupts_lines(nvme.bdf) == []


class Nvme:
    """Just enough of an NVMe controller to run one admin command."""

    def __init__(self, sess):
        self.s = sess
        cap = sess.bar64(NVME_CAP)
        self.dstrd = (cap >> 32) & 0xf
        self.timeout = max(((cap >> 24) & 0xff) * 0.5, 2.0) * 5
        self.mem = mmap.mmap(-1, 3 * 4096)
        self.vaddr = V.buffer_address(self.mem)
        V.map_dma(sess.container, self.vaddr, IOVA, len(self.mem))

    def disable(self):
        self.s.bar32(NVME_CC, 0)
        assert wait_for(lambda: not (self.s.bar32(NVME_CSTS) & 1), self.timeout)

    def enable(self):
        self.disable()
        self.mem[0:8192] = bytes(8192)
        self.sq_tail, self.cq_head, self.phase = 0, 0, 1
        self.s.bar32(NVME_AQA, (3 << 16) | 3)  # 4-entry admin queues
        self.s.bar64(NVME_ASQ, IOVA)
        self.s.bar64(NVME_ACQ, IOVA + 4096)
        self.s.bar32(NVME_CC, (4 << 20) | (6 << 16) | 1)
        assert wait_for(lambda: self.s.bar32(NVME_CSTS) & 1, self.timeout)

    def identify(self, cid):
        """Submit Identify Controller; the caller waits for the interrupt.
        Returns a function that checks the completion and consumes it."""
        self.mem[8192:12288] = bytes(4096)
        cmd = struct.pack("<BBHI", 0x06, 0, cid, 0) + bytes(16) + \
            struct.pack("<QQ", IOVA + 8192, 0) + struct.pack("<I", 1) + bytes(20)
        assert len(cmd) == 64
        off = self.sq_tail * 64
        self.mem[off:off + 64] = cmd
        self.sq_tail = (self.sq_tail + 1) % 4
        self.s.bar32(0x1000, self.sq_tail)  # SQ 0 tail doorbell

        def check():
            off = 4096 + self.cq_head * 16
            dw3 = struct.unpack_from("<I", self.mem, off + 12)[0]
            assert dw3 & 0xffff == cid and (dw3 >> 16) & 1 == self.phase
            assert (dw3 >> 17) == 0  # status
            assert struct.unpack_from("<H", self.mem, 8192)[0] == 0x1b36
            assert self.mem[8192 + 4:8192 + 12] == b"vfiotest"
            self.cq_head = (self.cq_head + 1) % 4
            if self.cq_head == 0:
                self.phase ^= 1
            self.s.bar32(0x1000 + (4 << self.dstrd), self.cq_head)  # CQ 0 head
        return check

    def close(self):
        self.disable()
        V.unmap_dma(self.s.container, IOVA, len(self.mem))
        try:
            self.mem.close()
        except BufferError:
            pass


def test_msix_fired_by_admin_command(s):
    efds = [s.eventfd() for _ in range(2)]
    assert I.set_irqs(s.device, MSIX, EVENTFD | TRIGGER, data=efds) == 0
    ctl = Nvme(s)
    try:
        ctl.enable()
        check = ctl.identify(7)
        assert I.wait_event(efds[0], 10) == 1  # the admin CQ uses vector 0
        check()
        assert I.wait_event(efds[1], QUIET) == 0
        # once more after detaching and re-attaching vector 0
        assert I.set_irqs(s.device, MSIX, EVENTFD | TRIGGER, data=[-1]) == 0
        e0 = s.eventfd()
        assert I.set_irqs(s.device, MSIX, EVENTFD | TRIGGER, data=[e0]) == 0
        check = ctl.identify(8)
        assert I.wait_event(e0, 10) == 1
        check()
        assert I.wait_event(efds[0], QUIET) == 0
    finally:
        ctl.close()
    assert I.set_irqs(s.device, MSIX, NONE | TRIGGER, count=0) == 0


def test_reset(backend, s):
    info = s.device_info()
    if backend.name == "in-tree":
        IN_TREE["nvme_reset_flag"] = info.flags & V.VFIO_DEVICE_FLAGS_RESET
    elif "nvme_reset_flag" in IN_TREE:
        assert info.flags & V.VFIO_DEVICE_FLAGS_RESET == IN_TREE["nvme_reset_flag"]
    if not info.flags & V.VFIO_DEVICE_FLAGS_RESET:
        assert eno(V.ioctl, s.device, V.VFIO_DEVICE_RESET) == errno.EINVAL
        pytest.skip("no reset method")
    bar = s.mmap_bar(0)
    vs = struct.unpack_from("<I", bar, NVME_VS)[0]
    assert vs == s.bar32(NVME_VS) and vs >= 0x10000
    # put the controller in a non-reset state: enabled
    ctl = Nvme(s)
    ctl.enable()
    assert struct.unpack_from("<I", bar, NVME_CSTS)[0] & 1
    assert V.ioctl(s.device, V.VFIO_DEVICE_RESET) == 0
    # the controller is reset; the mmap faults back in and works
    assert s.bar32(NVME_CC) == 0 and not s.bar32(NVME_CSTS) & 1
    assert struct.unpack_from("<I", bar, NVME_CC)[0] == 0
    assert struct.unpack_from("<I", bar, NVME_VS)[0] == vs
    ctl.close()
    # and the device works: an admin command with an interrupt
    efds = [s.eventfd()]
    s.bus_master()
    assert I.set_irqs(s.device, MSIX, EVENTFD | TRIGGER, data=efds) == 0
    ctl = Nvme(s)
    try:
        ctl.enable()
        check = ctl.identify(9)
        assert I.wait_event(efds[0], 10) == 1
        check()
    finally:
        ctl.close()
    # resetting with MSI-X enabled is fine too, and again after
    assert V.ioctl(s.device, V.VFIO_DEVICE_RESET) == 0
    assert I.set_irqs(s.device, MSIX, NONE | TRIGGER, count=0) == 0


def _touch_in_child(m, off):
    """Read @m[off] in a forked child; returns the child's fate."""
    pid = os.fork()
    if pid == 0:
        faulthandler.disable()  # SIGBUS is the expected outcome
        try:
            struct.unpack_from("<I", m, off)
        finally:
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        return os.WTERMSIG(status)
    return 0


def test_mmap_revoked_while_memory_disabled(s):
    bar = s.mmap_bar(0)
    vs = s.bar32(NVME_VS)
    assert struct.unpack_from("<I", bar, NVME_VS)[0] == vs
    cmd = s.cfg16(4)
    s.cfg16(4, cmd & ~0x2)
    try:
        assert _touch_in_child(bar, NVME_VS) == signal.SIGBUS
    finally:
        s.cfg16(4, cmd | 0x2)
    assert _touch_in_child(bar, NVME_VS) == 0
    assert struct.unpack_from("<I", bar, NVME_VS)[0] == vs
