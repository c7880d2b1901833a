# SPDX-License-Identifier: GPL-2.0
"""The conformance suite's raw-ioctl tests, run first against the distro's
vfio-pci and then against the drop-in loaded under the same names and
nodes: a program that knows only /dev/vfio sees the same behaviour."""

from test_conformance import *  # noqa: F401,F403  (the tests and their fixtures)
from test_device_ioctls import *  # noqa: F401,F403
