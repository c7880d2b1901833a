# SPDX-License-Identifier: GPL-2.0
"""Fixtures of the nvme suite: the example driver as a module, the disk
image as the host sees it, the backends, and an enabled controller.

The disk image is the file QEMU reads ($VFIO_TEST_RUN/nvme.img, created
zeroed by run-vm).  Before any controller is opened the suite writes
examples/nvme.py's image pattern into its first 4 MiB from the host side
of the run directory share, so those blocks reach the device through the
host's file, never through the device; the tests read them by DMA and
compare with the file.
"""

import importlib.util
import os
import subprocess
import time

import pytest

import vfio

TOP = os.environ.get("VFIO_TOP", os.path.abspath(os.path.join(os.path.dirname(__file__),
                                                              "../../../..")))
BUILD = os.environ.get("VFIO_BUILD", os.path.join(TOP, "build"))
KVER = os.uname().release
IOMMU = os.environ.get("VFIO_TEST_IOMMU", "1") != "0"
DEBUG_KERNEL = "debug" in KVER
NVME_IDS = (0x1B36, 0x0010)
DRIVERS = {"vfio": "vfio-pci", "vfio-dkms": "vfio-dkms-pci"}
PATTERN_BYTES = 4 << 20


def load_example():
    spec = importlib.util.spec_from_file_location("nvme_example",
                                                  os.path.join(TOP, "examples", "nvme.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


NVME = load_example()


def backends():
    """vfio and vfio-dkms with an IOMMU; vfio-dkms alone without one (the
    distro kernels have no in-tree no-IOMMU mode) and on the debug kernel."""
    if not IOMMU or DEBUG_KERNEL:
        return ["vfio-dkms"]
    return ["vfio", "vfio-dkms"]


def insmod_dkms():
    """Load our modules (no-IOMMU mode on in a VM without an IOMMU)."""
    if os.path.isdir("/sys/bus/pci/drivers/vfio-dkms-pci"):
        return
    kdir = os.path.join(BUILD, "kernels", KVER)
    params = [] if IOMMU else ["enable_unsafe_noiommu_mode=1"]
    for m, extra in (("vfio_dkms", params), ("vfio_dkms_pci", [])):
        path = os.path.join(kdir, m + ".ko")
        assert os.path.exists(path), "%s not built (make -C module all-kernels)" % path
        r = subprocess.run(["insmod", path] + extra, capture_output=True, text=True)
        assert r.returncode == 0, "insmod %s: %s" % (m, r.stderr)
    for _ in range(200):
        if os.path.exists("/dev/vfio-dkms/vfio"):
            break
        time.sleep(0.01)


@pytest.fixture(scope="session")
def image():
    """Path of the disk image on the host, with the pattern written into it."""
    run = os.environ.get("VFIO_TEST_RUN")
    assert run, "VFIO_TEST_RUN is not set: run this suite through tests/vm/run-vm"
    path = os.path.join(run, "nvme.img")
    assert os.path.getsize(path) >= 16 << 20, "%s: no 16 MiB disk image" % path
    with open(path, "r+b") as f:
        f.write(NVME.image_pattern(0, PATTERN_BYTES))
        f.flush()
        os.fsync(f.fileno())
    return path


def read_image(path, offset, length):
    with open(path, "rb") as f:
        f.seek(offset)
        return f.read(length)


@pytest.fixture(scope="session")
def nvme_addr(image):
    for d in vfio.devices():
        if (d.vendor, d.device) == NVME_IDS:
            return d.address
    pytest.fail("no NVMe controller (%04x:%04x) in this VM" % NVME_IDS)


@pytest.fixture(scope="session", params=backends())
def backend(request, nvme_addr):
    name = request.param
    if name == "vfio":
        subprocess.run(["modprobe", "vfio-pci"], check=True)
    else:
        insmod_dkms()
    vfio.bind(nvme_addr, DRIVERS[name])
    return name


@pytest.fixture
def dev(backend, nvme_addr):
    with vfio.open(nvme_addr, backend=backend) as d:
        yield d


@pytest.fixture
def ctrl(dev):
    """An enabled controller with its I/O queue pair on MSI-X (shut down after)."""
    c = NVME.Controller(dev)
    try:
        c.enable()
        c.ident = c.identify_controller()
        c.ns_info = c.identify_namespace(1)
        c.create_io_queues()
        c.ns = NVME.Namespace(c, c.ns_info)
        yield c
    finally:
        NVME.shutdown(c)
