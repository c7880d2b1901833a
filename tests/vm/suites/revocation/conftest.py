# SPDX-License-Identifier: GPL-2.0
from vfio_fixtures import dkms, release_timeout  # noqa: F401  (tests/lib)
