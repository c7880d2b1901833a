# SPDX-License-Identifier: LGPL-2.1-or-later
"""Contexts, devices, regions, DMA and interrupts over libvfio.

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

import errno as _errno
import os
import weakref
from typing import List, Optional, Tuple

from . import _errors
from . import _native as _n
from ._flags import DeviceFlags, RegionFlags
from ._util import check_int, check_str, timeout_ms

__all__ = ["Context", "Device", "Region", "RegionMap", "DmaBuffer", "DmaMapping",
           "DmaPool", "DmaBlock", "Irq", "open", "BACKENDS", "IRQ_KINDS"]

#: Backend names accepted by :func:`open` and :meth:`Context.open`.
BACKENDS = ("auto", "vfio-dkms", "vfio")
#: Interrupt kinds accepted by :meth:`Device.irq_enable`.
IRQ_KINDS = ("intx", "msi", "msix")

_PAGE = os.sysconf("SC_PAGE_SIZE")
_IOVA_ANY = (1 << 64) - 1        # VFIO_IOVA_ANY
_DIRECTIONS = {
    "bidirectional": _n.VFIO_DMA_BIDIRECTIONAL,
    "to_device": _n.VFIO_DMA_TO_DEVICE,
    "from_device": _n.VFIO_DMA_FROM_DEVICE,
}


def _backend_value(backend):
    check_str(backend, "backend")
    if backend not in BACKENDS:
        raise ValueError("backend must be one of %s, not %r" % (", ".join(BACKENDS), backend))
    return _n.vfio_backend_from_name(backend)


def _irq_value(kind):
    check_str(kind, "kind")
    if kind not in IRQ_KINDS:
        raise ValueError("interrupt kind must be one of %s, not %r"
                         % (", ".join(IRQ_KINDS), kind))
    return _n.vfio_irq_type_from_name(kind)


def _direction_value(direction):
    check_str(direction, "direction")
    if direction not in _DIRECTIONS:
        raise ValueError("direction must be one of %s, not %r"
                         % (", ".join(_DIRECTIONS), direction))
    return _DIRECTIONS[direction]


def _busy(memories):
    n = sum(m._exports for m in memories if m._attached)
    if n:
        raise BufferError("cannot close: %d memoryview(s) of its DMA buffers or region "
                          "maps still exist; release them first" % n)


class _Resource:
    """The lifetime every object of this package follows: a ``with`` block
    releases it, and so does the garbage collector -- unless its owner is
    closed already, which released it then.  A subclass sets ``_release`` to
    its public close/free/unmap method and overrides ``_owner_closed``."""

    def _release(self) -> None:
        raise NotImplementedError

    def _owner_closed(self) -> bool:
        return False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._release()

    def __del__(self):
        try:
            if not self.closed and not self._owner_closed():
                self._release()
        except Exception:
            pass


class Context(_Resource):
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
        flags = _direction_value(direction)
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
            iova: page-aligned IOVA for the first page, or ``None`` for the
                allocator to choose.
            direction: ``"bidirectional"``, ``"to_device"`` or ``"from_device"``.
        Returns:
            a :class:`DmaMapping`; its ``iova`` is the IOVA of obj's first byte.
        Raises:
            TypeError: *obj* has no buffer protocol.
            ValueError: empty or non-contiguous buffer, misaligned *iova*, or a
                read-only buffer mapped for device writes.
            vfio.Error: EEXIST (overlaps a mapping), ERANGE (IOVA unusable or
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
            align: power of two, 1 up to the page size.
            direction: ``"bidirectional"``, ``"to_device"`` or ``"from_device"``.
        Returns:
            a :class:`DmaPool`; :meth:`DmaPool.alloc` hands out :class:`DmaBlock`.
        Raises:
            ValueError: bad size, alignment or direction.
            vfio.Error: ENODEV (no device open yet).

        Example::

            with ctx.dma_pool(64, align=64) as pool:
                entry = pool.alloc()
                entry.write32(0, 0x1234)
                device_register = entry.iova
        """
        check_int(block_size, "block_size", 1, 1 << 30)
        check_int(align, "align", 1, _PAGE)
        if align & (align - 1):
            raise ValueError("align %d is not a power of two" % align)
        flags = _direction_value(direction)
        if self._ctx is None:
            raise ValueError("operation on a closed context")
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
        _busy(list(self._dma) + maps + blocks)
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


