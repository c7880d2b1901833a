# SPDX-License-Identifier: LGPL-2.1-or-later
"""Which kernel implementation backs a backend: the in-tree vfio or vfio-dkms."""

from typing import NamedTuple, Optional

from . import _native as _n
from ._util import check_choice

__all__ = ["Implementation", "implementation", "IMPLEMENTATIONS"]

#: Values of :attr:`Implementation.name`.
IMPLEMENTATIONS = ("none", "in-tree", "vfio-dkms", "vfio-dkms-dropin")


class Implementation(NamedTuple):
    """What provides a backend's kernel interface now.

    Attributes:
        name: ``"none"`` (no module loaded), ``"in-tree"`` (the kernel's own
            vfio, loadable or built in), ``"vfio-dkms"`` (vfio-dkms under its
            own names) or ``"vfio-dkms-dropin"`` (vfio-dkms's drop-in flavor
            under the kernel's names).
        version: the module's version (``/sys/module/NAME/version``, e.g.
            ``"0.3"`` for Debian's in-tree vfio), ``None`` when it reports none.
    """

    name: str
    version: Optional[str]


def implementation(backend: str = "vfio") -> Implementation:
    """Which implementation backs *backend* (``"vfio"``: /dev/vfio, or
    ``"vfio-dkms"``: /dev/vfio-dkms), read from /sys/module.

    Example::

        >>> vfio.implementation("vfio")
        Implementation(name='vfio-dkms-dropin', version='0.1.0')

    Raises:
        ValueError: *backend* is not ``"vfio"`` or ``"vfio-dkms"``.
        vfio.Error: a file under /sys/module/NAME exists but cannot be read,
            or holds a flavor this library does not know (EPROTO); nothing
            is guessed.
    """
    b = _n.vfio_backend_from_name(check_choice(backend, "backend", ("vfio", "vfio-dkms")))
    impl, version = _n.vfio_backend_implementation(b)
    return Implementation(_n.vfio_implementation_name(impl), version or None)
