# SPDX-License-Identifier: GPL-2.0
"""The two backends and the devices of the VM suites, through sysfs.

A backend is the in-tree framework (vfio-pci, /dev/vfio) or ours
(vfio-dkms-pci, /dev/vfio-dkms).  The same tests run against both; devices
are bound through driver_override and given back to their original driver
(usually none) afterwards.  The pytest fixtures on top are in
vfio_fixtures.py.
"""

import os
import subprocess
import threading
import time

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
KVER = os.uname().release
KO_DIR = os.environ.get("VFIO_DKMS_KO_DIR", os.path.join(REPO, "build", "kernels", KVER))
PCI = "/sys/bus/pci/devices"
EDU_IDS = ("0x1234", "0x11e8")
NVME_IDS = ("0x1b36", "0x0010")


def sh(*cmd, check=True):
    return subprocess.run(cmd, check=check, capture_output=True, text=True)


def sysfs_write(path, value):
    with open(path, "w") as f:
        f.write(value)


def find_pci(vendor, device):
    for bdf in sorted(os.listdir(PCI)):
        d = os.path.join(PCI, bdf)
        if (open(d + "/vendor").read().strip() == vendor and
                open(d + "/device").read().strip() == device):
            return bdf
    return None


def driver_of(bdf):
    link = os.path.join(PCI, bdf, "driver")
    return os.path.basename(os.readlink(link)) if os.path.islink(link) else None


def group_of(bdf):
    return os.path.basename(os.readlink(os.path.join(PCI, bdf, "iommu_group")))


def bind(bdf, driver):
    """Bind @bdf to @driver via driver_override; return the previous driver."""
    old = driver_of(bdf)
    if old == driver:
        return old
    if old:
        sysfs_write(os.path.join(PCI, bdf, "driver", "unbind"), bdf)
    sysfs_write(os.path.join(PCI, bdf, "driver_override"), driver)
    sysfs_write("/sys/bus/pci/drivers_probe", bdf)
    assert driver_of(bdf) == driver, "%s did not bind to %s" % (bdf, driver)
    return old


def unbind(bdf, restore=None):
    """Unbind @bdf, clear driver_override, rebind @restore if given."""
    if driver_of(bdf):
        sysfs_write(os.path.join(PCI, bdf, "driver", "unbind"), bdf)
    sysfs_write(os.path.join(PCI, bdf, "driver_override"), "\n")
    if restore:
        sysfs_write(os.path.join("/sys/bus/pci/drivers", restore, "bind"), bdf)


def module_loaded(name):
    return os.path.isdir("/sys/module/" + name)


def load_dkms():
    for m in ("vfio_dkms", "vfio_dkms_pci"):
        if not module_loaded(m):
            sh("insmod", os.path.join(KO_DIR, m + ".ko"))
    # devtmpfs creates the node asynchronously from the uevent.
    for _ in range(100):
        if os.path.exists("/dev/vfio-dkms/vfio"):
            break
        time.sleep(0.01)


def unload_dkms():
    for m in ("vfio_dkms_pci", "vfio_dkms"):
        if module_loaded(m):
            sh("rmmod", m)


class Backend:
    def __init__(self, name, driver, devdir):
        self.name = name
        self.driver = driver
        self.devdir = devdir
        self.container_path = os.path.join(devdir, "vfio")

    def group_path(self, group):
        return os.path.join(self.devdir, group)

    def wait_node(self, group, present=True):
        path = self.group_path(group)
        for _ in range(200):
            if os.path.exists(path) == present:
                return path
            time.sleep(0.01)
        raise AssertionError("%s %s" % (path, "missing" if present else "still there"))

    def __repr__(self):
        return self.name


BACKENDS = {
    "in-tree": Backend("in-tree", "vfio-pci", "/dev/vfio"),
    "vfio-dkms": Backend("vfio-dkms", "vfio-dkms-pci", "/dev/vfio-dkms"),
}


def setup_backend(name):
    if name == "in-tree":
        # The reference; a kernel without it cannot be compared against.
        for mod in ("vfio-pci", "vfio_iommu_type1"):
            r = sh("modprobe", mod, check=False)
            if r.returncode:
                pytest.skip("in-tree %s not loadable: %s" % (mod, r.stderr.strip()))
    else:
        load_dkms()
    return BACKENDS[name]


class Dev:
    """A device bound to a backend: its address and IOMMU group."""

    def __init__(self, bdf):
        self.bdf = bdf
        self.group = group_of(bdf)


def bound_device(backend, ids):
    """Bind the first device with @ids to @backend; yields a Dev."""
    bdf = find_pci(*ids)
    if not bdf:
        pytest.skip("no %s:%s device" % ids)
    old = bind(bdf, backend.driver)
    backend.wait_node(group_of(bdf))
    yield Dev(bdf)
    if os.path.exists(os.path.join(PCI, bdf)):
        unbind(bdf, old)


def wait_for(pred, timeout=20.0, step=0.05):
    """Poll @pred until it is true or @timeout seconds pass; its last value."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(step)
    return pred()


def unbind_async(bdf):
    """Unbind @bdf from its driver in a thread; returns (thread, result),
    where result gets "seconds" (how long the unbind took) and "error" (the
    OSError it raised, if any)."""
    res = {}

    def run():
        t0 = time.monotonic()
        try:
            with open(os.path.join(PCI, bdf, "driver", "unbind"), "w") as f:
                f.write(bdf)
        except OSError as e:
            res["error"] = e
        res["seconds"] = time.monotonic() - t0
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, res
