# SPDX-License-Identifier: LGPL-2.1-or-later
"""vfio.implementation() over a fake /sys/module: which implementation
backs each backend, and the cases where it refuses to guess."""

import errno
import os

import pytest

import vfio
from vfio import _native


def _put(root, rel, content=""):
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(content)


def _module(root, name, initstate="live\n", flavor=None, version=None):
    os.makedirs(os.path.join(root, "sys/module", name, "holders"), exist_ok=True)
    if initstate is not None:
        _put(root, "sys/module/%s/initstate" % name, initstate)
    if flavor is not None:
        _put(root, "sys/module/%s/parameters/vfio_dkms_flavor" % name, flavor)
    if version is not None:
        _put(root, "sys/module/%s/version" % name, version)


@pytest.fixture
def sysroot(tmp_path):
    root = str(tmp_path)
    os.makedirs(os.path.join(root, "sys/module"))
    _native._test_set_roots(root, root)
    yield root
    _native._test_set_roots("", "")


def test_none(sysroot):
    assert vfio.implementation() == vfio.Implementation("none", None)
    assert vfio.implementation("vfio-dkms") == ("none", None)


def test_in_tree(sysroot):
    _module(sysroot, "vfio", version="0.3\n")
    impl = vfio.implementation("vfio")
    assert impl.name == "in-tree" and impl.version == "0.3"
    assert vfio.implementation("vfio-dkms").name == "none"


def test_built_in_is_in_tree(sysroot):
    _module(sysroot, "vfio", initstate=None, flavor="dropin\n")
    assert vfio.implementation("vfio") == ("in-tree", None)


def test_default_flavor(sysroot):
    _module(sysroot, "vfio_dkms", flavor="default\n", version="0.1.0\n")
    assert vfio.implementation("vfio-dkms") == ("vfio-dkms", "0.1.0")
    assert vfio.implementation("vfio") == ("none", None)


def test_dropin_beside_default(sysroot):
    _module(sysroot, "vfio", flavor="dropin\n", version="0.1.0\n")
    _module(sysroot, "vfio_dkms", flavor="default\n", version="0.1.0\n")
    assert vfio.implementation("vfio") == ("vfio-dkms-dropin", "0.1.0")
    assert vfio.implementation("vfio-dkms") == ("vfio-dkms", "0.1.0")
    assert {vfio.implementation(b).name for b in ("vfio", "vfio-dkms")} <= \
        set(vfio.IMPLEMENTATIONS)


def test_unreadable_flavor_raises(sysroot):
    _module(sysroot, "vfio")
    os.makedirs(os.path.join(sysroot, "sys/module/vfio/parameters/vfio_dkms_flavor"))
    with pytest.raises(vfio.Error) as e:
        vfio.implementation("vfio")
    assert e.value.errno == errno.EISDIR
    assert "vfio/parameters/vfio_dkms_flavor" in e.value.strerror


def test_unknown_flavor_raises(sysroot):
    _module(sysroot, "vfio", flavor="sideways\n")
    with pytest.raises(vfio.Error) as e:
        vfio.implementation("vfio")
    assert e.value.errno == errno.EPROTO and "sideways" in e.value.strerror


def test_backend_argument(sysroot):
    with pytest.raises(ValueError):
        vfio.implementation("auto")
    with pytest.raises(TypeError):
        vfio.implementation(1)
