# SPDX-License-Identifier: GPL-2.0
"""An open VFIO session on one backend: container + group (+ IOMMU model,
+ device fd), with the device accessors the VM suites use."""

import mmap
import os
import struct

import vfio_irqs as I
import vfio_uapi as V


class Session:
    """Container + group (+ IOMMU + device fd) opened on one backend.

    @dev has .bdf and .group; @iommu is the model SET_IOMMU selects (not set
    when @set_iommu is false); @group_path overrides the backend's group
    node (the no-IOMMU groups' noiommu-N).
    """

    def __init__(self, backend, dev, iommu=V.VFIO_TYPE1v2_IOMMU, set_iommu=True,
                 device=True, group_path=None):
        self.backend = backend
        self.dev = dev
        self.container = os.open(backend.container_path, os.O_RDWR)
        self.group = os.open(group_path or backend.group_path(dev.group), os.O_RDWR)
        self.device = None
        self.bufs = []
        self.efds = []
        self.maps = []
        V.set_container(self.group, self.container)
        if set_iommu:
            V.ioctl(self.container, V.VFIO_SET_IOMMU, iommu)
        if device:
            self.device = V.get_device_fd(self.group, dev.bdf)

    def buffer(self, size):
        """An anonymous mapping of @size bytes (not populated) and its address."""
        mm = mmap.mmap(-1, size)
        self.bufs.append(mm)
        return mm, V.buffer_address(mm)

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

    # device access
    def pread(self, index, off, size):
        return os.pread(self.device, size, V.region_offset(index) + off)

    def pwrite(self, index, off, data):
        return os.pwrite(self.device, data, V.region_offset(index) + off)

    def _rw(self, index, off, fmt, val):
        size = struct.calcsize(fmt)
        if val is None:
            return struct.unpack(fmt, self.pread(index, off, size))[0]
        assert self.pwrite(index, off, struct.pack(fmt, val)) == size
        return None

    def bar32(self, off, val=None):
        return self._rw(0, off, "<I", val)

    def bar64(self, off, val=None):
        return self._rw(0, off, "<Q", val)

    def cfg16(self, off, val=None):
        return self._rw(V.VFIO_PCI_CONFIG_REGION_INDEX, off, "<H", val)

    def cfg32(self, off, val=None):
        return self._rw(V.VFIO_PCI_CONFIG_REGION_INDEX, off, "<I", val)

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
