# SPDX-License-Identifier: GPL-2.0
"""Bounded removal (vfio-dkms only; docs/interrupts.md, "Removal"): when the
user ignores REQ, an unbind waits release_timeout seconds,
then revokes the open device fds: they answer ENODEV, the device is quiet
(no interrupts, BAR mmaps give SIGBUS) and the removal completes.  With
release_timeout=0 the wait is unbounded, as in the in-tree framework.
The same through QMP device_del is in the hotplug-req suite."""

import os
import signal
import subprocess
import time

import vfio_irqs as I
import vfio_backends as base
from vfio_backends import unbind_async, wait_for
from vfio_revoke import assert_revoked, child_touches, held_session, timeout_param  # noqa: F401
from vfio_revoke import dkms_edu as edu  # noqa: F401
from vfio_session import Session


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
