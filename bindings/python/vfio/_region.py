# SPDX-License-Identifier: LGPL-2.1-or-later
"""Device regions: register access through the device fd, and mmap."""

from typing import List, Tuple

from . import _native as _n
from ._flags import RegionFlags
from ._resource import Resource

__all__ = ["Region", "RegionMap"]


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

    # read8..read64, write8..write64, poll32 and poll64 are C methods of
    # _n.RegionIO (ext/access.c, ext/region.c): one call straight into
    # libvfio, no Python frame in between.

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
        m = RegionMap._new(self)
        self.device._maps.add(m)
        return m

    def __repr__(self):
        flags = "".join(c if f else "-" for c, f in
                        (("r", self.readable), ("w", self.writable), ("m", self.mappable)))
        return "<vfio.Region %d size=%#x %s%s>" % (self.index, self.size, flags,
                                                  " closed" if self._r is None else "")


class RegionMap(Resource, _n.Memory):
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
