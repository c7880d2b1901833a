# SPDX-License-Identifier: GPL-2.0
"""The vfio Python package against QEMU's edu and nvme devices, per backend."""

import errno
import gc
import mmap
import os
import pwd
import selectors
import shutil
import subprocess
import sys
import tempfile
import textwrap
import threading
import time

import pytest

import vfio
from vfio_binding_fixtures import BUILD

MiB = 1 << 20
EDU_ID = 0x010000ED


def need_irq(edu):
    """Fail with the backend's own error when the example driver got no MSI."""
    if edu.irq is None:
        raise edu.irq_error


def kernel_version():
    return tuple(int(x) for x in os.uname().release.split("-")[0].split(".")[:2])


def run_py(code, *args, user=None, env=None, cwd=None):
    """Run Python code in a child process; returns CompletedProcess."""
    pre = ""
    if user:
        pw = pwd.getpwnam(user)
        pre = "import os; os.setgroups([]); os.setgid(%d); os.setuid(%d)\n" % (pw.pw_gid, pw.pw_uid)
    return subprocess.run([sys.executable, "-c", pre + textwrap.dedent(code)] + list(args),
                          capture_output=True, text=True, timeout=60, env=env, cwd=cwd)


# ---- discovery and binding ---------------------------------------------------

def test_devices(backend, edu_addr, driver):
    found = {d.address: d for d in vfio.devices()}
    d = found[edu_addr]
    assert (d.vendor, d.device) == (0x1234, 0x11E8)
    assert d.driver == driver
    assert isinstance(d.iommu_group, int) and d.iommu_group >= 0
    assert d.class_code >> 16 == 0x00 or d.class_code > 0
    assert "1234:11e8" in str(d) and "0x1234" in repr(d)


def test_pci_device(backend, edu_addr):
    d = vfio.pci_device(edu_addr)
    assert d.address == edu_addr
    short = edu_addr[5:]
    assert vfio.pci_device(short) == d


def test_bind_unbind(backend, edu_addr, driver):
    vfio.unbind(edu_addr)
    try:
        assert vfio.pci_device(edu_addr).driver is None
        vfio.unbind(edu_addr)                       # unbinding twice is fine
        assert vfio.bind(edu_addr, driver) is None  # previous: none
        assert vfio.bind(edu_addr, driver) == driver
    finally:
        vfio.bind(edu_addr, driver)
    assert vfio.pci_device(edu_addr).driver == driver


def test_bind_errors(backend, edu_addr):
    with pytest.raises(FileNotFoundError) as e:
        vfio.bind("0000:7f:1f.7", "vfio-pci")
    assert isinstance(e.value, vfio.Error) and e.value.errno == errno.ENOENT
    with pytest.raises(vfio.Error) as e:
        vfio.bind(edu_addr, "no-such-driver")
    assert e.value.errno == errno.ENODEV
    with pytest.raises(TypeError):
        vfio.bind(1234)


# ---- devices -----------------------------------------------------------------

def test_open_attributes(backend, dev, edu_addr):
    assert dev.address == edu_addr
    assert dev.backend == backend
    assert dev.regions >= 9 and dev.irqs >= 3
    assert (dev.vendor, dev.device) == (0x1234, 0x11E8)
    assert dev.iommu_group == vfio.pci_device(edu_addr).iommu_group
    assert dev.fileno() >= 0
    assert dev.flags & 0x2          # VFIO_DEVICE_FLAGS_PCI
    assert dev.context.backend == backend
    assert dev.context.devices == [dev]
    assert edu_addr in repr(dev) and not dev.closed


def test_open_explicit_backend_mismatch(backend, edu_addr):
    other = "vfio-dkms" if backend == "vfio" else "vfio"
    with pytest.raises(vfio.Error) as e:
        vfio.open(edu_addr, backend=other)
    assert e.value.errno == errno.ENODEV


