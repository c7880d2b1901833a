# SPDX-License-Identifier: GPL-2.0
"""Config-space virtualization (docs/config-space.md).

Every test runs against in-tree vfio-pci first, then vfio-dkms, with the
same body: absolute expectations are asserted for both, and what the
in-tree framework showed is recorded and must be what vfio-dkms shows.
The device's real registers are read from sysfs (as root, the whole
config space).
"""

import errno
import os
import struct

import pytest

import vfio_uapi as V
import vfio_irqs as I
from vfio_irqs import EVENTFD, NONE, TRIGGER
import vfio_backends as base
from vfio_backends import bound_device
from vfio_fixtures import IN_TREE
from vfio_session import Session

CFG = V.VFIO_PCI_CONFIG_REGION_INDEX
INTX, MSI, MSIX = (V.VFIO_PCI_INTX_IRQ_INDEX, V.VFIO_PCI_MSI_IRQ_INDEX,
                   V.VFIO_PCI_MSIX_IRQ_INDEX)
CAP_ID_MSI, CAP_ID_MSIX, CAP_ID_EXP, CAP_ID_PM = 0x05, 0x11, 0x10, 0x01
MSI_FLAGS_ENABLE, MSI_FLAGS_QSIZE = 0x0001, 0x0070
MSIX_FLAGS_ENABLE, MSIX_FLAGS_MASKALL = 0x8000, 0x4000
CMD_IO, CMD_MEM, CMD_MASTER, CMD_INTX_DISABLE = 0x1, 0x2, 0x4, 0x400
EDU_IRQ_STATUS, EDU_IRQ_RAISE, EDU_IRQ_ACK = 0x24, 0x60, 0x64
QUIET = 0.5


def same_as_in_tree(backend, key, value):
    """In-tree records @value under @key; vfio-dkms must show the same."""
    if backend.name == "in-tree":
        IN_TREE["config:" + key] = value
        return
    assert "config:" + key in IN_TREE, "in-tree did not record %s" % key
    want = IN_TREE["config:" + key]
    assert value == want, "%s: vfio-dkms %r, in-tree %r" % (key, value, want)


class Cfg:
    """Config region of an open session + the device's real config space."""

    def __init__(self, s):
        self.s = s
        self.sysfs = os.path.join(base.PCI, s.dev.bdf, "config")
        self.size = os.path.getsize(self.sysfs)

    def hw(self, off=0, size=None):
        with open(self.sysfs, "rb") as f:
            f.seek(off)
            return f.read(self.size - off if size is None else size)

    def hw16(self, off):
        return struct.unpack("<H", self.hw(off, 2))[0]

    def hw32(self, off):
        return struct.unpack("<I", self.hw(off, 4))[0]

    def read(self, off, size):
        return self.s.pread(CFG, off, size)

    def write(self, off, data):
        assert self.s.pwrite(CFG, off, data) == len(data)

    def r8(self, off):
        return self.read(off, 1)[0]

    def r16(self, off):
        return struct.unpack("<H", self.read(off, 2))[0]

    def r32(self, off):
        return struct.unpack("<I", self.read(off, 4))[0]

    def w8(self, off, v):
        self.write(off, struct.pack("<B", v))

    def w16(self, off, v):
        self.write(off, struct.pack("<H", v))

    def w32(self, off, v):
        self.write(off, struct.pack("<I", v))

    def hw_caps(self):
        """{cap id: offset} of the real standard capability list."""
        caps, pos, loops = {}, self.hw(0x34, 1)[0], 48
        while pos and loops:
            cid, nxt = self.hw(pos, 2)
            caps.setdefault(cid, pos)
            pos, loops = nxt, loops - 1
        return caps

    def virt_caps(self):
        caps, pos, loops = [], self.r8(0x34), 48
        while pos and loops:
            caps.append((self.r8(pos), pos))
            pos, loops = self.r8(pos + 1), loops - 1
        return caps


@pytest.fixture
def edu_s(backend, edu):
    with Session(backend, edu) as sess:
        yield sess


