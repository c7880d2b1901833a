# SPDX-License-Identifier: GPL-2.0
"""What libvfio (through vfioctl) and the Python package say backs /dev/vfio
and /dev/vfio-dkms while the modules behind them change on one boot:
nothing, the distro's vfio, the drop-in under its name, the default flavor
beside it.  The expected version comes from modinfo of the module file, not
from the sysfs files the library reads."""

import json
import os
import subprocess

import pytest

import dropin_install as D
from conftest import bind, find_pci, unbind

BUILD = os.path.join(D.REPO, "build")
VFIOCTL = os.path.join(BUILD, "libvfio", "vfioctl-static")
DEFAULT_KO = os.path.join(BUILD, "kernels", D.KVER, "vfio_dkms.ko")
EDU = ("0x1234", "0x11e8")


@pytest.fixture(scope="module", autouse=True)
def back_to_distro():
    """Leave the guest as test_dropin.py does: nothing loaded, no drop-in."""
    yield
    if os.path.isdir("/sys/module/vfio_dkms"):
        D.sh("rmmod", "vfio_dkms")
    D.unload_vfio()
    if D.installed():
        D.uninstall()


def module_version(path_or_name):
    return D.sh("modinfo", "-F", "version", path_or_name).stdout.strip() or None


def vfioctl_says():
    r = subprocess.run([VFIOCTL, "implementation"], capture_output=True, text=True)
    assert r.returncode == 0, "vfioctl implementation: exit %d: %s" % (r.returncode,
                                                                       r.stderr.strip())
    return dict(line.split(": ", 1) for line in r.stdout.splitlines())


def python_says():
    code = ("import json, vfio\n"
            "print(json.dumps({b: list(vfio.implementation(b)) for b in ('vfio', 'vfio-dkms')}))")
    env = dict(os.environ, PYTHONPATH=os.path.join(BUILD, "python"))
    r = subprocess.run(["/usr/bin/python3", "-c", code], capture_output=True, text=True, env=env)
    assert r.returncode == 0, "vfio.implementation(): %s" % r.stderr.strip()[-400:]
    return {b: tuple(v) for b, v in json.loads(r.stdout).items()}


def check(vfio_impl, dkms_impl):
    """Both tools say (name, version) for each backend; version None = none."""
    want = {"vfio": vfio_impl, "vfio-dkms": dkms_impl}
    text = {b: " ".join(x for x in v if x) for b, v in want.items()}
    assert vfioctl_says() == text
    assert python_says() == want


def test_nothing_loaded():
    D.unload_vfio()
    assert not os.path.isdir("/sys/module/vfio_dkms")
    check(("none", None), ("none", None))


def test_distro_vfio_is_in_tree():
    if D.installed():
        D.uninstall()
    D.load_in_tree()
    assert "/kernel/" in D.modinfo_path("vfio")
    check(("in-tree", module_version("vfio")), ("none", None))


def test_dropin_is_reported_as_dropin():
    D.load_dropin()
    assert "/updates/dkms/" in D.modinfo_path("vfio")
    ours = module_version("vfio")
    assert ours == open(os.path.join(D.REPO, "VERSION")).read().strip()
    check(("vfio-dkms-dropin", ours), ("none", None))


def test_vfioctl_info_names_the_implementation():
    bdf = find_pci(*EDU)
    if not bdf:
        pytest.skip("no edu device")
    D.load_dropin()
    bind(bdf, "vfio-pci")
    try:
        r = subprocess.run([VFIOCTL, "info", "-b", "vfio", bdf], capture_output=True,
                           text=True)
        assert r.returncode == 0, r.stderr
        assert "\tImplementation: vfio-dkms-dropin %s\n" % module_version("vfio") in r.stdout
    finally:
        unbind(bdf)


def test_default_flavor_beside_dropin():
    D.load_dropin()
    D.sh("insmod", DEFAULT_KO)
    try:
        check(("vfio-dkms-dropin", module_version("vfio")),
              ("vfio-dkms", module_version(DEFAULT_KO)))
    finally:
        D.sh("rmmod", "vfio_dkms")
