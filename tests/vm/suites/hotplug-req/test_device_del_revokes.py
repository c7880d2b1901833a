# SPDX-License-Identifier: GPL-2.0
"""Bounded removal through hot-unplug (vfio-dkms only; docs/interrupts.md,
"Removal"): QMP device_del of a device whose user ignores REQ waits
release_timeout seconds (after pciehp's button delay), then revokes the
open device fds and the device goes away.  The unbind variants are in the
revocation suite."""

import json
import os
import signal
import subprocess

import pytest

import vfio_irqs as I
import vfio_backends as base
from vfio_backends import EDU_IDS, wait_for
from vfio_revoke import assert_revoked, child_touches, held_session, timeout_param  # noqa: F401
from vfio_revoke import dkms_edu as edu  # noqa: F401

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
QMP = os.path.join(REPO, "tests", "vm", "guest", "qmp")


def test_device_del_revokes_after_timeout(dkms, edu, timeout_param):
    if not os.listdir("/sys/bus/pci/slots"):
        pytest.skip("no PCIe hotplug driver in this kernel")
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
