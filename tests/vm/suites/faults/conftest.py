# SPDX-License-Identifier: GPL-2.0
from vfio_fixtures import dkms_backend as backend, edu, nvme  # noqa: F401  (vfio-dkms only)
from sweeps import faults  # noqa: F401,E402  (autouse: set up, restored)
