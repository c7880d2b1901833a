# SPDX-License-Identifier: LGPL-2.1-or-later
"""Lifetime rules: no memory freed under a memoryview (BufferError), stale
handles raise ValueError, owners release what they own.  DMA goes through a
stand-in IOMMU backend, so the Python objects are the real ones."""

import gc

import pytest

import vfio
from conftest import memory


def test_memory_detach_refused_while_viewed():
    m, keep = memory(64)
    mv = memoryview(m)
    with pytest.raises(BufferError):
        m._detach()
    mv[0:4] = b"abcd"
    assert keep[:4] == b"abcd"                   # the view is the memory itself
    mv.release()
    m._detach()
    with pytest.raises(ValueError):
        m.read32(0)
    with pytest.raises(ValueError):
        memoryview(m)


def test_dma_buffer_free_while_viewed(ctx):
    buf = ctx.dma_alloc(4096)
    assert len(buf) == 4096 and buf.iova % 4096 == 0
    mv = memoryview(buf)
    with pytest.raises(BufferError):
        buf.free()
    assert not buf.closed
    del mv
    buf.free()
    assert buf.closed
    buf.free()                                   # twice is allowed
    with pytest.raises(ValueError):
        buf.read8(0)
    with pytest.raises(ValueError):
        buf.device_address(0)


def test_context_close_refused_while_viewed(ctx):
    buf = ctx.dma_alloc(4096)
    mv = memoryview(buf)
    with pytest.raises(BufferError):
        ctx.close()
    assert not ctx.closed and not buf.closed
    mv.release()
    ctx.close()
    assert ctx.closed and buf.closed


def test_stale_handles_after_context_close(ctx):
    buf = ctx.dma_alloc(4096)
    pool = ctx.dma_pool(64)
    block = pool.alloc()
    ctx.close()
    assert buf.closed and pool.closed and block.closed
    for call in (lambda: ctx.dma_alloc(4096), lambda: ctx.dma_pool(64), lambda: pool.alloc(),
                 lambda: block.read32(0), lambda: buf.write32(0, 1), lambda: pool.in_use):
        with pytest.raises(ValueError):
            call()
    block.free()                                 # after the owner closed: nothing to do
    pool.close()


def test_device_address_of_a_buffer(ctx):
    buf = ctx.dma_alloc(3 * 4096)
    assert buf.device_address() == buf.iova
    assert buf.device_address(5000) == buf.iova + 5000
    assert buf.device_span(5000) == (buf.iova + 5000, 3 * 4096 - 5000)
    assert buf.segments == [(buf.iova, 3 * 4096)]


def test_device_address_of_a_mapping(ctx):
    import mmap
    mem = mmap.mmap(-1, 3 * 4096)
    view = memoryview(mem)[100:9000]
    m = ctx.dma_map(view)
    assert m.iova % 4096 == 100 and m.device_address(0) == m.iova
    assert m.device_span(8000) == (m.iova + 8000, 900)
    with pytest.raises(ValueError):
        m.device_address(8900)
    m.unmap()
    view.release()
    mem.close()


def test_pool_blocks(ctx):
    with ctx.dma_pool(96, align=32) as pool:
        blocks = [pool.alloc() for _ in range(84)]
        assert pool.in_use == 84 and pool.chunks == 2          # 42 per page
        assert all(b.iova % 32 == 0 and len(b) == 96 for b in blocks)
        assert len({b.iova for b in blocks}) == 84
        assert all(b.iova // 4096 == (b.iova + 95) // 4096 for b in blocks)
        b = blocks[0]
        b.write32(92, 0xDEADBEEF)
        assert bytes(b)[92:] == b"\xef\xbe\xad\xde"
        assert b.device_address(10) == b.iova + 10 and b.device_span(90) == (b.iova + 90, 6)
        mv = memoryview(b)
        with pytest.raises(BufferError):
            b.free()
        with pytest.raises(BufferError):
            pool.close()
        mv.release()
        iova = b.iova
        b.free()
        assert b.closed and pool.in_use == 83
        again = pool.alloc()                     # the only free block comes back, zeroed
        assert again.iova == iova and again.read32(92) == 0
        with pytest.raises(ValueError):
            b.read8(0)
    assert pool.closed and again.closed and all(x.closed for x in blocks)


def test_pool_block_collected(ctx):
    pool = ctx.dma_pool(64)
    pool.alloc()                                 # dropped at once
    gc.collect()
    assert pool.in_use == 0


def test_memoryview_keeps_block_alive(ctx):
    pool = ctx.dma_pool(64)
    mv = memoryview(pool.alloc())
    gc.collect()
    assert pool.in_use == 1
    mv[0] = 7
    mv.release()
    gc.collect()
    assert pool.in_use == 0
