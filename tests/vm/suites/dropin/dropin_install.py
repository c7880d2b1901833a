# SPDX-License-Identifier: GPL-2.0
"""Put the drop-in flavor in place of the distro's vfio, in the guest only.

The guest's / is the host's, read-only, under a tmpfs overlay: copying the
modules to /lib/modules/KVER/updates/dkms and running depmod here changes
what this guest's modprobe loads and nothing on the host (a drop-in on the
host would change every other VM's in-tree reference).

depmod is what DKMS runs after installing; here its result comes from the
host (make -C module FLAVOR=dropin dropin-index, part of all-kernels),
because depmod in the guest reads every module over 9p under TCG and takes
more than ten minutes.  The guest's own index is kept and put back by
uninstall(), as depmod would rewrite it after a purge.
"""

import os
import shutil
import subprocess
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
KVER = os.uname().release
DROPIN_KO_DIR = os.environ.get("VFIO_DROPIN_KO_DIR",
                               os.path.join(REPO, "build", "kernels", KVER, "dropin"))
MODDIR = "/lib/modules/%s" % KVER
UPDATES = MODDIR + "/updates/dkms"
INDEX = os.path.join(DROPIN_KO_DIR, "index")
SAVED_INDEX = "/run/vfio-dropin-saved-index"
MODULES = ("vfio", "vfio_pci", "vfio_iommu_type1")
# Every in-tree module that can hold vfio, users first.
IN_TREE_STACK = ("vfio_pci", "vfio_pci_core", "vfio_iommu_type1", "vfio_virqfd", "vfio",
                 "iommufd")


def sh(*cmd, check=True):
    return subprocess.run(cmd, check=check, capture_output=True, text=True)


def modinfo_path(mod):
    return sh("modinfo", "-n", mod).stdout.strip()


def flavor():
    """The loaded vfio's flavor attribute, or None (in-tree vfio has none)."""
    try:
        with open("/sys/module/vfio/parameters/vfio_dkms_flavor") as f:
            return f.read().strip()
    except FileNotFoundError:
        return None


def unload_vfio():
    """Unload whichever vfio stack is loaded (no device may be bound)."""
    for m in IN_TREE_STACK:
        if os.path.isdir("/sys/module/" + m):
            sh("rmmod", m)
    assert not os.path.isdir("/sys/module/vfio")


def _copy_index(src, dst):
    os.makedirs(dst, exist_ok=True)
    for name in os.listdir(src):
        if name.startswith("modules."):
            shutil.copy(os.path.join(src, name), dst)


def install():
    """Copy the drop-in modules into updates/dkms, and the module index
    that depmod writes for them into /lib/modules/KVER."""
    assert os.path.isfile(os.path.join(INDEX, "modules.dep.bin")), \
        "no drop-in module index in %s (make -C module all-kernels)" % INDEX
    if not os.path.isdir(SAVED_INDEX):
        _copy_index(MODDIR, SAVED_INDEX)
    os.makedirs(UPDATES, exist_ok=True)
    for m in MODULES:
        shutil.copy(os.path.join(DROPIN_KO_DIR, m + ".ko"), UPDATES)
    _copy_index(INDEX, MODDIR)


def installed():
    return all(os.path.exists(os.path.join(UPDATES, m + ".ko")) for m in MODULES)


def uninstall():
    for m in MODULES:
        p = os.path.join(UPDATES, m + ".ko")
        if os.path.exists(p):
            os.unlink(p)
    _copy_index(SAVED_INDEX, MODDIR)


def wait_path(path, timeout=2.0):
    end = time.time() + timeout
    while not os.path.exists(path) and time.time() < end:
        time.sleep(0.01)
    return os.path.exists(path)


def load_in_tree():
    """modprobe the distro's vfio-pci (the reference), after unloading the
    drop-in if it is loaded; it must resolve under kernel/, never to a
    drop-in installed on the host, which every guest would see."""
    assert "/kernel/" in modinfo_path("vfio-pci"), \
        "vfio-pci resolves to %s, not the distro's" % modinfo_path("vfio-pci")
    if os.path.isdir("/sys/module/vfio") and flavor() is not None:
        unload_vfio()
    sh("modprobe", "vfio-pci")
    assert flavor() is None


def load_dropin(**params):
    """modprobe vfio-pci with the drop-in installed: ours must come up."""
    if flavor() != "dropin":
        if os.path.isdir("/sys/module/vfio"):
            unload_vfio()
        if not installed():
            install()
    args = ["%s=%s" % kv for kv in params.items()]
    sh("modprobe", "vfio-pci", *args)
    assert flavor() == "dropin", "modprobe vfio-pci did not load the drop-in"
    assert wait_path("/dev/vfio/vfio"), "no /dev/vfio/vfio"
