# SPDX-License-Identifier: GPL-2.0
"""Fixtures of the conformance suite (backends, edu), reused as they are."""

import importlib.util
import os

_spec = importlib.util.spec_from_file_location(
    "conformance_conftest",
    os.path.join(os.path.dirname(__file__), "..", "conformance", "conftest.py"))
_conformance = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_conformance)

Edu = _conformance.Edu
bind = _conformance.bind
find_pci = _conformance.find_pci
group_of = _conformance.group_of
setup_backend = _conformance.setup_backend
unbind = _conformance.unbind
