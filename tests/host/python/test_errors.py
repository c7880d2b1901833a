# SPDX-License-Identifier: LGPL-2.1-or-later
"""errno -> exception class mapping, from Python and through the C library."""

import errno

import pytest

import vfio
from vfio import _errors


@pytest.mark.parametrize("err,builtin", [
    (errno.EACCES, PermissionError),
    (errno.EPERM, PermissionError),
    (errno.ENOENT, FileNotFoundError),
    (errno.EEXIST, FileExistsError),
    (errno.ETIMEDOUT, TimeoutError),
    (errno.EINTR, InterruptedError),
    (errno.EAGAIN, BlockingIOError),
    (errno.ERANGE, ValueError),
])
def test_errno_maps_to_builtin(err, builtin):
    e = _errors._make_error(err, "message of the library")
    assert isinstance(e, vfio.Error) and isinstance(e, builtin) and isinstance(e, OSError)
    assert e.errno == err and e.strerror == "message of the library"
    assert type(e) is type(_errors._make_error(err, "again"))   # one class per builtin


def test_unmapped_errno_is_plain_error():
    e = _errors._make_error(errno.EBUSY, "busy")
    assert type(e) is vfio.Error and e.errno == errno.EBUSY


def test_error_from_library_names_the_object(fake_sysfs):
    with pytest.raises(FileNotFoundError) as e:
        vfio.pci_device("0000:7f:1f.7")
    assert isinstance(e.value, vfio.Error) and e.value.errno == errno.ENOENT
    assert "0000:7f:1f.7" in e.value.strerror


def test_bad_address_is_einval():
    with pytest.raises(vfio.Error) as e:
        vfio.open("not-an-address")
    assert e.value.errno == errno.EINVAL and "not-an-address" in str(e.value)


def test_open_unbound_device_is_enodev(fake_sysfs):
    with pytest.raises(vfio.Error) as e:
        vfio.open("0000:00:1f.2")
    assert e.value.errno == errno.ENODEV and "0000:00:1f.2" in e.value.strerror


def test_timeout_is_timeouterror():
    from conftest import memory
    m, keep = memory(8)
    with pytest.raises(TimeoutError) as e:
        m.poll32(0, 1, 1, 0)
    assert isinstance(e.value, vfio.Error) and e.value.errno == errno.ETIMEDOUT
