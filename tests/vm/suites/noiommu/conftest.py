# SPDX-License-Identifier: GPL-2.0
"""Fixtures of the noiommu suite.

The modules are loaded once, with enable_unsafe_noiommu_mode off; tests
switch it through /sys/module/vfio_dkms/parameters/ (writable, 0644, as
upstream).  Binding comes from tests/lib/vfio_backends.py.
"""

import os
import subprocess

import pytest

import vfio_backends as base
from vfio_backends import EDU_IDS

PARAM = "/sys/module/vfio_dkms/parameters/enable_unsafe_noiommu_mode"


def set_mode(on):
    with open(PARAM, "w") as f:
        f.write("1" if on else "0")


def get_mode():
    return open(PARAM).read().strip() == "Y"


def edus():
    """Every edu: [(bdf, has an IOMMU group)]."""
    out = []
    for bdf in sorted(os.listdir(base.PCI)):
        d = os.path.join(base.PCI, bdf)
        if (open(d + "/vendor").read().strip() == EDU_IDS[0] and
                open(d + "/device").read().strip() == EDU_IDS[1]):
            out.append((bdf, os.path.exists(os.path.join(d, "iommu_group"))))
    return out


def dmesg():
    return subprocess.run(["dmesg"], capture_output=True, text=True).stdout


@pytest.fixture(scope="session")
def modules():
    base.load_dkms()
    set_mode(False)
    return base.BACKENDS["vfio-dkms"]


@pytest.fixture(scope="session")
def edu_bdf():
    """The edu without an IOMMU group (bound by the test that needs it)."""
    found = [bdf for bdf, grouped in edus() if not grouped]
    assert found, "no edu without an IOMMU group: %r" % (edus(),)
    return found[0]
