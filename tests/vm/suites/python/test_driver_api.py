# SPDX-License-Identifier: GPL-2.0
"""What a driver writer needs beyond the basics, on real devices: polling a
register with a timeout, DMA pools, the device address of any byte, named
flags, barriers, and MSI-X vectors added one at a time, with interrupts the
nvme device itself sends."""

import time

import pytest

import vfio

EDU_ID, EDU_FACT, EDU_STATUS = 0x00, 0x08, 0x20
EDU_DMA_SRC, EDU_DMA_DST, EDU_DMA_CNT, EDU_DMA_CMD, EDU_BUF = 0x80, 0x88, 0x90, 0x98, 0x40000


def edu_dma(bar, src, dst, n, to_ram):
    bar.write64(EDU_DMA_SRC, src)
    bar.write64(EDU_DMA_DST, dst)
    bar.write64(EDU_DMA_CNT, n)
    bar.write32(EDU_DMA_CMD, 1 | (2 if to_ram else 0))
    bar.poll32(EDU_DMA_CMD, 1, 0, 5.0)          # bit 0 clears when the copy is done


@pytest.fixture
def edu_dev(dev):
    dev.set_bus_master()
    dev.set_dma_mask(28)
    return dev


def test_region_poll(edu_dev):
    bar = edu_dev.region(0)
    bar.write32(EDU_FACT, 5)
    assert bar.poll32(EDU_STATUS, 1, 0, 2.0) & 1 == 0 and bar.read32(EDU_FACT) == 120
    t0 = time.monotonic()
    with pytest.raises(TimeoutError) as e:
        bar.poll32(EDU_ID, 1, 0, 0.1)           # bit 0 of the id is always 1
    took = time.monotonic() - t0
    assert isinstance(e.value, vfio.Error) and 0.1 <= took < 2.0
    assert "0x10000ed" in str(e.value)
    bar.write64(EDU_DMA_SRC, 0x0123456789ABC000)
    assert bar.poll64(EDU_DMA_SRC, (1 << 64) - 1, 0x0123456789ABC000, 0) == 0x0123456789ABC000
    with pytest.raises(ValueError):
        bar.poll32(1 << 20, 1, 1, 0)            # outside the region


def test_pool_blocks_are_dma_targets(edu_dev):
    bar = edu_dev.region(0)
    pattern = bytes((i * 13 + 5) & 0xFF for i in range(1000))
    with edu_dev.dma_pool(1000, align=64) as pool:
        src, dst = pool.alloc(), pool.alloc()
        assert pool.chunks == 1 and src.iova % 64 == 0 and dst.iova + 1000 <= 1 << 28
        src.write(0, pattern)
        vfio.dma_wmb()
        edu_dma(bar, src.iova, EDU_BUF, 1000, False)
        edu_dma(bar, EDU_BUF, dst.device_address(), 1000, True)
        vfio.dma_rmb()
        assert bytes(dst) == pattern
        mv = memoryview(src)
        with pytest.raises(BufferError):
            pool.close()
        mv.release()
    assert src.closed and dst.closed


def test_device_address_of_byte_n(edu_dev):
    bar = edu_dev.region(0)
    with edu_dev.dma_alloc(3 * 4096) as buf:
        assert buf.device_span(5000) == (buf.iova + 5000, 3 * 4096 - 5000)
        buf.write(8192, b"third page")
        edu_dma(bar, buf.device_address(8192), EDU_BUF, 10, False)
        edu_dma(bar, EDU_BUF, buf.device_address(100), 10, True)
        assert buf.read(100, 10) == b"third page"


def test_flags_are_named(edu_dev):
    assert isinstance(edu_dev.flags, vfio.DeviceFlags)
    assert vfio.DeviceFlags.PCI in edu_dev.flags
    bar = edu_dev.region(0)
    assert vfio.RegionFlags.MMAP in bar.flags and vfio.RegionFlags.READ in bar.flags
    assert vfio.RegionFlags.MMAP not in edu_dev.config.flags


# ---- nvme: just enough of the controller to make it interrupt --------------

CAP, CC, CSTS, AQA, ASQ, ACQ = 0x00, 0x14, 0x1C, 0x24, 0x28, 0x30
QDEPTH = 16