def test_regions(dev):
    bar = dev.region(0)
    assert (bar.index, bar.size) == (0, MiB)
    assert bar.readable and bar.writable and bar.mappable
    assert bar.sparse_areas in ([], [(0, MiB)])
    assert dev.region(1).size == 0                  # edu has only BAR0
    cfg = dev.config
    assert cfg.index == 7 and cfg.size >= 256 and cfg.readable
    assert dev.region(0) is bar                     # one object per region
    with pytest.raises(ValueError):
        dev.region(dev.regions)
    with pytest.raises(TypeError):
        dev.region("0")
    assert "size=0x100000" in repr(bar)


def test_registers(dev):
    bar = dev.region(0)
    assert bar.read32(0) == EDU_ID
    bar.write32(0x4, 0x12345678)
    assert bar.read32(0x4) == 0xEDCBA987
    # 64-bit registers: through the fd, 6.1's vfio-pci splits 8-byte accesses
    # into two 4-byte ones (edu ignores 4-byte accesses at 0x84), so use the
    # low half there; a mapping does single 8-byte accesses everywhere.
    bar.write32(0x80, 0x89ABCDEF)                   # DMA source
    assert bar.read32(0x80) == 0x89ABCDEF
    with bar.map() as m:
        m.write64(0x80, 0x0123456789ABCDEF)
        assert m.read64(0x80) == 0x0123456789ABCDEF
    if kernel_version() >= (6, 10):                 # vfio-pci does 8-byte accesses since 6.10
        bar.write64(0x80, 0x0123456789ABCDEF)
        assert bar.read64(0x80) == 0x0123456789ABCDEF
    cfg = dev.config
    assert cfg.read16(0) == 0x1234 and cfg.read16(2) == 0x11E8
    assert cfg.read8(0) == 0x34
    assert cfg.read32(0) == 0x11E81234
    cmd = cfg.read16(4)
    cfg.write16(4, cmd | 0x4)
    assert cfg.read16(4) & 0x4
    cfg.write8(0xD, cfg.read8(0xD))                 # latency timer: harmless


def test_bulk_read_write(dev):
    cfg = dev.config
    head = cfg.read(0, 64)
    assert isinstance(head, bytes) and head[:4] == bytes.fromhex("3412e811")
    bar = dev.region(0)
    bar.write(0x4, (1).to_bytes(4, "little"))
    assert bar.read32(0x4) == 0xFFFFFFFE
    assert bar.read(0x0, 4) == EDU_ID.to_bytes(4, "little")
    assert bar.read(0, 0) == b""
    bar.write(0x4, bytearray(4))
    assert bar.read32(0x4) == 0xFFFFFFFF


def test_region_out_of_range(dev):
    bar = dev.region(0)
    for call in (lambda: bar.read32(bar.size), lambda: bar.read32(bar.size - 2),
                 lambda: bar.write32(bar.size, 0), lambda: bar.read(bar.size - 1, 2),
                 lambda: dev.config.read32(dev.config.size)):
        with pytest.raises(vfio.Error) as e:
            call()
        assert e.value.errno == errno.ERANGE
        assert isinstance(e.value, ValueError)
    with pytest.raises(ValueError):
        bar.read32(-4)
    with pytest.raises(ValueError):
        bar.write8(0x4, 256)
    with pytest.raises(ValueError):
        bar.write32(0x4, -1)
    with pytest.raises(TypeError):
        bar.read32("0")
    with pytest.raises(TypeError):
        bar.write32(0x4, 1.5)
    with pytest.raises(TypeError):
        bar.read32()
    with pytest.raises(TypeError):
        bar.write(0, "text")


def test_region_map(dev):
    bar = dev.region(0)
    with bar.map() as m:
        assert len(m) == m.size == MiB
        assert m.read32(0) == EDU_ID
        m.write32(0x4, 0xF0F0F0F0)
        assert m.read32(0x4) == 0x0F0F0F0F == bar.read32(0x4)
        m.write64(0x88, 0x1000)
        assert m.read64(0x88) == 0x1000
        mv = memoryview(m)
        assert len(mv) == MiB and not mv.readonly
        assert int.from_bytes(mv[0:4], "little") == EDU_ID
        mv.release()
        assert m.read(0, 4) == EDU_ID.to_bytes(4, "little")
        with pytest.raises(ValueError):
            m.read32(MiB)
        with pytest.raises(ValueError):
            m.read32(2)                             # unaligned
        with pytest.raises(ValueError):
            m.read32(-4)
        assert m.areas == [(0, MiB)]
    assert m.closed
    with pytest.raises(ValueError):
        m.read32(0)
    m.unmap()                                       # twice: fine
    with pytest.raises(vfio.Error):
        dev.region(1).map()                         # empty BAR: not mappable