class Device(_Resource):
    """A PCI function opened through VFIO.  Get one with :func:`vfio.open` or
    :meth:`Context.open`; close it with :meth:`close` or a ``with`` block.

    Attributes:
        address: full PCI address.
        backend: ``"vfio"`` or ``"vfio-dkms"``.
        vendor, device: PCI ids read from config space.
        iommu_group: the IOMMU group number.
        regions: number of regions (9 or more for PCI: BAR0-5, ROM, config, VGA).
        irqs: number of interrupt indexes.
        context: the :class:`Context` it lives in.
    """

    def __init__(self, *args, **kwargs):
        raise TypeError("use vfio.open(address) or Context.open(address)")

    @classmethod
    def _open(cls, ctx, address, backend, owns_context):
        check_str(address, "address")
        b = _backend_value(backend)
        if ctx._ctx is None:
            raise ValueError("operation on a closed context")
        d = _n.vfio_device_open(ctx._ctx, address, b)
        self = object.__new__(cls)
        self._d = d
        self._ctx = ctx
        self._owns_context = owns_context
        self._regions = {}
        self._maps = weakref.WeakSet()
        self._irqs = {}            # kind -> {vector: Irq}
        self.address = _n.vfio_device_address(d)
        self.backend = _n.vfio_backend_name(_n.vfio_device_backend(d))
        self.vendor = _n.vfio_device_vendor(d)
        self.device = _n.vfio_device_device(d)
        self.iommu_group = _n.vfio_device_iommu_group(d)
        self.regions = _n.vfio_device_num_regions(d)
        self.irqs = _n.vfio_device_num_irqs(d)
        ctx._devices.add(self)
        return self

    # -- info ----------------------------------------------------------
    @property
    def context(self) -> Context:
        """The :class:`Context` the device is open in."""
        return self._ctx

    @property
    def closed(self) -> bool:
        """True once the device (or its context) was closed."""
        return self._d is None

    @property
    def flags(self) -> DeviceFlags:
        """VFIO_DEVICE_FLAGS_* from VFIO_DEVICE_GET_INFO, as named bits
        (:class:`vfio.DeviceFlags`, an :class:`int`), e.g.
        ``DeviceFlags.PCI | DeviceFlags.RESET``."""
        return DeviceFlags(_n.vfio_device_flags(self._d))

    @property
    def dma_mask(self) -> int:
        """Address bits the device can drive (64 unless :meth:`set_dma_mask` was called)."""
        return _n.vfio_device_dma_mask(self._d)

    def fileno(self) -> int:
        """The VFIO device fd, for ioctls the library does not wrap (owned by the device)."""
        return _n.vfio_device_fd(self._d)

    # -- regions -------------------------------------------------------
    def region(self, index: int) -> "Region":
        """Region *index*: BAR0..5 are 0..5, the ROM 6, config space 7, VGA 8.

        Raises:
            ValueError: index out of range or the device is closed.
        """
        self._check_open()
        check_int(index, "region index", 0, self.regions - 1)
        r = self._regions.get(index)
        if r is None:
            r = Region._new(self, _n.vfio_device_get_region(self._d, index))
            self._regions[index] = r
        return r

    @property
    def config(self) -> "Region":
        """PCI configuration space, as a :class:`Region`."""
        h = _n.vfio_device_config(self._d)
        if h is None:
            raise Error(_errno.ENOENT, "%s has no config region" % self.address)
        return self.region(_n.vfio_region_index(h))

    # -- control -------------------------------------------------------
    def reset(self) -> None:
        """Reset the device (VFIO_DEVICE_RESET).

        Raises:
            vfio.Error: ENOTTY when the device cannot be reset.
        """
        _n.vfio_device_reset(self._d)

    def set_bus_master(self, enable: bool = True) -> None:
        """Set (or clear) the Bus Master bit of the PCI command register.

        A device cannot DMA or send MSIs without it.
        """
        _n.vfio_device_set_bus_master(self._d, bool(enable))

    def set_dma_mask(self, bits: int) -> None:
        """Declare how many address bits the device can drive (1..64).

        The context's allocator then only hands out IOVAs below ``2**bits``
        (QEMU's edu device: 28).  Mappings already made are not moved.
        """
        check_int(bits, "bits", 1, 64)
        _n.vfio_device_set_dma_mask(self._d, bits)

    def dma_alloc(self, size: int, **kwargs) -> "DmaBuffer":
        """Allocate a DMA buffer in the device's context; see :meth:`Context.dma_alloc`."""
        self._check_open()
        return self._ctx.dma_alloc(size, **kwargs)

    def dma_map(self, obj, iova: Optional[int] = None, **kwargs) -> "DmaMapping":
        """Map your memory in the device's context; see :meth:`Context.dma_map`."""
        self._check_open()
        return self._ctx.dma_map(obj, iova, **kwargs)

    def dma_pool(self, block_size: int, align: int = 8, **kwargs) -> "DmaPool":
        """A pool of small DMA blocks in the device's context; see :meth:`Context.dma_pool`."""
        self._check_open()
        return self._ctx.dma_pool(block_size, align, **kwargs)

    # -- interrupts ----------------------------------------------------
    def irq_count(self, kind: str) -> int:
        """Vectors the device offers for *kind* (``"intx"``, ``"msi"``, ``"msix"``); 0 if none."""
        return _n.vfio_device_irq_count(self._d, _irq_value(kind))

    def irq_enable(self, kind: str, count: int = 1) -> List["Irq"]:
        """Enable *count* vectors of *kind*, each delivered to its own eventfd.

        Only one kind can be enabled at a time; enabling the same kind again
        replaces it (the old :class:`Irq` objects become invalid).

        Returns:
            a list of *count* :class:`Irq` objects, vector 0 first.
        Raises:
            ValueError: unknown kind.
            vfio.Error: EINVAL (bad count), EBUSY (another kind is enabled).
        """
        t = _irq_value(kind)
        check_int(count, "count", 1)
        self._drop_irqs(kind)
        _n.vfio_irq_enable(self._d, t, count)
        irqs = [Irq._new(self, kind, v, _n.vfio_device_get_irq(self._d, t, v))
                for v in range(count)]
        self._irqs[kind] = dict(enumerate(irqs))
        return irqs

    def irq_enable_vector(self, kind: str, vector: int) -> "Irq":
        """Enable one more vector of *kind*, keeping those already enabled.

        For drivers that give each queue its own MSI-X vector as they create
        it: the other vectors' :class:`Irq` objects stay valid.  When *kind*
        is not enabled yet, only *vector* gets an eventfd.  Vectors beyond
        those the kernel allocated are added in place where the kernel
        supports dynamic MSI-X (6.5 and later); on older kernels the kind is
        re-enabled with more vectors and the same eventfds, and an interrupt
        arriving in between can be lost, so add vectors before starting I/O
        on them.  Enabling an enabled vector returns its :class:`Irq`.

        Returns:
            the :class:`Irq` of *vector*.
        Raises:
            ValueError: unknown kind, or *vector* negative.
            vfio.Error: EINVAL (vector beyond :meth:`irq_count`), EBUSY
                (another kind is enabled).
        """
        t = _irq_value(kind)
        check_int(vector, "vector", 0)
        self._check_open()
        have = self._irqs.get(kind, {})
        if vector in have and have[vector]._irq is not None:
            return have[vector]
        try:
            _n.vfio_irq_enable_vector(self._d, t, vector)
        except BaseException:
            self._revalidate_irqs(kind, t)
            raise
        irq = Irq._new(self, kind, vector, _n.vfio_device_get_irq(self._d, t, vector))
        self._irqs.setdefault(kind, {})[vector] = irq
        return irq

    def irq_disable_vector(self, kind: str, vector: int) -> None:
        """Remove one vector's eventfd; the other vectors stay enabled.

        Its :class:`Irq` becomes invalid.  Removing a vector that is not
        enabled does nothing; :meth:`irq_disable` turns the whole kind off.
        """
        t = _irq_value(kind)
        check_int(vector, "vector", 0)
        self._check_open()
        irq = self._irqs.get(kind, {}).get(vector)
        if irq is not None and irq._waiters:
            raise RuntimeError("an interrupt of %s is being waited on in another thread"
                               % self.address)
        _n.vfio_irq_disable_vector(self._d, t, vector)
        if irq is not None:
            irq._irq = None
            del self._irqs[kind][vector]

    def _revalidate_irqs(self, kind, t):
        # A failed re-enable can leave the kind disabled: forget what the library dropped.
        for v, irq in list(self._irqs.get(kind, {}).items()):
            try:
                _n.vfio_device_get_irq(self._d, t, v)
            except Exception:
                irq._irq = None
                del self._irqs[kind][v]

    def irq_disable(self, kind: str) -> None:
        """Disable all vectors of *kind*; their :class:`Irq` objects become invalid."""
        t = _irq_value(kind)
        self._drop_irqs(kind)
        _n.vfio_irq_disable(self._d, t)

    def _drop_irqs(self, kind):
        old = list(self._irqs.get(kind, {}).values())
        for irq in old:
            if irq._waiters:
                raise RuntimeError("an interrupt of %s is being waited on in another thread"
                                   % self.address)
        for irq in old:
            irq._irq = None
        self._irqs.pop(kind, None)

    # -- lifetime ------------------------------------------------------
    def _check_open(self):
        if self._d is None:
            raise ValueError("operation on a closed device")

    def _check_idle(self):
        for irqs in self._irqs.values():
            for irq in irqs.values():
                if irq._waiters:
                    raise RuntimeError("cannot close %s: an interrupt is being waited on "
                                       "in another thread" % self.address)

    def close(self) -> None:
        """Close the device: disable its interrupts, unmap its regions.

        If the device was opened with :func:`vfio.open` (its own context),
        the context and its DMA memory are freed too.  Raises BufferError
        (and closes nothing) while a memoryview of one of its region maps
        (or, for its own context, DMA buffers) exists.  Closing twice is
        allowed.
        """
        if self._d is None:
            return
        if self._owns_context:
            self._ctx.close()        # closes this device too
            return
        _busy(self._maps)
        self._check_idle()
        self._close(from_context=False)

    def _close(self, from_context):
        for m in list(self._maps):
            m._invalidate()
        for r in self._regions.values():
            r._r = None
            r._detach()
        for irqs in self._irqs.values():
            for irq in irqs.values():
                irq._irq = None
        self._irqs.clear()
        d, self._d = self._d, None
        self._ctx._devices.discard(self)
        _n.vfio_device_close(d)

    _release = close

    def __repr__(self):
        state = "closed" if self._d is None else "backend=%s" % self.backend
        return "<vfio.Device %s %04x:%04x %s>" % (self.address, self.vendor, self.device, state)


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


