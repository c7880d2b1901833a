# SPDX-License-Identifier: GPL-2.0
"""VFIO_DEVICE_PCI_HOT_RESET of devices behind PCIe root ports, where a slot
or bus reset exists: the same answers as the in-tree framework on the same
boot (it runs first), and the reset really happens.

edu has no reset handler in QEMU (its registers survive any reset); nvme's
controller registers go back to their reset values, so the reset itself is
observed on nvme: its Interrupt Mask Set register (INTMS, BAR0 0x0c) reads
back what was set, and 0 after a reset.  On 6.12, the PCI core then waits
for the root port's link to report Data Link Layer Link Active, which
QEMU 7.2's root port in front of nvme does not set in time: the secondary
bus reset has happened, the config state is restored, and the ioctl answers
ENOTTY, for the in-tree framework as for ours.
"""

import ctypes
import errno
import os
import signal
import struct

from vfio_fixtures import IN_TREE
from vfio_revoke import child_touches
from vfio_session import Session
from vfio_uapi import errno_of as eno
import vfio_uapi as V

NVME_INTMS = 0x0c
HDR = struct.Struct("<III")          # argsz, flags, count
PCI_COMMAND = 0x04
PCI_COMMAND_MEMORY = 0x2


def same_as_in_tree(backend, key, value):
    """The in-tree backend records @value; vfio-dkms must give the same."""
    if backend.name == "in-tree":
        IN_TREE[key] = value
    else:
        assert key in IN_TREE, "no in-tree answer for %s on this boot" % key
        assert value == IN_TREE[key], "%s: vfio-dkms %r, in-tree %r" % (
            key, value, IN_TREE[key])


def hot_reset(fd, group_fds, count=None, argsz=None, flags=0):
    """VFIO_DEVICE_PCI_HOT_RESET with @group_fds; 0 or the errno."""
    n = len(group_fds)
    buf = ctypes.create_string_buffer(HDR.size + 4 * max(n, 1))
    HDR.pack_into(buf, 0, HDR.size + 4 * n if argsz is None else argsz, flags,
                  n if count is None else count)
    for i, g in enumerate(group_fds):
        struct.pack_into("<i", buf, HDR.size + 4 * i, g)
    return eno(V.ioctl, fd, V.VFIO_DEVICE_PCI_HOT_RESET, buf)


def reset_info(fd):
    """(errno, [(group_id, segment, bus, devfn)]) of the hot-reset info."""
    room = 64
    size = ctypes.sizeof(V.HotResetInfo) + room * ctypes.sizeof(V.DependentDevice)
    buf = ctypes.create_string_buffer(size)
    hdr = V.HotResetInfo.from_buffer(buf)
    hdr.argsz = size
    err = eno(V.ioctl, fd, V.VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, buf)
    if err:
        return err, []
    arr = (V.DependentDevice * hdr.count).from_buffer(buf, ctypes.sizeof(V.HotResetInfo))
    return 0, sorted((x.group_id, x.segment, x.bus, x.devfn) for x in arr)


def address(dev):
    dom, bus, df = dev.bdf.split(":")
    slot, fn = df.split(".")
    return int(dom, 16), int(bus, 16), int(slot, 16) << 3 | int(fn)


def test_info_behind_root_port(backend, edu, nvme):
    answers = {}
    for dev in (edu, nvme):
        with Session(backend, dev) as s:
            err, devs = reset_info(s.device)
            # Each sits alone behind its own root port.
            assert err == 0, os.strerror(err)
            assert devs == [(int(dev.group),) + address(dev)], devs
            answers[dev.bdf] = devs
    same_as_in_tree(backend, "info", answers)


