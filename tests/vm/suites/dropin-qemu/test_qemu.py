# SPDX-License-Identifier: GPL-2.0
"""Unmodified QEMU realizes -device vfio-pci,host=<edu> through the distro's
vfio-pci and through the drop-in on the same boot: query-pci lists the
assigned edu (1234:11e8) the same way in both, QEMU prints the same, and
every VFIO ioctl QEMU makes gets the same answer (the container and group
setup, GET_INFO/REGION/IRQ probing, and at the machine reset
GET_PCI_HOT_RESET_INFO, which edu on the root bus cannot have: ENODEV)."""


import pytest

import dropin_install as D
import qemu_vfio
from vfio_backends import EDU_IDS, bind, find_pci, group_of, unbind

# Filled by the in-tree test, which runs first, for the drop-in's to match.
IN_TREE = {}
EDU = (int(EDU_IDS[0], 16), int(EDU_IDS[1], 16))


@pytest.fixture(scope="module")
def edu_bdf():
    if not qemu_vfio.present():
        pytest.fail("qemu-system-x86_64 or strace missing (scripts/install-deps)")
    bdf = find_pci(*EDU_IDS)
    assert bdf, "no edu device in this VM"
    return bdf


def assigned(res):
    """The functions QEMU shows for the vfio-pci device (qdev id hostdev0)."""
    return [f for f in res["functions"] or [] if f[5] == "hostdev0"]


def run_qemu(bdf, tag):
    old = bind(bdf, "vfio-pci")
    try:
        # The node comes from a uevent, after the bind has returned.
        assert D.wait_path("/dev/vfio/" + group_of(bdf)), "no group node"
        res = qemu_vfio.realize(bdf, tag)
    finally:
        unbind(bdf, old)
    print("QEMU (%s) exit %s, stderr:\n%s" % (tag, res["returncode"], res["stderr"]))
    print("VFIO ioctls:\n" + "\n".join("%s = %s" % i for i in res["ioctls"]))
    assert res["functions"] is not None, \
        "QEMU did not come up on %s: %s" % (tag, res["stderr"])
    dev = assigned(res)
    assert len(dev) == 1, "query-pci has no vfio-pci device: %r" % (res["functions"],)
    assert dev[0][3:5] == EDU
    return res


def test_in_tree(edu_bdf):
    D.load_in_tree()
    IN_TREE.update(run_qemu(edu_bdf, "in-tree"))
    D.unload_vfio()


@pytest.fixture(scope="module")
def dropin_run(edu_bdf):
    D.load_dropin()
    try:
        res = run_qemu(edu_bdf, "dropin")
        assert D.flavor() == "dropin"
    finally:
        D.unload_vfio()
        D.uninstall()
    return res


def test_dropin(dropin_run):
    assert [f[3:5] for f in assigned(dropin_run)] == [EDU]


def test_dropin_same_machine(dropin_run):
    assert IN_TREE, "the in-tree run failed"
    assert dropin_run["functions"] == IN_TREE["functions"]
    assert dropin_run["stderr"] == IN_TREE["stderr"].replace("in-tree", "dropin")


def test_dropin_same_vfio_answers(dropin_run):
    assert IN_TREE, "the in-tree run failed"
    assert IN_TREE["ioctls"], "no VFIO ioctl traced"
    assert dropin_run["ioctls"] == IN_TREE["ioctls"]