class Region(_n.RegionIO):
    """A device region: a BAR, the expansion ROM, config space...

    Register accesses go to the device through the VFIO fd (pread/pwrite),
    bounds-checked by the library: an access outside the region raises a
    :class:`vfio.Error` that is also a :class:`ValueError`.  For the fastest
    access to a mappable BAR, :meth:`map` it.

    ``poll32(offset, mask, value, timeout)`` (and ``poll64``) wait until
    ``(register & mask) == value``, e.g. NVMe's CSTS.RDY after setting
    CC.EN: ``bar.poll32(0x1c, 1, 1, timeout=5.0)``.  They return the value
    read and raise :class:`TimeoutError` (a :class:`vfio.Error`, ETIMEDOUT)
    when it does not match in time; other threads run between reads.

    Attributes:
        index: region index.
        size: size in bytes (0 for an unused BAR).
        offset: offset of the region in the device fd.
        flags: VFIO_REGION_INFO_FLAG_* as :class:`vfio.RegionFlags`.
        readable, writable, mappable: access flags.
        sparse_areas: mmappable ``(offset, size)`` areas.
        type: ``(type, subtype)`` of a device-specific region, else ``None``.
    """

    def __init__(self, *args, **kwargs):
        raise TypeError("use Device.region(index)")

    @classmethod
    def _new(cls, dev, r):
        self = _n.RegionIO.__new__(cls)
        self._attach(r)
        self._r = r
        self.device = dev
        self.index = _n.vfio_region_index(r)
        self.size = _n.vfio_region_size(r)
        self.offset = _n.vfio_region_offset(r)
        self.flags = RegionFlags(_n.vfio_region_flags(r))
        self.readable = _n.vfio_region_readable(r)
        self.writable = _n.vfio_region_writable(r)
        self.mappable = _n.vfio_region_mappable(r)
        self.sparse_areas = [_n.vfio_region_get_sparse_area(r, i)
                             for i in range(_n.vfio_region_num_sparse_areas(r))]
        try:
            self.type = _n.vfio_region_get_type(r)
        except FileNotFoundError:
            self.type = None
        return self

    # read8..read64 and write8..write64 are C methods of _n.RegionIO (see
    # vfio.i): one call straight into libvfio, no Python frame in between.

    def read(self, offset: int, length: int) -> bytes:
        """Read *length* bytes at *offset* (the kernel picks the access widths)."""
        return _n.region_read(self._r, offset, length)

    def write(self, offset: int, data) -> None:
        """Write a bytes-like object at *offset*."""
        _n.region_write(self._r, offset, data)

    def map(self) -> "RegionMap":
        """mmap the region into the process.

        Returns:
            a :class:`RegionMap` (buffer protocol, read*/write* accessors,
            context manager).
        Raises:
            vfio.Error: EINVAL when the region is not mappable.
        """
        if self._r is None:
            raise ValueError("operation on a closed device")
        m = RegionMap._new(self)
        self.device._maps.add(m)
        return m

    def __repr__(self):
        flags = "".join(c if f else "-" for c, f in
                        (("r", self.readable), ("w", self.writable), ("m", self.mappable)))
        return "<vfio.Region %d size=%#x %s%s>" % (self.index, self.size, flags,
                                                  " closed" if self._r is None else "")


