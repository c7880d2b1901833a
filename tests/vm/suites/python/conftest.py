# SPDX-License-Identifier: GPL-2.0
from vfio_binding_fixtures import backend, driver, edu_addr, nvme_addr, dev, nvme, edu  # noqa: F401
