# SPDX-License-Identifier: GPL-2.0
"""The faults suite's sweep machinery: a sweep of one step in a forked
child, its leak checks, and its log line (tests/lib/vfio_faults.py does
the injecting)."""

import errno
import json
import mmap
import os
import signal
import time

import pytest

import vfio_debugfs
import vfio_faults as F
import vfio_uapi as V
from vfio_process import vm_lck_kb
from vfio_session import Session

MAP_SIZE = 16 * mmap.PAGESIZE
MAP_IOVA = 0x100000
# Generous: the steps make tens of allocations, each retry costs a few ms on
# the KASAN kernel.
LIMIT = 1000
CHILD_TIMEOUT = 60.0

# What a step may answer when one of its allocations fails.
NOMEM = {errno.ENOMEM}


def total_pinned():
    return sum(int(c["pinned_pages"][0])
               for c in vfio_debugfs.parse("containers").values()
               if "pinned_pages" in c)


def in_child(kind, fn, spare_caches=None):
    """Run fn() (a sweep) with @kind selected in a forked child; returns
    its result.  A child that does not finish in CHILD_TIMEOUT is a hang.
    @spare_caches: see vfio_faults.select()."""
    F.select(kind, spare_caches)
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.close(rfd)
            out = fn()
            os.write(wfd, json.dumps(out).encode())
            code = 0
        except BaseException:       # noqa: BLE001
            import traceback
            traceback.print_exc()
        finally:
            os._exit(code)
    os.close(wfd)
    deadline = time.monotonic() + CHILD_TIMEOUT
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            os.close(rfd)
            raise AssertionError("%s sweep hung (child killed)" % kind)
        time.sleep(0.02)
    raw = b""
    while True:
        chunk = os.read(rfd, 65536)
        if not chunk:
            break
        raw += chunk
    os.close(rfd)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, \
        "%s sweep: child status %#x" % (kind, status)
    return json.loads(raw)


def log(line):
    """One line of the suite's log ($VFIO_TEST_RUN/faults.log): what each
    sweep injected and what the step answered, passes included."""
    path = os.path.join(os.environ.get("VFIO_TEST_RUN", "/tmp"), "faults.log")
    with open(path, "a") as f:
        f.write(line + "\n")


def run_sweep(kind, setup, call, cleanup, allowed, check=None,
              spare_caches=None):
    """Sweep in a child; asserts every outcome is success or in @allowed,
    that the sweep reached the end of the step's allocations, and that
    nothing leaked after each cleanup."""
    def child():
        lck = vm_lck_kb()

        def check_all(n, err):
            assert total_pinned() == 0, "N=%d: pages still pinned" % n
            assert vm_lck_kb() == lck, "N=%d: VmLck %d kB, was %d kB" % (
                n, vm_lck_kb(), lck)
            if check:
                check(n, err)
        outcomes, complete = F.sweep(setup, call, cleanup, check_all, LIMIT)
        return {"outcomes": outcomes, "complete": complete}
    res = in_child(kind, child, spare_caches)
    outcomes = {int(k): v for k, v in res["outcomes"].items()}
    log("%s %s: %d faults injected, complete %s, outcomes %s" % (
        os.environ.get("PYTEST_CURRENT_TEST", "?").split(" ")[0], kind,
        sum(outcomes.values()), res["complete"],
        {errno.errorcode.get(k, k) if k else "ok": v for k, v in outcomes.items()}))
    assert res["complete"], "more than %d allocations" % LIMIT
    bad = {k: v for k, v in outcomes.items() if k and k not in allowed}
    assert not bad, "unexpected errnos %r" % bad
    return outcomes


def normal_map_works(backend, edu):
    """The group opens again and a map/unmap round trip works."""
    with Session(backend, edu, device=False) as s:
        buf, va = s.buffer(MAP_SIZE)
        buf[:] = b"\1" * MAP_SIZE
        V.map_dma(s.container, va, MAP_IOVA, MAP_SIZE)
        assert total_pinned() == MAP_SIZE // mmap.PAGESIZE
        assert V.unmap_dma(s.container, MAP_IOVA, MAP_SIZE) == MAP_SIZE
    assert total_pinned() == 0


def close_all(*fds):
    for fd in fds:
        if fd is not None:
            os.close(fd)


@pytest.fixture(scope="module", autouse=True)
def faults():
    """Fault injection set up for the module, settings restored after."""
    why = F.available()
    if why:
        pytest.skip(why)
    saved = F.snapshot()
    yield
    F.restore(saved)
