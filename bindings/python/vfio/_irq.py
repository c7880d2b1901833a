# SPDX-License-Identifier: LGPL-2.1-or-later
"""Interrupts: one eventfd per enabled vector."""

from typing import Optional

from . import _native as _n
from ._util import check_choice, timeout_ms

__all__ = ["Irq", "IRQ_KINDS"]

#: Interrupt kinds accepted by :meth:`Device.irq_enable`.
IRQ_KINDS = ("intx", "msi", "msix")


def irq_value(kind):
    """libvfio's enum value of an interrupt kind name."""
    return _n.vfio_irq_type_from_name(check_choice(kind, "interrupt kind", IRQ_KINDS))


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