class Queues:
    """Admin queue pair plus I/O queue pair 1, entries in DMA pool blocks."""

    def __init__(self, dev):
        self.bar = dev.region(0)
        cap = self.bar.read64(CAP)
        self.timeout = max(((cap >> 24) & 0xFF) * 0.5, 0.5)
        self.stride = 4 << ((cap >> 32) & 0xF)
        self.pool = dev.dma_pool(4096, align=4096)
        self.sq = {0: self.pool.alloc(), 1: self.pool.alloc()}
        self.cq = {0: self.pool.alloc(), 1: self.pool.alloc()}
        self.tail = {0: 0, 1: 0}
        self.head = {0: 0, 1: 0}
        self.phase = {0: 1, 1: 1}
        self.cid = 0

    def enable(self):
        self.bar.write32(CC, 0)
        self.bar.poll32(CSTS, 1, 0, self.timeout)
        self.bar.write32(AQA, ((QDEPTH - 1) << 16) | (QDEPTH - 1))
        self.bar.write64(ASQ, self.sq[0].iova)
        self.bar.write64(ACQ, self.cq[0].iova)
        self.bar.write32(CC, 1 | (6 << 16) | (4 << 20))        # EN, 64-byte SQE, 16-byte CQE
        self.bar.poll32(CSTS, 1, 1, self.timeout)

    def disable(self):
        self.bar.write32(CC, 0)
        self.bar.poll32(CSTS, 1, 0, self.timeout)
        self.pool.close()

    def submit(self, q, opcode, nsid=0, prp1=0, cdw10=0, cdw11=0, cdw12=0):
        self.cid += 1
        e = self.tail[q] * 64
        sq = self.sq[q]
        sq.write(e, bytes(64))
        sq.write32(e, opcode | (self.cid << 16))
        sq.write32(e + 4, nsid)
        sq.write64(e + 24, prp1)
        sq.write32(e + 40, cdw10)
        sq.write32(e + 44, cdw11)
        sq.write32(e + 48, cdw12)
        self.tail[q] = (self.tail[q] + 1) % QDEPTH
        vfio.dma_wmb()                                 # the entry before the doorbell
        self.bar.write32(0x1000 + 2 * q * self.stride, self.tail[q])
        return self.cid

    def complete(self, q, cid):
        e = self.head[q] * 16
        dw3 = self.cq[q].poll32(e + 12, 1 << 16, self.phase[q] << 16, 5.0)
        assert dw3 & 0xFFFF == cid and dw3 >> 17 == 0, "status %#x" % (dw3 >> 17)
        self.head[q] = (self.head[q] + 1) % QDEPTH
        if self.head[q] == 0:
            self.phase[q] ^= 1
        self.bar.write32(0x1000 + (2 * q + 1) * self.stride, self.head[q])


def test_nvme_msix_vectors_one_at_a_time(nvme):
    n = nvme.irq_count("msix")
    far = min(n - 1, 5)
    nvme.set_bus_master()
    q = Queues(nvme)
    try:
        v0 = nvme.irq_enable_vector("msix", 0)          # the admin queue's vector only
        q.enable()
        with nvme.dma_pool(4096, align=4096) as data:
            ident = data.alloc()
            cid = q.submit(0, 0x06, prp1=ident.iova, cdw10=1)   # Identify Controller
            assert v0.wait(5.0) >= 1, "no MSI-X interrupt for the admin completion"
            q.complete(0, cid)
            assert ident.read16(0) == 0x1B36               # PCI vendor id in the data

            # A vector beyond those allocated, as a driver adds one per queue.
            vf = nvme.irq_enable_vector("msix", far)
            assert not v0.closed and nvme.irq_enable_vector("msix", 0) is v0
            cid = q.submit(0, 0x05, prp1=q.cq[1].iova, cdw10=((QDEPTH - 1) << 16) | 1,
                           cdw11=(far << 16) | 3)           # Create I/O CQ 1 on vector far
            assert v0.wait(5.0) >= 1, "vector 0 stopped firing after vector %d was added" % far
            q.complete(0, cid)
            cid = q.submit(0, 0x01, prp1=q.sq[1].iova, cdw10=((QDEPTH - 1) << 16) | 1,
                           cdw11=(1 << 16) | 1)             # Create I/O SQ 1 -> CQ 1
            assert v0.wait(5.0) >= 1
            q.complete(0, cid)
            block = data.alloc()
            cid = q.submit(1, 0x02, nsid=1, prp1=block.iova)   # Read LBA 0
            assert vf.wait(5.0) >= 1, "no interrupt on the added vector %d" % far
            assert v0.wait(0) == 0
            q.complete(1, cid)

            nvme.irq_disable_vector("msix", far)
            assert vf.closed and not v0.closed
            with pytest.raises(ValueError):
                vf.wait(0)
    finally:
        q.disable()
        nvme.irq_disable("msix")
