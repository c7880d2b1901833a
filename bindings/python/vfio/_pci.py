# SPDX-License-Identifier: LGPL-2.1-or-later
"""PCI discovery and driver binding (sysfs), over libvfio's vfio_pci_*."""

from dataclasses import dataclass
from typing import List, Optional

from . import _native as _n
from ._util import check_str

__all__ = ["PciDevice", "devices", "pci_device", "bind", "unbind"]


@dataclass(frozen=True)
class PciDevice:
    """A PCI function as sysfs described it when it was read.

    A snapshot: it does not hold the device open and does not change when
    the device is rebound.

    Attributes:
        address: full PCI address, ``"DDDD:BB:DD.F"``.
        vendor: PCI vendor id (e.g. ``0x1234``).
        device: PCI device id (e.g. ``0x11e8``).
        driver: name of the bound driver, ``None`` when unbound.
        iommu_group: IOMMU group number, ``None`` without an IOMMU.
        class_code: 24-bit PCI class code (base class, subclass, prog-if).
    """

    address: str
    vendor: int
    device: int
    driver: Optional[str]
    iommu_group: Optional[int]
    class_code: int

    def __repr__(self):
        return ("PciDevice(address=%r, vendor=%#06x, device=%#06x, driver=%r, "
                "iommu_group=%r, class_code=%#08x)" % (self.address, self.vendor, self.device,
                                                       self.driver, self.iommu_group,
                                                       self.class_code))

    def __str__(self):
        return "%s %04x:%04x [%06x] driver=%s iommu_group=%s" % (
            self.address, self.vendor, self.device, self.class_code,
            self.driver or "-", "-" if self.iommu_group is None else self.iommu_group)


def _entry(p):
    group = _n.vfio_pci_device_iommu_group(p)
    return PciDevice(
        address=_n.vfio_pci_device_address(p),
        vendor=_n.vfio_pci_device_vendor(p),
        device=_n.vfio_pci_device_device(p),
        driver=_n.vfio_pci_device_driver(p),
        iommu_group=None if group < 0 else group,
        class_code=_n.vfio_pci_device_class(p),
    )


def devices() -> List[PciDevice]:
    """List every PCI function of the machine, sorted by address.

    Returns:
        a list of :class:`PciDevice`.
    Raises:
        vfio.Error: sysfs could not be read.
    """
    lst = _n.vfio_pci_list_new()
    try:
        return [_entry(_n.vfio_pci_list_get(lst, i))
                for i in range(_n.vfio_pci_list_count(lst))]
    finally:
        _n.vfio_pci_list_free(lst)


def pci_device(address: str) -> PciDevice:
    """Read one PCI function from sysfs.

    Args:
        address: ``"DDDD:BB:DD.F"`` or the short ``"BB:DD.F"``.
    Raises:
        FileNotFoundError: (a :class:`vfio.Error`) no such device.
        vfio.Error: EINVAL for a malformed address.
    """
    p = _n.vfio_pci_device_new(check_str(address, "address"))
    try:
        return _entry(p)
    finally:
        _n.vfio_pci_device_free(p)


def bind(address: str, driver: str = "vfio-dkms-pci") -> Optional[str]:
    """Bind a PCI function to a driver (root only).

    Unbinds the current driver, writes *driver* to the device's
    ``driver_override`` and asks the PCI core to probe it.  Binding to the
    driver already bound does nothing.

    Args:
        address: PCI address.
        driver: ``"vfio-dkms-pci"`` (our module, the default) or
            ``"vfio-pci"`` (the in-tree framework), or any PCI driver.
    Returns:
        the name of the driver bound before, ``None`` when there was none.
    Raises:
        PermissionError: not root.
        FileNotFoundError: no such device.
        vfio.Error: ENODEV when the driver is not loaded, EIO when the probe
            left the device elsewhere.
    """
    previous = pci_device(address).driver
    _n.vfio_pci_bind(address, check_str(driver, "driver"))
    return previous


def unbind(address: str) -> None:
    """Unbind a PCI function from its driver and clear its driver_override.

    Unbinding a device without a driver succeeds.

    Raises:
        PermissionError: not root.
        FileNotFoundError: no such device.
    """
    _n.vfio_pci_unbind(check_str(address, "address"))
