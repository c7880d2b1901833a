# SPDX-License-Identifier: GPL-2.0
from vfio_fixtures import dkms_backend as backend, edu  # noqa: F401  (vfio-dkms only)
