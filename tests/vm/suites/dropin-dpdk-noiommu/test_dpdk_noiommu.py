# SPDX-License-Identifier: GPL-2.0
"""Unmodified DPDK testpmd through vfio-pci without an IOMMU: the
distro's vfio has no no-IOMMU mode (CONFIG_VFIO_NOIOMMU is off in Debian),
so binding fails; the drop-in with enable_unsafe_noiommu_mode=1 forwards,
with DPDK using physical addresses (--iova-mode=pa)."""

import os

import pytest

import dpdk
import dropin_install as D

NOIOMMU_PARAM = "/sys/module/vfio/parameters/enable_unsafe_noiommu_mode"


@pytest.fixture(scope="module")
def nics():
    if not dpdk.tools_present():
        pytest.fail("dpdk-testpmd / dpdk-devbind.py missing (scripts/install-deps)")
    assert not os.path.isdir("/sys/kernel/iommu_groups") or \
        not os.listdir("/sys/kernel/iommu_groups"), "this suite wants no IOMMU"
    found = dpdk.nics()
    assert len(found) == 2, "want two e1000e NICs (vm-args), found %r" % found
    dpdk.hugepages()
    return found


def test_in_tree_cannot_bind(nics):
    """The expected failure of the distro's framework, asserted."""
    assert "/kernel/" in D.modinfo_path("vfio-pci")
    D.sh("modprobe", "vfio-pci")
    assert D.flavor() is None
    assert not os.path.exists(NOIOMMU_PARAM)
    try:
        dpdk.devbind("vfio-pci", nics)
        assert [dpdk.driver_of(b) for b in nics] != ["vfio-pci"] * 2
    finally:
        dpdk.unbind(nics)
        D.unload_vfio()


def test_dropin_forwards(nics):
    D.load_dropin()
    with open(NOIOMMU_PARAM, "w") as f:
        f.write("1")
    # DPDK enables no-IOMMU mode only when it reads "Y" here.
    assert open(NOIOMMU_PARAM).read().strip() == "Y"
    r = dpdk.devbind("vfio-pci", nics)
    try:
        assert [dpdk.driver_of(b) for b in nics] == ["vfio-pci"] * 2, r.stdout + r.stderr
        for b in nics:
            grp = os.path.basename(os.readlink("/sys/bus/pci/devices/%s/iommu_group" % b))
            assert os.path.exists("/dev/vfio/noiommu-" + grp)
        out, rc, stats = dpdk.testpmd(nics, ["--iova-mode=pa"])
        print(out[-3000:])
        assert "IOVA mode 'PA'" in out
        assert dpdk.forwards(stats), "testpmd moved too little: %r (rc %s)" % (stats, rc)
    finally:
        dpdk.unbind(nics)
