# SPDX-License-Identifier: GPL-2.0
"""Allocation failures inside every vfio-dkms step (debug kernel).

For each step and each allocator (slab, page), a forked child fails the
Nth allocation the step makes, for N = 1 until the step makes fewer than N
(tests/lib/vfio_faults.py).  Each time the step must return success or a
clean errno, and once undone it must leave nothing: no pinned page in
debugfs, the child's VmLck back to where it was.  Afterwards the group
opens again and a normal map works.  Leaks of kernel memory and KASAN
reports are caught by the boot's kernel-log gate.  What each sweep injected
is written to $VFIO_TEST_RUN/faults.log.

Not here: SET_IRQS.  Failing the slab allocations of MSI enable makes the
kernel's own irq descriptor code WARN (register_irq_proc() drops a failed
proc entry silently, remove_proc_entry() then warns about it when the
vector is freed), which the kernel-log gate counts; that is outside this
module.
"""

import errno
import fcntl
import json
import mmap
import os
import signal
import time

import pytest

import vfio_backends as base
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


@pytest.fixture(scope="module", autouse=True)
def faults():
    why = F.available()
    if why:
        pytest.skip(why)
    saved = F.snapshot()
    yield
    F.restore(saved)


def in_child(kind, fn):
    """Run fn() (a sweep) with @kind selected in a forked child; returns
    its result.  A child that does not finish in CHILD_TIMEOUT is a hang."""
    F.select(kind)
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


def run_sweep(kind, setup, call, cleanup, allowed, check=None):
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
    res = in_child(kind, child)
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


# --- the fault sites are not dead ---------------------------------------

def test_injection_reaches_allocators():
    """A path lookup allocates from a slab cache; resizing a pipe to 1 MiB
    allocates from the page allocator.  The first fault must reach each, or
    every sweep below would prove nothing.  (The pipe resize absorbs the
    failure it is given; the open must fail.)"""
    def first_fault(call):
        fnth = F.FailNth()
        fnth.arm(1)
        err = V.errno_of(call)
        injected = fnth.disarm()
        fnth.close()
        return err, injected

    def slab():
        return first_fault(lambda: os.close(os.open("/dev/null", os.O_RDONLY)))

    def page():
        r, w = os.pipe()
        try:
            return first_fault(lambda: fcntl.fcntl(w, fcntl.F_SETPIPE_SZ, 1 << 20))
        finally:
            close_all(r, w)
    got = [tuple(in_child("failslab", slab)), tuple(in_child("fail_page_alloc", page))]
    log("self-test: open %r, pipe resize %r (errno, injected)" % tuple(got))
    assert got[0] == (errno.ENOMEM, True)
    assert got[1][1], "no page allocation was failed"
    assert got[1][0] in (0, errno.ENOMEM)


# --- container and group -------------------------------------------------

@pytest.mark.parametrize("kind", F.KINDS)
def test_group_open(backend, edu, kind):
    path = backend.group_path(edu.group)

    def call(st):
        st["group"] = os.open(path, os.O_RDWR)
    run_sweep(kind, dict, call, lambda st: close_all(st.get("group")), NOMEM)
    normal_map_works(backend, edu)


@pytest.mark.parametrize("kind", F.KINDS)
def test_set_container(backend, edu, kind):
    def setup():
        return {"container": os.open(backend.container_path, os.O_RDWR),
                "group": os.open(backend.group_path(edu.group), os.O_RDWR)}

    def call(st):
        V.set_container(st["group"], st["container"])
    run_sweep(kind, setup, call,
              lambda st: close_all(st["group"], st["container"]), NOMEM)
    normal_map_works(backend, edu)


@pytest.mark.parametrize("kind", F.KINDS)
def test_set_iommu(backend, edu, kind):
    def setup():
        st = {"container": os.open(backend.container_path, os.O_RDWR),
              "group": os.open(backend.group_path(edu.group), os.O_RDWR)}
        V.set_container(st["group"], st["container"])
        return st

    def call(st):
        V.ioctl(st["container"], V.VFIO_SET_IOMMU, V.VFIO_TYPE1v2_IOMMU)
    run_sweep(kind, setup, call,
              lambda st: close_all(st["group"], st["container"]), NOMEM)
    normal_map_works(backend, edu)


# --- DMA mapping: pinning, accounting, IOMMU page tables -----------------

@pytest.mark.parametrize("kind", F.KINDS)
def test_map_dma(backend, edu, kind):
    """A fresh domain each time, so the IOMMU map allocates its page tables
    and the pin path its bookkeeping in the same call."""
    buf = mmap.mmap(-1, MAP_SIZE)
    buf[:] = b"\1" * MAP_SIZE           # populated: user page faults stay out
    va = V.buffer_address(buf)

    def setup():
        return {"s": Session(backend, edu, device=False)}

    def call(st):
        V.map_dma(st["s"].container, va, MAP_IOVA, MAP_SIZE)
        st["mapped"] = True

    def cleanup(st):
        if st.get("mapped"):
            assert V.unmap_dma(st["s"].container, MAP_IOVA, MAP_SIZE) == MAP_SIZE
        st["s"].close()
    run_sweep(kind, setup, call, cleanup, NOMEM)
    normal_map_works(backend, edu)


# --- no-IOMMU map --------------------------------------------------------------

def test_noiommu_map():
    """The no-IOMMU map needs a device without an IOMMU group, which only a
    boot of its own gives (run-vm --no-iommu, or a bridge bypassing the
    vIOMMU: the noiommu suites' vm-args); this suite shares the default
    boot, where the vIOMMU puts every device in a group."""
    ungrouped = [bdf for bdf in os.listdir(base.PCI)
                 if not os.path.exists(os.path.join(base.PCI, bdf, "iommu_group"))]
    pytest.skip("not reachable on the shared boot (devices without an IOMMU "
                "group: %s)" % (", ".join(ungrouped) or "none"))