@pytest.fixture
def nvme_s(backend, nvme):
    with Session(backend, nvme) as sess:
        yield sess


# --- whole config space at open ---------------------------------------------

@pytest.mark.parametrize("which", ["edu", "nvme"])
def test_fresh_view(backend, request, which):
    """Right after open, the whole config space reads the same as in-tree
    (dword, word and byte reads), and the capability chain is the same."""
    s = request.getfixturevalue(which + "_s")
    c = Cfg(s)
    whole = c.read(0, c.size)
    assert len(whole) == c.size
    assert whole[0:4] == c.hw(0, 4)                 # ids
    assert whole[8:12] == c.hw(8, 4)                # class, revision
    same_as_in_tree(backend, which + "_fresh", whole)
    # Smaller accesses give the same bytes.
    assert b"".join(c.read(o, 2) for o in range(0, 256, 2)) == whole[:256]
    assert b"".join(c.read(o, 1) for o in range(0, 256)) == whole[:256]
    assert c.read(1, 3) == whole[1:4] and c.read(0x3d, 3) == whole[0x3d:0x40]
    same_as_in_tree(backend, which + "_caps", c.virt_caps())


# --- header -----------------------------------------------------------------

def test_readonly_header_fields(backend, edu_s):
    c = Cfg(edu_s)
    before_hw = c.hw(0, 64)
    before = c.read(0, 64)
    c.w32(0x00, 0xdeadbeef)        # vendor/device id
    c.w32(0x08, 0xffffffff)        # revision, class
    c.w8(0x0e, 0x7f)               # header type
    c.w32(0x2c, 0x12345678)        # subsystem ids
    c.w8(0x34, 0x00)               # capability pointer
    c.w8(0x3d, 0x03)               # interrupt pin
    c.w16(0x3e, 0xffff)            # min_gnt, max_lat
    after = c.read(0, 64)
    for off, size in ((0x00, 4), (0x08, 4), (0x0e, 1), (0x2c, 4), (0x34, 1),
                      (0x3d, 3)):
        assert after[off:off + size] == before[off:off + size], hex(off)
    hw = c.hw(0, 64)
    for off, size in ((0x00, 4), (0x08, 4), (0x0e, 1), (0x2c, 4), (0x34, 1),
                      (0x3d, 3)):
        assert hw[off:off + size] == before_hw[off:off + size], hex(off)
    assert c.r16(0) == 0x1234 and c.r16(2) == 0x11e8
    same_as_in_tree(backend, "ro_header", after)


def test_status_register(backend, edu_s):
    """Status writes (including RW1C bits) are dropped."""
    c = Cfg(edu_s)
    hw = c.hw16(6)
    v = c.r16(6)
    c.w16(6, 0xffff)
    assert c.hw16(6) == hw
    assert c.r16(6) == v
    same_as_in_tree(backend, "status", v)


def test_bar_writes_virtual(backend, edu_s):
    """BAR and ROM BAR writes change only the virtual registers: sizing
    reads, the device never moves, and it still answers."""
    c = Cfg(edu_s)
    hw_bars = c.hw(0x10, 0x18)
    hw_rom = c.hw(0x30, 4)
    bars = [c.r32(0x10 + 4 * i) for i in range(6)]
    rom = c.r32(0x30)
    sized = []
    for i in range(6):
        c.w32(0x10 + 4 * i, 0xffffffff)
        sized.append(c.r32(0x10 + 4 * i))
    c.w32(0x30, 0xffffffff)
    sized_rom = c.r32(0x30)
    # edu: BAR0 is 1 MiB of 32-bit memory, no other BAR, no ROM.
    assert sized[0] == 0xfff00000 | (bars[0] & 0xf)
    assert sized[1:] == [0] * 5
    assert c.hw(0x10, 0x18) == hw_bars and c.hw(0x30, 4) == hw_rom
    # A moved BAR: read back masked, device untouched and still answering.
    c.w32(0x10, 0x12345678)
    assert c.r32(0x10) == 0x12300000 | (bars[0] & 0xf)
    c.w8(0x13, 0xab)                          # one byte of it
    assert c.r32(0x10) == 0xab300000 | (bars[0] & 0xf)
    assert c.hw(0x10, 0x18) == hw_bars
    assert edu_s.bar32(0) == 0x010000ed
    for i in range(6):
        c.w32(0x10 + 4 * i, bars[i])
    c.w32(0x30, rom)
    assert [c.r32(0x10 + 4 * i) for i in range(6)] == bars
    same_as_in_tree(backend, "bars", (bars, sized, rom, sized_rom))


