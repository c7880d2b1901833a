#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A user-space NVMe driver in Python, on the public ``vfio`` package.

    sudo python3 examples/nvme.py [--address ADDR] [--backend auto|vfio|vfio-dkms]
                                  [--bind] [--poll] [--expect-host-pattern]

It resets the controller, sets up the admin queues, identifies the
controller and its first namespace, creates one I/O queue pair whose
completions raise an MSI-X interrupt, writes a pattern to a few blocks by
DMA and reads it back (one 64 KiB command through a PRP list among them),
optionally checks blocks that were put into the disk image before the
device was opened (``--expect-host-pattern``, the layout of
:func:`image_pattern`), and shuts the controller down cleanly.  Every step
prints what it did; the exit status is 0 when every check passed.

The same code runs through the in-tree framework (``--backend vfio``), our
module (``--backend vfio-dkms``) and our module in no-IOMMU mode, where the
device is given bus addresses instead of IOVAs: every address handed to the
controller comes from ``device_address()`` of the buffer, which knows the
difference, so nothing here knows which of the three it runs on.

The NVMe facts used (NVM Express Base Specification 1.4) are explained
where they are used.  Written against QEMU's ``nvme`` device (QEMU 7.2:
MSI-X, 4 KiB pages, MDTS 7 = 512 KiB per command), but nothing here is
specific to QEMU.
"""

import argparse
import struct
import sys
import time

import vfio

NVME_CLASS = 0x010802          # mass storage, non-volatile memory, NVM Express
PAGE = 4096                    # the memory page size we program into CC.MPS
SMALL = 1024                   # a PRP list of 128 entries


# --------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------

# Completion status: Status Code Type (SCT) and Status Code (SC).  A few
# that a driver meets while it is being written.
STATUS_NAMES = {
    (0, 0x00): "Successful Completion",
    (0, 0x01): "Invalid Command Opcode",
    (0, 0x02): "Invalid Field in Command",
    (0, 0x03): "Command ID Conflict",
    (0, 0x04): "Data Transfer Error",
    (0, 0x06): "Internal Error",
    (0, 0x0B): "Invalid Namespace or Format",
    (0, 0x13): "PRP Offset Invalid",
    (0, 0x80): "LBA Out of Range",
    (0, 0x81): "Capacity Exceeded",
    (1, 0x00): "Completion Queue Invalid",
    (1, 0x01): "Invalid Queue Identifier",
    (1, 0x02): "Invalid Queue Size",
    (1, 0x08): "Invalid Interrupt Vector",
    (1, 0x0C): "Invalid Queue Deletion",
    (1, 0x0D): "Feature Identifier Not Saveable",
    (2, 0x80): "Write Fault",
    (2, 0x81): "Unrecovered Read Error",
}


class NvmeError(Exception):
    """The controller completed a command with a non-zero status.

    Attributes: ``command`` (its name), ``opcode``, ``sct`` (status code
    type), ``sc`` (status code), ``dnr`` (do not retry).
    """

    def __init__(self, command, opcode, sct, sc, dnr):
        self.command, self.opcode, self.sct, self.sc, self.dnr = command, opcode, sct, sc, dnr
        name = STATUS_NAMES.get((sct, sc), "unknown status")
        super().__init__("%s (opcode %#04x) failed: status type %#x code %#04x (%s)%s"
                         % (command, opcode, sct, sc, name, ", do not retry" if dnr else ""))


class NvmeTimeout(TimeoutError):
    """The controller did not do something within its time limit."""


# --------------------------------------------------------------------------
# The host-side test image
# --------------------------------------------------------------------------

IMAGE_SECTOR = 512


def image_pattern(offset, length):
    """The bytes a test image holds at [offset, offset + length).

    Every 512-byte sector starts with a readable line naming it and is
    filled with bytes that depend on the sector number and the position, so
    a block read from the wrong place, or half of one, is caught.  The host
    writes this into the disk image before the controller is opened
    (``write_image``); ``--expect-host-pattern`` checks it.
    """
    if offset % IMAGE_SECTOR or length % IMAGE_SECTOR:
        raise ValueError("image_pattern works in whole 512-byte sectors")
    out = bytearray()
    for sector in range(offset // IMAGE_SECTOR, (offset + length) // IMAGE_SECTOR):
        head = b"vfio-dkms nvme test image, sector %010d\n" % sector
        start = (sector * 7 + len(head)) & 0xFF
        out += head + _BYTE_RAMP[start:start + IMAGE_SECTOR - len(head)]
    return bytes(out)


_BYTE_RAMP = bytes(range(256)) * 4      # any 512-byte run of 0, 1, 2, ... mod 256


def write_image(path, size, pattern_bytes):
    """Create *path* as a *size*-byte raw image whose first *pattern_bytes*
    hold :func:`image_pattern` (the rest reads as zeros)."""
    with open(path, "wb") as f:
        chunk = 1 << 20
        for off in range(0, pattern_bytes, chunk):
            f.write(image_pattern(off, min(chunk, pattern_bytes - off)))
        f.truncate(size)


# --------------------------------------------------------------------------
# Commands
# --------------------------------------------------------------------------

# Admin command opcodes (the admin queue, qid 0).
ADMIN_DELETE_SQ, ADMIN_CREATE_SQ, ADMIN_DELETE_CQ, ADMIN_CREATE_CQ = 0x00, 0x01, 0x04, 0x05
ADMIN_IDENTIFY, ADMIN_SET_FEATURES = 0x06, 0x09
# NVM command set opcodes (I/O queues).
NVM_FLUSH, NVM_WRITE, NVM_READ = 0x00, 0x01, 0x02

ADMIN_NAMES = {0x00: "Delete I/O Submission Queue", 0x01: "Create I/O Submission Queue",
               0x04: "Delete I/O Completion Queue", 0x05: "Create I/O Completion Queue",
               0x06: "Identify", 0x09: "Set Features"}
NVM_NAMES = {0x00: "Flush", 0x01: "Write", 0x02: "Read"}


def command(opcode, nsid=0, prp1=0, prp2=0, cdw10=0, cdw11=0, cdw12=0,
            cdw13=0, cdw14=0, cdw15=0):
    """A 64-byte submission queue entry, with the command id left 0.

    dword 0: opcode (bits 7:0), fused/PSDT (0: PRPs), command id (31:16);
    dword 1: namespace id; 2-3 reserved; 4-5 metadata pointer;
    6-7 PRP entry 1; 8-9 PRP entry 2; 10-15 command specific.
    """
    return struct.pack("<IIQQQQ6I", opcode, nsid, 0, 0, prp1, prp2,
                       cdw10, cdw11, cdw12, cdw13, cdw14, cdw15)


class Completion:
    """One 16-byte completion queue entry.

    dword 0: command specific result; 1: reserved; 2: SQ head (15:0) and
    SQ id (31:16); 3: command id (15:0), phase tag (bit 16), status (31:17:
    SC in 24:17, SCT in 27:25, DNR in bit 31).
    """

    __slots__ = ("result", "sq_head", "sqid", "cid", "sct", "sc", "dnr")

    def __init__(self, raw):
        dw0, _, dw2, dw3 = struct.unpack("<4I", raw)
        self.result = dw0
        self.sq_head, self.sqid = dw2 & 0xFFFF, dw2 >> 16
        self.cid = dw3 & 0xFFFF
        self.sc, self.sct, self.dnr = (dw3 >> 17) & 0xFF, (dw3 >> 25) & 0x7, bool(dw3 >> 31)


# --------------------------------------------------------------------------
# Queues
# --------------------------------------------------------------------------

SQE_SIZE, CQE_SIZE = 64, 16


class QueuePair:
    """A submission queue and its completion queue, both rings in DMA memory.

    The host writes commands at the SQ *tail* and tells the controller by
    writing the new tail to the SQ's doorbell; the controller writes
    completions at the CQ tail and flips the *phase tag* of each entry it
    writes (1 on its first pass through the ring, 0 on the second, ...), so
    the host knows an entry is new without a register read.  The host
    writes its CQ head to the CQ's doorbell so the controller can reuse the
    slots.  Doorbells sit at 0x1000 + (2 * qid + 0/1) * (4 << CAP.DSTRD).
    """

    def __init__(self, ctrl, qid, depth, irq=None):
        self.ctrl, self.qid, self.depth, self.irq = ctrl, qid, depth, irq
        # Queues must be contiguous for the controller (we tell it so with
        # the PC flag) and start on a memory page: page-sized blocks of a
        # pool are both, also without an IOMMU.  A 64-entry SQ fills a page.
        if depth * SQE_SIZE > PAGE:
            raise ValueError("queue depth %d needs more than one page" % depth)
        self.sq = ctrl.page_pool.alloc()
        self.cq = ctrl.page_pool.alloc()
        self.sq_addr, self.cq_addr = self.sq.device_address(), self.cq.device_address()
        self.sq_tail = 0
        self.sq_head = 0              # as last reported by the controller
        self.cq_head = 0
        self.phase = 1
        # Command ids in flight -> (name, opcode); one slot stays empty, since
        # head == tail means "empty", so depth - 1 commands fit.
        self.free_cids = list(range(depth - 1))
        self.inflight = {}
        self.done = {}
        self.created = []             # "cq", "sq": what the controller has
        self.sq_doorbell = 0x1000 + (2 * qid) * (4 << ctrl.dstrd)
        self.cq_doorbell = 0x1000 + (2 * qid + 1) * (4 << ctrl.dstrd)

    def free(self):
        for buf in (self.sq, self.cq):
            buf.free()

    def reserve(self):
        """A free command id (0..depth-2), for a caller that needs it before
        building the command (per-command PRP list pages)."""
        if not self.free_cids:
            raise RuntimeError("queue %d is full" % self.qid)
        return self.free_cids.pop()

    def submit(self, entry, name, ring=True, cid=None):
        """Copy a command into the SQ; ring the doorbell unless told not to
        (a batch rings once).  Returns its command id."""
        if cid is None:
            cid = self.reserve()
        opcode = entry[0]
        slot = self.sq_tail * SQE_SIZE
        self.sq.write(slot, entry)
        self.sq.write16(slot + 2, cid)
        self.inflight[cid] = (name, opcode)
        self.sq_tail = (self.sq_tail + 1) % self.depth
        if ring:
            self.ring()
        return cid

    def ring(self):
        # The entries must be visible to the controller before it learns
        # about them from the doorbell.
        vfio.dma_wmb()
        self.ctrl.bar.write32(self.sq_doorbell, self.sq_tail)

    def reap(self):
        """Consume every new completion; returns how many."""
        n = 0
        while True:
            slot = self.cq_head * CQE_SIZE
            # The phase tag is in dword 3; read it first, and only then the
            # rest of the entry: the barrier keeps the CPU from reading the
            # other fields before the tag, i.e. from an old entry.
            if (self.cq.read32(slot + 12) >> 16) & 1 != self.phase:
                break
            vfio.dma_rmb()
            c = Completion(self.cq.read(slot, CQE_SIZE))
            self.cq_head += 1
            if self.cq_head == self.depth:
                self.cq_head, self.phase = 0, self.phase ^ 1
            self.sq_head = c.sq_head
            if c.cid not in self.inflight:
                raise RuntimeError("queue %d: completion for unknown command id %d"
                                   % (self.qid, c.cid))
            self.done[c.cid] = c
            n += 1
        if n:
            self.ctrl.bar.write32(self.cq_doorbell, self.cq_head)
        return n

    def _wait_until(self, done, timeout):
        """Reap completions until done() holds, sleeping in between."""
        deadline = time.monotonic() + timeout
        while not done():
            if self.reap():
                continue
            left = deadline - time.monotonic()
            if left <= 0:
                raise NvmeTimeout("queue %d: no completion within %.1f s" % (self.qid, timeout))
            if self.irq is not None:
                # An eventfd counts: an interrupt that came between the
                # reap above and this wait is not lost.  The GIL is released
                # while waiting.
                self.irq.wait(left)
            else:
                # The --poll fallback: until the phase tag of the head slot
                # flips (other threads run while it sleeps).
                try:
                    self.cq.poll32(self.cq_head * CQE_SIZE + 12, 1 << 16,
                                   self.phase << 16, left)
                except TimeoutError:
                    pass

    def wait_any(self, timeout):
        """Reap until at least one completion is waiting in ``done``."""
        self._wait_until(lambda: self.done, timeout)

    def take(self, cid):
        """Remove a reaped completion, raising NvmeError for a bad status."""
        c = self.done.pop(cid)
        name, opcode = self.inflight.pop(cid)
        self.free_cids.append(cid)
        if c.sc or c.sct:
            raise NvmeError(name, opcode, c.sct, c.sc, c.dnr)
        return c

    def wait(self, cid, timeout):
        """Wait for one command's completion and return it (NvmeError on failure)."""
        self._wait_until(lambda: cid in self.done, timeout)
        return self.take(cid)

    def execute(self, entry, name, timeout):
        return self.wait(self.submit(entry, name), timeout)


