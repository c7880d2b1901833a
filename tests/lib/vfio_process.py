# SPDX-License-Identifier: GPL-2.0
"""Process-level helpers of the VM suites: capabilities, the locked-memory
count, the task name, and running a function in a forked child."""

import ctypes
import os
import sys
import traceback

CAP_IPC_LOCK = 14
PR_SET_NAME = 15
_libc = ctypes.CDLL(None, use_errno=True)


class _CapHdr(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]


def _change_caps(change):
    hdr = _CapHdr(0x20080522, 0)     # _LINUX_CAPABILITY_VERSION_3
    data = (_CapData * 2)()
    assert _libc.capget(ctypes.byref(hdr), data) == 0
    change(data)
    assert _libc.capset(ctypes.byref(hdr), data) == 0


def drop_cap(cap):
    """Drop @cap from this process's effective and permitted sets (for good)."""
    def change(data):
        data[cap // 32].effective &= ~(1 << (cap % 32))
        data[cap // 32].permitted &= ~(1 << (cap % 32))
    _change_caps(change)


def set_effective(cap, on):
    """Raise or lower @cap in the effective set (permitted stays)."""
    def change(data):
        if on:
            data[cap // 32].effective |= 1 << (cap % 32)
        else:
            data[cap // 32].effective &= ~(1 << (cap % 32))
    _change_caps(change)


def set_ipc_lock(on):
    set_effective(CAP_IPC_LOCK, on)


def drop_ipc_lock():
    """So RLIMIT_MEMLOCK applies to this (child) process."""
    drop_cap(CAP_IPC_LOCK)


def set_comm(name):
    assert _libc.prctl(PR_SET_NAME, name.encode(), 0, 0, 0) == 0


def vm_lck_kb(pid="self"):
    for line in open("/proc/%s/status" % pid):
        if line.startswith("VmLck:"):
            return int(line.split()[1])
    raise AssertionError("no VmLck")


def fork_start(fn, *args):
    """Run fn(*args) in a child; returns its pid.  The child exits 0 when fn
    returns, 1 with a traceback on stderr when it raises."""
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            fn(*args)
            code = 0
        except BaseException:       # noqa: BLE001
            traceback.print_exc()
        finally:
            sys.stderr.flush()
            os._exit(code)
    return pid


def fork_status(pid):
    """Wait for @pid; its exit code, -1 when a signal ended it."""
    _, status = os.waitpid(pid, 0)
    return os.WEXITSTATUS(status) if os.WIFEXITED(status) else -1


def run_in_child(fn, *args):
    """Run fn(*args) in a child and wait; its exit code (0: fn returned)."""
    return fork_status(fork_start(fn, *args))


def wait_ok(pid):
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status