class RegionMap(_Resource, _n.Memory):
    """A region mmapped into the process.

    Supports the buffer protocol (``memoryview(m)``, writable when the
    region is) and bounds-checked, aligned single accesses
    ``read8/16/32/64(offset)`` and ``write8/16/32/64(offset, value)``
    (one volatile load/store each, no system call), plus
    ``read(offset, length)`` and ``write(offset, data)``.  ``len(m)`` is
    the region size.

    When only parts of the region are mmappable (sparse areas), accesses
    are allowed inside those parts only and the buffer protocol is refused.
    Unmapped by :meth:`unmap`, a ``with`` block, or closing the device;
    each refuses (BufferError) while a memoryview exists.
    """

    def __init__(self, *args, **kwargs):
        raise TypeError("use Region.map()")

    @classmethod
    def _new(cls, region):
        self = _n.Memory.__new__(cls)
        _n.memory_attach_region(self, region._r)
        self.region = region
        self.size = region.size
        return self

    @property
    def closed(self) -> bool:
        """True once unmapped."""
        return not self._attached

    @property
    def areas(self) -> List[Tuple[int, int]]:
        """The accessible ``(offset, size)`` areas."""
        return list(self.region.sparse_areas) or [(0, self.size)]

    def unmap(self) -> None:
        """Unmap (BufferError while a memoryview exists).  Unmapping twice is allowed."""
        if not self._attached:
            return
        self._detach()
        _n.vfio_region_unmap(self.region._r)

    def _invalidate(self):
        # The device is closing and unmaps everything itself.
        self._detach()

    _release = unmap

    def _owner_closed(self):
        return self.region.closed

    def __repr__(self):
        return "<vfio.RegionMap region=%d size=%#x%s>" % (
            self.region.index, self.size, "" if self._attached else " unmapped")


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


