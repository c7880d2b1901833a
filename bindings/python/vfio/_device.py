# SPDX-License-Identifier: LGPL-2.1-or-later
"""Devices: a PCI function opened through VFIO."""

import errno as _errno
import weakref
from typing import TYPE_CHECKING, List, Optional

from . import _native as _n
from ._errors import Error
from ._flags import DeviceFlags
from ._irq import Irq, irq_value
from ._region import Region
from ._resource import Resource, check_not_viewed
from ._util import check_choice, check_int, check_str

if TYPE_CHECKING:
    from ._context import Context
    from ._dma import DmaBuffer, DmaMapping, DmaPool

__all__ = ["Device", "BACKENDS"]

#: Backend names accepted by :func:`open` and :meth:`Context.open`.
BACKENDS = ("auto", "vfio-dkms", "vfio")


def backend_value(backend):
    """libvfio's enum value of a backend name."""
    return _n.vfio_backend_from_name(check_choice(backend, "backend", BACKENDS))


class Device(Resource):
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
        b = backend_value(backend)
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
    def context(self) -> "Context":
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
        return _n.vfio_device_irq_count(self._d, irq_value(kind))

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
        t = irq_value(kind)
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
        t = irq_value(kind)
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
        t = irq_value(kind)
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
        t = irq_value(kind)
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
        check_not_viewed(self._maps)
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
