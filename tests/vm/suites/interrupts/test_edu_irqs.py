# SPDX-License-Identifier: GPL-2.0
"""edu: GET_IRQ_INFO, SET_IRQS validation, MSI, INTx, ERR/REQ loopback,
teardown on close.  The same expectations for both backends."""

import errno
import os
import time

import pytest

import vfio_uapi as V
import vfio_irqs as I
from vfio_irqs import BOOL, EVENTFD, MASK, NONE, TRIGGER, UNMASK
from vfio_fixtures import IN_TREE
from vfio_session import Session
from vfio_uapi import errno_of as eno

INTX, MSI, MSIX, ERR, REQ = (V.VFIO_PCI_INTX_IRQ_INDEX, V.VFIO_PCI_MSI_IRQ_INDEX,
                             V.VFIO_PCI_MSIX_IRQ_INDEX, V.VFIO_PCI_ERR_IRQ_INDEX,
                             V.VFIO_PCI_REQ_IRQ_INDEX)
EDU_STATUS, EDU_FACT, EDU_IRQ_STATUS, EDU_IRQ_RAISE, EDU_IRQ_ACK = 0x20, 0x08, 0x24, 0x60, 0x64
QUIET = 0.5  # seconds without an event that count as "no interrupt"


@pytest.fixture
def s(backend, edu):
    with Session(backend, edu) as sess:
        sess.bus_master()
        yield sess


def test_irq_info(backend, s):
    got = {}
    for index in (INTX, MSI, MSIX, REQ):
        info = I.irq_info(s.device, index)
        got[index] = (info.flags, info.count)
    assert got[INTX] == (V.VFIO_IRQ_INFO_EVENTFD | V.VFIO_IRQ_INFO_MASKABLE |
                         V.VFIO_IRQ_INFO_AUTOMASKED, 1)
    assert got[MSI] == (V.VFIO_IRQ_INFO_EVENTFD | V.VFIO_IRQ_INFO_NORESIZE, 1)
    assert got[MSIX][1] == 0
    assert got[REQ] == (V.VFIO_IRQ_INFO_EVENTFD | V.VFIO_IRQ_INFO_NORESIZE, 1)
    # edu is conventional PCI: no ERR index.
    assert eno(I.irq_info, s.device, ERR) == errno.EINVAL
    assert eno(I.irq_info, s.device, 5) == errno.EINVAL
    assert eno(V.ioctl, s.device, V.VFIO_DEVICE_GET_IRQ_INFO,
               V.IrqInfo(index=0, argsz=8)) == errno.EINVAL
    if backend.name == "in-tree":
        IN_TREE["edu_irq_info"] = got
    elif "edu_irq_info" in IN_TREE:
        assert got == IN_TREE["edu_irq_info"]


