# SPDX-License-Identifier: GPL-2.0
from vfio_fixtures import backend, dkms, edu, nvme, release_timeout  # noqa: F401  (tests/lib)
