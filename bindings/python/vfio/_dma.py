# SPDX-License-Identifier: LGPL-2.1-or-later
"""DMA: buffers the library allocates, your memory mapped for the device,
and pools of small blocks."""

import os
import weakref
from typing import Tuple

from . import _errors
from . import _native as _n
from ._resource import Resource, check_not_viewed
from ._util import check_choice, check_int

__all__ = ["DmaBuffer", "DmaMapping", "DmaPool", "DmaBlock"]

# Process pages: Context.dma_map maps the whole pages holding an object.
_PAGE = os.sysconf("SC_PAGE_SIZE")
_IOVA_ANY = (1 << 64) - 1        # VFIO_IOVA_ANY
_DIRECTIONS = {
    "bidirectional": _n.VFIO_DMA_BIDIRECTIONAL,
    "to_device": _n.VFIO_DMA_TO_DEVICE,
    "from_device": _n.VFIO_DMA_FROM_DEVICE,
}


def direction_value(direction):
    """libvfio's flags of a direction name."""
    return _DIRECTIONS[check_choice(direction, "direction", _DIRECTIONS)]


def _iova_error(dma):
    """(errno, message) of the library for the IOVA of a mapping of several segments."""
    try:
        _n.vfio_dma_iova(dma)  # fails, and says why
    except OSError:
        pass
    return _n.vfio_last_errno(), _n.vfio_last_error()


def _segments(dma):
    """[(device address, length)] of a libvfio DMA handle."""
    return [_n.vfio_dma_get_segment(dma, i)
            for i in range(_n.vfio_dma_num_segments(dma))]


def _trim_segments(segs, off, length):
    """The part of @segs covering bytes [off, off + length)."""
    out = []
    for bus, n in segs:
        if off >= n:
            off -= n
            continue
        take = min(n - off, length)
        out.append((bus + off, take))
        length -= take
        off = 0
        if not length:
            break
    return out


class _DeviceAddressed:
    """What DmaBuffer and DmaMapping share: the device's view of the memory
    (:attr:`segments`, :attr:`iova`) and the repr.  A subclass sets
    ``_dma``, ``size`` and ``context``, calls :meth:`_set_segments`, and
    names how it ends in ``_released_as``."""

    _released_as = "released"

    def _set_segments(self, segments, dma):
        self.segments = segments
        if len(segments) == 1:
            self._iova, self._iova_error = segments[0][0], None
        else:
            self._iova, self._iova_error = None, _iova_error(dma)

    @property
    def iova(self) -> int:
        """The address the device uses for byte 0 (see :attr:`segments`)."""
        if self._iova_error:
            raise _errors._make_error(*self._iova_error)
        return self._iova

    def device_address(self, offset: int = 0) -> int:
        """The address the device must use for byte *offset*; see :meth:`device_span`."""
        return self.device_span(offset)[0]

    @property
    def closed(self) -> bool:
        """True once freed or unmapped."""
        return self._dma is None

    def _owner_closed(self):
        return self.context.closed

    def _repr_tail(self):
        return ""

    def __repr__(self):
        name = "vfio." + type(self).__name__
        if self._dma is None:
            return "<%s %s>" % (name, self._released_as)
        where = ("iova=%#x" % self._iova if not self._iova_error
                 else "segments=%d" % len(self.segments))
        return "<%s %s size=%#x%s>" % (name, where, self.size, self._repr_tail())


