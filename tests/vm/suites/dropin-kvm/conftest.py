# SPDX-License-Identifier: GPL-2.0
"""Fixtures of the dropin-kvm suite: the drop-in suites' backends, in-tree
first (../dropin/dropin_fixtures.py)."""

from dropin_fixtures import backend, edu  # noqa: F401
