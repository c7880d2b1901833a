# SPDX-License-Identifier: GPL-2.0
"""pytest fixtures of the VM suites that drive devices through the Python
package `vfio` (the python and nvme suites); a suite's conftest.py imports
the ones it uses, under the names its tests ask for.

  backend          each backend in turn (backends()), edu and nvme bound to its driver
  nvme_backend     the same with nvme alone bound (import it as backend)
  driver           the backend's PCI driver
  edu_addr, nvme_addr
  dev, nvme        edu / nvme opened with vfio.open() on the backend
  edu              examples/edu.py's Edu driver on dev
  image            the nvme disk image, with examples/nvme.py's pattern written
  ctrl             an enabled examples/nvme.py Controller on nvme
"""

import importlib.util
import os
import subprocess
import time

import pytest

import vfio

TOP = os.environ.get("VFIO_TOP", os.path.abspath(os.path.join(os.path.dirname(__file__),
                                                              "../..")))
BUILD = os.environ.get("VFIO_BUILD", os.path.join(TOP, "build"))
KVER = os.uname().release
IOMMU = os.environ.get("VFIO_TEST_IOMMU", "1") != "0"
DEBUG_KERNEL = "debug" in KVER
EDU_IDS = (0x1234, 0x11E8)
NVME_IDS = (0x1B36, 0x0010)
DRIVERS = {"vfio": "vfio-pci", "vfio-dkms": "vfio-dkms-pci"}
PATTERN_BYTES = 4 << 20


def load_example(name):
    """examples/NAME.py as a module."""
    spec = importlib.util.spec_from_file_location(name + "_example",
                                                  os.path.join(TOP, "examples", name + ".py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


NVME = load_example("nvme")


def pci_address(ids):
    """Address of the first device with these (vendor, device) ids; a test
    failure when there is none (the default VM has edu and nvme)."""
    for d in vfio.devices():
        if (d.vendor, d.device) == ids:
            return d.address
    pytest.fail("no %04x:%04x device in this VM" % ids)


def load_dkms():
    """Load our modules (no-IOMMU mode in a VM without an IOMMU) if they were
    built for this kernel.  Return None, or why not when they were not built;
    a module that was built but does not load is a test failure."""
    if os.path.isdir("/sys/bus/pci/drivers/vfio-dkms-pci"):
        return None
    kdir = os.path.join(BUILD, "kernels", KVER)
    mods = [(os.path.join(kdir, "vfio_dkms.ko"),
             [] if IOMMU else ["enable_unsafe_noiommu_mode=1"]),
            (os.path.join(kdir, "vfio_dkms_pci.ko"), [])]
    missing = [m for m, _ in mods if not os.path.exists(m)]
    if missing:
        return "vfio-dkms module not built for %s (%s missing)" % (
            KVER, ", ".join(os.path.relpath(m, TOP) for m in missing))
    for m, params in mods:
        r = subprocess.run(["insmod", m] + params, capture_output=True, text=True)
        assert r.returncode == 0, "insmod %s: %s" % (os.path.basename(m), r.stderr.strip())
    # devtmpfs creates the node asynchronously from the uevent.
    for _ in range(200):
        if os.path.exists("/dev/vfio-dkms/vfio"):
            return None
        time.sleep(0.01)
    pytest.fail("vfio-dkms modules loaded but /dev/vfio-dkms/vfio did not appear")


def use_backend(name, addresses):
    """Load the backend's modules and bind @addresses to its driver.
    Return None, or why the backend was not built."""
    if name == "vfio":
        subprocess.run(["modprobe", "vfio-pci"], check=True)
    else:
        why = load_dkms()
        if why:
            return why
    for addr in addresses:
        vfio.bind(addr, DRIVERS[name])
    return None


def _open(addr, backend):
    with vfio.open(addr, backend=backend) as d:
        yield d


@pytest.fixture(scope="session")
def edu_addr():
    return pci_address(EDU_IDS)


@pytest.fixture(scope="session")
def nvme_addr():
    return pci_address(NVME_IDS)


def backends():
    """vfio and vfio-dkms with an IOMMU; vfio-dkms alone without one (the
    distro kernels have no in-tree no-IOMMU mode) and on the debug kernel."""
    if not IOMMU or DEBUG_KERNEL:
        return ["vfio-dkms"]
    return ["vfio", "vfio-dkms"]


def _use_backend(request, addresses):
    why = use_backend(request.param, addresses)
    if why:
        pytest.skip(why)
    return request.param


@pytest.fixture(scope="session", params=backends())
def backend(request, edu_addr, nvme_addr):
    """The backend under test, with edu and nvme bound to its driver; vfio-dkms
    is skipped, with the reason, when the module was not built for this kernel."""
    return _use_backend(request, (edu_addr, nvme_addr))


@pytest.fixture(scope="session", params=backends())
def nvme_backend(request, nvme_addr):
    """backend for a suite that drives nvme alone (import it as backend): the
    other devices of the machine stay with their drivers for later suites."""
    return _use_backend(request, (nvme_addr,))


@pytest.fixture
def driver(backend):
    return DRIVERS[backend]


@pytest.fixture
def dev(backend, edu_addr):
    yield from _open(edu_addr, backend)


@pytest.fixture
def nvme(backend, nvme_addr):
    yield from _open(nvme_addr, backend)


@pytest.fixture
def edu(dev):
    """The example driver's Edu class on an open device (bus master, 28-bit DMA, MSI)."""
    return load_example("edu").Edu(dev)


def read_image(path, offset, length):
    with open(path, "rb") as f:
        f.seek(offset)
        return f.read(length)


@pytest.fixture(scope="session")
def image():
    """Path of the disk image on the host, with the pattern written into it.

    The image is the file QEMU reads ($VFIO_TEST_RUN/nvme.img); the pattern
    is written from the host side of the run directory share before any
    controller is opened, so those blocks reach the device through the
    host's file, never through the device.
    """
    run = os.environ.get("VFIO_TEST_RUN")
    assert run, "VFIO_TEST_RUN is not set: run this suite through tests/vm/run-vm"
    path = os.path.join(run, "nvme.img")
    assert os.path.getsize(path) >= 16 << 20, "%s: no 16 MiB disk image" % path
    with open(path, "r+b") as f:
        f.write(NVME.image_pattern(0, PATTERN_BYTES))
        f.flush()
        os.fsync(f.fileno())
    return path


@pytest.fixture
def ctrl(image, nvme):
    """An enabled controller with its I/O queue pair on MSI-X (shut down after)."""
    c = NVME.Controller(nvme)
    try:
        c.enable()
        c.ident = c.identify_controller()
        c.ns_info = c.identify_namespace(1)
        c.create_io_queues()
        c.ns = NVME.Namespace(c, c.ns_info)
        yield c
    finally:
        NVME.shutdown(c)