class DmaBuffer(_DeviceAddressed, Resource, _n.Memory):
    """Zeroed, page-aligned memory mapped for DMA (from :meth:`Device.dma_alloc`).

    Supports the buffer protocol: ``memoryview(buf)`` is writable, and
    ``bytes(buf)``, ``buf.read(off, n)``, ``buf.write(off, data)`` and the
    ``read8..64``/``write8..64`` accessors work on it.  Give :attr:`iova` to
    the device.  In a vfio-dkms no-IOMMU context (docs/noiommu.md) the device
    needs bus addresses: :attr:`segments`; :attr:`iova` is the bus address
    when there is one segment and raises :class:`vfio.Error` (EINVAL)
    otherwise.  Freed by :meth:`free`, a ``with`` block, closing its
    context, or garbage collection; :meth:`free` raises BufferError while a
    memoryview of it exists.

    Attributes:
        iova: the address the device uses for byte 0.
        segments: ``[(device address, length)]`` covering the buffer in
            order: one entry (the IOVA range) with an IOMMU, the physically
            contiguous runs (bus addresses) in a no-IOMMU context.
        size: size in bytes (after rounding up to the page size).
        hugepage: whether the memory sits in 2 MiB hugepages.
        fallback_reason: why a hugepage request fell back, else ``None``.
        context: the owning :class:`Context`.
    """

    def __init__(self, *args, **kwargs):
        raise TypeError("use Device.dma_alloc(size) or Context.dma_alloc(size)")

    @classmethod
    def _new(cls, ctx, dma):
        self = _n.Memory.__new__(cls)
        self._dma = dma
        self.context = ctx
        self._set_segments(_segments(dma), dma)
        self.size = _n.vfio_dma_size(dma)
        self.hugepage = _n.vfio_dma_is_hugepage(dma)
        self.fallback_reason = _n.vfio_dma_fallback_reason(dma)
        _n.memory_attach_dma(self, dma)
        return self

    def device_span(self, offset: int = 0) -> Tuple[int, int]:
        """``(device address, contiguous length)`` of byte *offset*.

        The length counts the bytes from *offset* on that the device sees
        at consecutive addresses: to the end of the buffer with an IOMMU,
        to the end of the physically contiguous segment without one.

        Raises:
            ValueError: *offset* outside the buffer.
        """
        return _n.vfio_dma_device_addr(self._dma, offset)

    def free(self) -> None:
        """Unmap from the IOMMU and free the memory.

        Raises BufferError while a memoryview of the buffer exists.
        Freeing twice is allowed.
        """
        if self._dma is None:
            return
        self._detach()
        dma, self._dma = self._dma, None
        self.context._dma.discard(self)
        _n.vfio_dma_free(dma)

    def _invalidate(self):
        # The context is closing and frees the buffer itself.
        self._detach()
        self._dma = None

    _release = free
    _released_as = "freed"

    def _repr_tail(self):
        return " hugepage" if self.hugepage else ""


