# SPDX-License-Identifier: LGPL-2.1-or-later
"""Contexts (an IOMMU address space holding devices) and vfio.open().

Ownership mirrors libvfio: a Context owns its devices and DMA objects, a
Device owns its regions, mappings and interrupts.  Python objects keep
their owners alive (a Region references its Device, a Device its Context),
and closing an owner invalidates what it owns: using a stale object raises
ValueError, never touches freed memory.

Memory safety: a DmaBuffer or RegionMap cannot be freed, unmapped or
closed (directly or by closing its device or context) while a memoryview
of it exists; that raises BufferError, as mmap.close() does.  Release the
memoryview (``del mv`` or ``mv.release()``) and retry.
"""

import weakref
from typing import List, Optional, Tuple

from . import _native as _n
from ._device import Device
from ._dma import DmaBuffer, DmaMapping, DmaPool, direction_value
from ._resource import Resource, check_not_viewed
from ._util import check_int

__all__ = ["Context", "open"]


class Context(Resource):
    """One IOMMU address space (a VFIO container) that may hold several devices.

    DMA buffers and mappings made in a context are visible to every device
    in it.  The backend ("vfio" or "vfio-dkms") is fixed by the first device
    opened.  A context is a context manager; :meth:`close` (or leaving the
    ``with`` block) closes its devices and frees its DMA memory.

    Example::

        with vfio.Context() as ctx:
            a = ctx.open("0000:00:03.0")
            b = ctx.open("0000:00:04.0")
            buf = ctx.dma_alloc(4096)       # visible to both
    """

    def __init__(self):
        self._ctx = _n.vfio_context_new()
        self._devices = weakref.WeakSet()
        self._dma = weakref.WeakSet()   # DmaBuffer and DmaMapping objects
        self._pools = weakref.WeakSet()

    # -- properties ----------------------------------------------------
    @property
    def closed(self) -> bool:
        """True once :meth:`close` ran."""
        return self._ctx is None

    @property
    def backend(self) -> Optional[str]:
        """``"vfio"`` or ``"vfio-dkms"``; ``None`` before the first device is opened."""
        b = _n.vfio_context_backend(self._ctx)
        return None if b == _n.VFIO_BACKEND_AUTO else _n.vfio_backend_name(b)

    @property
    def devices(self) -> List["Device"]:
        """The devices open in this context."""
        return sorted(self._devices, key=lambda d: d.address)

    @property
    def iova_ranges(self) -> List[Tuple[int, int]]:
        """Usable IOVA ranges as ``(first, last)`` pairs (inclusive)."""
        return [_n.vfio_context_get_iova_range(self._ctx, i)
                for i in range(_n.vfio_context_num_iova_ranges(self._ctx))]

    @property
    def dma_limit(self) -> int:
        """Highest IOVA the allocator hands out (smallest DMA mask of the devices)."""
        return _n.vfio_context_dma_limit(self._ctx)

    # -- devices -------------------------------------------------------
    def open(self, address: str, backend: str = "auto") -> "Device":
        """Open a PCI function in this context.

        Args:
            address: ``"DDDD:BB:DD.F"`` (or ``"BB:DD.F"``).
            backend: ``"auto"`` (from the bound driver: vfio-pci -> "vfio",
                vfio-dkms-pci -> "vfio-dkms"), ``"vfio"`` or ``"vfio-dkms"``.
        Returns:
            the open :class:`Device`.
        Raises:
            FileNotFoundError: no such PCI device.
            PermissionError: not allowed to open the group or container.
            vfio.Error: ENODEV (not bound to a VFIO driver, or the backend's
                module is not loaded), EBUSY (group not viable or already
                open elsewhere), ENXIO (no IOMMU group), EXDEV (the context
                uses the other backend).
        """
        return Device._open(self, address, backend, owns_context=False)

    # -- DMA -----------------------------------------------------------
    def dma_alloc(self, size: int, *, direction: str = "bidirectional",
                  hugepage: bool = False, hugepage_required: bool = False) -> "DmaBuffer":
        """Allocate a zeroed, page-aligned buffer and map it for DMA.

        The IOVA is chosen by the context's allocator, below the DMA limit
        set with :meth:`Device.set_dma_mask`.

        Args:
            size: bytes (rounded up to the page size, 2 MiB for hugepages).
            direction: ``"bidirectional"``, ``"to_device"`` or ``"from_device"``.
            hugepage: back with 2 MiB hugepages, falling back to normal pages
                (see :attr:`DmaBuffer.fallback_reason`).
            hugepage_required: like *hugepage* but fail without hugepages.
        Returns:
            a :class:`DmaBuffer` (buffer protocol, context manager).
        Raises:
            vfio.Error: ENODEV (no device open yet), ENOMEM, ENOSPC (no IOVA
                room below the DMA limit).
        """
        check_int(size, "size", 1)
        flags = direction_value(direction)
        if hugepage:
            flags |= _n.VFIO_DMA_HUGEPAGE
        if hugepage_required:
            flags |= _n.VFIO_DMA_HUGEPAGE_REQUIRED
        buf = DmaBuffer._new(self, _n.vfio_dma_alloc(self._ctx, size, flags))
        self._dma.add(buf)
        return buf

    def dma_map(self, obj, iova: Optional[int] = None, *,
                direction: str = "bidirectional") -> "DmaMapping":
        """Map memory you own (bytearray, mmap, array, writable memoryview...).

        The pages holding *obj* are mapped; the mapping keeps a buffer export
        of *obj*, so it cannot be resized or closed until :meth:`DmaMapping.unmap`.
        Note that whole pages are mapped: if *obj* does not start and end on
        a page boundary (a bytearray usually does not), the device can reach
        the rest of those pages too.  Use an ``mmap.mmap(-1, n)`` or
        :meth:`dma_alloc` for exact, page-aligned memory.

        Args:
            obj: a C-contiguous object with the buffer protocol; read-only
                objects (bytes) can only be mapped ``"to_device"``.
            iova: IOVA for the first page, a multiple of the IOMMU's page
                size, or ``None`` for the allocator to choose.
            direction: ``"bidirectional"``, ``"to_device"`` or ``"from_device"``.
        Returns:
            a :class:`DmaMapping`; its ``iova`` is the IOVA of obj's first byte.
        Raises:
            TypeError: *obj* has no buffer protocol.
            ValueError: empty or non-contiguous buffer, or a read-only
                buffer mapped for device writes.
            vfio.Error: EINVAL (*iova* not a multiple of the IOMMU's page
                size), EEXIST (overlaps a mapping), ERANGE (IOVA unusable or
                above the DMA limit), ENOSPC, ENODEV.
        """
        m = DmaMapping._new(self, obj, iova, direction)
        self._dma.add(m)
        return m

    def dma_pool(self, block_size: int, align: int = 8, *,
                 direction: str = "bidirectional") -> "DmaPool":
        """Create a pool of small DMA blocks carved from shared mapped pages.

        Queue entries, PRP lists and identify buffers each cost a page and
        an IOMMU mapping with :meth:`dma_alloc`; a pool packs them.  Every
        block is zeroed, aligned to *align* (device and process address),
        contiguous for the device (also without an IOMMU) and, when at most
        a page long, never crosses a page boundary.

        Args:
            block_size: bytes per block.
            align: power of two, 1 up to the IOMMU's page size.
            direction: ``"bidirectional"``, ``"to_device"`` or ``"from_device"``.
        Returns:
            a :class:`DmaPool`; :meth:`DmaPool.alloc` hands out :class:`DmaBlock`.
        Raises:
            ValueError: bad size, an alignment that is not a power of two,
                or a bad direction.
            vfio.Error: EINVAL (alignment above the IOMMU's page size, or a
                block larger than the library allows), ENODEV (no device
                open yet).

        Example::

            with ctx.dma_pool(64, align=64) as pool:
                entry = pool.alloc()
                entry.write32(0, 0x1234)
                device_register = entry.iova
        """
        check_int(block_size, "block_size", 1)
        # The upper bound, the IOMMU's page size, is libvfio's to check.
        check_int(align, "align", 1)
        if align & (align - 1):
            raise ValueError("align %d is not a power of two" % align)
        flags = direction_value(direction)
        pool = DmaPool._new(self, _n.vfio_dma_pool_new(self._ctx, block_size, align, flags),
                            align)
        self._pools.add(pool)
        return pool

    # -- lifetime ------------------------------------------------------
    def close(self) -> None:
        """Close every device and free every DMA buffer and mapping, then the context.

        Raises BufferError (and closes nothing) while a memoryview of one of
        its DMA buffers or region maps exists.  Closing twice is allowed.
        """
        if self._ctx is None:
            return
        maps = [m for d in self._devices for m in d._maps]
        blocks = [b for p in self._pools for b in p._blocks]
        check_not_viewed(list(self._dma) + maps + blocks)
        for d in list(self._devices):
            d._check_idle()
        for d in list(self._devices):
            d._close(from_context=True)
        for obj in list(self._dma):
            obj._invalidate()
        for pool in list(self._pools):
            pool._invalidate()       # vfio_context_free() destroys the pools
        ctx, self._ctx = self._ctx, None
        _n.vfio_context_free(ctx)

    _release = close

    def __repr__(self):
        if self._ctx is None:
            return "<vfio.Context closed>"
        return "<vfio.Context backend=%s devices=%d>" % (self.backend, len(self._devices))


def open(address: str, backend: str = "auto") -> Device:
    """Open a PCI function in a context of its own.

    Closing the device (or leaving its ``with`` block) also frees that
    context and every DMA buffer made through the device.

    Args:
        address: ``"DDDD:BB:DD.F"`` (or ``"BB:DD.F"``).
        backend: ``"auto"``, ``"vfio"`` or ``"vfio-dkms"``.
    Returns:
        the open :class:`Device`.
    Raises:
        as :meth:`Context.open`.

    Example::

        with vfio.open("0000:00:03.0") as dev:
            print(hex(dev.region(0).read32(0)))
    """
    ctx = Context()
    try:
        return Device._open(ctx, address, backend, owns_context=True)
    except BaseException:
        ctx.close()
        raise
