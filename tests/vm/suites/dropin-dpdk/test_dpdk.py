# SPDX-License-Identifier: GPL-2.0
"""Unmodified DPDK testpmd through vfio-pci with the vIOMMU (type1): first
the distro's vfio-pci, then the drop-in loaded by modprobe under the same
names, on one boot."""

import pytest

import dpdk
import dropin_install as D


@pytest.fixture(scope="module")
def nics():
    if not dpdk.tools_present():
        pytest.fail("dpdk-testpmd / dpdk-devbind.py missing (scripts/install-deps)")
    found = dpdk.nics()
    assert len(found) == 2, "want two e1000e NICs (vm-args), found %r" % found
    dpdk.hugepages()
    return found


def run_testpmd(nics):
    r = dpdk.devbind("vfio-pci", nics)
    try:
        assert [dpdk.driver_of(b) for b in nics] == ["vfio-pci"] * 2, r.stdout + r.stderr
        out, rc, stats = dpdk.testpmd(nics)
        print(out[-3000:])
        # With an IOMMU, EAL maps hugepages at their virtual addresses.
        assert "IOVA mode 'VA'" in out
        assert dpdk.forwards(stats), "testpmd moved too little: %r (rc %s)" % (stats, rc)
    finally:
        dpdk.unbind(nics)


def test_in_tree_vfio_pci(nics):
    assert "/kernel/" in D.modinfo_path("vfio-pci")
    D.sh("modprobe", "vfio-pci")
    assert D.flavor() is None
    run_testpmd(nics)
    D.unload_vfio()


def test_dropin_vfio_pci(nics):
    D.load_dropin()
    run_testpmd(nics)
    assert D.flavor() == "dropin"
