# SPDX-License-Identifier: GPL-2.0
"""Slab allocation failures inside SET_IRQS (debug kernel): INTx and MSI
on edu, MSI-X on nvme.

Each sweep fails the Nth slab allocation of one enabling SET_IRQS (see
test_faults.py for the sweep).  A failed call must leave the index
disabled (disabling it answers EINVAL, as when nothing was enabled);
once disabled, /proc/interrupts has no action of the device; when the
sweeping process exits (its device fd closed) neither; at the end the
interrupt is enabled for real and delivered.

What is spared: the proc_dir_entry slab cache.  request_irq() on a fresh
interrupt creates /proc/irq/N/ and its files in register_irq_proc(),
which ignores a failed entry; when the interrupt is freed,
remove_proc_entry() WARNs about the missing one.  That is the kernel's
irq core, not this module, and the WARN would fail the boot's kernel-log
gate, so the cache those entries come from never fails (the debug kernel
has no CONFIG_FAULT_INJECTION_STACKTRACE_FILTER to spare just that
caller).  Every other cache can fail: this module's allocations, the MSI
descriptors and irq domain data of pci_alloc_irq_vectors(), request_irq()'s
action.

The page allocator is not failed here: SET_IRQS allocates no pages of its
own, and a failed page would reach the proc entries above whenever their
cache happens to need a new slab.
"""

import errno

import pytest

import vfio_irqs as I
from vfio_session import Session
from sweeps import NOMEM, run_sweep

INTX, MSI, MSIX = 0, 1, 2
EVENTFD, NONE, TRIGGER = I.EVENTFD, I.NONE, I.TRIGGER
SPARE = ("proc_dir_entry",)
# The kernel's MSI core answers a failed allocation of the interrupt
# domain with ENOSPC (msi_handle_pci_fail()); SET_IRQS passes it on, as
# in-tree does.
MSI_FAILED = NOMEM | {errno.ENOSPC}
EDU_IRQ_STATUS, EDU_IRQ_RAISE, EDU_IRQ_ACK = 0x24, 0x60, 0x64


def disable(device, index):
    """Disables @index; returns 0, or EINVAL when it was not enabled."""
    try:
        I.set_irqs(device, index, NONE | TRIGGER, count=0)
        return 0
    except OSError as e:
        return e.errno


def sweep_enable(backend, dev, index, nvec, allowed=NOMEM):
    """Sweep SET_IRQS(@index, TRIGGER, @nvec eventfds) on @dev.  One
    session serves the whole sweep (opening one per N costs seconds on the
    debug kernel); the sweeping child's exit closes it."""
    held = {}

    def setup():
        if "s" not in held:
            s = held["s"] = Session(backend, dev)
            held["efds"] = [s.eventfd() for _ in range(nvec)]
        held["enabled"] = False
        return held

    def call(st):
        got = I.set_irqs(st["s"].device, index, EVENTFD | TRIGGER,
                         data=st["efds"])
        # A positive answer: fewer vectors could be had than asked for
        # (in-tree's answer too); nothing is enabled then.
        assert 0 <= got < nvec, "SET_IRQS answered %d" % got
        st["enabled"] = got == 0

    def cleanup(st):
        left = disable(st["s"].device, index)
        if st["enabled"]:
            assert left == 0, "disable after enable: errno %d" % left
        else:
            assert left == errno.EINVAL, \
                "a failed enable left index %d enabled" % index

    def check(n, err):
        lines = I.proc_interrupts_lines(dev.bdf)
        assert not lines, "N=%d: left in /proc/interrupts: %r" % (n, lines)

    try:
        return run_sweep("failslab", setup, call, cleanup, allowed, check,
                         spare_caches=SPARE)
    finally:
        assert I.proc_interrupts_lines(dev.bdf) == []


def test_intx(backend, edu):
    outcomes = sweep_enable(backend, edu, INTX, 1)
    assert outcomes.get(errno.ENOMEM), "no allocation of INTx enable failed"
    with Session(backend, edu) as s:
        efd = s.eventfd()
        I.set_irqs(s.device, INTX, EVENTFD | TRIGGER, data=[efd])
        # The loopback reaches the eventfd through the enabled index.
        I.set_irqs(s.device, INTX, NONE | TRIGGER, count=1)
        assert I.wait_event(efd) == 1
        assert disable(s.device, INTX) == 0


def test_msi(backend, edu):
    outcomes = sweep_enable(backend, edu, MSI, 1, MSI_FAILED)
    assert outcomes.get(errno.ENOMEM), "no allocation of MSI enable failed"
    with Session(backend, edu) as s:
        efd = s.eventfd()
        s.bus_master()
        I.set_irqs(s.device, MSI, EVENTFD | TRIGGER, data=[efd])
        s.bar32(EDU_IRQ_RAISE, 1)
        assert I.wait_event(efd) >= 1, "edu's MSI did not arrive"
        s.bar32(EDU_IRQ_ACK, 1)
        assert disable(s.device, MSI) == 0
    assert I.proc_interrupts_lines(edu.bdf) == []


def test_msix(backend, nvme):
    with Session(backend, nvme) as s:
        count = I.irq_info(s.device, MSIX).count
    if count < 2:
        pytest.fail("nvme has %d MSI-X vectors, 2 wanted" % count)
    sweep_enable(backend, nvme, MSIX, 2, MSI_FAILED)
    with Session(backend, nvme) as s:
        efds = [s.eventfd(), s.eventfd()]
        I.set_irqs(s.device, MSIX, EVENTFD | TRIGGER, data=efds)
        assert len(I.proc_interrupts_lines(nvme.bdf)) == 2
        I.set_irqs(s.device, MSIX, NONE | TRIGGER, start=1, count=1)
        assert I.wait_event(efds[1]) == 1
        assert disable(s.device, MSIX) == 0
    assert I.proc_interrupts_lines(nvme.bdf) == []
