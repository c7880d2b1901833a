# SPDX-License-Identifier: GPL-2.0
"""Fixtures of the config suite: each test module runs once per backend
(in-tree first), with edu and nvme bound to it."""

import pytest

from vfio_irq_fixtures import EDU_IDS, NVME_IDS, base, bound_device


@pytest.fixture(scope="module", params=["in-tree", "vfio-dkms"])
def backend(request):
    return base.setup_backend(request.param)


@pytest.fixture(scope="module")
def edu(backend):
    yield from bound_device(backend, EDU_IDS)


@pytest.fixture(scope="module")
def nvme(backend):
    yield from bound_device(backend, NVME_IDS)
