# SPDX-License-Identifier: GPL-2.0
"""Fixtures of the shared suite: vfio-dkms loaded, edu bound to it.

Binding and loading come from the conformance suite's helpers (through
tests/lib/vfio_irq_fixtures.py, which loads its conftest.py under another
name)."""

import pytest

from vfio_irq_fixtures import EDU_IDS, base, bound_device


@pytest.fixture(scope="module")
def backend():
    return base.setup_backend("vfio-dkms")


@pytest.fixture(scope="module")
def edu(backend):
    yield from bound_device(backend, EDU_IDS)
