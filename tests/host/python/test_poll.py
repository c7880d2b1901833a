# SPDX-License-Identifier: LGPL-2.1-or-later
"""Memory polling with a timeout, and the barriers."""

import threading
import time

import pytest

import vfio
from conftest import memory


def test_poll_match_returns_value():
    m, keep = memory(16)
    m.write32(4, 0x80000005)
    assert m.poll32(4, 0xF, 5, 0) == 0x80000005
    m.write64(8, 0x1234 << 48)
    assert m.poll64(8, 0xFFFF << 48, 0x1234 << 48, None) == 0x1234 << 48


def test_poll_timeout_is_honoured():
    m, keep = memory(8)
    t0 = time.monotonic()
    with pytest.raises(TimeoutError) as e:
        m.poll32(0, 1, 1, 0.05)
    took = time.monotonic() - t0
    assert 0.05 <= took < 1.0
    assert "0x1" in str(e.value)


def test_poll_releases_the_gil_and_sees_a_write():
    m, keep = memory(8)
    ticks = []

    def writer():
        for _ in range(5):
            ticks.append(time.monotonic())       # runs while the poller waits
            time.sleep(0.01)
        m.write32(0, 1)

    t = threading.Thread(target=writer)
    t0 = time.monotonic()
    t.start()
    assert m.poll32(0, 1, 1, 5.0) == 1
    t.join()
    assert len(ticks) == 5 and time.monotonic() - t0 < 2.0


def test_poll_after_release_raises_valueerror():
    m, keep = memory(8)
    m._detach()
    with pytest.raises(ValueError):
        m.poll32(0, 1, 1, 0)


def test_barriers_callable():
    assert vfio.dma_wmb() is None and vfio.dma_rmb() is None and vfio.mb() is None
    assert vfio.dma_wmb.__doc__ and "doorbell" in vfio.dma_wmb.__doc__