class DmaMapping(_DeviceAddressed, Resource):
    """Memory you own, mapped for DMA (from :meth:`Device.dma_map`).

    Holds a buffer export of the mapped object (so a bytearray cannot be
    resized and an mmap cannot be closed under the device) until
    :meth:`unmap`, a ``with`` block, closing its context or garbage
    collection.

    Attributes:
        obj: the mapped object.
        iova: IOVA of the object's first byte (in a no-IOMMU context its bus
            address, if the object lies in one physically contiguous
            segment; else raises :class:`vfio.Error`, EINVAL).
        segments: ``[(device address, length)]`` covering the object's
            bytes in order (one entry with an IOMMU).
        size: length of the object in bytes.
        context: the owning :class:`Context`.
    """

    def __init__(self, *args, **kwargs):
        raise TypeError("use Device.dma_map(obj) or Context.dma_map(obj)")

    @classmethod
    def _new(cls, ctx, obj, iova, direction):
        flags = direction_value(direction)
        if iova is not None:
            # Its alignment is libvfio's to check: the IOMMU's page size
            # may be larger than the CPU's.
            check_int(iova, "iova", 0, 2**64 - 1)
        try:
            view = memoryview(obj)
        except TypeError:
            raise TypeError("dma_map needs an object with the buffer protocol "
                            "(bytearray, mmap, ...), not %s" % type(obj).__name__) from None
        if not view.contiguous:
            view.release()
            raise ValueError("dma_map needs a contiguous buffer")
        addr, length, readonly = _n.buffer_address(view)
        if length == 0:
            view.release()
            raise ValueError("cannot map an empty buffer")
        if readonly and flags & _n.VFIO_DMA_FROM_DEVICE:
            view.release()
            raise ValueError("a read-only buffer can only be mapped direction='to_device'")
        start = addr - addr % _PAGE
        end = -(-(addr + length) // _PAGE) * _PAGE
        try:
            dma = _n.dma_map_buffer(ctx._ctx, start, end - start,
                                    _IOVA_ANY if iova is None else iova, flags)
        except BaseException:
            view.release()
            raise
        self = object.__new__(cls)
        self._dma = dma
        self._view = view
        self.obj = obj
        self.context = ctx
        self.size = length
        self._skip = addr - start
        self._set_segments(_trim_segments(_segments(dma), addr - start, length), dma)
        return self

    def device_span(self, offset: int = 0) -> Tuple[int, int]:
        """``(device address, contiguous length)`` of byte *offset* of the
        object; the length stops at the end of the object or of a physically
        contiguous segment (no IOMMU)."""
        check_int(offset, "offset", 0, self.size - 1)
        addr, n = _n.vfio_dma_device_addr(self._dma, self._skip + offset)
        return addr, min(n, self.size - offset)

    def unmap(self) -> None:
        """Unmap from the IOMMU and release the object.  Unmapping twice is allowed."""
        if self._dma is None:
            return
        dma, self._dma = self._dma, None
        self.context._dma.discard(self)
        try:
            _n.vfio_dma_free(dma)
        finally:
            self._view.release()

    def _invalidate(self):
        self._dma = None
        self._view.release()

    # DmaMapping holds no memoryview the user can see, so it never blocks a close.
    _attached = False
    _exports = 0

    _release = unmap
    _released_as = "unmapped"

    def _repr_tail(self):
        return " of %s" % type(self.obj).__name__


class DmaPool(Resource):
    """Fixed-size DMA blocks carved from shared mapped pages (from :meth:`Context.dma_pool`).

    :meth:`alloc` returns a zeroed :class:`DmaBlock`; pages are mapped in
    chunks as needed and stay mapped for later blocks.  :meth:`close` (or a
    ``with`` block, or closing the context) frees every block; it raises
    BufferError while a memoryview of one of them exists.

    Attributes:
        block_size: bytes per block.
        align: alignment of every block.
        context: the owning :class:`Context`.
    """

    def __init__(self, *args, **kwargs):
        raise TypeError("use Context.dma_pool(block_size) or Device.dma_pool(block_size)")

    @classmethod
    def _new(cls, ctx, pool, align):
        self = object.__new__(cls)
        self._pool = pool
        self._blocks = weakref.WeakSet()
        self.context = ctx
        self.block_size = _n.vfio_dma_pool_block_size(pool)
        self.align = align
        return self

    @property
    def closed(self) -> bool:
        """True once closed."""
        return self._pool is None

    @property
    def in_use(self) -> int:
        """Blocks handed out and not freed."""
        return _n.vfio_dma_pool_in_use(self._pool)

    @property
    def chunks(self) -> int:
        """Mappings the pool has made (each one :meth:`Context.dma_alloc`)."""
        return _n.vfio_dma_pool_num_chunks(self._pool)

    def alloc(self) -> "DmaBlock":
        """Take a zeroed block.

        Raises:
            vfio.Error: ENOMEM or ENOSPC when a new chunk cannot be mapped.
        """
        block = _n.Memory.__new__(DmaBlock)
        block.iova = _n.memory_attach_pool_block(block, self._pool)
        block.pool = self
        block.size = self.block_size
        self._blocks.add(block)
        return block

    def close(self) -> None:
        """Free every block and unmap the pool's pages.

        Raises BufferError (and frees nothing) while a memoryview of one of
        its blocks exists.  Closing twice is allowed.
        """
        if self._pool is None:
            return
        check_not_viewed(self._blocks)
        pool = self._pool
        self._invalidate()
        self.context._pools.discard(self)
        _n.vfio_dma_pool_destroy(pool)

    def _invalidate(self):
        for b in list(self._blocks):
            b._detach()
        self._blocks.clear()
        self._pool = None

    _release = close

    def _owner_closed(self):
        return self.context.closed

    def __repr__(self):
        if self._pool is None:
            return "<vfio.DmaPool closed>"
        return "<vfio.DmaPool block_size=%d in_use=%d>" % (self.block_size, self.in_use)


class DmaBlock(Resource, _n.Memory):
    """One block of a :class:`DmaPool`: memory shared with the device.

    Like a :class:`DmaBuffer`: the buffer protocol, ``read*/write*``,
    ``poll32/64``; give :attr:`iova` (or :meth:`device_address`) to the
    device.  A block is contiguous for the device.  :meth:`free` (or a
    ``with`` block, or the collector) returns it to the pool; BufferError
    while a memoryview of it exists.

    Attributes:
        iova: the device address of byte 0 (a bus address without an IOMMU).
        size: the pool's block size.
        pool: the owning :class:`DmaPool`.
    """

    def __init__(self, *args, **kwargs):
        raise TypeError("use DmaPool.alloc()")

    @property
    def closed(self) -> bool:
        """True once freed (or its pool closed)."""
        return not self._attached

    def device_address(self, offset: int = 0) -> int:
        """The address the device must use for byte *offset* of the block."""
        check_int(offset, "offset", 0, self.size - 1)
        if not self._attached:
            raise ValueError("operation on a freed DMA block")
        return self.iova + offset

    def device_span(self, offset: int = 0) -> Tuple[int, int]:
        """``(device address, contiguous length)`` of byte *offset* (to the block's end)."""
        return self.device_address(offset), self.size - offset

    def free(self) -> None:
        """Give the block back to its pool.  Freeing twice is allowed."""
        if not self._attached:
            return
        pool = self.pool
        if pool._pool is None:
            self._detach()
            return
        _n.memory_free_pool_block(self, pool._pool)
        pool._blocks.discard(self)

    _release = free

    def _owner_closed(self):
        return self.pool.closed

    def __repr__(self):
        if not self._attached:
            return "<vfio.DmaBlock freed>"
        return "<vfio.DmaBlock iova=%#x size=%d>" % (self.iova, self.size)