class DmaBuffer(_Resource, _n.Memory):
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
        self.segments = _segments(dma)
        self._iova_error = None
        self._iova = None
        try:
            self._iova = _n.vfio_dma_iova(dma)
        except OSError:
            self._iova_error = (_n.vfio_last_errno(), _n.vfio_last_error())
        self.size = _n.vfio_dma_size(dma)
        self.hugepage = _n.vfio_dma_is_hugepage(dma)
        self.fallback_reason = _n.vfio_dma_fallback_reason(dma)
        _n.memory_attach_dma(self, dma)
        return self

    @property
    def iova(self) -> int:
        """The address the device uses for byte 0 (see :attr:`segments`)."""
        if self._iova_error:
            raise _errors._make_error(*self._iova_error)
        return self._iova

    def device_address(self, offset: int = 0) -> int:
        """The address the device must use for byte *offset* of the buffer.

        Works for every buffer, also a no-IOMMU buffer of several segments
        (where :attr:`iova` raises): what building PRP lists or descriptor
        chains needs.  See :meth:`device_span` for how far it stays contiguous.

        Raises:
            ValueError: *offset* outside the buffer.
        """
        return self.device_span(offset)[0]

    def device_span(self, offset: int = 0) -> Tuple[int, int]:
        """``(device address, contiguous length)`` of byte *offset*.

        The length counts the bytes from *offset* on that the device sees
        at consecutive addresses: to the end of the buffer with an IOMMU,
        to the end of the physically contiguous segment without one.

        Raises:
            ValueError: *offset* outside the buffer.
        """
        check_int(offset, "offset", 0, self.size - 1)
        if self._dma is None:
            raise ValueError("operation on a freed DMA buffer")
        return _n.vfio_dma_device_addr(self._dma, offset)

    @property
    def closed(self) -> bool:
        """True once freed."""
        return self._dma is None

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

    def _owner_closed(self):
        return self.context.closed

    def __repr__(self):
        if self._dma is None:
            return "<vfio.DmaBuffer freed>"
        where = ("iova=%#x" % self._iova if not self._iova_error
                 else "segments=%d" % len(self.segments))
        return "<vfio.DmaBuffer %s size=%#x%s>" % (where, self.size,
                                                  " hugepage" if self.hugepage else "")


