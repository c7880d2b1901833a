# SPDX-License-Identifier: GPL-2.0
"""Without shared ownership (the default) a group is held by one process:
another process's open fails with EBUSY, in-tree VFIO and vfio-dkms alike
(the same test body for both backends)."""

import errno
import os

import pytest

from vfio_fixtures import backend, edu  # noqa: F401  (both backends here)
from vfio_process import run_in_child as _in_child


def test_second_process_open_busy(backend, edu):
    path = backend.group_path(edu.group)

    def other():
        with pytest.raises(OSError) as e:
            os.open(path, os.O_RDWR)
        assert e.value.errno == errno.EBUSY, e.value

    g = os.open(path, os.O_RDWR)
    try:
        assert _in_child(other) == 0
    finally:
        os.close(g)
    # Free again: the other process gets it.
    assert _in_child(lambda: os.close(os.open(path, os.O_RDWR))) == 0
