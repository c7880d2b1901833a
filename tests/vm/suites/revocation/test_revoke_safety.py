# SPDX-License-Identifier: GPL-2.0
"""Bounded removal under pressure (vfio-dkms only): a revocation must not
free the device while it still uses it, must take BAR mmaps away before the
device is quiesced, and must stay bounded while a file operation of any
device waits on a user page that never arrives (userfaultfd).  The health
gate (KASAN on the debug kernel) and the assertions here both count."""

import ctypes
import errno
import mmap
import os
import signal
import subprocess
import threading
import time

import pytest

import vfio_uapi as V
import vfio_backends as base
from vfio_backends import EDU_IDS, NVME_IDS, bound_device, unbind_async
from vfio_session import Session

PARAM = "/sys/module/vfio_dkms/parameters/release_timeout"
DEBUG_KERNEL = "debug" in os.uname().release

_libc = ctypes.CDLL(None, use_errno=True)
SYS_userfaultfd = 323                   # x86_64
UFFD_API = 0xAA
UFFDIO_API = 0xc018aa3f                 # _IOWR(0xAA, 0x3F, struct uffdio_api)
UFFDIO_REGISTER = 0xc020aa00            # _IOWR(0xAA, 0x00, struct uffdio_register)
UFFDIO_REGISTER_MODE_MISSING = 1


@pytest.fixture()
def edu(dkms):
    yield from bound_device(dkms, EDU_IDS)


@pytest.fixture()
def nvme(dkms):
    yield from bound_device(dkms, NVME_IDS)


def rebind(dkms, dev):
    base.bind(dev.bdf, dkms.driver)
    dkms.wait_node(dev.group)


def dmesg():
    return subprocess.run(["dmesg"], capture_output=True, text=True).stdout


def fork_hammer(group_fd, bdf):
    """A child asking for device fds (and closing the ones it gets) until
    it is killed."""
    pid = os.fork()
    if pid == 0:
        try:
            while True:
                try:
                    os.close(V.get_device_fd(group_fd, bdf))
                except OSError:
                    pass
        finally:
            os._exit(0)
    return pid


def test_last_put_races_revocation(dkms, edu, release_timeout):
    """The device fd closes right after the revocation while other
    processes keep asking for device fds: the last reference may then be
    dropped by a failing VFIO_GROUP_GET_DEVICE_FD at any point of the
    removal."""
    release_timeout(1)
    iterations = 10 if DEBUG_KERNEL else 25
    for i in range(iterations):
        s = Session(dkms, edu)
        kids = []
        try:
            kids = [fork_hammer(s.group, edu.bdf) for _ in range(3)]
            t, res = unbind_async(edu.bdf)
            # The device is revoked once its fd answers ENODEV ...
            deadline = time.monotonic() + 20
            while (V.errno_of(os.pread, s.device, 4, V.region_offset(0)) != errno.ENODEV
                   and time.monotonic() < deadline):
                time.sleep(0.001)
            # ... and then the fd goes while the removal goes on.
            os.close(s.device)
            s.device = None
            t.join(30)
            assert not t.is_alive(), "iteration %d: unbind blocked" % i
            assert "error" not in res, res
        finally:
            for pid in kids:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            s.close()
        log = dmesg()
        assert "use-after-free" not in log and "BUG:" not in log, \
            "iteration %d: %s" % (i, log[-2000:])
        rebind(dkms, edu)


@pytest.fixture(scope="module")
def bar_spin(tmp_path_factory):
    """bar_spin.c, built for this guest: a Python loop reads too slowly to
    see a short window."""
    exe = str(tmp_path_factory.mktemp("bin") / "bar_spin")
    src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bar_spin.c")
    r = subprocess.run(["cc", "-O2", "-Wall", "-Wextra", "-Werror", "-o", exe, src],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return exe


def test_mmap_revoked_before_the_device_is_quiesced(dkms, edu, release_timeout, bar_spin):
    """A process reading a BAR through its mmap while the device is removed
    sees the device's registers until it gets SIGBUS: never a device that
    has been disabled or reset under it."""
    release_timeout(1)
    for i in range(5):
        s = Session(dkms, edu)
        p = None
        try:
            os.set_inheritable(s.device, True)
            p = subprocess.Popen([bar_spin, str(s.device), str(V.region_offset(0)),
                                  "0x010000ed"], stdout=subprocess.PIPE, close_fds=False)
            assert p.stdout.read(1) == b"+", "bar_spin did not start"
            time.sleep(0.2)
            t, res = unbind_async(edu.bdf)
            t.join(30)
            assert not t.is_alive() and "error" not in res, res
            out = p.stdout.read().decode().strip()
            st = p.wait(10)
            assert out == "", "iteration %d: read %s through the mmap during " \
                "the removal" % (i, out)
            assert st == -signal.SIGBUS, st
        finally:
            if p and p.poll() is None:
                p.kill()
                p.wait()
            s.close()
        rebind(dkms, edu)


class StalledBuffer:
    """An anonymous page registered with userfaultfd and never served: a
    kernel copy into it waits until the userfaultfd is closed."""

    def __init__(self, size=4096):
        self.uffd = _libc.syscall(SYS_userfaultfd, os.O_CLOEXEC | os.O_NONBLOCK)
        if self.uffd < 0:
            pytest.skip("userfaultfd: %s" % os.strerror(ctypes.get_errno()))
        api = (ctypes.c_uint64 * 3)(UFFD_API, 0, 0)
        V.ioctl(self.uffd, UFFDIO_API, api)
        self.map = mmap.mmap(-1, size, mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
        addr = ctypes.addressof((ctypes.c_char * size).from_buffer(self.map))
        reg = (ctypes.c_uint64 * 4)(addr, size, UFFDIO_REGISTER_MODE_MISSING, 0)
        V.ioctl(self.uffd, UFFDIO_REGISTER, reg)

    def release(self):
        if self.uffd >= 0:
            os.close(self.uffd)
            self.uffd = -1


def test_stalled_user_copy_does_not_block_revocation(dkms, edu, nvme, release_timeout):
    """edu's pread copies into a page that never arrives.  nvme's removal,
    and edu's own, still end at release_timeout; once the page arrives the
    edu fd answers ENODEV."""
    release_timeout(2)
    se, sn = Session(dkms, edu), Session(dkms, nvme)
    buf = StalledBuffer()
    reader = {}

    def read():
        try:
            reader["ret"] = os.preadv(se.device, [buf.map], V.region_offset(0))
        except OSError as e:
            reader["errno"] = e.errno
    rt = threading.Thread(target=read, daemon=True)
    unbinds = []
    try:
        rt.start()
        time.sleep(1)
        assert rt.is_alive(), "the pread did not wait on the userfaultfd page"

        unbinds.append(unbind_async(nvme.bdf))
        t, res = unbinds[-1]
        t.join(15)
        assert not t.is_alive(), \
            "nvme's removal waits on edu's stalled pread (release_timeout 2 s)"
        assert "error" not in res and res["seconds"] < 10, res

        unbinds.append(unbind_async(edu.bdf))
        t, res = unbinds[-1]
        t.join(15)
        assert not t.is_alive(), "edu's removal waits on its own stalled pread"
        assert "error" not in res and res["seconds"] < 10, res
    finally:
        buf.release()
        rt.join(30)
        for t, _ in unbinds:
            t.join(30)
        pending = V.errno_of(os.pread, se.device, 4, V.region_offset(0))
        se.close()
        sn.close()
    assert not rt.is_alive(), "the pread did not end after the page arrived"
    assert pending == errno.ENODEV
    rebind(dkms, edu)
    rebind(dkms, nvme)