class DmaMapping(_Resource):
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
        flags = _direction_value(direction)
        if iova is not None:
            check_int(iova, "iova", 0, 2**64 - 1)
            if iova % _PAGE:
                raise ValueError("iova %#x is not page aligned" % iova)
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
        if ctx._ctx is None:
            view.release()
            raise ValueError("operation on a closed context")
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
        self.segments = _trim_segments(_segments(dma), addr - start, length)
        self._skip = addr - start
        self._iova_error = None
        self._iova = None
        if len(self.segments) == 1:
            self._iova = self.segments[0][0]
        else:
            try:
                _n.vfio_dma_iova(dma)  # fails, and says why
            except OSError:
                self._iova_error = (_n.vfio_last_errno(), _n.vfio_last_error())
        return self

    @property
    def iova(self) -> int:
        """IOVA (or bus address) of the object's first byte (see :attr:`segments`)."""
        if self._iova_error:
            raise _errors._make_error(*self._iova_error)
        return self._iova

    def device_address(self, offset: int = 0) -> int:
        """The address the device must use for byte *offset* of the object."""
        return self.device_span(offset)[0]

    def device_span(self, offset: int = 0) -> Tuple[int, int]:
        """``(device address, contiguous length)`` of byte *offset* of the
        object; the length stops at the end of the object or of a physically
        contiguous segment (no IOMMU)."""
        check_int(offset, "offset", 0, self.size - 1)
        if self._dma is None:
            raise ValueError("operation on an unmapped DmaMapping")
        addr, n = _n.vfio_dma_device_addr(self._dma, self._skip + offset)
        return addr, min(n, self.size - offset)

    @property
    def closed(self) -> bool:
        """True once unmapped."""
        return self._dma is None

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

    def _owner_closed(self):
        return self.context.closed

    def __repr__(self):
        if self._dma is None:
            return "<vfio.DmaMapping unmapped>"
        where = ("iova=%#x" % self._iova if not self._iova_error
                 else "segments=%d" % len(self.segments))
        return "<vfio.DmaMapping %s size=%#x of %s>" % (where, self.size,
                                                       type(self.obj).__name__)


