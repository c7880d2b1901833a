# SPDX-License-Identifier: GPL-2.0
"""Fixtures of the drop-in suite: the conformance suite's, with the
backends "in-tree" (the distro's vfio-pci) and "dropin" (ours, loaded by
modprobe under the same names) compared on one boot.

The conformance tests run here unchanged: their helpers come from tests/lib,
and the edu fixture binds edu to whichever backend this suite's fixture gives.
"""

import pytest

import dropin_install
from vfio_backends import (PCI, Backend, bind, driver_of, find_pci,  # noqa: F401
                           group_of, setup_backend, sh, unbind)
from vfio_fixtures import edu  # noqa: F401

DROPIN = Backend("dropin", "vfio-pci", "/dev/vfio")


def _setup(name):
    if name == "in-tree":
        # The reference must really be the distro's (never a drop-in
        # installed on the host, which every guest would see).
        assert "/kernel/" in dropin_install.modinfo_path("vfio"), \
            "vfio resolves to %s, not the distro's" % dropin_install.modinfo_path("vfio")
        return setup_backend("in-tree")
    dropin_install.load_dropin()
    return DROPIN


@pytest.fixture(scope="module", params=["in-tree", "dropin"])
def backend(request):
    return _setup(request.param)
