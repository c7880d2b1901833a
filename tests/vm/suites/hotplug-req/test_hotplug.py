# SPDX-License-Identifier: GPL-2.0
"""edu behind a PCIe root port (run-vm --hotplug): reset works (secondary
bus reset), and QMP device_del while a process holds the device signals
REQ, waits for the release and removes the device without an oops.  The
device is plugged back for the next backend.  Same expectations for both."""

import errno
import os
import struct
import subprocess
import time

import pytest

import vfio_irqs as I
import vfio_uapi as V
from vfio_irqs import EVENTFD, TRIGGER
import vfio_backends as base
from vfio_backends import EDU_IDS, wait_for
from vfio_fixtures import IN_TREE
from vfio_session import Session

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
QMP = os.path.join(REPO, "tests", "vm", "guest", "qmp")


def qmp(cmd, args):
    import json
    return subprocess.run([QMP, json.dumps({"execute": cmd, "arguments": args})],
                          capture_output=True, text=True, timeout=60)


def test_reset_behind_root_port(backend, edu):
    with Session(backend, edu) as s:
        info = s.device_info()
        flag = info.flags & V.VFIO_DEVICE_FLAGS_RESET
        if backend.name == "in-tree":
            IN_TREE["edu_reset_flag"] = flag
        elif "edu_reset_flag" in IN_TREE:
            assert flag == IN_TREE["edu_reset_flag"]
        if not flag:
            assert V.errno_of(V.ioctl, s.device, V.VFIO_DEVICE_RESET) == errno.EINVAL
            pytest.skip("no reset method for edu here")
        bar = s.mmap_bar(0)
        s.bar32(0x04, 0x12345678)
        assert struct.unpack_from("<I", bar, 0x04)[0] == ~0x12345678 & 0xffffffff
        assert V.ioctl(s.device, V.VFIO_DEVICE_RESET) == 0
        # (edu has no reset handler: its registers survive, but the BAR,
        # through the re-faulted mmap and pread, and the device work)
        assert struct.unpack_from("<I", bar, 0x00)[0] == 0x010000ed
        s.bar32(0x08, 5)
        assert wait_for(lambda: not s.bar32(0x20) & 1, 5)
        assert s.bar32(0x08) == 120


def test_device_del_while_held(backend, edu):
    # pciehp registers the root ports' slots; without it (e.g. the debug
    # kernel's config) nothing in the guest handles device_del.
    if not os.listdir("/sys/bus/pci/slots"):
        pytest.skip("no PCIe hotplug driver in this kernel")
    s = Session(backend, edu)
    try:
        s.bus_master()
        req = s.eventfd()
        assert I.set_irqs(s.device, V.VFIO_PCI_REQ_IRQ_INDEX, EVENTFD | TRIGGER,
                          data=[req]) == 0
        msi = s.eventfd()
        assert I.set_irqs(s.device, V.VFIO_PCI_MSI_IRQ_INDEX, EVENTFD | TRIGGER,
                          data=[msi]) == 0
        s.mmap_bar(0)
        r = qmp("device_del", {"id": "edu0"})
        assert r.returncode == 0, r.stdout + r.stderr
        # pciehp waits 5 s for the attention button to be "cancelled"
        assert I.wait_event(req, 40) >= 1, "REQ not signalled"
        assert os.path.exists(os.path.join(base.PCI, edu.bdf))
        assert s.bar32(0) == 0x010000ed
    finally:
        s.close()
    assert wait_for(lambda: not os.path.exists(os.path.join(base.PCI, edu.bdf)), 40), \
        "device not removed after the release"
    assert I.proc_interrupts_lines(edu.bdf) == []
    backend.wait_node(edu.group, present=False)
    # plug it back for the next backend
    r = qmp("device_add", {"driver": "edu", "id": "edu0", "bus": "rp_edu"})
    assert r.returncode == 0, r.stdout + r.stderr
    assert wait_for(lambda: base.find_pci(*EDU_IDS) is not None, 40), "edu not back"