def test_hot_reset_errnos(backend, edu, nvme):
    with Session(backend, nvme) as s, Session(backend, edu) as other:
        null = os.open("/dev/null", os.O_RDONLY)
        closed = os.dup(null)
        os.close(closed)
        try:
            d, g = s.device, s.group
            got = {
                "argsz short": hot_reset(d, [g], argsz=HDR.size - 1),
                "unknown flag": hot_reset(d, [g], flags=1),
                "no groups": hot_reset(d, []),
                # one group per function of the scope at most (a scope of 1)
                "more groups than functions": hot_reset(d, [g, g]),
                "closed fd": hot_reset(d, [closed]),
                "negative fd": hot_reset(d, [-1]),
                "not a file of ours": hot_reset(d, [null]),
                "the container": hot_reset(d, [s.container]),
                "the device fd": hot_reset(d, [d]),
                "another device's group": hot_reset(d, [other.group]),
            }
        finally:
            os.close(null)
    want = {k: errno.EINVAL for k in got}
    want["closed fd"] = want["negative fd"] = errno.EBADF
    assert got == want
    same_as_in_tree(backend, "errnos", got)


def test_hot_reset_resets_nvme(backend, nvme):
    with Session(backend, nvme) as s:
        bar = s.mmap_bar(0)
        s.bar32(NVME_INTMS, 0x1)
        before = (s.bar32(NVME_INTMS), struct.unpack_from("<I", bar, NVME_INTMS)[0])
        assert before == (1, 1)
        err = hot_reset(s.device, [s.group])
        assert err in (0, errno.ENOTTY), os.strerror(err)
        # The mapping was zapped for the reset; it faults back in (memory
        # decode is restored with the config state).
        assert os.WIFEXITED(child_touches(bar))
        after = (s.bar32(NVME_INTMS), struct.unpack_from("<I", bar, NVME_INTMS)[0])
        assert after == (0, 0), "INTMS survived the hot reset: no reset happened"
        command = s.cfg16(PCI_COMMAND) & PCI_COMMAND_MEMORY
        assert command == PCI_COMMAND_MEMORY
        # and once more, on the re-faulted mapping
        s.bar32(NVME_INTMS, 0x3)
        err2 = hot_reset(s.device, [s.group])
        again = struct.unpack_from("<I", bar, NVME_INTMS)[0]
        assert again == 0
    same_as_in_tree(backend, "nvme reset", (err, before, after, command, err2, again))


def test_hot_reset_edu_refaults(backend, edu):
    with Session(backend, edu) as s:
        bar = s.mmap_bar(0)
        s.bar32(0x04, 0x12345678)
        assert hot_reset(s.device, [s.group]) == 0
        st = child_touches(bar)
        assert os.WIFEXITED(st) and os.WEXITSTATUS(st) == 0, st
        # edu keeps its registers across any reset (no reset handler)
        seen = (struct.unpack_from("<I", bar, 0)[0], s.bar32(0x04))
        assert seen == (0x010000ed, ~0x12345678 & 0xffffffff)
    same_as_in_tree(backend, "edu reset", seen)


def test_hot_reset_memory_off_sigbus(backend, edu):
    """With memory decode off, the zapped mapping does not come back: the
    command register is restored as it was, and a touch gets SIGBUS."""
    with Session(backend, edu) as s:
        bar = s.mmap_bar(0)
        assert struct.unpack_from("<I", bar, 0)[0] == 0x010000ed
        s.cfg16(PCI_COMMAND, s.cfg16(PCI_COMMAND) & ~PCI_COMMAND_MEMORY)
        assert hot_reset(s.device, [s.group]) == 0
        command = s.cfg16(PCI_COMMAND) & PCI_COMMAND_MEMORY
        st = child_touches(bar)
        touched = (os.WIFSIGNALED(st) and os.WTERMSIG(st) == signal.SIGBUS, command)
        assert touched == (True, 0), st
        s.cfg16(PCI_COMMAND, s.cfg16(PCI_COMMAND) | PCI_COMMAND_MEMORY)
        assert struct.unpack_from("<I", bar, 0)[0] == 0x010000ed
    same_as_in_tree(backend, "memory off", touched)
