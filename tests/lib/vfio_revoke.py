# SPDX-License-Identifier: GPL-2.0
"""Bounded removal (vfio-dkms's release_timeout, docs/interrupts.md
"Removal"), shared by the suites that remove a held device: revocation
(sysfs unbind) and hotplug-req (QMP device_del).

  timeout_param  release_timeout's setter, after checking the default
  dkms_edu       edu bound to vfio-dkms for one test (each test removes it)
  held_session   a session that holds edu the way a careless user does
  child_touches  how a forked child reading the BAR mapping ends
  assert_revoked every file operation of a revoked device answers ENODEV
"""

import errno
import faulthandler
import mmap
import os

import pytest

import vfio_irqs as I
import vfio_uapi as V
from vfio_backends import EDU_IDS, bound_device
from vfio_fixtures import RELEASE_TIMEOUT
from vfio_irqs import EVENTFD, TRIGGER
from vfio_session import Session

DEFAULT_RELEASE_TIMEOUT = "30"


@pytest.fixture()
def timeout_param(release_timeout):
    """release_timeout's setter, after checking the default."""
    with open(RELEASE_TIMEOUT) as f:
        assert f.read().strip() == DEFAULT_RELEASE_TIMEOUT, "default release_timeout"
    return release_timeout


@pytest.fixture()
def dkms_edu(dkms):
    # Function scope: every test removes the device from the driver.
    yield from bound_device(dkms, EDU_IDS)


def held_session(dkms, edu):
    """A session with REQ and MSI eventfds set and BAR 0 mapped, none of
    which its user will give up when asked."""
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
