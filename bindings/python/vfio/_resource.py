# SPDX-License-Identifier: LGPL-2.1-or-later
"""The lifetime rules every object of the package follows."""

__all__ = ["Resource", "check_not_viewed"]


def check_not_viewed(memories):
    """Raise BufferError while a memoryview of one of *memories* exists."""
    n = sum(m._exports for m in memories if m._attached)
    if n:
        raise BufferError("cannot close: %d memoryview(s) of its DMA buffers or region "
                          "maps still exist; release them first" % n)


class Resource:
    """A ``with`` block releases it, and so does the garbage collector --
    unless its owner is closed already, which released it then.  A subclass
    sets ``_release`` to its public close/free/unmap method and overrides
    ``_owner_closed``."""

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
