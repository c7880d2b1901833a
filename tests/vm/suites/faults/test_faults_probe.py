# SPDX-License-Identifier: GPL-2.0
"""Allocation failures inside the PCI driver's probe (debug kernel).

edu is unbound, its driver_override names our driver, and a write of its
address to the driver's bind file is swept (see test_faults.py): the Nth
allocation of that write fails, slab and page allocator in turn.  PCI
probes in the writer's context when the device has no NUMA node (one node
here: pci_call_probe() hands the probe to a CPU of the device's node only
when it has one), so the fault-injection counter of the writing thread
reaches our probe.  Each write succeeds or fails with an errno; after a
failure the device is bound to no driver and the group node is gone;
after the sweep a plain bind works and the device maps DMA.
"""

import errno
import os

import pytest

import vfio_backends as base
import vfio_faults as F
from sweeps import normal_map_works, run_sweep


def bind_file(backend):
    return os.path.join("/sys/bus/pci/drivers", backend.driver, "bind")


def unbind(bdf):
    if base.driver_of(bdf):
        base.sysfs_write(os.path.join(base.PCI, bdf, "driver", "unbind"), bdf)


@pytest.mark.parametrize("kind", F.KINDS)
def test_probe(backend, edu, kind):
    bdf = edu.bdf
    with open(os.path.join(base.PCI, bdf, "numa_node")) as f:
        node = int(f.read())
    assert node < 0, "edu on NUMA node %d: the probe would run on a " \
        "worker, out of reach of the writer's fault counter" % node
    group_node = backend.group_path(edu.group)
    unbind(bdf)

    def setup():
        assert base.driver_of(bdf) is None
        return {"fd": os.open(bind_file(backend), os.O_WRONLY)}

    def call(st):
        os.write(st["fd"], bdf.encode())

    def cleanup(st):
        os.close(st["fd"])
        st["bound"] = base.driver_of(bdf)
        if st["bound"] is None:
            backend.wait_node(edu.group, present=False)
        unbind(bdf)

    def check(n, err):
        assert base.driver_of(bdf) is None

    try:
        outcomes = run_sweep(kind, setup, call, cleanup,
                             {errno.ENOMEM}, check)
    finally:
        if base.driver_of(bdf) is None:
            base.sysfs_write(bind_file(backend), bdf)
    assert base.driver_of(bdf) == backend.driver
    assert backend.wait_node(edu.group) == group_node
    if kind == "failslab":
        assert outcomes.get(errno.ENOMEM), "no allocation of bind failed"
    normal_map_works(backend, edu)
