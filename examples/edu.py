#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A user-space driver for QEMU's "edu" teaching device, in Python.

    sudo python3 examples/edu.py [--address ADDR] [--backend auto|vfio|vfio-dkms] [--bind]

Every step prints what it did and what came back; the exit status is 0 when
all checks passed.  The register map (hw/misc/edu.c):

    0x00 id (0x010000ed = version 1.0)   0x04 liveness: reads back ~value
    0x08 factorial: write n, read n!     0x20 status: 0x01 computing,
    0x24 interrupt status                     0x80 interrupt when done
    0x60 raise interrupt (value -> 0x24) 0x64 acknowledge interrupt
    0x80 DMA source  0x88 DMA destination  0x90 DMA count
    0x98 DMA command: 0x1 start, 0x2 device->RAM, 0x4 interrupt (0x100) when done
    0x40000..0x40fff the device's own 4 KiB buffer

Facts worth knowing before you copy this: the device drives only 28 address
bits (IOVAs below 256 MiB: set_dma_mask(28)), it can only DMA and signal
MSIs with bus mastering on, and QEMU 7.2 aborts on a 4096-byte DMA (an
off-by-one), so transfers stay at 4095 bytes or less.
"""

import argparse
import sys
import time

import vfio

EDU_VENDOR, EDU_DEVICE = 0x1234, 0x11E8


class Edu:
    """Driver for one edu device, opened through vfio."""

    ID, LIVENESS, FACTORIAL, STATUS = 0x00, 0x04, 0x08, 0x20
    IRQ_STATUS, IRQ_RAISE, IRQ_ACK = 0x24, 0x60, 0x64
    DMA_SRC, DMA_DST, DMA_COUNT, DMA_CMD = 0x80, 0x88, 0x90, 0x98
    STATUS_COMPUTING, STATUS_IRQ_ENABLE = 0x01, 0x80
    DMA_START, DMA_TO_RAM, DMA_IRQ = 0x1, 0x2, 0x4
    IRQ_FACTORIAL, IRQ_DMA = 0x001, 0x100
    DEVICE_BUFFER, DMA_MAX = 0x40000, 4095

    def __init__(self, dev: vfio.Device):
        self.dev = dev
        self.bar = dev.region(0)               # BAR0: 1 MiB of registers
        dev.set_bus_master(True)               # no DMA and no MSI without it
        dev.set_dma_mask(28)                   # IOVAs below 256 MiB
        self.irq = None
        self.irq_error = None
        try:
            self.irq = dev.irq_enable("msi")[0]    # one MSI vector -> an eventfd
        except vfio.Error as e:
            # A backend without interrupt support: poll the device instead.
            self.irq_error = e

    def version(self):
        """(major, minor) from the id register (0x010000ed is 1.0)."""
        ident = self.bar.read32(self.ID)
        if ident & 0xFF != 0xED:
            raise RuntimeError("not an edu device: id %#010x" % ident)
        return ident >> 24, (ident >> 16) & 0xFF

    def alive(self, value=0x12345678):
        """The liveness register returns the bitwise inverse of what was written."""
        self.bar.write32(self.LIVENESS, value)
        return self.bar.read32(self.LIVENESS) == (~value & 0xFFFFFFFF)

    def _wait_irq(self, expect, timeout=5.0):
        """Wait for the MSI (without one: poll the interrupt status register),
        then check and acknowledge the interrupt status."""
        if self.irq is not None:
            if self.irq.wait(timeout) == 0:
                raise TimeoutError("no interrupt within %.1f s" % timeout)
        else:
            deadline = time.monotonic() + timeout
            while not self.bar.read32(self.IRQ_STATUS) & expect:
                if time.monotonic() > deadline:
                    raise TimeoutError("device not done within %.1f s" % timeout)
                time.sleep(0.001)
        status = self.bar.read32(self.IRQ_STATUS)
        self.bar.write32(self.IRQ_ACK, status)
        if not status & expect:
            raise RuntimeError("interrupt status %#x, expected %#x" % (status, expect))
        return status

    def factorial(self, n):
        """n! computed by the device; completion is signalled by an interrupt."""
        self.bar.write32(self.STATUS, self.STATUS_IRQ_ENABLE)
        self.bar.write32(self.FACTORIAL, n)
        self._wait_irq(self.IRQ_FACTORIAL)
        assert not self.bar.read32(self.STATUS) & self.STATUS_COMPUTING
        return self.bar.read32(self.FACTORIAL)

    def raise_irq(self, value=0x5A):
        """Ask the device to interrupt with *value*; return the status the handler saw."""
        self.bar.write32(self.IRQ_RAISE, value)
        return self._wait_irq(value)

    def _dma(self, src, dst, count, to_ram):
        if max(src, dst) + count > 1 << 28:
            raise ValueError("edu only reaches 28-bit addresses")
        if not 0 < count <= self.DMA_MAX:
            raise ValueError("edu DMA is 1..%d bytes" % self.DMA_MAX)
        # The registers are 64-bit, but addresses fit in 28 bits: 32-bit
        # accesses work with every kernel (6.1's vfio-pci splits 8-byte ones).
        self.bar.write32(self.DMA_SRC, src)
        self.bar.write32(self.DMA_DST, dst)
        self.bar.write32(self.DMA_COUNT, count)
        self.bar.write32(self.DMA_CMD, self.DMA_START | self.DMA_IRQ |
                         (self.DMA_TO_RAM if to_ram else 0))
        self._wait_irq(self.IRQ_DMA)
        assert not self.bar.read32(self.DMA_CMD) & self.DMA_START

    def dma_to_device(self, buf: vfio.DmaBuffer, count):
        """Copy the first *count* bytes of *buf* into the device's buffer."""
        self._dma(buf.iova, self.DEVICE_BUFFER, count, to_ram=False)

    def dma_from_device(self, buf: vfio.DmaBuffer, count):
        """Copy *count* bytes of the device's buffer into *buf*."""
        self._dma(self.DEVICE_BUFFER, buf.iova, count, to_ram=True)


