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

SET_IRQS is in test_faults_irqs.py, probe in test_faults_probe.py, the
no-IOMMU map in the faults-noiommu suite (its machine gives an edu
without an IOMMU group).
"""

import errno
import fcntl
import mmap
import os

import pytest

import vfio_faults as F
import vfio_uapi as V
from vfio_session import Session
from sweeps import (MAP_IOVA, MAP_SIZE, NOMEM, close_all, in_child, log,
                    normal_map_works, run_sweep)

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
