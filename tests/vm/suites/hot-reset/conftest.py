# SPDX-License-Identifier: GPL-2.0
from vfio_fixtures import backend, edu, nvme  # noqa: F401  (tests/lib)
