# SPDX-License-Identifier: GPL-2.0
"""Without shared ownership (the default) a group is held by one process:
another process's open fails with EBUSY, in-tree VFIO and vfio-dkms alike
(the same test body for both backends)."""

import errno
import os
import sys
import traceback

import pytest

from vfio_irq_fixtures import EDU_IDS, base, bound_device


@pytest.fixture(scope="module", params=["in-tree", "vfio-dkms"])
def backend(request):
    return base.setup_backend(request.param)


@pytest.fixture(scope="module")
def edu(backend):
    yield from bound_device(backend, EDU_IDS)


def _in_child(fn):
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            fn()
            code = 0
        except BaseException:       # noqa: BLE001
            traceback.print_exc()
        finally:
            sys.stderr.flush()
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.WEXITSTATUS(status) if os.WIFEXITED(status) else -1


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
