# SPDX-License-Identifier: LGPL-2.1-or-later
"""Memory-ordering barriers (libvfio's vfio/barrier.h) for drivers in Python.

Each is one call into C executing the same instruction a C driver would.
Writes through ``DmaBuffer.write32()`` and friends are single volatile
stores, so these barriers order them exactly as in C.
"""

from . import _native as _n

__all__ = ["dma_wmb", "dma_rmb", "mb"]


def dma_wmb() -> None:
    """Make earlier stores to DMA memory visible to the device before later stores.

    Call it between filling a queue entry in a DMA buffer and writing the
    doorbell register that tells the device to read it.  A compiler
    barrier on x86-64 (which keeps stores in order), ``dmb oshst`` on arm64.
    """
    _n.dma_wmb()


def dma_rmb() -> None:
    """Finish earlier loads from DMA memory before later loads.

    Call it after seeing the word that marks an entry as valid (an NVMe
    completion's phase bit) and before reading the rest of the entry.  A
    compiler barrier on x86-64, ``dmb oshld`` on arm64.
    (``DmaBuffer.poll32()`` issues it after its matching load.)
    """
    _n.dma_rmb()


def mb() -> None:
    """Full barrier: every earlier load and store before every later one.

    Also orders a store before a later load, which x86-64 otherwise
    allows to pass.  ``mfence`` on x86-64, ``dsb sy`` on arm64.
    """
    _n.mb()
