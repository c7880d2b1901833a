# SPDX-License-Identifier: GPL-2.0
"""KVM's VFIO pseudo-device (what QEMU with KVM creates and hands every
group it assigns) against the distro's vfio and the drop-in, same boot.

KVM finds VFIO files through helpers it looks up in the module named vfio
(module/kvm.c): the drop-in must answer as the distro's does, or QEMU
reports that it cannot add the group and KVM never learns whether the
device's DMA is coherent.  The test bed's vCPUs have SVM (TCG's -cpu max),
so the guest has a /dev/kvm to create VMs with, never to run them (one
vCPU: vm-args says why)."""

import ctypes
import errno
import os

import pytest

from vfio_backends import sh, wait_for
from vfio_session import Session
from vfio_uapi import errno_of as eno
import vfio_uapi as V

KERNEL = tuple(int(x) for x in os.uname().release.split("-")[0].split(".")[:2])

KVMIO = 0xAE
KVM_CREATE_VM = (KVMIO << 8) | 0x01
KVM_DEV_TYPE_VFIO = 4
# KVM_DEV_VFIO_FILE (formerly _GROUP) and its ADD and DEL attributes.
KVM_DEV_VFIO_FILE, KVM_DEV_VFIO_FILE_ADD, KVM_DEV_VFIO_FILE_DEL = 1, 1, 2


class KvmCreateDevice(ctypes.Structure):
    _fields_ = [("type", ctypes.c_uint32), ("fd", ctypes.c_uint32),
                ("flags", ctypes.c_uint32)]


class KvmDeviceAttr(ctypes.Structure):
    _fields_ = [("flags", ctypes.c_uint32), ("group", ctypes.c_uint32),
                ("attr", ctypes.c_uint64), ("addr", ctypes.c_uint64)]


def _iow(nr, size, rw=1):
    return (rw << 30) | (size << 16) | (KVMIO << 8) | nr


KVM_CREATE_DEVICE = _iow(0xe0, ctypes.sizeof(KvmCreateDevice), 3)
KVM_SET_DEVICE_ATTR = _iow(0xe1, ctypes.sizeof(KvmDeviceAttr))


@pytest.fixture(scope="module")
def kvm():
    vendor = "kvm_amd" if "svm" in open("/proc/cpuinfo").read().split() else "kvm_intel"
    sh("modprobe", vendor)
    assert os.path.exists("/dev/kvm"), "modprobe %s gave no /dev/kvm" % vendor
    fd = os.open("/dev/kvm", os.O_RDWR)
    yield fd
    os.close(fd)


class VfioKvmDevice:
    """A VM and its VFIO pseudo-device."""

    def __init__(self, kvm):
        self.vm = V.ioctl(kvm, KVM_CREATE_VM, 0)
        cd = KvmCreateDevice(type=KVM_DEV_TYPE_VFIO)
        V.ioctl(self.vm, KVM_CREATE_DEVICE, cd)
        self.dev = cd.fd

    def _attr(self, what, fd):
        value = ctypes.c_int32(fd)
        attr = KvmDeviceAttr(group=KVM_DEV_VFIO_FILE, attr=what,
                             addr=ctypes.addressof(value))
        return V.ioctl(self.dev, KVM_SET_DEVICE_ATTR, attr)

    def add(self, fd):
        return self._attr(KVM_DEV_VFIO_FILE_ADD, fd)

    def delete(self, fd):
        return self._attr(KVM_DEV_VFIO_FILE_DEL, fd)

    def close(self):
        os.close(self.dev)
        os.close(self.vm)


_seen = {}


def same_as_in_tree(backend, key, value):
    """The in-tree backend (run first) records @value; the drop-in must match."""
    if backend.name == "in-tree":
        _seen[key] = value
    else:
        assert key in _seen, "%s: the in-tree backend did not run first" % key
        assert value == _seen[key], "%s: %s gives %r, in-tree gave %r" % (
            key, backend.name, value, _seen[key])


def test_kvm_tracks_group(backend, edu, kvm):
    """The ADD/DEL answers QEMU gets, for each kind of file."""
    s = Session(backend, edu)
    k = VfioKvmDevice(kvm)
    null = os.open("/dev/null", os.O_RDWR)
    try:
        got = {
            "add group": eno(k.add, s.group),
            "add group again": eno(k.add, s.group),
            "add container": eno(k.add, s.container),
            "add /dev/null": eno(k.add, null),
            "add bad fd": eno(k.add, -1),
            "del container": eno(k.delete, s.container),
            "del group": eno(k.delete, s.group),
            "del group again": eno(k.delete, s.group),
            # A device fd from the group: a VFIO file for KVM since 6.5.
            "add device": eno(k.add, s.device),
            "del device": eno(k.delete, s.device),
        }
        want = {"add group": 0, "add group again": errno.EEXIST,
                "add container": errno.EINVAL, "add /dev/null": errno.EINVAL,
                "add bad fd": errno.EBADF, "del container": errno.ENOENT,
                "del group": 0, "del group again": errno.ENOENT,
                "add device": 0 if KERNEL >= (6, 5) else errno.EINVAL,
                "del device": 0 if KERNEL >= (6, 5) else errno.ENOENT}
        assert got == want
        same_as_in_tree(backend, "kvm answers", got)
    finally:
        os.close(null)
        k.close()
        s.close()


def test_kvm_holds_group(backend, edu, kvm):
    """KVM holds a group it tracks: closing ours leaves it open (a second
    open is EBUSY) until the VM goes, and the group is usable after."""
    s = Session(backend, edu, device=False)
    k = VfioKvmDevice(kvm)
    path = backend.group_path(edu.group)
    try:
        assert k.add(s.group) == 0
        os.close(s.group)
        os.close(s.container)
        s.group = s.container = None
        assert eno(os.open, path, os.O_RDWR) == errno.EBUSY
    finally:
        k.close()
        s.close()
    # The VM's last reference went with its fds; KVM's put of the group file
    # may be deferred a little (fput).
    assert wait_for(lambda: eno(lambda: os.close(os.open(path, os.O_RDWR))) == 0), \
        "the group stays busy after the VM is gone"
    with Session(backend, edu) as s2:
        assert s2.device >= 0
