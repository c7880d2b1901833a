# SPDX-License-Identifier: LGPL-2.1-or-later
"""Fixtures of the host tests: a fake sysfs tree and a context whose DMA goes
through a stand-in IOMMU backend (hooks of the test build of vfio._native)."""

import os

import pytest

import vfio
from vfio import _native

# (address, vendor, device, class, driver, iommu group)
FAKE_DEVICES = [
    ("0000:00:03.0", 0x1234, 0x11E8, 0x00FF00, "vfio-pci", 3),
    ("0000:00:02.0", 0x1B36, 0x0010, 0x010802, None, None),
    ("0000:00:1f.2", 0x8086, 0x2922, 0x010601, "ahci", 7),
    ("0000:00:04.0", 0x1B36, 0x0010, 0x010802, "vfio-dkms-pci", 4),
]


def _put(path, content=""):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(content)


def _link(target, path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    os.symlink(target, path)


@pytest.fixture
def fake_sysfs(tmp_path):
    """A sysfs and /dev with FAKE_DEVICES; the library reads it until the test ends."""
    root = str(tmp_path)
    for addr, ven, dev, cls, drv, grp in FAKE_DEVICES:
        d = os.path.join(root, "sys/devices/pci0000:00", addr)
        _put(os.path.join(d, "vendor"), "%#06x\n" % ven)
        _put(os.path.join(d, "device"), "%#06x\n" % dev)
        _put(os.path.join(d, "class"), "%#08x\n" % cls)
        _put(os.path.join(d, "driver_override"), "(null)\n")
        _link("../../../devices/pci0000:00/" + addr,
              os.path.join(root, "sys/bus/pci/devices", addr))
        if drv:
            _link("../../../bus/pci/drivers/" + drv, os.path.join(d, "driver"))
            _put(os.path.join(root, "sys/bus/pci/drivers", drv, "unbind"))
        if grp is not None:
            _link("../../../kernel/iommu_groups/%d" % grp, os.path.join(d, "iommu_group"))
            os.makedirs(os.path.join(root, "sys/kernel/iommu_groups/%d/devices" % grp),
                        exist_ok=True)
    _put(os.path.join(root, "sys/bus/pci/drivers_probe"))
    os.makedirs(os.path.join(root, "sys/bus/pci/drivers/vfio-pci"), exist_ok=True)
    _native._test_set_roots(root, root)
    yield root
    _native._test_set_roots("", "")


@pytest.fixture
def ctx():
    """A Context whose DMA maps through a stand-in backend (no device needed)."""
    c = vfio.Context()
    _native._test_fake_iommu(c._ctx)
    yield c
    c.close()


def memory(size):
    """A vfio._native.Memory over a bytearray (returned too: keep it alive)."""
    ba = bytearray(size)
    m = _native.Memory()
    _native._test_memory(m, ba)
    return m, ba
