# SPDX-License-Identifier: GPL-2.0
"""Bounded removal (vfio-dkms only; docs/interrupts.md, "Removal"): when the
user ignores REQ, an unbind or hot-unplug waits release_timeout seconds,
then revokes the open device fds: they answer ENODEV, the device is quiet
(no interrupts, BAR mmaps give SIGBUS) and the removal completes.  With
release_timeout=0 the wait is unbounded, as in the in-tree framework."""

import errno
import faulthandler
import mmap
import os
import signal
import subprocess
import time

import pytest

import vfio_irqs as I
import vfio_uapi as V
from vfio_irqs import EVENTFD, TRIGGER
import vfio_backends as base
from vfio_backends import EDU_IDS, bound_device, unbind_async, wait_for
from vfio_session import Session

PARAM = "/sys/module/vfio_dkms/parameters/release_timeout"
REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
QMP = os.path.join(REPO, "tests", "vm", "guest", "qmp")


@pytest.fixture()
def timeout_param(release_timeout):
    """release_timeout's setter, after checking the default (30 s)."""
    with open(PARAM) as f:
        assert f.read().strip() == "30", "default release_timeout"
    return release_timeout


@pytest.fixture()
def edu(dkms):
    # Function scope: every test removes the device from the driver.
    yield from bound_device(dkms, EDU_IDS)


def held_session(dkms, edu):
    s = Session(dkms, edu)
    s.bus_master()
    req = s.eventfd()
    assert I.set_irqs(s.device, V.VFIO_PCI_REQ_IRQ_INDEX, EVENTFD | TRIGGER, data=[req]) == 0
    msi = s.eventfd()
    assert I.set_irqs(s.device, V.VFIO_PCI_MSI_IRQ_INDEX, EVENTFD | TRIGGER, data=[msi]) == 0
    bar = s.mmap_bar(0)
    assert int.from_bytes(bar[0:4], "little") == 0x010000ed
    assert I.proc_interrupts_lines(edu.bdf) != []
    return s, req, bar


def child_touches(bar):
    """How a forked child that reads the (inherited) BAR mapping ends."""
    pid = os.fork()
    if pid == 0:
        faulthandler.disable()      # pytest's handler would print the SIGBUS
        try:
            os._exit(0 if bar[0] is not None else 1)
        finally:
            os._exit(2)
    _, status = os.waitpid(pid, 0)
    return status


def assert_revoked(s, bdf):
    for call in (lambda: os.pread(s.device, 4, V.region_offset(0)),
                 lambda: os.pwrite(s.device, b"\0\0\0\0", V.region_offset(0) + 4),
                 lambda: s.device_info(),
                 lambda: I.set_irqs(s.device, V.VFIO_PCI_MSI_IRQ_INDEX, EVENTFD | TRIGGER,
                                    data=[s.efds[-1]]),
                 lambda: mmap.mmap(s.device, 4096, mmap.MAP_SHARED, mmap.PROT_READ,
                                   offset=V.region_offset(0))):
        assert V.errno_of(call) == errno.ENODEV
    assert I.proc_interrupts_lines(bdf) == [], "interrupts left after the revocation"


def dmesg():
    return subprocess.run(["dmesg"], capture_output=True, text=True).stdout


def test_unbind_revokes_after_timeout(dkms, edu, timeout_param):
    timeout_param(3)
    s, req, bar = held_session(dkms, edu)
    try:
        t, res = unbind_async(edu.bdf)
        assert I.wait_event(req, 5) >= 1, "REQ not signalled"
        t.join(20)
        assert not t.is_alive(), "unbind still blocked 20 s after a 3 s release_timeout"
        assert "error" not in res, res
        assert 2.5 <= res["seconds"] <= 12, res
        assert not os.path.exists(os.path.join(base.PCI, edu.bdf, "driver"))
        assert_revoked(s, edu.bdf)
        st = child_touches(bar)
        assert os.WIFSIGNALED(st) and os.WTERMSIG(st) == signal.SIGBUS, st
        assert "1 revoked" in dmesg()
        dkms.wait_node(edu.group, present=False)
    finally:
        s.close()
    # Closing the revoked fds frees everything; the device can be used again.
    base.bind(edu.bdf, dkms.driver)
    dkms.wait_node(edu.group)
    with Session(dkms, edu) as s2:
        s2.bar32(0x08, 5)
        assert wait_for(lambda: not s2.bar32(0x20) & 1, 5)
        assert s2.bar32(0x08) == 120


def test_timeout_zero_waits_for_the_user(dkms, edu, timeout_param):
    timeout_param(0)
    s, req, bar = held_session(dkms, edu)
    try:
        t, res = unbind_async(edu.bdf)
        assert I.wait_event(req, 5) >= 1, "REQ not signalled"
        time.sleep(5)
        assert t.is_alive(), "release_timeout=0 must wait for the user"
        assert int.from_bytes(bar[0:4], "little") == 0x010000ed
    finally:
        s.close()
    t.join(20)
    assert not t.is_alive() and "error" not in res, res
    dkms.wait_node(edu.group, present=False)
    base.bind(edu.bdf, dkms.driver)
    dkms.wait_node(edu.group)


def test_device_del_revokes_after_timeout(dkms, edu, timeout_param):
    if not os.listdir("/sys/bus/pci/slots"):
        pytest.skip("no PCIe hotplug driver in this kernel")
    import json
    timeout_param(3)
    s, req, bar = held_session(dkms, edu)
    try:
        r = subprocess.run([QMP, json.dumps({"execute": "device_del",
                                             "arguments": {"id": "edu0"}})],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stdout + r.stderr
        assert I.wait_event(req, 40) >= 1, "REQ not signalled"
        # pciehp's 5 s button delay, then at most the 3 s timeout
        assert wait_for(lambda: not os.path.exists(os.path.join(base.PCI, edu.bdf)), 30), \
            "device not removed although its fds are held"
        assert_revoked(s, edu.bdf)
        st = child_touches(bar)
        assert os.WIFSIGNALED(st) and os.WTERMSIG(st) == signal.SIGBUS, st
    finally:
        s.close()
    r = subprocess.run([QMP, json.dumps({"execute": "device_add", "arguments":
                                         {"driver": "edu", "id": "edu0", "bus": "rp_edu"}})],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert wait_for(lambda: base.find_pci(*EDU_IDS) is not None, 40), "edu not back"