def find_edu():
    for d in vfio.devices():
        if (d.vendor, d.device) == (EDU_VENDOR, EDU_DEVICE):
            return d
    raise SystemExit("edu.py: no edu device (%04x:%04x) found" % (EDU_VENDOR, EDU_DEVICE))


def main():
    ap = argparse.ArgumentParser(description="Drive QEMU's edu device through vfio.")
    ap.add_argument("--address", help="PCI address (default: the first edu device)")
    ap.add_argument("--backend", default="auto", choices=vfio.BACKENDS)
    ap.add_argument("--bind", action="store_true",
                    help="bind the device to the backend's driver first (root)")
    args = ap.parse_args()

    failures = 0

    def step(what, result, good=True):
        nonlocal failures
        failures += not good
        print("%-44s %s%s" % (what, result, "" if good else "   <-- FAILED"), flush=True)

    pci = vfio.pci_device(args.address) if args.address else find_edu()
    step("edu device", "%s (%04x:%04x), driver %s, IOMMU group %s" % (
        pci.address, pci.vendor, pci.device, pci.driver, pci.iommu_group))
    if args.bind:
        driver = "vfio-pci" if args.backend == "vfio" else "vfio-dkms-pci"
        previous = vfio.bind(pci.address, driver)
        step("bind to %s" % driver, "ok (was %s)" % previous)

    with vfio.open(pci.address, backend=args.backend) as dev:
        step("open", "backend %s, %d regions, %d irq indexes"
             % (dev.backend, dev.regions, dev.irqs))
        edu = Edu(dev)
        if edu.irq is not None:
            step("enable MSI", "vector %d -> eventfd %d" % (edu.irq.vector, edu.irq.fileno()))
        else:
            step("enable MSI", "%s; polling instead" % edu.irq_error, False)
        how = "MSI" if edu.irq is not None else "polled"
        step("bus mastering (config 0x04, bit 2)",
             "command register %#06x" % dev.config.read16(0x4),
             bool(dev.config.read16(0x4) & 0x4))
        major, minor = edu.version()
        step("id register", "%#010x: edu version %d.%d" % (edu.bar.read32(0), major, minor))
        step("liveness check (write x, read ~x)", "alive" if edu.alive() else "dead",
             edu.alive())
        t0 = time.monotonic()
        fact = edu.factorial(10)
        step("factorial 10!, completion %s" % how, "%d (%.1f ms)"
             % (fact, (time.monotonic() - t0) * 1e3), fact == 3628800)
        status = edu.raise_irq(0x5A)
        step("raise interrupt 0x5a (%s)" % how, "status %#x, acknowledged" % status,
             status == 0x5A)

        n = Edu.DMA_MAX
        with dev.dma_alloc(4096) as out, dev.dma_alloc(4096) as back:
            step("DMA buffers", "iova %#x and %#x (below 2^28: %s)" % (
                out.iova, back.iova, max(out.iova, back.iova) + 4096 <= 1 << 28))
            pattern = bytes((i * 7 + 3) & 0xFF for i in range(n))
            memoryview(out)[:n] = pattern
            t0 = time.monotonic()
            edu.dma_to_device(out, n)
            step("DMA %d bytes RAM -> device (%s)" % (n, how), "done (%.0f ms)"
                 % ((time.monotonic() - t0) * 1e3))
            edu.dma_from_device(back, n)
            same = bytes(memoryview(back)[:n]) == pattern
            step("DMA %d bytes device -> RAM" % n, "round trip %s" %
                 ("matches" if same else "DIFFERS"), same)

        m = edu.bar.map()
        step("mmap BAR0, id through the mapping", "%#010x" % m.read32(0),
             m.read32(0) == edu.bar.read32(0))
        m.unmap()

    step("closed", "%d failure(s)" % failures, failures == 0)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
