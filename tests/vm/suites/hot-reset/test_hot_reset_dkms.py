# SPDX-License-Identifier: GPL-2.0
"""VFIO_DEVICE_PCI_HOT_RESET where vfio-dkms has rules of its own
(module/README.md): with a shared group (docs/shared-ownership.md), a group
file proves ownership of a device only when no other file of the group has
device fds open, else the device is in use by someone else and the reset
answers EBUSY; and the fd array must lie inside argsz (in-tree reads past
it)."""

import errno
import os

import pytest

from test_hot_reset import HDR, hot_reset
from vfio_backends import wait_for
from vfio_fixtures import dkms_backend as backend  # noqa: F401  (vfio-dkms only)
from vfio_session import Session
import vfio_uapi as V


def shared_path(dev):
    return "/sys/class/vfio-dkms/%s/shared" % dev.group


def write_shared(dev, value):
    with open(shared_path(dev), "w") as f:
        f.write(value)


@pytest.fixture
def shared_edu(edu):
    write_shared(edu, "1")
    yield edu

    def back_to_default():
        try:
            write_shared(edu, "0")
        except OSError:
            return False        # EBUSY until every file of the group is closed
        return True
    assert wait_for(back_to_default, 10)


def test_other_opener_busy(backend, shared_edu):  # noqa: F811
    dev = shared_edu
    with Session(backend, dev) as s:
        # A second file of the same group joins the container: while only s
        # has a device fd, s's group file owns the device, the other not.
        g2 = os.open(backend.group_path(dev.group), os.O_RDWR)
        try:
            V.set_container(g2, s.container)
            assert hot_reset(s.device, [g2]) == errno.EBUSY
            assert hot_reset(s.device, [s.group]) == 0
            # Once the second file has a device fd too, s does not own the
            # device alone any more.
            d2 = V.get_device_fd(g2, dev.bdf)
            try:
                assert hot_reset(s.device, [s.group]) == errno.EBUSY
                assert hot_reset(d2, [g2]) == errno.EBUSY
            finally:
                os.close(d2)
            assert hot_reset(s.device, [s.group]) == 0
        finally:
            os.close(g2)


def test_fds_beyond_argsz(backend, edu):  # noqa: F811
    with Session(backend, edu) as s:
        assert hot_reset(s.device, [s.group], argsz=HDR.size) == errno.EINVAL
        assert hot_reset(s.device, [s.group], argsz=HDR.size + 3) == errno.EINVAL
        assert hot_reset(s.device, [s.group], argsz=HDR.size + 4) == 0