def test_reset(dev, nvme):
    for d in (dev, nvme):
        if d.flags & 0x1:                           # VFIO_DEVICE_FLAGS_RESET
            d.reset()
            assert d.config.read16(0) == d.vendor
        else:
            with pytest.raises(vfio.Error) as e:
                d.reset()
            assert e.value.errno == errno.ENOTTY
    assert nvme.flags & 0x1                         # nvme has FLR


# ---- DMA -----------------------------------------------------------------------

def test_set_dma_mask(dev):
    assert dev.dma_mask == 64
    dev.set_dma_mask(28)
    assert dev.dma_mask == 28
    assert dev.context.dma_limit == (1 << 28) - 1
    for bad in (0, 65):
        with pytest.raises(ValueError):
            dev.set_dma_mask(bad)
    with pytest.raises(TypeError):
        dev.set_dma_mask("28")
    ranges = dev.context.iova_ranges
    assert ranges and all(first <= last for first, last in ranges)


def test_dma_alloc(dev):
    dev.set_dma_mask(28)
    with dev.dma_alloc(8192) as buf:
        assert buf.size == 8192 and len(buf) == 8192
        assert buf.iova % 4096 == 0 and buf.iova + buf.size <= 1 << 28
        mv = memoryview(buf)
        assert not mv.readonly and bytes(mv[:16]) == bytes(16)     # zeroed
        mv[:4] = b"abcd"
        assert buf.read(0, 4) == b"abcd" and bytes(buf)[:4] == b"abcd"
        buf.write32(8, 0xCAFEF00D)
        assert mv[8:12].tobytes() == bytes.fromhex("0df0feca")
        mv.release()
        assert not buf.hugepage or buf.fallback_reason is None
    assert buf.closed
    buf.free()                                      # twice: fine
    with pytest.raises(ValueError):
        memoryview(buf)
    with pytest.raises(ValueError):
        buf.read32(0)
    small = dev.dma_alloc(1)
    assert small.size == 4096
    small.free()
    for bad in (0, -1):
        with pytest.raises(ValueError):
            dev.dma_alloc(bad)
    with pytest.raises(ValueError):
        dev.dma_alloc(4096, direction="sideways")


def test_dma_many_buffers_below_limit(dev):
    dev.set_dma_mask(28)
    bufs = [dev.dma_alloc(4096) for _ in range(32)]
    iovas = sorted(b.iova for b in bufs)
    assert len(set(iovas)) == 32 and iovas[-1] + 4096 <= 1 << 28
    for b in bufs:
        b.free()


def test_hugepage_fallback(dev):
    buf = dev.dma_alloc(4096, hugepage=True)
    try:
        if buf.hugepage:
            assert buf.size == 2 * MiB and buf.fallback_reason is None
        else:
            assert buf.fallback_reason and buf.size >= 4096
    finally:
        buf.free()


def test_dma_round_trip(edu, dev):
    n = 4095
    with dev.dma_alloc(4096) as src, dev.dma_alloc(4096) as dst:
        pattern = os.urandom(n)
        memoryview(src)[:n] = pattern
        edu.dma_to_device(src, n)
        edu.dma_from_device(dst, n)
        assert dst.read(0, n) == pattern


def test_dma_round_trip_polled(dev):
    """DMA without interrupts: start, then poll the command register."""
    dev.set_bus_master(True)
    dev.set_dma_mask(28)
    bar = dev.region(0)

    def dma(src, dst, count, to_ram):
        bar.write32(0x80, src)
        bar.write32(0x88, dst)
        bar.write32(0x90, count)
        bar.write32(0x98, 0x1 | (0x2 if to_ram else 0))
        deadline = time.monotonic() + 5
        while bar.read32(0x98) & 0x1:
            assert time.monotonic() < deadline, "DMA did not complete"
            time.sleep(0.01)

    with dev.dma_alloc(4096) as src, dev.dma_alloc(4096) as dst:
        pattern = os.urandom(4095)
        src.write(0, pattern)
        dma(src.iova, 0x40000, 4095, to_ram=False)
        dma(0x40000, dst.iova, 4095, to_ram=True)
        assert dst.read(0, 4095) == pattern