def test_writable_header_fields(backend, edu_s):
    """Cache line size and latency timer go to the device (as in-tree);
    the interrupt line is virtual."""
    c = Cfg(edu_s)
    hw_line = c.hw(0x3c, 1)
    c.w8(0x0c, 0x10)
    c.w8(0x3c, 0x5a)
    assert c.r8(0x3c) == 0x5a
    assert c.hw(0x3c, 1) == hw_line
    got = (c.r8(0x0c), c.hw(0x0c, 1)[0], c.r8(0x0d), c.hw(0x0d, 1)[0])
    assert got[0] == got[1] and got[2] == got[3]
    same_as_in_tree(backend, "writable_header", got)


def test_command_enables(backend, edu_s):
    """Memory, I/O and bus-master enables reach the device."""
    c = Cfg(edu_s)
    cmd = c.r16(4)
    c.w16(4, cmd | CMD_MASTER)
    assert c.hw16(4) & CMD_MASTER and c.r16(4) & CMD_MASTER
    c.w16(4, cmd & ~(CMD_MASTER | CMD_MEM))
    assert not c.hw16(4) & (CMD_MASTER | CMD_MEM)
    c.w8(4, (cmd | CMD_MEM) & 0xff)           # byte write of the low half
    assert c.hw16(4) & CMD_MEM
    assert edu_s.bar32(0) == 0x010000ed
    c.w16(4, cmd)
    same_as_in_tree(backend, "command", (cmd, c.r16(4)))


# --- INTx-disable -------------------------------------------------------------

def test_intx_disable_without_intx(backend, edu_s):
    """INTx-disable is virtual: it reads back what was written, and (as
    in-tree) the device's bit follows it while INTx is not in use."""
    c = Cfg(edu_s)
    cmd = c.r16(4)
    assert not cmd & CMD_INTX_DISABLE and not c.hw16(4) & CMD_INTX_DISABLE
    c.w16(4, cmd | CMD_INTX_DISABLE)
    on = (c.r16(4) & CMD_INTX_DISABLE, c.hw16(4) & CMD_INTX_DISABLE)
    c.w8(5, (cmd >> 8) & ~0x04)               # upper byte alone
    off = (c.r16(4) & CMD_INTX_DISABLE, c.hw16(4) & CMD_INTX_DISABLE)
    assert on[0] and not off[0]
    same_as_in_tree(backend, "intx_disable_no_intx", (on, off))


