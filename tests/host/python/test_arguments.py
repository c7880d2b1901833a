# SPDX-License-Identifier: LGPL-2.1-or-later
"""Argument checks of the pure-Python layer: TypeError for the wrong type,
ValueError for a bad value, before anything reaches the library."""

import errno
import math

import pytest

import vfio
from vfio import _util


def test_open_arguments():
    with pytest.raises(TypeError):
        vfio.open(None)
    with pytest.raises(TypeError):
        vfio.open(b"0000:00:03.0")
    with pytest.raises(ValueError):
        vfio.open("0000:00:03.0", backend="iommufd")
    with pytest.raises(TypeError):
        vfio.open("0000:00:03.0", backend=1)


@pytest.mark.parametrize("call,exc", [
    (lambda c: c.dma_alloc(0), ValueError),
    (lambda c: c.dma_alloc(-1), ValueError),
    (lambda c: c.dma_alloc(4096.0), TypeError),
    (lambda c: c.dma_alloc(True), TypeError),
    (lambda c: c.dma_alloc(4096, direction="up"), ValueError),
    (lambda c: c.dma_map(42), TypeError),
    (lambda c: c.dma_map(bytearray(0)), ValueError),
    (lambda c: c.dma_map(b"read-only", direction="from_device"), ValueError),
    (lambda c: c.dma_pool(0), ValueError),
    (lambda c: c.dma_pool(64, align=3), ValueError),
    (lambda c: c.dma_pool("64"), TypeError),
    (lambda c: c.dma_pool(64, direction="sideways"), ValueError),
])
def test_context_arguments(call, exc):
    with vfio.Context() as c:
        with pytest.raises(exc):
            call(c)


def test_dma_without_device_is_enodev():
    with vfio.Context() as c:
        for call in (lambda: c.dma_alloc(4096), lambda: c.dma_pool(64)):
            with pytest.raises(vfio.Error) as e:
                call()
            assert e.value.errno == 19           # ENODEV: open a device first


def test_buffer_arguments(ctx):
    buf = ctx.dma_alloc(8192)
    with pytest.raises(ValueError):
        buf.device_address(8192)
    with pytest.raises(ValueError):
        buf.device_address(-1)
    with pytest.raises(TypeError):
        buf.device_address(1.0)
    with pytest.raises(ValueError):
        buf.read32(2)                            # misaligned
    with pytest.raises(ValueError):
        buf.read32(8190)                         # past the end
    with pytest.raises(ValueError):
        buf.write8(0, 256)
    with pytest.raises(TypeError):
        buf.write32(0, "1")
    with pytest.raises(ValueError):
        buf.poll32(0, 1, 3, 0)                   # value outside the mask
    with pytest.raises(ValueError):
        buf.poll32(0, 1 << 32, 0, 0)
    with pytest.raises(ValueError):
        buf.poll32(0, 1, 1, -1)
    with pytest.raises(TypeError):
        buf.poll32(0, 1, 1, "1")
    with pytest.raises(TypeError):
        buf.poll32(0, 1, 1)


def test_timeout_conversion():
    assert _util.timeout_ms(None) == -1
    assert _util.timeout_ms(0) == 0
    assert _util.timeout_ms(0.0001) == 1         # rounded up, never to "poll"
    assert _util.timeout_ms(1e12) == 2**31 - 1
    for bad, exc in ((-1, ValueError), (math.nan, ValueError), ("1", TypeError),
                     (True, TypeError)):
        with pytest.raises(exc):
            _util.timeout_ms(bad)


def test_check_int_rejects_bool():
    with pytest.raises(TypeError):
        _util.check_int(True, "x")
    assert _util.check_int(5, "x", 0, 5) == 5
    with pytest.raises(ValueError):
        _util.check_int(6, "x", 0, 5)


def test_flags_are_named_ints():
    f = vfio.DeviceFlags(0x83)
    assert f == 0x83 and f & vfio.DeviceFlags.PCI and f & vfio.DeviceFlags.CAPS
    assert vfio.DeviceFlags.RESET in f and vfio.DeviceFlags.PLATFORM not in f
    assert int(vfio.DeviceFlags(1 << 20)) == 1 << 20          # unknown bits are kept
    r = vfio.RegionFlags(7)
    assert r == vfio.RegionFlags.READ | vfio.RegionFlags.WRITE | vfio.RegionFlags.MMAP


def test_objects_not_constructible():
    for cls in (vfio.Device, vfio.Region, vfio.RegionMap, vfio.DmaBuffer, vfio.DmaMapping,
                vfio.DmaPool, vfio.DmaBlock, vfio.Irq):
        with pytest.raises(TypeError):
            cls()


def test_memory_errors_name_offset_and_size_in_hex(ctx):
    buf = ctx.dma_alloc(4096)
    with pytest.raises(ValueError, match=r"^offset 0x2 is not 4-byte aligned$"):
        buf.read32(2)
    with pytest.raises(ValueError, match=r"^offset 0x1000 \(\+4\) is outside 0\.\.0x1000$"):
        buf.write32(0x1000, 0)
    with pytest.raises(ValueError, match=r"^value 0x3 has bits outside mask 0x1$"):
        buf.poll32(0, 1, 3, 0)
    with pytest.raises(TypeError, match=r"^offset must be an int, not bool$"):
        buf.read8(True)


def test_misaligned_iova_is_the_library_error():
    # libvfio checks the alignment against the IOMMU's page size, which
    # may be larger than the CPU's; Python does not second-guess it.
    with vfio.Context() as c:
        with pytest.raises(vfio.Error) as e:
            c.dma_map(bytearray(4096), iova=123)
    assert e.value.errno == errno.EINVAL and "0x7b" in e.value.strerror


def test_pool_alignment_above_the_page_is_the_library_error():
    with vfio.Context() as c:
        with pytest.raises(vfio.Error) as e:
            c.dma_pool(64, align=1 << 20)
    assert e.value.errno == errno.EINVAL and "alignment 1048576" in e.value.strerror