def test_set_irqs_validation(s):
    d = s.device
    efd = s.eventfd()
    # argsz below the header
    assert eno(I.set_irqs, d, MSI, NONE | TRIGGER, argsz=16) == errno.EINVAL
    # bad index
    assert eno(I.set_irqs, d, 5, NONE | TRIGGER) == errno.EINVAL
    assert eno(I.set_irqs, d, 0xffffffff, NONE | TRIGGER) == errno.EINVAL
    # unknown flag, two data types, no data type
    assert eno(I.set_irqs, d, MSI, NONE | TRIGGER | (1 << 6)) == errno.EINVAL
    assert eno(I.set_irqs, d, MSI, NONE | BOOL | TRIGGER, count=1,
               data=[1]) == errno.EINVAL
    assert eno(I.set_irqs, d, MSI, TRIGGER, count=0) == errno.EINVAL
    # bad action combinations: no such action / none for this index
    assert eno(I.set_irqs, d, INTX, NONE | MASK | UNMASK, count=1) == errno.ENOTTY
    assert eno(I.set_irqs, d, MSI, NONE | MASK, count=1) == errno.ENOTTY
    assert eno(I.set_irqs, d, MSI, NONE | UNMASK, count=1) == errno.ENOTTY
    assert eno(I.set_irqs, d, REQ, NONE | MASK, count=1) == errno.ENOTTY
    # count beyond the vectors (MSI has 1), start beyond, MSI-X has none
    assert eno(I.set_irqs, d, MSI, EVENTFD | TRIGGER, data=[efd, efd]) == errno.EINVAL
    assert eno(I.set_irqs, d, MSI, EVENTFD | TRIGGER, start=1, data=[efd]) == errno.EINVAL
    assert eno(I.set_irqs, d, MSIX, EVENTFD | TRIGGER, data=[efd]) == errno.EINVAL
    assert eno(I.set_irqs, d, ERR, EVENTFD | TRIGGER, data=[efd]) == errno.EINVAL
    # start + count wraps
    assert eno(I.set_irqs, d, MSI, NONE | TRIGGER, start=1, count=0xffffffff) == errno.EINVAL
    assert eno(I.set_irqs, d, MSI, NONE | TRIGGER, start=0xffffffff, count=1) == errno.EINVAL
    # argsz too small for the data
    assert eno(I.set_irqs, d, MSI, EVENTFD | TRIGGER, data=[efd],
               argsz=I.SET_HDR_SIZE + 2) == errno.EINVAL
    assert eno(I.set_irqs, d, INTX, BOOL | UNMASK, count=1, data=[],
               argsz=I.SET_HDR_SIZE) == errno.EINVAL
    # state: nothing enabled yet
    assert eno(I.set_irqs, d, INTX, NONE | TRIGGER, count=1) == errno.EINVAL
    assert eno(I.set_irqs, d, INTX, NONE | UNMASK, count=1) == errno.EINVAL
    assert eno(I.set_irqs, d, INTX, NONE | MASK, count=1) == errno.EINVAL
    assert eno(I.set_irqs, d, MSI, NONE | TRIGGER, count=1) == errno.EINVAL
    assert eno(I.set_irqs, d, MSI, NONE | TRIGGER, count=0) == errno.EINVAL
    assert eno(I.set_irqs, d, REQ, NONE | TRIGGER, count=1) == errno.EINVAL
    # not an eventfd, not a file, fd < -1
    assert eno(I.set_irqs, d, MSI, EVENTFD | TRIGGER, data=[s.container]) == errno.EINVAL
    assert eno(I.set_irqs, d, MSI, EVENTFD | TRIGGER, data=[9999]) == errno.EBADF
    # fd < -1 for REQ: ignored before the 6.12 rework of ERR/REQ, EINVAL after
    strict = tuple(int(x) for x in os.uname().release.split(".")[:2]) >= (6, 12)
    assert eno(I.set_irqs, d, REQ, EVENTFD | TRIGGER, data=[-2]) == \
        (errno.EINVAL if strict else 0)
    # nothing was left enabled by the failures
    assert I.proc_interrupts_lines(s.dev.bdf) == []


def test_msi_raise(s):
    d = s.device
    efd = s.eventfd()
    assert I.set_irqs(d, MSI, EVENTFD | TRIGGER, data=[efd]) == 0
    lines = I.proc_interrupts_lines(s.dev.bdf)
    assert len(lines) == 1 and "msi[0]" in lines[0], lines
    # INTx cannot be enabled beside MSI.
    assert eno(I.set_irqs, d, INTX, EVENTFD | TRIGGER, count=1, data=[efd]) == errno.EINVAL
    for val in (0x1, 0x100, 0x40000000):
        s.bar32(EDU_IRQ_RAISE, val)
        assert I.wait_event(efd) >= 1
        assert s.bar32(EDU_IRQ_STATUS) == val
        s.bar32(EDU_IRQ_ACK, val)
        assert s.bar32(EDU_IRQ_STATUS) == 0
    # loopback
    assert I.set_irqs(d, MSI, NONE | TRIGGER, count=1) == 0
    assert I.wait_event(efd) == 1
    assert I.set_irqs(d, MSI, BOOL | TRIGGER, data=[0]) == 0
    assert I.wait_event(efd, QUIET) == 0
    assert I.set_irqs(d, MSI, BOOL | TRIGGER, data=[1]) == 0
    assert I.wait_event(efd) == 1
    # detach the vector: no more events, MSI stays enabled
    assert I.set_irqs(d, MSI, EVENTFD | TRIGGER, data=[-1]) == 0
    assert I.proc_interrupts_lines(s.dev.bdf) == []
    s.bar32(EDU_IRQ_RAISE, 1)
    assert I.wait_event(efd, QUIET) == 0
    s.bar32(EDU_IRQ_ACK, 1)
    efd2 = s.eventfd()
    assert I.set_irqs(d, MSI, EVENTFD | TRIGGER, data=[efd2]) == 0
    s.bar32(EDU_IRQ_RAISE, 2)
    assert I.wait_event(efd2) >= 1
    s.bar32(EDU_IRQ_ACK, 2)
    # disable
    assert I.set_irqs(d, MSI, NONE | TRIGGER, count=0) == 0
    assert I.proc_interrupts_lines(s.dev.bdf) == []
    assert eno(I.set_irqs, d, MSI, NONE | TRIGGER, count=1) == errno.EINVAL


