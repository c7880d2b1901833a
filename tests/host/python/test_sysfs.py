# SPDX-License-Identifier: LGPL-2.1-or-later
"""vfio.devices(), pci_device(), bind() and unbind() over a fake sysfs."""

import errno
import os

import pytest

import vfio


def test_devices(fake_sysfs):
    ds = vfio.devices()
    assert [d.address for d in ds] == ["0000:00:02.0", "0000:00:03.0", "0000:00:04.0",
                                       "0000:00:1f.2"]
    unbound, edu = ds[0], ds[1]
    assert (edu.vendor, edu.device, edu.class_code) == (0x1234, 0x11E8, 0x00FF00)
    assert edu.driver == "vfio-pci" and edu.iommu_group == 3
    assert unbound.driver is None and unbound.iommu_group is None
    assert ds[2].driver == "vfio-dkms-pci"


def test_pci_device(fake_sysfs):
    d = vfio.pci_device("00:1f.2")               # short form: domain 0
    assert d.address == "0000:00:1f.2" and d.driver == "ahci" and d.iommu_group == 7
    with pytest.raises(FileNotFoundError):
        vfio.pci_device("0000:00:05.0")


def test_unbind_writes_the_drivers_unbind_file(fake_sysfs):
    vfio.unbind("0000:00:1f.2")
    with open(os.path.join(fake_sysfs, "sys/bus/pci/drivers/ahci/unbind")) as f:
        assert f.read() == "0000:00:1f.2"


def test_bind_to_missing_driver(fake_sysfs):
    with pytest.raises(vfio.Error) as e:
        vfio.bind("0000:00:02.0", "vfio-dkms-pci-missing")
    assert e.value.errno == errno.ENODEV and "not loaded" in e.value.strerror


def test_bind_sets_override_and_reports_a_failed_probe(fake_sysfs):
    # Nothing probes in a fake tree: the library must say the device stayed unbound.
    with pytest.raises(vfio.Error) as e:
        vfio.bind("0000:00:02.0", "vfio-pci")
    assert e.value.errno == errno.EIO and "unbound" in e.value.strerror
    with open(os.path.join(fake_sysfs, "sys/devices/pci0000:00/0000:00:02.0/driver_override")) as f:
        assert f.read() == "vfio-pci"
    with open(os.path.join(fake_sysfs, "sys/bus/pci/drivers_probe")) as f:
        assert f.read() == "0000:00:02.0"


def test_bind_already_bound_is_a_no_op(fake_sysfs):
    assert vfio.bind("0000:00:03.0", "vfio-pci") == "vfio-pci"
    with open(os.path.join(fake_sysfs, "sys/bus/pci/drivers_probe")) as f:
        assert f.read() == ""                    # nothing was probed


def test_cli_list(fake_sysfs, capsys):
    from vfio import __main__ as cli
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 4 and out[1].startswith("0000:00:03.0 1234:11e8 [00ff00] vfio-pci")
