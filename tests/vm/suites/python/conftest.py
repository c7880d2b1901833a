# SPDX-License-Identifier: GPL-2.0
"""Fixtures: find edu and nvme, bind them to the backend's driver, open them."""

import os
import subprocess

import pytest

import vfio

EDU = (0x1234, 0x11E8)
NVME = (0x1B36, 0x0010)
DRIVERS = {"vfio": "vfio-pci", "vfio-dkms": "vfio-dkms-pci"}
TOP = os.environ.get("VFIO_TOP", os.path.abspath(os.path.join(os.path.dirname(__file__),
                                                              "../../../..")))
BUILD = os.environ.get("VFIO_BUILD", os.path.join(TOP, "build"))


def find(ids):
    for d in vfio.devices():
        if (d.vendor, d.device) == ids:
            return d.address
    pytest.skip("no %04x:%04x device in this machine" % ids)


def load_dkms():
    """Load our modules if they were built for this kernel; say why not otherwise."""
    if os.path.isdir("/sys/bus/pci/drivers/vfio-dkms-pci"):
        return None
    kdir = os.path.join(BUILD, "kernels", os.uname().release)
    mods = [os.path.join(kdir, m) for m in ("vfio_dkms.ko", "vfio_dkms_pci.ko")]
    missing = [m for m in mods if not os.path.exists(m)]
    if missing:
        return "vfio-dkms module not built for %s (%s missing)" % (
            os.uname().release, ", ".join(os.path.relpath(m, TOP) for m in missing))
    for m in mods:
        r = subprocess.run(["insmod", m], capture_output=True, text=True)
        if r.returncode:
            return "insmod %s failed: %s" % (os.path.basename(m), r.stderr.strip())
    if not os.path.isdir("/sys/bus/pci/drivers/vfio-dkms-pci"):
        return "vfio-dkms modules loaded but no vfio-dkms-pci driver registered"
    return None


@pytest.fixture(scope="session")
def edu_addr():
    return find(EDU)


@pytest.fixture(scope="session")
def nvme_addr():
    return find(NVME)


@pytest.fixture(scope="session", params=["vfio", "vfio-dkms"])
def backend(request, edu_addr, nvme_addr):
    """The backend under test, with edu and nvme bound to its driver."""
    name = request.param
    if name == "vfio-dkms":
        why = load_dkms()
        if why:
            pytest.skip(why)
    for addr in (edu_addr, nvme_addr):
        vfio.bind(addr, DRIVERS[name])
    return name


@pytest.fixture
def driver(backend):
    return DRIVERS[backend]


@pytest.fixture
def dev(backend, edu_addr):
    with vfio.open(edu_addr, backend=backend) as d:
        yield d


@pytest.fixture
def nvme(backend, nvme_addr):
    with vfio.open(nvme_addr, backend=backend) as d:
        yield d


@pytest.fixture
def edu(dev):
    """The example driver's Edu class on an open device (bus master, 28-bit DMA, MSI)."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("edu_example",
                                                  os.path.join(TOP, "examples", "edu.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.Edu(dev)
