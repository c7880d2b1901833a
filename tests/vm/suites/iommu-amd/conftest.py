# SPDX-License-Identifier: GPL-2.0
"""Fixtures of the conformance suite (backends, edu), reused as they are."""

from vfio_backends import Dev as Edu  # noqa: F401  (tests/lib)
from vfio_backends import bind, find_pci, group_of, setup_backend, unbind  # noqa: F401