def test_dma_map_user_memory(edu, dev):
    # An anonymous mmap: page aligned, exact.
    mm = mmap.mmap(-1, 8192)
    m = dev.dma_map(mm)
    assert m.iova % 4096 == 0 and m.size == 8192 and m.iova + 8192 <= 1 << 28
    with pytest.raises(BufferError):
        mm.close()                                  # the mapping holds an export
    mm[:100] = b"\x5a" * 100
    edu._dma(m.iova, edu.DEVICE_BUFFER, 100, to_ram=False)
    edu._dma(edu.DEVICE_BUFFER, m.iova + 4096, 100, to_ram=True)
    assert mm[4096:4196] == b"\x5a" * 100
    m.unmap()
    assert m.closed
    mm.close()

    # A bytearray: not page aligned; iova points at its first byte.
    ba = bytearray(b"\x00" * 3000)
    with dev.dma_map(ba) as m2:
        with pytest.raises(BufferError):
            ba.extend(b"x")                         # cannot move while mapped
        edu._dma(edu.DEVICE_BUFFER, m2.iova + 10, 100, to_ram=True)
        assert ba[10:110] == b"\x5a" * 100 and ba[:10] == bytes(10)
    ba.extend(b"x")                                 # released

    # Read-only memory can only be read by the device.
    with dev.dma_map(b"\x11" * 4096, direction="to_device") as m3:
        edu._dma(m3.iova, edu.DEVICE_BUFFER, 64, to_ram=False)
    with pytest.raises(ValueError):
        dev.dma_map(b"\x11" * 4096)
    with pytest.raises(TypeError):
        dev.dma_map(12345)
    with pytest.raises(ValueError):
        dev.dma_map(bytearray())
    # The IOMMU's page size decides, and libvfio knows it.
    with pytest.raises(vfio.Error) as e:
        dev.dma_map(bytearray(4096), iova=0x1001)
    assert e.value.errno == errno.EINVAL


def test_dma_map_fixed_iova(dev):
    dev.set_dma_mask(28)
    mm = mmap.mmap(-1, 4096)
    with dev.dma_map(mm, iova=0x800000) as m:
        assert m.iova == 0x800000
        with pytest.raises(FileExistsError) as e:
            dev.dma_map(mmap.mmap(-1, 4096), iova=0x800000)
        assert e.value.errno == errno.EEXIST
    with pytest.raises(vfio.Error) as e:
        dev.dma_map(mm, iova=1 << 30)               # above the 28-bit limit
    assert e.value.errno == errno.ERANGE
    mm.close()


# ---- interrupts --------------------------------------------------------------

def test_factorial_msi(edu, dev):
    need_irq(edu)
    assert dev.irq_count("msi") == 1
    assert edu.irq.kind == "msi" and edu.irq.vector == 0
    assert edu.factorial(10) == 3628800
    assert edu.factorial(5) == 120


def test_irq_raise_and_fileno(edu):
    need_irq(edu)
    irq = edu.irq
    assert irq.wait(0) == 0                         # nothing pending: polls
    t0 = time.monotonic()
    assert irq.wait(0.05) == 0                      # timeout
    assert time.monotonic() - t0 >= 0.04
    sel = selectors.DefaultSelector()
    sel.register(irq.fileno(), selectors.EVENT_READ)
    assert sel.select(0) == []
    edu.bar.write32(edu.IRQ_RAISE, 0x42)
    assert sel.select(5.0)
    assert irq.wait(0) == 1
    assert edu.bar.read32(edu.IRQ_STATUS) == 0x42
    edu.bar.write32(edu.IRQ_ACK, 0x42)
    sel.close()


