# SPDX-License-Identifier: GPL-2.0
import pytest

import vfio_backends as base
from vfio_fixtures import backend, edu, nvme  # noqa: F401  (tests/lib: one per backend)

RELEASE_TIMEOUT = "/sys/module/vfio_dkms/parameters/release_timeout"


@pytest.fixture(scope="module")
def dkms():
    """vfio-dkms only: bounded removal is what the in-tree framework lacks."""
    return base.setup_backend("vfio-dkms")


@pytest.fixture()
def release_timeout(dkms):
    """A setter of vfio_dkms's release_timeout (seconds); the value the
    test found is restored afterwards."""
    with open(RELEASE_TIMEOUT) as f:
        old = f.read().strip()

    def set_to(seconds):
        with open(RELEASE_TIMEOUT, "w") as f:
            f.write(str(seconds))
    yield set_to
    set_to(old)
