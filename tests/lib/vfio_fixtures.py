# SPDX-License-Identifier: GPL-2.0
"""pytest fixtures shared by the VM suites; a suite's conftest.py imports
the ones it uses (pytest registers a fixture under the name it is imported
as, so `dkms_backend as backend` runs a suite on vfio-dkms only).

  backend        each test module runs once per backend, in-tree first
  dkms_backend   vfio-dkms only (what the in-tree framework lacks)
  edu, nvme      the device bound to the backend for the module (a Dev)
  dkms           vfio-dkms only, for what only it has (bounded removal)
  release_timeout  a setter of vfio_dkms's release_timeout, restored after
"""

import pytest

import vfio_backends as base

# Answers of the in-tree backend, for tests that compare ours with them
# (the in-tree backend's tests run first).
IN_TREE = {}


@pytest.fixture(scope="module", params=["in-tree", "vfio-dkms"])
def backend(request):
    return base.setup_backend(request.param)


@pytest.fixture(scope="module")
def dkms_backend():
    return base.setup_backend("vfio-dkms")


@pytest.fixture(scope="module")
def edu(backend):
    yield from base.bound_device(backend, base.EDU_IDS)


@pytest.fixture(scope="module")
def nvme(backend):
    yield from base.bound_device(backend, base.NVME_IDS)


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