def test_irq_wait_releases_gil(edu):
    need_irq(edu)
    irq = edu.irq
    result = []
    t = threading.Thread(target=lambda: result.append(irq.wait(10.0)))
    t.start()
    # The waiter blocks in C; this thread keeps running Python meanwhile.
    spins, t0 = 0, time.monotonic()
    while time.monotonic() - t0 < 0.3:
        spins += 1
    assert spins > 1000
    with pytest.raises(RuntimeError):
        edu.dev.close()                             # refused while another thread waits
    edu.bar.write32(edu.IRQ_RAISE, 0x1)
    t.join(10)
    assert result == [1]
    edu.bar.write32(edu.IRQ_ACK, 0x1)


def test_irq_trigger_and_disable(dev):
    irq = dev.irq_enable("msi")[0]
    irq.trigger()
    assert irq.wait(1.0) == 1
    dev.irq_disable("msi")
    assert irq.closed
    with pytest.raises(ValueError):
        irq.wait(0)
    assert "disabled" in repr(irq)


def test_intx(dev):
    assert dev.irq_count("intx") == 1
    irq = dev.irq_enable("intx")[0]
    bar = dev.region(0)
    bar.write32(0x60, 0x7)
    assert irq.wait(5.0) == 1
    assert bar.read32(0x24) == 0x7
    bar.write32(0x64, 0x7)
    irq.unmask()
    dev.irq_disable("intx")


def test_irq_errors(dev):
    with pytest.raises(ValueError):
        dev.irq_enable("msi-x")
    with pytest.raises(vfio.Error) as e:
        dev.irq_enable("msi", count=2)              # edu has one MSI vector
    assert e.value.errno == errno.EINVAL
    assert dev.irq_count("msix") == 0
    dev.irq_enable("msi")
    with pytest.raises(vfio.Error) as e:
        dev.irq_enable("intx")
    assert e.value.errno == errno.EBUSY
    with pytest.raises(ValueError):
        dev.irq_enable("msi")[0].wait(-1)


def test_nvme_msix_and_64bit_bar(nvme):
    cfg = nvme.config
    bar0_low = cfg.read32(0x10)
    assert bar0_low & 0x6 == 0x4                    # 64-bit memory BAR
    bar = nvme.region(0)
    assert bar.size >= 0x2000 and bar.mappable
    with bar.map() as m:
        cap = m.read64(0x0)                         # CAP: 64-bit register
        assert cap == bar.read64(0x0) and cap != 0
        assert m.read32(0x8) >> 16 == 1             # VS: NVMe 1.x
    n = nvme.irq_count("msix")
    assert n >= 2
    irqs = nvme.irq_enable("msix", count=2)
    assert [i.vector for i in irqs] == [0, 1] and irqs[0].fileno() != irqs[1].fileno()
    irqs[1].trigger()
    assert irqs[1].wait(1.0) == 1 and irqs[0].wait(0) == 0
    nvme.irq_disable("msix")


def test_context_two_devices(backend, edu_addr, nvme_addr):
    with vfio.Context() as ctx:
        assert ctx.backend is None
        a = ctx.open(edu_addr, backend)
        b = ctx.open(nvme_addr)
        assert ctx.backend == backend and ctx.devices == sorted([a, b], key=lambda d: d.address)
        a.set_dma_mask(28)
        buf = b.dma_alloc(4096)                     # one address space: edu's limit applies
        assert buf.iova + 4096 <= 1 << 28
        b.close()
        assert b.closed and ctx.devices == [a]
        assert buf.read(0, 4) == bytes(4)           # the context still holds the buffer
    assert a.closed and buf.closed and ctx.closed
    with pytest.raises(ValueError):
        a.region(0)
    ctx.close()


def test_context_dma_without_device():
    with vfio.Context() as ctx:
        with pytest.raises(vfio.Error) as e:
            ctx.dma_alloc(4096)
        assert e.value.errno == errno.ENODEV


# ---- errors ------------------------------------------------------------------

def test_unknown_address(backend):
    with pytest.raises(FileNotFoundError) as e:
        vfio.open("0000:7f:1f.7", backend=backend)
    assert isinstance(e.value, vfio.Error) and e.value.errno == errno.ENOENT
    assert "0000:7f:1f.7" in str(e.value)
    with pytest.raises(vfio.Error) as e:
        vfio.open("not-an-address")
    assert e.value.errno == errno.EINVAL
    with pytest.raises(ValueError):
        vfio.open("0000:00:03.0", backend="iommufd")
    with pytest.raises(TypeError):
        vfio.open(None)


