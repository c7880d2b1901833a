# SPDX-License-Identifier: GPL-2.0
"""The backends the drop-in suites compare on one boot: "in-tree" (the
distro's vfio-pci) and "dropin" (ours, loaded by modprobe under the same
names).  A suite's conftest.py imports `backend` (and `edu`) from here."""

import pytest

import dropin_install
from vfio_backends import Backend, setup_backend
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
