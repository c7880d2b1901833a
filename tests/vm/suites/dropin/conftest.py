# SPDX-License-Identifier: GPL-2.0
"""Fixtures of the drop-in suite: the conformance suite's, with the
backends "in-tree" (the distro's vfio-pci) and "dropin" (ours, loaded by
modprobe under the same names) compared on one boot.

The conformance tests import their helpers from "conftest"; this module is
that name here, so it re-exports them from the conformance suite's conftest.
"""

import importlib.util
import os

import pytest

import dropin_install

_CONF = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "conformance",
                     "conftest.py")
_spec = importlib.util.spec_from_file_location("conformance_conftest", _CONF)
conformance = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(conformance)

# What test_conformance.py imports from "conftest".
PCI = conformance.PCI
Backend = conformance.Backend
bind = conformance.bind
driver_of = conformance.driver_of
find_pci = conformance.find_pci
group_of = conformance.group_of
sh = conformance.sh
unbind = conformance.unbind
edu = conformance.edu

DROPIN = Backend("dropin", "vfio-pci", "/dev/vfio")


def _setup(name):
    if name == "in-tree":
        # The reference must really be the distro's (never a drop-in
        # installed on the host, which every guest would see).
        assert "/kernel/" in dropin_install.modinfo_path("vfio"), \
            "vfio resolves to %s, not the distro's" % dropin_install.modinfo_path("vfio")
        return conformance.setup_backend("in-tree")
    dropin_install.load_dropin()
    return DROPIN


@pytest.fixture(scope="module", params=["in-tree", "dropin"])
def backend(request):
    return _setup(request.param)
