# SPDX-License-Identifier: GPL-2.0
from vfio_binding_fixtures import backend, edu_addr, nvme_addr, nvme, image, ctrl  # noqa: F401
