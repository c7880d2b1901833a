# SPDX-License-Identifier: GPL-2.0
"""The drop-in flavor under upstream's names: what modprobe loads, the
nodes, the module parameters, the three ways of binding vfio-pci, the
default flavor loaded beside it, and the way back to the distro's vfio."""

import os
import stat
import time

import pytest

import dropin_install as D
from conftest import bind, driver_of, find_pci, group_of, unbind

EDU = ("0x1234", "0x11e8")
DEFAULT_KO_DIR = os.path.join(D.REPO, "build", "kernels", D.KVER)


@pytest.fixture(scope="module")
def dropin():
    D.load_dropin()


@pytest.fixture
def edu_bdf(dropin):
    bdf = find_pci(*EDU)
    if not bdf:
        pytest.skip("no edu device")
    assert driver_of(bdf) is None
    yield bdf
    unbind(bdf)


def wait_gone(path):
    for _ in range(200):
        if not os.path.exists(path):
            return True
        time.sleep(0.01)
    return False


def test_modprobe_loads_ours(dropin):
    for m in D.MODULES:
        assert "/updates/dkms/" in D.modinfo_path(m), m
    assert D.sh("modinfo", "-F", "vfio_dkms_flavor", "vfio").stdout.strip() == "dropin"
    assert D.sh("modinfo", "-F", "vfio_dkms_flavor", "vfio_pci").stdout.strip() == "dropin"
    # What DPDK's rte_eal_check_module() looks for.
    assert os.path.isdir("/sys/module/vfio")
    assert os.path.isdir("/sys/module/vfio_pci")
    assert os.path.isdir("/sys/bus/pci/drivers/vfio-pci")
    assert D.flavor() == "dropin"


def test_flavor_is_read_only(dropin):
    p = "/sys/module/vfio/parameters/vfio_dkms_flavor"
    assert stat.S_IMODE(os.stat(p).st_mode) == 0o444


def test_container_node(dropin):
    st = os.stat("/dev/vfio/vfio")
    assert stat.S_ISCHR(st.st_mode)
    assert (os.major(st.st_rdev), os.minor(st.st_rdev)) == (10, 196)
    assert stat.S_IMODE(st.st_mode) == 0o666
    assert open("/sys/class/misc/vfio/dev").read().strip() == "10:196"
    # The alias kmod turns into a static node, as for the in-tree vfio.
    devname = open("/lib/modules/%s/modules.devname" % D.KVER).read().split("\n")
    assert "vfio vfio/vfio c10:196" in devname


def test_noiommu_parameter(dropin):
    p = "/sys/module/vfio/parameters/enable_unsafe_noiommu_mode"
    assert open(p).read().strip() == "N"
    assert stat.S_IMODE(os.stat(p).st_mode) == 0o644


def test_modprobe_type1(dropin):
    D.sh("modprobe", "vfio_iommu_type1")
    assert os.path.isdir("/sys/module/vfio_iommu_type1")
    assert D.flavor() == "dropin"


def _group_nodes(bdf):
    grp = group_of(bdf)
    return "/dev/vfio/" + grp, "/sys/class/vfio/" + grp


def test_bind_driver_override(edu_bdf):
    bind(edu_bdf, "vfio-pci")
    node, cls = _group_nodes(edu_bdf)
    assert D.wait_path(node) and stat.S_ISCHR(os.stat(node).st_mode)
    assert os.path.isdir(cls)
    unbind(edu_bdf)
    assert wait_gone(node)


def test_bind_new_id(edu_bdf):
    drv = "/sys/bus/pci/drivers/vfio-pci"
    with open(drv + "/new_id", "w") as f:
        f.write("1234 11e8")
    try:
        assert driver_of(edu_bdf) == "vfio-pci"
        assert D.wait_path(_group_nodes(edu_bdf)[0])
    finally:
        with open(drv + "/remove_id", "w") as f:
            f.write("1234 11e8")


def test_bind_ids_parameter(edu_bdf):
    D.sh("rmmod", "vfio_pci")
    try:
        D.sh("modprobe", "vfio-pci", "ids=8086:ffff,1234:11e8")
        assert driver_of(edu_bdf) == "vfio-pci"
        assert D.wait_path(_group_nodes(edu_bdf)[0])
    finally:
        unbind(edu_bdf)
        D.sh("rmmod", "vfio_pci")
        D.sh("modprobe", "vfio-pci")


def test_debugfs_dir(dropin):
    if not os.path.ismount("/sys/kernel/debug"):
        D.sh("mount", "-t", "debugfs", "none", "/sys/kernel/debug")
    assert os.path.isfile("/sys/kernel/debug/vfio-dkms-dropin/groups")


def test_default_flavor_beside(edu_bdf):
    """Both flavors at once: no name, node or exported symbol in common."""
    loaded = []
    try:
        for m in ("vfio_dkms", "vfio_dkms_pci"):
            D.sh("insmod", os.path.join(DEFAULT_KO_DIR, m + ".ko"))
            loaded.insert(0, m)
        assert D.wait_path("/dev/vfio-dkms/vfio")
        assert open("/sys/module/vfio_dkms/parameters/vfio_dkms_flavor").read().strip() \
            == "default"
        assert os.path.exists("/dev/vfio/vfio")
        bind(edu_bdf, "vfio-dkms-pci")
        assert D.wait_path("/dev/vfio-dkms/" + group_of(edu_bdf))
        assert not os.path.exists("/dev/vfio/" + group_of(edu_bdf))
        unbind(edu_bdf)
    finally:
        for m in loaded:
            D.sh("rmmod", m)


def test_back_to_in_tree(dropin):
    """Removing the modules and running depmod gives the distro's back."""
    D.unload_vfio()
    D.uninstall()
    try:
        for m in ("vfio", "vfio_pci", "vfio_iommu_type1"):
            assert "/kernel/" in D.modinfo_path(m), m
        D.sh("modprobe", "vfio-pci")
        assert os.path.isdir("/sys/module/vfio")
        assert D.flavor() is None
    finally:
        D.unload_vfio()
