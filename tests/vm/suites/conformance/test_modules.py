# SPDX-License-Identifier: GPL-2.0
"""vfio-dkms module life cycle: side by side with in-tree vfio, unload
refused while a file is open, load/unload cycles with a full session."""

import os
import subprocess

import pytest

from vfio_backends import (BACKENDS, bind, find_pci, group_of, load_dkms, module_loaded,
                           sh, unbind, unload_dkms, setup_backend)
import vfio_uapi as V


def rmmod(name):
    return subprocess.run(["rmmod", name], capture_output=True, text=True).returncode


@pytest.fixture
def edu_bdf():
    bdf = find_pci("0x1234", "0x11e8")
    if not bdf:
        pytest.skip("no edu device")
    return bdf


def test_side_by_side():
    setup_backend("in-tree")
    setup_backend("vfio-dkms")
    assert module_loaded("vfio") and module_loaded("vfio_dkms")
    assert os.path.exists("/dev/vfio/vfio")
    assert os.path.exists("/dev/vfio-dkms/vfio")
    assert os.stat("/dev/vfio/vfio").st_rdev != os.stat("/dev/vfio-dkms/vfio").st_rdev
    assert os.path.isdir("/sys/class/vfio-dkms")


def test_unload_refused_while_open(edu_bdf):
    be = setup_backend("vfio-dkms")
    old = bind(edu_bdf, be.driver)
    try:
        grp = group_of(edu_bdf)
        be.wait_node(grp)
        c = os.open(be.container_path, os.O_RDWR)
        try:
            assert rmmod("vfio_dkms") != 0
            g = os.open(be.group_path(grp), os.O_RDWR)
            V.set_container(g, c)
            V.ioctl(c, V.VFIO_SET_IOMMU, V.VFIO_TYPE1v2_IOMMU)
            d = V.get_device_fd(g, edu_bdf)
            os.close(g)
            assert rmmod("vfio_dkms_pci") != 0
            os.close(d)
        finally:
            os.close(c)
        assert module_loaded("vfio_dkms_pci")
    finally:
        unbind(edu_bdf, old)
    # Nothing open any more: both go.
    unload_dkms()
    assert not module_loaded("vfio_dkms") and not module_loaded("vfio_dkms_pci")
    assert not os.path.exists("/dev/vfio-dkms/vfio")


def test_load_unload_cycles(edu_bdf):
    be = BACKENDS["vfio-dkms"]
    for _ in range(3):
        load_dkms()
        old = bind(edu_bdf, be.driver)
        grp = group_of(edu_bdf)
        path = be.wait_node(grp)
        c = os.open(be.container_path, os.O_RDWR)
        g = os.open(path, os.O_RDWR)
        V.set_container(g, c)
        V.ioctl(c, V.VFIO_SET_IOMMU, V.VFIO_TYPE1v2_IOMMU)
        d = V.get_device_fd(g, edu_bdf)
        buf = bytearray(os.pread(d, 4, 0))
        assert int.from_bytes(buf, "little") == 0x010000ed
        os.close(d)
        os.close(g)
        os.close(c)
        unbind(edu_bdf, old)
        be.wait_node(grp, present=False)
        unload_dkms()
        assert not module_loaded("vfio_dkms")


def test_restore_in_tree_modules():
    # Leave the guest as we found it: no vfio modules loaded.
    sh("modprobe", "-r", "vfio-pci", "vfio_iommu_type1", check=False)
    unload_dkms()
    assert not module_loaded("vfio_dkms")
