# SPDX-License-Identifier: GPL-2.0
"""Allocation failures inside the no-IOMMU map (VFIO_DKMS_NOIOMMU_MAP_DMA,
debug kernel).

The edu without an IOMMU group is bound in no-IOMMU mode; for each
allocator (slab, page) the Nth allocation of one map is failed, for every
N (the sweep of ../faults/sweeps.py).  Each map succeeds or fails with
ENOMEM; once the container is closed nothing stays pinned (debugfs) and
the child's VmLck is back where it was.  Afterwards a plain map works.
"""

import errno
import mmap
import os

import pytest

import vfio_backends as base
import vfio_dkms_uapi as D
import vfio_faults as F
import vfio_uapi as V
from sweeps import NOMEM, faults, run_sweep, total_pinned  # noqa: F401
from vfio_session import Session

MODE = "/sys/module/vfio_dkms/parameters/enable_unsafe_noiommu_mode"
SIZE = 16 * mmap.PAGESIZE


def set_mode(on):
    with open(MODE, "w") as f:
        f.write("1" if on else "0")


def is_edu(bdf):
    ids = []
    for name in ("vendor", "device"):
        with open(os.path.join(base.PCI, bdf, name)) as f:
            ids.append(f.read().strip())
    return tuple(ids) == tuple(base.EDU_IDS)


@pytest.fixture(scope="module")
def edu():
    """The edu without an IOMMU group, bound in no-IOMMU mode."""
    found = [bdf for bdf in sorted(os.listdir(base.PCI))
             if is_edu(bdf) and
             not os.path.exists(os.path.join(base.PCI, bdf, "iommu_group"))]
    assert found, "no edu without an IOMMU group (this suite's vm-args)"
    bdf = found[0]
    backend = base.setup_backend("vfio-dkms")
    set_mode(True)
    old = base.bind(bdf, backend.driver)
    dev = base.Dev(bdf)
    backend.wait_node("noiommu-" + dev.group)
    path = "/dev/vfio-dkms/noiommu-" + dev.group
    yield dev, path
    base.unbind(bdf, old)
    set_mode(False)


def session(edu, device=False):
    dev, path = edu
    return Session(base.BACKENDS["vfio-dkms"], dev, iommu=D.VFIO_NOIOMMU_IOMMU,
                   device=device, group_path=path)


@pytest.mark.parametrize("kind", F.KINDS)
def test_noiommu_map(edu, kind):
    buf = mmap.mmap(-1, SIZE)
    buf[:] = b"\1" * SIZE           # populated: user page faults stay out
    va = V.buffer_address(buf)

    def setup():
        return {"s": session(edu)}

    def call(st):
        D.noiommu_map(st["s"].container, va, SIZE)
        st["mapped"] = True

    def cleanup(st):
        if st.get("mapped"):
            assert D.noiommu_unmap(st["s"].container, va, SIZE) == SIZE
        st["s"].close()
    outcomes = run_sweep(kind, setup, call, cleanup, NOMEM)
    if kind == "failslab":
        assert outcomes.get(errno.ENOMEM), "no allocation of the map failed"
    with session(edu) as s:
        segs = D.noiommu_map(s.container, va, SIZE)
        assert sum(size for _, size in segs) == SIZE
        assert total_pinned() == SIZE // mmap.PAGESIZE
        assert D.noiommu_unmap(s.container, va, SIZE) == SIZE
    assert total_pinned() == 0