def test_intx_disable_masks_intx(backend, edu_s):
    """With INTx in use, the user's INTx-disable is virtual and masks INTx
    through the kernel: the kernel's own masking does not show in the
    user's view, SET_IRQS unmask does not override the user's bit, and an
    interrupt raised meanwhile is delivered when the bit is cleared."""
    c = Cfg(edu_s)
    d = edu_s.device
    efd = edu_s.eventfd()
    edu_s.bus_master()

    def unmask():
        I.set_irqs(d, INTX, NONE | I.UNMASK, count=1)

    def raised(val, expect=True):
        edu_s.bar32(EDU_IRQ_RAISE, val)
        return I.wait_event(efd, 5.0 if expect else QUIET)

    assert I.set_irqs(d, INTX, EVENTFD | TRIGGER, data=[efd]) == 0
    try:
        cmd = c.r16(4)
        assert not cmd & CMD_INTX_DISABLE
        # The kernel masks a fired INTx in the device; the user does not
        # see it, and rewriting the command register does not unmask.
        assert raised(0x1) >= 1
        assert c.hw16(4) & CMD_INTX_DISABLE
        assert not c.r16(4) & CMD_INTX_DISABLE
        c.w16(4, c.r16(4))
        assert c.hw16(4) & CMD_INTX_DISABLE
        assert I.wait_event(efd, QUIET) == 0
        edu_s.bar32(EDU_IRQ_ACK, 0x1)
        unmask()
        assert I.wait_event(efd, QUIET) == 0
        assert not c.hw16(4) & CMD_INTX_DISABLE

        # The user's INTx-disable masks; SET_IRQS unmask cannot override.
        c.w16(4, cmd | CMD_INTX_DISABLE)
        assert c.r16(4) & CMD_INTX_DISABLE and c.hw16(4) & CMD_INTX_DISABLE
        assert raised(0x2, expect=False) == 0
        unmask()
        assert I.wait_event(efd, QUIET) == 0
        assert c.hw16(4) & CMD_INTX_DISABLE
        # Cleared: the pending interrupt comes through.
        c.w16(4, cmd)
        assert not c.r16(4) & CMD_INTX_DISABLE
        assert I.wait_event(efd) >= 1
        edu_s.bar32(EDU_IRQ_ACK, 0x2)
        unmask()
        assert I.wait_event(efd, QUIET) == 0
        assert not c.hw16(4) & CMD_INTX_DISABLE

        # Set while the kernel holds a fired interrupt masked.
        assert raised(0x4) >= 1
        c.w16(4, cmd | CMD_INTX_DISABLE)
        unmask()
        assert I.wait_event(efd, QUIET) == 0
        c.w16(4, cmd)
        assert I.wait_event(efd) >= 1
        edu_s.bar32(EDU_IRQ_ACK, 0x4)
        unmask()
        assert I.wait_event(efd, QUIET) == 0
        assert not c.hw16(4) & CMD_INTX_DISABLE
    finally:
        I.set_irqs(d, INTX, NONE | TRIGGER, count=0)


# --- MSI (edu) ----------------------------------------------------------------

def _msi(c):
    pos = c.hw_caps().get(CAP_ID_MSI)
    assert pos, "edu has an MSI capability"
    flags = c.hw16(pos + 2)
    is64 = bool(flags & 0x80)
    return pos, is64, pos + (12 if is64 else 8)


def test_msi_config_writes_virtual(backend, edu_s):
    """MSI enable, queue size, address and data written through config
    space never reach the device; enable reads back 0 while MSI is off."""
    c = Cfg(edu_s)
    pos, is64, data_off = _msi(c)
    hw_before = c.hw(pos, 16)
    flags = c.r16(pos + 2)
    assert not flags & MSI_FLAGS_ENABLE
    c.w16(pos + 2, flags | MSI_FLAGS_ENABLE | MSI_FLAGS_QSIZE)
    after_enable = c.r16(pos + 2)
    assert not after_enable & MSI_FLAGS_ENABLE
    c.w32(pos + 4, 0xfee0100c)
    if is64:
        c.w32(pos + 8, 0x00000001)
    c.w16(data_off, 0x4321)
    virt = (c.r32(pos + 4), c.r32(pos + 8) if is64 else None, c.r16(data_off))
    assert virt[0] == 0xfee0100c and virt[2] == 0x4321
    assert c.hw(pos, 16) == hw_before
    assert not c.hw16(pos + 2) & MSI_FLAGS_ENABLE
    same_as_in_tree(backend, "msi_virtual", (flags, after_enable, virt))