def test_factorial_irq(s):
    efd = s.eventfd()
    assert I.set_irqs(s.device, MSI, EVENTFD | TRIGGER, data=[efd]) == 0
    s.bar32(EDU_STATUS, 0x80)
    s.bar32(EDU_FACT, 10)
    assert I.wait_event(efd) >= 1
    assert s.bar32(EDU_FACT) == 3628800
    assert s.bar32(EDU_IRQ_STATUS) == 0x1
    s.bar32(EDU_IRQ_ACK, 0x1)
    s.bar32(EDU_STATUS, 0)
    assert I.set_irqs(s.device, MSI, NONE | TRIGGER, count=0) == 0


def test_intx_automask_and_unmask(s):
    d = s.device
    efd = s.eventfd()
    assert I.set_irqs(d, INTX, EVENTFD | TRIGGER, data=[efd]) == 0
    lines = I.proc_interrupts_lines(s.dev.bdf)
    assert len(lines) == 1 and "intx" in lines[0], lines
    assert eno(I.set_irqs, d, MSI, EVENTFD | TRIGGER, data=[efd]) == errno.EINVAL
    assert eno(I.set_irqs, d, INTX, EVENTFD | TRIGGER, start=1, data=[efd]) == errno.EINVAL
    # fire: one event, then masked although the line stays asserted
    s.bar32(EDU_IRQ_RAISE, 1)
    assert I.wait_event(efd) == 1
    assert I.wait_event(efd, QUIET) == 0
    # unmask while still asserted: signalled again, still masked
    assert I.set_irqs(d, INTX, NONE | UNMASK, count=1) == 0
    assert I.wait_event(efd) == 1
    assert I.wait_event(efd, QUIET) == 0
    # ack, unmask: quiet; the next raise fires
    s.bar32(EDU_IRQ_ACK, 1)
    assert I.set_irqs(d, INTX, BOOL | UNMASK, data=[1]) == 0
    assert I.wait_event(efd, QUIET) == 0
    s.bar32(EDU_IRQ_RAISE, 2)
    assert I.wait_event(efd) == 1
    s.bar32(EDU_IRQ_ACK, 2)
    assert I.set_irqs(d, INTX, BOOL | UNMASK, data=[0]) == 0  # no-op
    s.bar32(EDU_IRQ_RAISE, 2)
    assert I.wait_event(efd, QUIET) == 0  # still masked
    s.bar32(EDU_IRQ_ACK, 2)
    assert I.set_irqs(d, INTX, NONE | UNMASK, count=1) == 0
    assert I.wait_event(efd, QUIET) == 0
    # mask by ioctl: a raise waits for the unmask
    assert I.set_irqs(d, INTX, NONE | MASK, count=1) == 0
    s.bar32(EDU_IRQ_RAISE, 4)
    assert I.wait_event(efd, QUIET) == 0
    assert I.set_irqs(d, INTX, NONE | UNMASK, count=1) == 0
    assert I.wait_event(efd) == 1
    s.bar32(EDU_IRQ_ACK, 4)
    assert I.set_irqs(d, INTX, BOOL | MASK, data=[0]) == 0  # no-op
    assert I.set_irqs(d, INTX, NONE | UNMASK, count=1) == 0
    assert eno(I.set_irqs, d, INTX, EVENTFD | MASK, data=[efd]) == errno.ENOTTY
    # loopback
    assert I.set_irqs(d, INTX, NONE | TRIGGER, count=1) == 0
    assert I.wait_event(efd) == 1
    assert I.set_irqs(d, INTX, BOOL | TRIGGER, data=[1]) == 0
    assert I.wait_event(efd) == 1
    assert I.set_irqs(d, INTX, NONE | TRIGGER, count=0) == 0
    assert I.proc_interrupts_lines(s.dev.bdf) == []


