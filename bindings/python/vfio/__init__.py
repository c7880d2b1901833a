# SPDX-License-Identifier: LGPL-2.1-or-later
"""Drive PCI devices from Python through VFIO (bindings of libvfio).

Prototype a device driver in user space: find the device, bind it to a VFIO
driver, open it, touch its registers, give it DMA memory and wait for its
interrupts.  Works with the in-tree VFIO framework (driver ``vfio-pci``,
backend ``"vfio"``) and with the vfio-dkms module (driver
``vfio-dkms-pci``, backend ``"vfio-dkms"``)::

    import vfio

    for d in vfio.devices():                      # PciDevice snapshots
        print(d.address, hex(d.vendor), hex(d.device), d.driver)
    vfio.bind("0000:00:03.0", driver="vfio-pci")  # root

    with vfio.open("0000:00:03.0") as dev:        # Device
        bar = dev.region(0)                       # Region
        print(hex(bar.read32(0x0)))
        dev.config.read16(0x4)                    # config space is a Region
        dev.set_bus_master()
        dev.set_dma_mask(28)
        with dev.dma_alloc(4096) as buf:          # DmaBuffer
            memoryview(buf)[:4] = b"abcd"
            print(hex(buf.iova))
        irq = dev.irq_enable("msi")[0]            # Irq
        irq.wait(timeout=1.0)

Objects: :class:`Context` (an IOMMU address space holding devices),
:class:`Device`, :class:`Region`, :class:`RegionMap`, :class:`DmaBuffer`,
:class:`DmaMapping`, :class:`DmaPool` and its :class:`DmaBlock`,
:class:`Irq`, :class:`PciDevice`; flags :class:`DeviceFlags`,
:class:`RegionFlags`.  Functions: :func:`devices`, :func:`pci_device`,
:func:`bind`, :func:`unbind`, :func:`open`; :func:`implementation` (which
kernel implementation backs a backend: in-tree vfio or vfio-dkms, and its
flavor); memory-ordering barriers
:func:`dma_wmb`, :func:`dma_rmb`, :func:`mb`.

Errors: failures of the system raise :class:`vfio.Error`, an
:class:`OSError` carrying ``errno`` and the library's message (also a
PermissionError, FileNotFoundError... where the errno says so); bad
arguments raise :class:`ValueError` or :class:`TypeError`; using a closed
object raises :class:`ValueError`.  Memory is never freed under a live
memoryview: freeing or closing then raises :class:`BufferError`.

Threads: Irq.wait() releases the GIL; everything else holds it, which is
what keeps calls on one device or context serialised as libvfio requires.
The command line: ``python3 -m vfio list|info|bind|unbind``.
"""

from . import _native
from ._errors import Error, _make_error
from ._pci import PciDevice, devices, pci_device, bind, unbind
from ._context import Context, open
from ._device import Device, BACKENDS
from ._region import Region, RegionMap
from ._dma import DmaBuffer, DmaMapping, DmaPool, DmaBlock
from ._irq import Irq, IRQ_KINDS
from ._flags import DeviceFlags, RegionFlags
from ._barrier import dma_wmb, dma_rmb, mb
from ._implementation import Implementation, implementation, IMPLEMENTATIONS

_native.set_error_factory(_make_error)

# Public classes present themselves as vfio.X (help(), reprs, tracebacks).
for _cls in (Error, PciDevice, Context, Device, Region, RegionMap, DmaBuffer, DmaMapping,
             DmaPool, DmaBlock, Irq, DeviceFlags, RegionFlags, Implementation):
    _cls.__module__ = __name__
del _cls

#: Version of the libvfio library loaded.
__version__ = _native.vfio_version()

__all__ = ["Error", "PciDevice", "devices", "pci_device", "bind", "unbind", "Context",
           "Device", "Region", "RegionMap", "DmaBuffer", "DmaMapping", "DmaPool", "DmaBlock",
           "Irq", "open", "BACKENDS", "IRQ_KINDS", "DeviceFlags", "RegionFlags",
           "dma_wmb", "dma_rmb", "mb", "Implementation", "implementation", "IMPLEMENTATIONS"]

del _native