def test_msi_set_irqs(backend, edu_s):
    """SET_IRQS(MSI) programs the device; the virtual capability keeps what
    the user wrote, and user writes cannot disturb the real setup."""
    c = Cfg(edu_s)
    pos, is64, data_off = _msi(c)
    edu_s.bus_master()
    c.w32(pos + 4, 0x11111110)
    c.w16(data_off, 0x2222)
    efd = edu_s.eventfd()
    assert I.set_irqs(edu_s.device, MSI, EVENTFD | TRIGGER, data=[efd]) == 0
    try:
        hw_on = c.hw(pos, 16)
        assert c.hw16(pos + 2) & MSI_FLAGS_ENABLE
        assert c.hw32(pos + 4) & 0xfff00000 == 0xfee00000
        view_on = c.read(pos, 16)
        assert c.r32(pos + 4) == 0x11111110 and c.r16(data_off) == 0x2222
        # The user may now see enable set, but writes change nothing real.
        flags = c.r16(pos + 2)
        c.w16(pos + 2, flags | MSI_FLAGS_ENABLE)
        set_on = c.r16(pos + 2)
        assert set_on & MSI_FLAGS_ENABLE
        c.w32(pos + 4, 0)
        c.w16(data_off, 0)
        assert c.hw(pos, 16) == hw_on
        edu_s.bar32(EDU_IRQ_RAISE, 0x4)
        assert I.wait_event(efd) >= 1
        edu_s.bar32(EDU_IRQ_ACK, 0x4)
        same_as_in_tree(backend, "msi_on", (view_on, set_on))
    finally:
        assert I.set_irqs(edu_s.device, MSI, NONE | TRIGGER, count=0) == 0
    assert not c.hw16(pos + 2) & MSI_FLAGS_ENABLE
    view_off = c.read(pos, 16)
    c.w16(pos + 2, c.r16(pos + 2) | MSI_FLAGS_ENABLE)
    assert not c.r16(pos + 2) & MSI_FLAGS_ENABLE
    assert not c.hw16(pos + 2) & MSI_FLAGS_ENABLE
    same_as_in_tree(backend, "msi_off", view_off)


# --- MSI-X (nvme) -------------------------------------------------------------

def test_msix_control_read_only(backend, nvme_s):
    """MSI-X control: user writes never reach the device (as in-tree, the
    capability is read-only); reads show the device."""
    c = Cfg(nvme_s)
    pos = c.hw_caps().get(CAP_ID_MSIX)
    assert pos, "nvme has an MSI-X capability"
    hw_before = c.hw(pos, 12)
    ctrl = c.r16(pos + 2)
    assert ctrl == c.hw16(pos + 2) and not ctrl & MSIX_FLAGS_ENABLE
    c.w16(pos + 2, ctrl | MSIX_FLAGS_ENABLE | MSIX_FLAGS_MASKALL)
    assert c.r16(pos + 2) == ctrl
    c.w32(pos + 4, 0xffffffff)                # table offset/BIR
    assert c.hw(pos, 12) == hw_before and c.read(pos, 12) == hw_before
    nvme_s.bus_master()
    efd = nvme_s.eventfd()
    assert I.set_irqs(nvme_s.device, MSIX, EVENTFD | TRIGGER, data=[efd]) == 0
    try:
        on = c.r16(pos + 2)
        assert c.hw16(pos + 2) & MSIX_FLAGS_ENABLE
        assert on == c.hw16(pos + 2)
        c.w16(pos + 2, 0)
        c.w16(pos + 2, on | MSIX_FLAGS_MASKALL)
        assert c.hw16(pos + 2) == on and c.r16(pos + 2) == on
        same_as_in_tree(backend, "msix", (ctrl, on))
    finally:
        assert I.set_irqs(nvme_s.device, MSIX, NONE | TRIGGER, count=0) == 0
    assert not c.hw16(pos + 2) & MSIX_FLAGS_ENABLE