class DmaPool(_Resource):
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
        self._check_open()
        return _n.vfio_dma_pool_in_use(self._pool)

    @property
    def chunks(self) -> int:
        """Mappings the pool has made (each one :meth:`Context.dma_alloc`)."""
        self._check_open()
        return _n.vfio_dma_pool_num_chunks(self._pool)

    def _check_open(self):
        if self._pool is None:
            raise ValueError("operation on a closed DMA pool")

    def alloc(self) -> "DmaBlock":
        """Take a zeroed block.

        Raises:
            vfio.Error: ENOMEM or ENOSPC when a new chunk cannot be mapped.
        """
        self._check_open()
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
        _busy(self._blocks)
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


class DmaBlock(_Resource, _n.Memory):
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


class Irq:
    """One enabled interrupt vector, delivered to an eventfd.

    :meth:`wait` blocks (with the GIL released, so other threads run) until
    the vector fires; :meth:`fileno` gives the eventfd for ``select``,
    ``selectors`` or ``asyncio``'s ``loop.add_reader`` (then call
    ``wait(0)`` to consume the events).

    Attributes:
        kind: ``"intx"``, ``"msi"`` or ``"msix"``.
        vector: vector number.
        device: the owning :class:`Device`.
    """

    def __init__(self, *args, **kwargs):
        raise TypeError("use Device.irq_enable(kind, count)")

    @classmethod
    def _new(cls, dev, kind, vector, irq):
        self = object.__new__(cls)
        self._irq = irq
        self._waiters = 0
        self.device = dev
        self.kind = kind
        self.vector = vector
        return self

    @property
    def closed(self) -> bool:
        """True once disabled (irq_disable, re-enable or device close)."""
        return self._irq is None

    def wait(self, timeout: Optional[float] = None) -> int:
        """Wait until the vector fires and consume its events.

        Args:
            timeout: seconds; ``None`` waits forever, 0 only polls.
        Returns:
            the number of interrupts since the last wait (>= 1), or 0 on timeout.
        """
        ms = timeout_ms(timeout)
        if self._irq is None:
            raise ValueError("operation on a disabled interrupt")
        self._waiters += 1
        try:
            return _n.irq_wait(self._irq, ms)
        finally:
            self._waiters -= 1

    def fileno(self) -> int:
        """The eventfd (owned by the device; do not close it)."""
        return _n.vfio_irq_fd(self._irq)

    def mask(self) -> None:
        """Mask the vector (vfio-pci supports this for INTx only)."""
        _n.vfio_irq_mask(self._irq)

    def unmask(self) -> None:
        """Unmask the vector; for INTx call it after acknowledging the device."""
        _n.vfio_irq_unmask(self._irq)

    def trigger(self) -> None:
        """Fire the vector from software, as if the device had interrupted."""
        _n.vfio_irq_trigger(self._irq)

    def __repr__(self):
        return "<vfio.Irq %s %s[%d]%s>" % (self.device.address, self.kind, self.vector,
                                          " disabled" if self._irq is None else "")


from ._errors import Error  # noqa: E402  (used in Device.config)
