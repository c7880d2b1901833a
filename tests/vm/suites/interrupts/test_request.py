# SPDX-License-Identifier: GPL-2.0
"""Unbind while a process holds the device: the REQ eventfd fires, the
unbind waits until the device fd is closed, then completes.  Same
expectations for both backends."""

import os
import threading
import time

import vfio_irqs as I
import vfio_uapi as V
from vfio_irqs import EVENTFD, TRIGGER
import vfio_backends as base
from vfio_session import Session


def _unbind_in_background(bdf, driver):
    done = threading.Event()
    err = []

    def run():
        try:
            base.sysfs_write(os.path.join("/sys/bus/pci/drivers", driver, "unbind"), bdf)
        except OSError as e:
            err.append(e)
        done.set()

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, done, err


def test_unbind_while_held(backend, edu):
    sess = Session(backend, edu)
    try:
        sess.bus_master()
        req = sess.eventfd()
        assert I.set_irqs(sess.device, V.VFIO_PCI_REQ_IRQ_INDEX,
                          EVENTFD | TRIGGER, data=[req]) == 0
        msi = sess.eventfd()
        assert I.set_irqs(sess.device, V.VFIO_PCI_MSI_IRQ_INDEX,
                          EVENTFD | TRIGGER, data=[msi]) == 0
        bar = sess.mmap_bar(0)
        t, done, err = _unbind_in_background(edu.bdf, backend.driver)
        assert I.wait_event(req, 15) >= 1, "REQ not signalled"
        # the unbind waits for us, and the device still works meanwhile
        time.sleep(0.5)
        assert not done.is_set()
        assert sess.bar32(0) == 0x010000ed
        sess.close()
        bar.close()
    finally:
        sess.close()
    assert done.wait(15), "unbind did not complete after the release"
    t.join()
    assert not err, err
    assert base.driver_of(edu.bdf) is None
    assert I.proc_interrupts_lines(edu.bdf) == []
    # the group node goes away with the last device of the group
    backend.wait_node(edu.group, present=False)
    # and the device can be bound again
    base.bind(edu.bdf, backend.driver)
    backend.wait_node(edu.group)
    with Session(backend, edu) as again:
        assert again.bar32(0) == 0x010000ed


def test_unbind_while_held_without_req(backend, edu):
    """No REQ eventfd registered: the unbind still waits for the close."""
    sess = Session(backend, edu)
    try:
        t, done, err = _unbind_in_background(edu.bdf, backend.driver)
        assert not done.wait(1.0)
    finally:
        sess.close()
    assert done.wait(15), "unbind did not complete after the release"
    assert not err, err
    assert base.driver_of(edu.bdf) is None