def test_pcie_and_pm_caps(backend, nvme_s):
    """nvme's PCIe and PM capabilities: a write to read-only fields and to
    the virtual PME bits is dropped, the same as in-tree."""
    c = Cfg(nvme_s)
    caps = c.hw_caps()
    got = {}
    if CAP_ID_EXP in caps:
        p = caps[CAP_ID_EXP]
        hw_cap = c.hw(p, 8)
        c.w32(p + 4, 0xffffffff)              # device capabilities (RO)
        c.w16(p + 2, 0xffff)                  # PCIe capabilities (RO)
        assert c.hw(p, 8) == hw_cap
        got["exp"] = c.read(p, 0x3c if p + 0x3c <= 256 else 256 - p)
    if CAP_ID_PM in caps:
        p = caps[CAP_ID_PM]
        hw_pm = c.hw(p, 8)
        c.w16(p + 2, 0xffff)                  # PMC (RO)
        c.w16(p + 4, 0x8100)                  # PME status / enable: virtual
        assert c.hw(p, 8) == hw_pm
        got["pm"] = c.read(p, 8)
    assert got, "nvme has PCIe or PM capabilities"
    same_as_in_tree(backend, "nvme_exp_pm", got)


def test_outside_capabilities(backend, edu_s):
    """Bytes outside the header and every capability are passed through
    (in-tree's raw access): reads equal the device's."""
    c = Cfg(edu_s)
    taken = set(range(64))
    for cid, pos in c.hw_caps().items():
        taken.update(range(pos, pos + 24))
    free = [o for o in range(0xc0, 0x100, 4) if not taken & set(range(o, o + 4))]
    assert free
    off = free[0]
    old = c.hw32(off)
    try:
        c.w32(off, 0xa5a5a5a5)
        got = (c.r32(off), c.hw32(off))
        # QEMU keeps what is written there: it reached the device.
        assert got == (0xa5a5a5a5, 0xa5a5a5a5)
        same_as_in_tree(backend, "outside", got)
    finally:
        c.w32(off, old)
    assert c.hw32(off) == old


# QEMU's e1000e carries an option ROM (vm-args): the one device of the test
# bed with a ROM BAR.
E1000E_IDS = ("0x8086", "0x10d3")
ROM = V.VFIO_PCI_ROM_REGION_INDEX


@pytest.fixture
def e1000e_s(backend):
    for dev in bound_device(backend, E1000E_IDS):
        with Session(backend, dev) as sess:
            yield sess


def test_rom_needs_memory_decode(backend, e1000e_s):
    """The ROM is memory: with memory decode off, a ROM read fails as a BAR
    read does, without touching the device (an access it would answer with
    an Unsupported Request), and works again once decode is back on.

    In-tree vfio-pci (6.1, 6.12) maps the ROM, reading its signature from
    the device, before it looks at memory decode: the read then fails with
    ENOMEM.  That is recorded, not copied."""
    s = e1000e_s
    cfg = Cfg(s)
    info = V.RegionInfo(index=ROM)
    V.ioctl(s.device, V.VFIO_DEVICE_GET_REGION_INFO, info)
    assert info.size and info.flags & V.VFIO_REGION_INFO_FLAG_READ, "no ROM"
    assert s.pread(ROM, 0, 2) == b"\x55\xaa"

    cmd = cfg.r16(4)
    cfg.w16(4, cmd & ~CMD_MEM)
    try:
        assert not cfg.hw16(4) & CMD_MEM
        bar_errno = V.errno_of(s.pread, 0, 0, 4)
        rom_errno = V.errno_of(s.pread, ROM, 0, 2)
    finally:
        cfg.w16(4, cmd)
    print("# %s: BAR read %s, ROM read %s with memory decode off" %
          (backend.name, errno.errorcode.get(bar_errno, bar_errno),
           errno.errorcode.get(rom_errno, rom_errno)))
    assert bar_errno == errno.EIO
    assert rom_errno != 0, "ROM read with memory decode off succeeded"
    if backend.name == "vfio-dkms":
        assert rom_errno == bar_errno, "ROM read with memory decode off: %s" % \
            os.strerror(rom_errno)
    assert s.pread(ROM, 0, 2) == b"\x55\xaa"
    same_as_in_tree(backend, "rom bar errno decode off", bar_errno)