def test_device_not_bound(backend, edu_addr, driver):
    vfio.unbind(edu_addr)
    try:
        with pytest.raises(vfio.Error) as e:
            vfio.open(edu_addr, backend=backend)
        assert e.value.errno == errno.ENODEV
        assert edu_addr in e.value.strerror
    finally:
        vfio.bind(edu_addr, driver)


def test_group_busy(backend, dev, edu_addr):
    r = run_py("""
        import errno, sys, vfio
        try:
            vfio.open(sys.argv[1], backend=sys.argv[2])
        except OSError as e:
            print(type(e).__name__, e.errno == errno.EBUSY, isinstance(e, vfio.Error), e)
            sys.exit(0 if e.errno == errno.EBUSY else 1)
        sys.exit(2)
        """, edu_addr, backend)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "True True" in r.stdout


def importable_copy(tmp):
    """A copy of the built package (and its libvfio) that any user can read.

    The checkout may sit where an unprivileged user cannot look (/root is
    0700); the copy goes to the guest's tmpfs.  Returns the environment
    for a child that imports it.
    """
    pkg = os.path.dirname(vfio.__file__)
    lib = os.path.join(BUILD, "libvfio")
    os.chmod(tmp, 0o755)
    shutil.copytree(pkg, os.path.join(tmp, "vfio"),
                    ignore=shutil.ignore_patterns("__pycache__"))
    os.mkdir(os.path.join(tmp, "lib"))
    for name in os.listdir(lib):
        if name.startswith("libvfio.so"):
            shutil.copy(os.path.join(lib, name), os.path.join(tmp, "lib"), follow_symlinks=False)
    for d, dirs, files in os.walk(tmp):
        os.chmod(d, 0o755)
        for f in files:
            if not os.path.islink(os.path.join(d, f)):
                os.chmod(os.path.join(d, f), 0o644)
    env = dict(os.environ, PYTHONPATH=tmp, LD_LIBRARY_PATH=os.path.join(tmp, "lib"))
    return env


