# SPDX-License-Identifier: GPL-2.0
"""VFIO_DEVICE_SET_IRQS / GET_IRQ_INFO for raw-ioctl tests, plus eventfd
and /proc/interrupts helpers.  Extends vfio_uapi; works against /dev/vfio
and /dev/vfio-dkms alike."""

import ctypes
import os
import select
import struct

import vfio_uapi as V

VFIO_IRQ_SET_DATA_NONE = 1 << 0
VFIO_IRQ_SET_DATA_BOOL = 1 << 1
VFIO_IRQ_SET_DATA_EVENTFD = 1 << 2
VFIO_IRQ_SET_ACTION_MASK = 1 << 3
VFIO_IRQ_SET_ACTION_UNMASK = 1 << 4
VFIO_IRQ_SET_ACTION_TRIGGER = 1 << 5

NONE = VFIO_IRQ_SET_DATA_NONE
BOOL = VFIO_IRQ_SET_DATA_BOOL
EVENTFD = VFIO_IRQ_SET_DATA_EVENTFD
MASK = VFIO_IRQ_SET_ACTION_MASK
UNMASK = VFIO_IRQ_SET_ACTION_UNMASK
TRIGGER = VFIO_IRQ_SET_ACTION_TRIGGER

SET_HDR_SIZE = 20  # struct vfio_irq_set up to and including count


def set_irqs(fd, index, flags, start=0, count=None, data=None, argsz=None):
    """VFIO_DEVICE_SET_IRQS.  @data: eventfds (DATA_EVENTFD), booleans
    (DATA_BOOL) or None; @count defaults to len(data).  Returns the ioctl's
    value, raises OSError with the kernel's errno."""
    data = list(data or [])
    if flags & EVENTFD:
        payload = struct.pack("<%di" % len(data), *data)
    elif flags & BOOL:
        payload = bytes(1 if b else 0 for b in data)
    else:
        payload = b""
    if count is None:
        count = len(data)
    if argsz is None:
        argsz = SET_HDR_SIZE + len(payload)
    hdr = struct.pack("<5I", argsz, flags, index, start, count)
    buf = ctypes.create_string_buffer(hdr + payload, SET_HDR_SIZE + len(payload))
    return V.ioctl(fd, V.VFIO_DEVICE_SET_IRQS, buf)


def irq_info(fd, index):
    info = V.IrqInfo(index=index)
    V.ioctl(fd, V.VFIO_DEVICE_GET_IRQ_INFO, info)
    return info


def eventfd():
    return os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)


def wait_event(efd, timeout=5.0):
    """The eventfd's count after waiting up to @timeout s (0: nothing)."""
    r, _, _ = select.select([efd], [], [], timeout)
    if not r:
        return 0
    try:
        return os.eventfd_read(efd)
    except BlockingIOError:
        return 0


def drain(efd):
    return wait_event(efd, 0)


def proc_interrupts_lines(bdf):
    """/proc/interrupts lines naming @bdf (the action names of both
    frameworks end in "(BDF)")."""
    with open("/proc/interrupts") as f:
        return [l.rstrip() for l in f if "(%s)" % bdf in l]