# --------------------------------------------------------------------------
# The controller
# --------------------------------------------------------------------------

class Controller:
    """One NVMe controller, opened through vfio.

    BAR0 registers used (offsets in bytes):

        0x00 CAP   capabilities (64 bit): MQES 15:0 (max queue entries - 1),
                   TO 31:24 (ready timeout, 500 ms units), DSTRD 35:32
                   (doorbell stride 4 << n), MPSMIN 51:48 (min page 4 KiB << n)
        0x08 VS    version: major 31:16, minor 15:8
        0x0c INTMS / 0x10 INTMC  interrupt mask set/clear (pin and MSI only)
        0x14 CC    configuration: EN 0, CSS 6:4, MPS 10:7 (page 4 KiB << n),
                   SHN 15:14 (shutdown notification), IOSQES 19:16 and
                   IOCQES 23:20 (entry sizes, log2: 6 = 64 B, 4 = 16 B)
        0x1c CSTS  status: RDY 0, CFS 1 (fatal), SHST 3:2 (2 = shutdown done)
        0x24 AQA   admin queue sizes - 1: SQ 11:0, CQ 27:16
        0x28 ASQ / 0x30 ACQ  admin queue addresses (64 bit)
        0x1000     doorbells
    """

    CAP, VS, INTMS, INTMC, CC, CSTS, AQA, ASQ, ACQ = (
        0x00, 0x08, 0x0C, 0x10, 0x14, 0x1C, 0x24, 0x28, 0x30)
    CC_EN, CC_SHN_NORMAL = 1 << 0, 1 << 14
    CC_IO_ENTRY_SIZES = (6 << 16) | (4 << 20)      # 64-byte SQEs, 16-byte CQEs
    CSTS_RDY, CSTS_CFS, CSTS_SHST_MASK, CSTS_SHST_DONE = 1 << 0, 1 << 1, 3 << 2, 2 << 2
    ADMIN_DEPTH = 32
    IO_DEPTH = 64                          # 64 * 64 B = one page of SQ
    ADMIN_TIMEOUT = 10.0
    IO_TIMEOUT = 10.0

    def __init__(self, dev, poll=False):
        self.dev = dev
        self.bar = dev.region(0)
        dev.set_bus_master(True)           # no DMA and no MSI-X without it
        # CAP is 64 bits; two 32-bit reads work on every kernel and QEMU.
        cap = self.bar.read32(self.CAP) | self.bar.read32(self.CAP + 4) << 32
        self.mqes = (cap & 0xFFFF) + 1
        self.timeout = max(((cap >> 24) & 0xFF) * 0.5, 0.5)
        self.dstrd = (cap >> 32) & 0xF
        self.mps_min = 4096 << ((cap >> 48) & 0xF)
        if self.mps_min > PAGE or PAGE > (4096 << ((cap >> 52) & 0xF)):
            raise RuntimeError("controller does not support %d-byte pages" % PAGE)
        vs = self.bar.read32(self.VS)
        self.version = (vs >> 16, (vs >> 8) & 0xFF)
        # Small DMA buffers come from pools instead of a mapping each:
        # rings and identify data take a page (rings must start on one),
        # PRP lists 1 KiB, four to a page.
        self.page_pool = dev.dma_pool(PAGE, PAGE)
        self.small_pool = dev.dma_pool(SMALL, SMALL)
        self.irqs = []                     # MSI-X vector n -> irqs[n]
        self.irq_error = None
        if not poll:
            try:
                # Vector 0 for the admin queue now; the I/O queue's vector
                # is added when that queue is created.
                self.irqs = [dev.irq_enable_vector("msix", 0)]
            except vfio.Error as e:
                self.irq_error = e
        self.admin = None
        self.io = None
        self.blocks = []                   # PRP-list pages
        self.mdts_bytes = None

    # --- reset and enable -------------------------------------------------

    def _wait_csts(self, mask, value, what):
        """Wait up to CAP.TO until CSTS & mask == value; returns CSTS."""
        try:
            return self.bar.poll32(self.CSTS, mask, value, self.timeout)
        except TimeoutError:
            csts = self.bar.read32(self.CSTS)
            if csts & self.CSTS_CFS:
                raise RuntimeError("controller fatal status (CSTS %#x) while waiting "
                                   "until %s" % (csts, what)) from None
            raise NvmeTimeout("CSTS %#x: not %s within CAP.TO = %.1f s"
                              % (csts, what, self.timeout)) from None

    def disable(self):
        """CC.EN = 0 resets the controller: queues gone, CSTS.RDY drops."""
        self.bar.write32(self.CC, 0)
        self._wait_csts(self.CSTS_RDY, 0, "disabled")

    def enable(self):
        """Reset, give the controller its admin queues, and enable it."""
        self.disable()
        irq = self.irqs[0] if self.irqs else None
        self.admin = QueuePair(self, 0, self.ADMIN_DEPTH, irq)
        if not self.irqs:
            # Polling: keep the pin interrupt masked (it would go nowhere).
            self.bar.write32(self.INTMS, 0xFFFFFFFF)
        depth = self.ADMIN_DEPTH - 1
        self.bar.write32(self.AQA, depth << 16 | depth)
        for reg, addr in ((self.ASQ, self.admin.sq_addr), (self.ACQ, self.admin.cq_addr)):
            self.bar.write32(reg, addr & 0xFFFFFFFF)
            self.bar.write32(reg + 4, addr >> 32)
        # MPS = 0: 4 KiB pages; CSS = 0: the NVM command set.
        self.bar.write32(self.CC, self.CC_IO_ENTRY_SIZES | self.CC_EN)
        self._wait_csts(self.CSTS_RDY, self.CSTS_RDY, "ready")

    def admin_command(self, entry, what=None):
        name = what or ADMIN_NAMES.get(entry[0], "admin command %#04x" % entry[0])
        return self.admin.execute(entry, name, self.ADMIN_TIMEOUT)

    # --- identify ---------------------------------------------------------

    def _identify(self, cns, nsid, what):
        buf = self.page_pool.alloc()
        try:
            self.admin_command(command(ADMIN_IDENTIFY, nsid=nsid, prp1=buf.device_address(),
                                       cdw10=cns), what)
            return buf.read(0, PAGE)
        finally:
            buf.free()

    def identify_controller(self):
        """Identify (CNS 1): 4 KiB of controller data."""
        data = self._identify(0x01, 0, "Identify Controller")
        text = lambda a, b: data[a:b].decode("ascii", "replace").strip()
        mdts = data[77]                    # max transfer: 2^MDTS min pages, 0 = no limit
        self.mdts_bytes = self.mps_min << mdts if mdts else None
        return {
            "vid": struct.unpack_from("<H", data, 0)[0],
            "serial": text(4, 24), "model": text(24, 64), "firmware": text(64, 72),
            "mdts_bytes": self.mdts_bytes,
            "namespaces": struct.unpack_from("<I", data, 516)[0],
        }

    def identify_namespace(self, nsid):
        """Identify (CNS 0): size, capacity and LBA format of a namespace."""
        data = self._identify(0x00, nsid, "Identify Namespace %d" % nsid)
        nsze, ncap, nuse = struct.unpack_from("<QQQ", data, 0)
        nlbaf, flbas = data[25], data[26]
        fmt = struct.unpack_from("<I", data, 128 + 4 * (flbas & 0xF))[0]
        return {"nsid": nsid, "blocks": nsze, "capacity": ncap, "used": nuse,
                "formats": nlbaf + 1, "format": flbas & 0xF,
                "block_size": 1 << ((fmt >> 16) & 0xFF), "metadata": fmt & 0xFFFF}

    # --- I/O queues -------------------------------------------------------

    def create_io_queues(self):
        """Create I/O completion queue 1 (on MSI-X vector 1) and submission
        queue 1 feeding it."""
        # Set Features, Number of Queues (FID 7): one SQ and one CQ (0-based).
        self.admin_command(command(ADMIN_SET_FEATURES, cdw10=0x07, cdw11=0))
        irq = None
        if self.irqs:
            # Its vector exists before the queue can signal it.
            irq = self.dev.irq_enable_vector("msix", 1)
            self.irqs.append(irq)
        depth = min(self.IO_DEPTH, self.mqes)
        self.io = QueuePair(self, 1, depth, irq)
        # CDW10: queue size - 1 (31:16), queue id (15:0).  CQ CDW11: vector
        # (31:16), interrupts enabled (bit 1), physically contiguous (bit 0).
        # Without MSI-X only vector 0 exists, and polling needs none.
        vector_ien = 1 << 16 | 2 if irq is not None else 0
        self.admin_command(command(ADMIN_CREATE_CQ, prp1=self.io.cq_addr,
                                   cdw10=(depth - 1) << 16 | 1, cdw11=vector_ien | 1))
        self.io.created.append("cq")
        # SQ CDW11: its CQ id (31:16), priority (2:1), physically contiguous.
        self.admin_command(command(ADMIN_CREATE_SQ, prp1=self.io.sq_addr,
                                   cdw10=(depth - 1) << 16 | 1, cdw11=1 << 16 | 1))
        self.io.created.append("sq")

    def delete_io_queues(self):
        if self.io is None:
            return
        # The SQ goes first: a CQ cannot be deleted while an SQ feeds it.
        if "sq" in self.io.created:
            self.admin_command(command(ADMIN_DELETE_SQ, cdw10=1))
        if "cq" in self.io.created:
            self.admin_command(command(ADMIN_DELETE_CQ, cdw10=1))
        self.io.free()
        self.io = None

    # --- data transfers ---------------------------------------------------

    def prp_lists(self, count):
        """*count* PRP lists of 128 entries, kept for the controller's lifetime."""
        lists = [self.small_pool.alloc() for _ in range(count)]
        self.blocks += lists
        return lists

    def prps(self, buf, offset, length, list_page):
        """PRP entry 1 and 2 for [offset, offset + length) of *buf*.

        PRP1 points at the first byte.  If the transfer ends within the next
        page, PRP2 is that page; if it needs more, PRP2 points at a PRP
        *list*: one 8-byte page address per further page.  (A list reaching
        the end of a memory page would chain to the next through its last
        entry; our 1 KiB lists never reach it: 128 entries, 512 KiB or more
        per command.)
        """
        if offset % 4 or length <= 0 or offset + length > buf.size:
            raise ValueError("bad transfer: offset %#x length %#x" % (offset, length))
        first = buf.device_address(offset)
        first_len = PAGE - (offset % PAGE)
        if length <= first_len:
            return first, 0
        rest = range(offset - offset % PAGE + PAGE, offset + length, PAGE)
        if len(rest) == 1:
            return first, buf.device_address(rest[0])
        if len(rest) > SMALL // 8:
            raise ValueError("transfer of %d bytes needs more than %d PRP list entries"
                             % (length, SMALL // 8))
        list_page.write(0, struct.pack("<%dQ" % len(rest),
                                       *(buf.device_address(o) for o in rest)))
        return first, list_page.device_address()


class Namespace:
    """Block I/O on one namespace through the controller's I/O queue pair."""

    def __init__(self, ctrl, info):
        self.ctrl, self.nsid = ctrl, info["nsid"]
        self.block_size, self.blocks = info["block_size"], info["blocks"]
        # Bytes per command: MDTS, and what one PRP list describes even when
        # the buffer starts inside a page (1 + 128 pages, minus that page).
        self.max_transfer = min(ctrl.mdts_bytes or 1 << 30, (SMALL // 8) * PAGE)
        self.prp_lists = ctrl.prp_lists(ctrl.io.depth - 1)  # one per command id

    def submit(self, opcode, lba, buf, offset, length, ring=True):
        """Queue one Read or Write of buf[offset:offset + length] at *lba*;
        returns its command id (see QueuePair.wait)."""
        if length % self.block_size or not length:
            raise ValueError("length %d is not a multiple of %d" % (length, self.block_size))
        if length > self.max_transfer:
            raise ValueError("%d bytes exceed the %d-byte transfer limit"
                             % (length, self.max_transfer))
        io = self.ctrl.io
        cid = io.reserve()
        try:
            prp1, prp2 = self.ctrl.prps(buf, offset, length, self.prp_lists[cid])
        except ValueError:
            io.free_cids.append(cid)
            raise
        # CDW10-11: starting LBA; CDW12 bits 15:0: number of blocks - 1.
        entry = command(opcode, nsid=self.nsid, prp1=prp1, prp2=prp2,
                        cdw10=lba & 0xFFFFFFFF, cdw11=lba >> 32,
                        cdw12=length // self.block_size - 1)
        name = "%s of %d block(s) at LBA %d" % (NVM_NAMES[opcode], length // self.block_size, lba)
        return io.submit(entry, name, ring, cid)

    def _transfer(self, opcode, lba, buf, offset, length):
        """Split into commands of at most max_transfer bytes, one at a time."""
        done = 0
        while done < length:
            n = min(self.max_transfer, length - done)
            cid = self.submit(opcode, lba + done // self.block_size, buf, offset + done, n)
            self.ctrl.io.wait(cid, self.ctrl.IO_TIMEOUT)
            done += n

    def read(self, lba, buf, offset=0, length=None):
        """Read blocks starting at *lba* into buf[offset:offset + length] by DMA."""
        self._transfer(NVM_READ, lba, buf, offset, buf.size - offset if length is None else length)

    def write(self, lba, buf, offset=0, length=None):
        """Write buf[offset:offset + length] to the blocks starting at *lba*."""
        self._transfer(NVM_WRITE, lba, buf, offset, buf.size - offset if length is None else length)

    def flush(self):
        self.ctrl.io.execute(command(NVM_FLUSH, nsid=self.nsid), "Flush", self.ctrl.IO_TIMEOUT)

    def read_many(self, lbas, buf, length, depth):
        """Read *length* bytes at each LBA of *lbas* into consecutive pieces
        of *buf*, keeping up to *depth* commands in flight (queue depth)."""
        io = self.ctrl.io
        depth = min(depth, io.depth - 1)
        todo = list(enumerate(lbas))
        inflight = 0
        failed = None
        while todo or inflight:
            batch = 0
            while todo and inflight < depth:
                i, lba = todo.pop(0)
                self.submit(NVM_READ, lba, buf, (i * length) % buf.size, length, ring=False)
                inflight += 1
                batch += 1
            if batch:
                io.ring()
            io.wait_any(self.ctrl.IO_TIMEOUT)
            for cid in list(io.done):
                inflight -= 1
                try:
                    io.take(cid)
                except NvmeError as e:
                    # Submit no more, let the rest finish, then report.
                    todo.clear()
                    failed = failed or e
        if failed:
            raise failed


def shutdown(ctrl):
    """Delete the I/O queues, tell the controller we are going away (CC.SHN =
    normal) and wait until it says it has finished (CSTS.SHST = complete),
    then disable it.  Frees every DMA buffer the driver allocated.  Returns
    CSTS as it was when the shutdown completed (None if never enabled)."""
    csts = None
    try:
        if ctrl.admin is not None and ctrl.bar.read32(ctrl.CSTS) & ctrl.CSTS_RDY:
            ctrl.delete_io_queues()
            cc = ctrl.bar.read32(ctrl.CC)
            ctrl.bar.write32(ctrl.CC, cc | ctrl.CC_SHN_NORMAL)
            csts = ctrl._wait_csts(ctrl.CSTS_SHST_MASK, ctrl.CSTS_SHST_DONE, "shut down")
            ctrl.disable()
    finally:
        for q in (ctrl.io, ctrl.admin):
            if q is not None:
                q.free()
        ctrl.io = ctrl.admin = None
        for b in ctrl.blocks:
            b.free()
        ctrl.blocks = []
        ctrl.page_pool.close()
        ctrl.small_pool.close()
        if ctrl.irqs:
            ctrl.dev.irq_disable("msix")
            ctrl.irqs = []
        ctrl.dev.set_bus_master(False)
    return csts


# --------------------------------------------------------------------------
# The demonstration
# --------------------------------------------------------------------------

def find_nvme():
    for d in vfio.devices():
        if d.class_code == NVME_CLASS:
            return d
    raise SystemExit("nvme.py: no NVMe controller (class %06x) found" % NVME_CLASS)


def pattern(seed, length):
    """Test data for the write/read-back check: every 512 bytes start with
    their offset and the seed, the rest is a ramp, so misplaced blocks show."""
    out = bytearray()
    for off in range(0, length, 512):
        head = b"seed %d offset %d\n" % (seed, off)
        start = (seed + off // 512) & 0xFF
        out += (head + _BYTE_RAMP[start:start + 512 - len(head)])[:length - off]
    return bytes(out)


def run(dev, args, step):
    """The driver's steps on an open device; *step(what, result, good)* prints."""
    ctrl = Controller(dev, poll=args.poll)
    try:
        if ctrl.irqs:
            step("enable MSI-X vector 0", "admin queue -> eventfd %d" % ctrl.irqs[0].fileno())
        elif args.poll:
            step("interrupts", "polling (--poll)")
        else:
            step("enable MSI-X", "%s; polling instead" % ctrl.irq_error, False)
        step("CAP", "max queue entries %d, timeout %.1f s, doorbell stride %d, NVMe %d.%d"
             % (ctrl.mqes, ctrl.timeout, 4 << ctrl.dstrd, *ctrl.version))
        ctrl.enable()
        step("controller enabled", "admin queues at %#x / %#x, CSTS %#x"
             % (ctrl.admin.sq_addr, ctrl.admin.cq_addr, ctrl.bar.read32(ctrl.CSTS)))
        ident = ctrl.identify_controller()
        step("identify controller", "model %r, serial %r, firmware %r"
             % (ident["model"], ident["serial"], ident["firmware"]))
        step("transfer limit (MDTS)", "%s, %d namespace(s)" % (
            "%d KiB" % (ident["mdts_bytes"] >> 10) if ident["mdts_bytes"] else "none",
            ident["namespaces"]))
        info = ctrl.identify_namespace(1)
        step("identify namespace 1", "%d blocks of %d bytes (%.1f MiB), LBA format %d of %d"
             % (info["blocks"], info["block_size"], info["blocks"] * info["block_size"] / 2**20,
                info["format"], info["formats"]))
        ctrl.create_io_queues()
        how = "MSI-X" if ctrl.io.irq is not None else "polled"
        step("I/O queue pair 1", "depth %d, completions %s%s" % (
            ctrl.io.depth, how, " (vector 1 -> eventfd %d)" % ctrl.io.irq.fileno()
            if ctrl.io.irq is not None else ""))
        ns = Namespace(ctrl, info)
        bs = ns.block_size

        with dev.dma_alloc(64 << 10) as buf:
            if args.expect_host_pattern:
                # Blocks the host put into the image before we started.
                ns.read(0, buf, 0, 8 * bs)
                same = buf.read(0, 8 * bs) == image_pattern(0, 8 * bs)
                step("host-written blocks 0-7 (%s)" % how, "%r... %s" % (
                    buf.read(0, 40).decode("ascii", "replace").rstrip(),
                    "match the image" if same else "DIFFER from the image"), same)
                ns.read(0, buf)
                same = bytes(buf) == image_pattern(0, buf.size)
                step("host-written 64 KiB, one command", "PRP list, %s"
                     % ("matches" if same else "DIFFERS"), same)

            lba = args.lba
            data = pattern(1, 8 * bs)
            buf.write(0, data)
            ns.write(lba, buf, 0, len(data))
            buf.write(0, bytes(len(data)))
            ns.read(lba, buf, 0, len(data))
            same = buf.read(0, len(data)) == data
            step("write + read back 8 blocks at LBA %d" % lba,
                 "matches" if same else "DIFFERS", same)

            data = pattern(2, buf.size)
            buf.write(0, data)
            ns.write(lba + 8, buf)
            buf.write(0, bytes(buf.size))
            ns.read(lba + 8, buf)
            same = bytes(buf) == data
            step("64 KiB write + read, PRP list", "segments %d, %s" % (
                len(buf.segments), "matches" if same else "DIFFERS"), same)
            ns.flush()
            step("flush", "ok")

            try:
                ns.read(ns.blocks, buf, 0, bs)
                step("read past the end", "no error", False)
            except NvmeError as e:
                step("read past the end", "NvmeError: %s" % e, (e.sct, e.sc) == (0, 0x80))
    finally:
        csts = shutdown(ctrl)
    step("shutdown (CC.SHN)", "CSTS %#x (shutdown complete), disabled, buffers freed" % csts,
         csts is not None and csts & ctrl.CSTS_SHST_MASK == ctrl.CSTS_SHST_DONE)


def main():
    ap = argparse.ArgumentParser(description="Drive an NVMe controller through vfio.")
    ap.add_argument("--address", help="PCI address (default: the first NVMe controller)")
    ap.add_argument("--backend", default="auto", choices=vfio.BACKENDS)
    ap.add_argument("--bind", action="store_true",
                    help="bind the device to the backend's driver first, restore after (root)")
    ap.add_argument("--poll", action="store_true", help="poll for completions, no MSI-X")
    ap.add_argument("--expect-host-pattern", action="store_true",
                    help="check that the image starts with image_pattern() (written by the host)")
    ap.add_argument("--lba", type=int, default=16384,
                    help="where the write test writes (default 16384: 8 MiB in, past the pattern)")
    ap.add_argument("--make-image", metavar="FILE",
                    help="only create a 64 MiB test image with 4 MiB of pattern and exit")
    args = ap.parse_args()

    if args.make_image:
        write_image(args.make_image, 64 << 20, 4 << 20)
        return 0

    failures = 0

    def step(what, result, good=True):
        nonlocal failures
        failures += not good
        print("%-40s %s%s" % (what, result, "" if good else "   <-- FAILED"), flush=True)

    pci = vfio.pci_device(args.address) if args.address else find_nvme()
    step("NVMe controller", "%s (%04x:%04x), driver %s, IOMMU group %s" % (
        pci.address, pci.vendor, pci.device, pci.driver, pci.iommu_group))
    previous = None
    if args.bind:
        driver = "vfio-pci" if args.backend == "vfio" else "vfio-dkms-pci"
        previous = vfio.bind(pci.address, driver)
        step("bind to %s" % driver, "ok (was %s)" % previous)
    try:
        with vfio.open(pci.address, backend=args.backend) as dev:
            step("open", "backend %s, %d regions, %d irq indexes, BAR0 %d KiB, %s"
                 % (dev.backend, dev.regions, dev.irqs, dev.region(0).size >> 10, dev.flags))
            try:
                run(dev, args, step)
            except (NvmeError, NvmeTimeout, vfio.Error) as e:
                step("driver stopped", "%s: %s" % (type(e).__name__, e), False)
    finally:
        if args.bind and previous:
            vfio.bind(pci.address, previous)
            step("rebind to %s" % previous, "ok")
    step("closed", "%d failure(s)" % failures, failures == 0)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