def test_intx_unmask_eventfd(s):
    d = s.device
    efd, unmask = s.eventfd(), s.eventfd()
    assert I.set_irqs(d, INTX, EVENTFD | TRIGGER, data=[efd]) == 0
    assert I.set_irqs(d, INTX, EVENTFD | UNMASK, data=[unmask]) == 0
    s.bar32(EDU_IRQ_RAISE, 1)
    assert I.wait_event(efd) == 1
    # unmask by eventfd while asserted: the kernel signals the trigger again
    os.eventfd_write(unmask, 1)
    assert I.wait_event(efd) == 1
    s.bar32(EDU_IRQ_ACK, 1)
    os.eventfd_write(unmask, 1)
    assert I.wait_event(efd, QUIET) == 0
    for val in (2, 8):
        s.bar32(EDU_IRQ_RAISE, val)
        assert I.wait_event(efd) == 1
        s.bar32(EDU_IRQ_ACK, val)
        os.eventfd_write(unmask, 1)
    # the kernel consumed the unmask writes
    assert I.drain(unmask) == 0
    # detach the unmask eventfd: writes no longer unmask
    assert I.set_irqs(d, INTX, EVENTFD | UNMASK, data=[-1]) == 0
    s.bar32(EDU_IRQ_RAISE, 1)
    assert I.wait_event(efd) == 1
    s.bar32(EDU_IRQ_ACK, 1)
    os.eventfd_write(unmask, 1)
    s.bar32(EDU_IRQ_RAISE, 1)
    assert I.wait_event(efd, QUIET) == 0
    s.bar32(EDU_IRQ_ACK, 1)
    # closing the unmask eventfd while registered is harmless
    unmask2 = I.eventfd()
    assert I.set_irqs(d, INTX, EVENTFD | UNMASK, data=[unmask2]) == 0
    os.close(unmask2)
    # detaching the trigger keeps INTx enabled (a raise is not signalled)
    assert I.set_irqs(d, INTX, EVENTFD | TRIGGER, data=[-1]) == 0
    assert len(I.proc_interrupts_lines(s.dev.bdf)) == 1
    assert I.set_irqs(d, INTX, NONE | UNMASK, count=1) == 0
    s.bar32(EDU_IRQ_RAISE, 1)
    assert I.wait_event(efd, QUIET) == 0
    s.bar32(EDU_IRQ_ACK, 1)
    assert I.set_irqs(d, INTX, NONE | TRIGGER, count=0) == 0
    assert I.proc_interrupts_lines(s.dev.bdf) == []


def test_req_loopback(s):
    d = s.device
    efd = s.eventfd()
    assert I.set_irqs(d, REQ, EVENTFD | TRIGGER, data=[efd]) == 0
    assert I.set_irqs(d, REQ, NONE | TRIGGER, count=1) == 0
    assert I.wait_event(efd) == 1
    assert I.set_irqs(d, REQ, BOOL | TRIGGER, data=[1]) == 0
    assert I.wait_event(efd) == 1
    assert eno(I.set_irqs, d, REQ, BOOL | TRIGGER, count=0) == errno.EINVAL
    assert eno(I.set_irqs, d, REQ, EVENTFD | TRIGGER, count=0) == errno.EINVAL
    # count 0 + DATA_NONE removes it, -1 too
    assert I.set_irqs(d, REQ, NONE | TRIGGER, count=0) == 0
    assert eno(I.set_irqs, d, REQ, NONE | TRIGGER, count=1) == errno.EINVAL
    assert I.set_irqs(d, REQ, EVENTFD | TRIGGER, data=[efd]) == 0
    assert I.set_irqs(d, REQ, EVENTFD | TRIGGER, data=[-1]) == 0
    assert I.set_irqs(d, REQ, BOOL | TRIGGER, data=[1]) == 0
    assert I.wait_event(efd, QUIET) == 0


@pytest.mark.parametrize("index", [INTX, MSI])
def test_close_with_irqs_enabled(backend, edu, index):
    with Session(backend, edu) as sess:
        sess.bus_master()
        efd = sess.eventfd()
        assert I.set_irqs(sess.device, index, EVENTFD | TRIGGER, data=[efd]) == 0
        unmask = sess.eventfd()
        if index == INTX:
            assert I.set_irqs(sess.device, INTX, EVENTFD | UNMASK, data=[unmask]) == 0
        req = sess.eventfd()
        assert I.set_irqs(sess.device, REQ, EVENTFD | TRIGGER, data=[req]) == 0
        assert len(I.proc_interrupts_lines(edu.bdf)) == 1
        # leave the device with an interrupt pending
        sess.bar32(EDU_IRQ_RAISE, 1)
        time.sleep(0.2)
    assert I.proc_interrupts_lines(edu.bdf) == []
    # the next user starts from scratch and gets interrupts
    with Session(backend, edu) as sess:
        sess.bus_master()
        assert sess.bar32(EDU_IRQ_STATUS) in (0, 1)
        sess.bar32(EDU_IRQ_ACK, 0xffffffff)
        efd = sess.eventfd()
        assert I.set_irqs(sess.device, MSI, EVENTFD | TRIGGER, data=[efd]) == 0
        sess.bar32(EDU_IRQ_RAISE, 1)
        assert I.wait_event(efd) >= 1
        sess.bar32(EDU_IRQ_ACK, 1)
    assert I.proc_interrupts_lines(edu.bdf) == []
