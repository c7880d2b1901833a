# SPDX-License-Identifier: GPL-2.0
"""Shared by the interrupts and hotplug-req suites: backends, devices and an
open device session.

Binding and backend loading come from the conformance suite's conftest.py
(loaded under another module name, so its fixtures are not registered
twice); a suite's conftest.py does `from vfio_irq_fixtures import *`.
"""

import importlib.util
import mmap
import os
import struct
import time

import pytest

import vfio_uapi as V
import vfio_irqs as I

_CONF = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "vm",
                     "suites", "conformance", "conftest.py")
_spec = importlib.util.spec_from_file_location("conformance_conftest", _CONF)
base = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(base)

EDU_IDS = ("0x1234", "0x11e8")
NVME_IDS = ("0x1b36", "0x0010")

# Answers of the in-tree backend, for tests that compare ours with them
# (the in-tree backend's tests run first).
IN_TREE = {}


class Dev:
    def __init__(self, bdf):
        self.bdf = bdf
        self.group = base.group_of(bdf)


def bound_device(backend, ids):
    """Bind the first device with @ids to @backend; yields a Dev."""
    bdf = base.find_pci(*ids)
    if not bdf:
        pytest.skip("no %s:%s device" % ids)
    old = base.bind(bdf, backend.driver)
    backend.wait_node(base.group_of(bdf))
    yield Dev(bdf)
    if os.path.exists(os.path.join(base.PCI, bdf)):
        base.unbind(bdf, old)


class Session:
    """Container + group + IOMMU + device fd on one backend."""

    def __init__(self, backend, dev):
        self.backend = backend
        self.dev = dev
        self.container = os.open(backend.container_path, os.O_RDWR)
        self.group = os.open(backend.group_path(dev.group), os.O_RDWR)
        V.set_container(self.group, self.container)
        V.ioctl(self.container, V.VFIO_SET_IOMMU, V.VFIO_TYPE1v2_IOMMU)
        self.device = V.get_device_fd(self.group, dev.bdf)
        self.efds = []
        self.maps = []

    def eventfd(self):
        efd = I.eventfd()
        self.efds.append(efd)
        return efd

    def close(self):
        for m in self.maps:
            try:
                m.close()
            except BufferError:
                pass
        self.maps = []
        for fd in (self.device, self.group, self.container):
            if fd is not None:
                os.close(fd)
        self.device = self.group = self.container = None
        for efd in self.efds:
            os.close(efd)
        self.efds = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def pread(self, index, off, size):
        return os.pread(self.device, size, V.region_offset(index) + off)

    def pwrite(self, index, off, data):
        return os.pwrite(self.device, data, V.region_offset(index) + off)

    def bar32(self, off, val=None):
        if val is None:
            return struct.unpack("<I", self.pread(0, off, 4))[0]
        assert self.pwrite(0, off, struct.pack("<I", val)) == 4

    def bar64(self, off, val=None):
        if val is None:
            return struct.unpack("<Q", self.pread(0, off, 8))[0]
        assert self.pwrite(0, off, struct.pack("<Q", val)) == 8

    def cfg16(self, off, val=None):
        cfg = V.VFIO_PCI_CONFIG_REGION_INDEX
        if val is None:
            return struct.unpack("<H", self.pread(cfg, off, 2))[0]
        assert self.pwrite(cfg, off, struct.pack("<H", val)) == 2

    def bus_master(self, on=True):
        cmd = self.cfg16(4)
        self.cfg16(4, (cmd | 0x6) if on else (cmd & ~0x4))

    def mmap_bar(self, index=0, size=None):
        info = V.RegionInfo(index=index)
        V.ioctl(self.device, V.VFIO_DEVICE_GET_REGION_INFO, info)
        m = mmap.mmap(self.device, size or info.size, mmap.MAP_SHARED,
                      mmap.PROT_READ | mmap.PROT_WRITE, offset=info.offset)
        self.maps.append(m)
        return m

    def device_info(self):
        info = V.DeviceInfo()
        V.ioctl(self.device, V.VFIO_DEVICE_GET_INFO, info)
        return info


def wait_for(pred, timeout=10.0, step=0.05):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(step)
    return pred()
