# SPDX-License-Identifier: GPL-2.0
"""Fixtures of the drop-in suite: the conformance suite's, with the
backends "in-tree" (the distro's vfio-pci) and "dropin" (ours, loaded by
modprobe under the same names) compared on one boot (dropin_fixtures.py).

The conformance tests run here unchanged: their helpers come from tests/lib,
and the edu fixture binds edu to whichever backend this suite's fixture gives.
"""

from dropin_fixtures import backend, edu  # noqa: F401
from vfio_backends import (PCI, bind, driver_of, find_pci,  # noqa: F401
                           group_of, sh, unbind)