def test_not_root(backend, edu_addr, driver):
    tmp = tempfile.mkdtemp(prefix="vfio-nobody-", dir="/tmp")
    try:
        env = importable_copy(tmp)
        r = run_py("""
            import sys
            try:
                import vfio
            except ImportError as e:
                print("IMPORT FAILED:", repr(e))
                sys.exit(3)
            print("imported", vfio.__file__)
            rc = 0
            for what, call in (("open", lambda: vfio.open(sys.argv[1], backend=sys.argv[2])),
                               ("unbind", lambda: vfio.unbind(sys.argv[1]))):
                try:
                    call()
                    print(what, "succeeded")
                    rc = 1
                except PermissionError as e:
                    print(what, "PermissionError", isinstance(e, vfio.Error), e)
            sys.exit(rc)
            """, edu_addr, backend, user="nobody", env=env, cwd=tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    assert r.returncode != 3, ("the unprivileged process could not import vfio, which is "
                               "not the errno under test:\n" + r.stdout + r.stderr)
    assert r.returncode == 0, r.stdout + r.stderr
    assert ("imported " + tmp) in r.stdout, r.stdout
    assert r.stdout.count("PermissionError True") == 2, r.stdout + r.stderr


# ---- lifetimes ---------------------------------------------------------------

def test_free_while_memoryview_held(dev):
    buf = dev.dma_alloc(4096)
    mv = memoryview(buf)
    with pytest.raises(BufferError):
        buf.free()
    mv[:3] = b"xyz"                                 # still valid memory
    with pytest.raises(BufferError):
        dev.close()                                 # closing its context frees it too
    assert not dev.closed
    mv.release()
    buf.free()
    assert buf.closed


def test_close_while_map_held(backend, edu_addr):
    dev = vfio.open(edu_addr, backend=backend)
    mv = None
    try:
        m = dev.region(0).map()
        mv = memoryview(m)
        with pytest.raises(BufferError):
            dev.close()
        with pytest.raises(BufferError):
            m.unmap()
        assert int.from_bytes(mv[:4], "little") == EDU_ID
        mv.release()
        dev.close()                                 # now fine; the map goes with it
        assert m.closed and dev.closed
        with pytest.raises(ValueError):
            m.read32(0)
        with pytest.raises(ValueError):
            memoryview(m)
    finally:
        if mv is not None:
            mv.release()
        dev.close()


def test_close_invalidates_handles(backend, edu_addr):
    dev = vfio.open(edu_addr, backend=backend)
    try:
        bar, cfg = dev.region(0), dev.config
        rd, wr = bar.read32, cfg.write16            # accessors fetched before the close
        assert rd(0) == EDU_ID and not bar.closed
        m = bar.map()                               # a map object, no memoryview
        buf = dev.dma_alloc(4096)
        irq = dev.irq_enable("msi")[0]
    finally:
        dev.close()
    dev.close()
    for call in (lambda: bar.read32(0), lambda: cfg.read16(0), lambda: m.read32(0),
                 lambda: irq.wait(0), lambda: irq.fileno(), lambda: buf.read32(0),
                 lambda: bar.map(), lambda: dev.region(0), lambda: dev.reset(),
                 lambda: dev.dma_alloc(4096), lambda: rd(0), lambda: wr(4, 0)):
        with pytest.raises(ValueError):
            call()
    assert buf.closed and m.closed and irq.closed and bar.closed and cfg.closed


def test_memoryview_keeps_device_alive(backend, edu_addr):
    mv = memoryview(vfio.open(edu_addr, backend=backend).region(0).map())
    gc.collect()                                    # device, context and map are unreferenced
    assert int.from_bytes(mv[:4], "little") == EDU_ID
    mv.release()
    gc.collect()
    # Everything was closed by the collector: the group can be opened again.
    with vfio.open(edu_addr, backend=backend) as dev:
        assert dev.region(0).read32(0) == EDU_ID


def test_objects_not_constructible():
    for cls in (vfio.Device, vfio.Region, vfio.RegionMap, vfio.DmaBuffer, vfio.DmaMapping,
                vfio.Irq):
        with pytest.raises(TypeError):
            cls()


# ---- the package as users see it ------------------------------------------------

def test_no_swig_seams(dev):
    import pydoc
    text = pydoc.render_doc(vfio, renderer=pydoc.plaintext)
    assert "Swig" not in text and "SwigPyObject" not in text
    for obj in (dev, dev.region(0), dev.config):
        assert "Swig" not in repr(obj)
    public = [n for n in dir(vfio) if not n.startswith("_")]
    assert set(vfio.__all__) <= set(public)
    for name in vfio.__all__:
        obj = getattr(vfio, name)
        if callable(obj):
            assert obj.__doc__, name
    for cls in (vfio.Device, vfio.Region, vfio.DmaBuffer, vfio.Irq, vfio.Context):
        for attr, val in vars(cls).items():
            if not attr.startswith("_") and callable(val):
                assert val.__doc__, "%s.%s" % (cls.__name__, attr)


def test_cli(backend, edu_addr):
    r = subprocess.run([sys.executable, "-m", "vfio", "list"], capture_output=True, text=True)
    assert r.returncode == 0 and edu_addr in r.stdout and "1234:11e8" in r.stdout
    r = subprocess.run([sys.executable, "-m", "vfio", "info", "-b", backend, edu_addr],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "BAR0" in r.stdout and "msi" in r.stdout
    r = subprocess.run([sys.executable, "-m", "vfio", "info", "0000:7f:1f.7"],
                       capture_output=True, text=True)
    assert r.returncode == 3 and "0000:7f:1f.7" in r.stderr


def test_edu_example(backend):
    top = os.environ.get("VFIO_TOP", os.path.abspath(os.path.join(os.path.dirname(__file__),
                                                                  "../../../..")))
    r = subprocess.run([sys.executable, os.path.join(top, "examples", "edu.py"),
                        "--backend", backend], capture_output=True, text=True, timeout=120)
    print(r.stdout, r.stderr)
    assert r.returncode == 0
    assert "factorial 10!, completion MSI" in r.stdout and "round trip matches" in r.stdout
    assert "0 failure(s)" in r.stdout
