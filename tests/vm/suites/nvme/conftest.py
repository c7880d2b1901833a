# SPDX-License-Identifier: GPL-2.0
from vfio_binding_fixtures import nvme_backend as backend, nvme_addr, nvme, image, ctrl  # noqa: F401
