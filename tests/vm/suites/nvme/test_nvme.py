# SPDX-License-Identifier: GPL-2.0
"""The NVMe example driver's steps as tests, on each backend of the boot.

Data read by DMA is checked against the disk image file as the host sees
it; data written by DMA is checked in that file too, so both directions of
the data path are proven end to end, not only as a round trip.
"""

import os
import subprocess

import pytest

from vfio_binding_fixtures import IOMMU, NVME, PATTERN_BYTES, TOP, read_image

PAGE = 4096
WRITE_LBA = 16384                  # 8 MiB in (512-byte blocks): past the pattern
SAME_BOOT = {}                     # what the first backend saw, for the second


def test_cap_and_enable(ctrl):
    assert ctrl.mqes >= 64 and ctrl.timeout > 0
    assert ctrl.version >= (1, 0)
    csts = ctrl.bar.read32(ctrl.CSTS)
    assert csts & ctrl.CSTS_RDY and not csts & ctrl.CSTS_CFS
    # The admin queue addresses read back as programmed.
    asq = ctrl.bar.read32(ctrl.ASQ) | ctrl.bar.read32(ctrl.ASQ + 4) << 32
    assert asq == ctrl.admin.sq_addr


def test_identify(backend, ctrl, image):
    ident, ns = ctrl.ident, ctrl.ns_info
    assert ident["model"] == "QEMU NVMe Ctrl"
    assert ident["serial"] == "vfiotest"
    assert ident["firmware"]
    assert ident["mdts_bytes"] and ident["mdts_bytes"] >= 64 << 10
    assert ns["block_size"] in (512, 4096)
    assert ns["blocks"] * ns["block_size"] == os.path.getsize(image)
    seen = (ident, ns)
    if backend == "vfio":
        SAME_BOOT["identify"] = seen
    elif "identify" in SAME_BOOT:
        assert seen == SAME_BOOT["identify"]          # in-tree saw the same


def test_io_completion_signals_msix(ctrl):
    io = ctrl.io
    assert io.irq is not None and io.irq.kind == "msix" and io.irq.vector == 1
    io.irq.wait(0)                                     # drop earlier counts
    with ctrl.dev.dma_alloc(PAGE) as buf:
        cid = ctrl.ns.submit(NVME.NVM_READ, 0, buf, 0, PAGE)
        assert io.irq.wait(5.0) >= 1                   # the interrupt, before any reap
        io.wait(cid, 5.0)
        assert buf.read(0, PAGE) == NVME.image_pattern(0, PAGE)


def test_msix_vectors_added_one_at_a_time(nvme):
    c = NVME.Controller(nvme)
    try:
        assert [i.vector for i in c.irqs] == [0]
        c.enable()
        admin_irq = c.irqs[0]
        c.create_io_queues()
        assert [i.vector for i in c.irqs] == [0, 1]
        assert c.io.irq is c.irqs[1]
        # Adding vector 1 left vector 0 working: an admin completion signals it.
        assert not admin_irq.closed
        admin_irq.wait(0)
        with c.page_pool.alloc() as data:
            cid = c.admin.submit(NVME.command(NVME.ADMIN_IDENTIFY, nsid=1, cdw10=0,
                                              prp1=data.device_address()),
                                 "Identify Namespace 1")
            assert admin_irq.wait(5.0) >= 1
            c.admin.wait(cid, 5.0)
            assert data.read64(0) == c.identify_namespace(1)["blocks"]
    finally:
        NVME.shutdown(c)


def test_dma_pools(ctrl):
    # The rings of both queue pairs from the page pool; a PRP list per I/O
    # command id from the 1 KiB pool, four to a mapping.
    assert ctrl.page_pool.in_use == 4
    assert ctrl.small_pool.in_use == len(ctrl.blocks) == ctrl.io.depth - 1
    assert ctrl.small_pool.chunks == -(-ctrl.small_pool.in_use // 4)


def test_poll_mode(nvme):
    c = NVME.Controller(nvme, poll=True)
    try:
        assert c.irqs == []
        c.enable()
        c.create_io_queues()
        assert c.io.irq is None
        ns = NVME.Namespace(c, c.identify_namespace(1))
        with nvme.dma_alloc(PAGE) as buf:
            ns.read(8, buf)
            assert bytes(buf) == NVME.image_pattern(8 * ns.block_size, PAGE)
    finally:
        NVME.shutdown(c)


@pytest.mark.parametrize("lba,blocks", [(0, 8), (1, 1), (777, 3), (8184, 8)])
def test_host_written_blocks(ctrl, image, lba, blocks):
    bs = ctrl.ns.block_size
    with ctrl.dev.dma_alloc(PAGE * 2) as buf:
        ctrl.ns.read(lba, buf, 0, blocks * bs)
        got = buf.read(0, blocks * bs)
    assert got == read_image(image, lba * bs, blocks * bs)
    assert got == NVME.image_pattern(lba * bs, blocks * bs)


def test_unwritten_blocks_differ_from_pattern(ctrl, image):
    # The comparison above can fail: past the pattern the image is zeros.
    bs = ctrl.ns.block_size
    lba = PATTERN_BYTES // bs
    with ctrl.dev.dma_alloc(PAGE) as buf:
        ctrl.ns.read(lba, buf)
        got = bytes(buf)
    assert got == read_image(image, lba * bs, PAGE) == bytes(PAGE)
    assert got != NVME.image_pattern(lba * bs, PAGE)


def test_sequential_1mib_read(ctrl, image):
    """1 MiB from LBA 0, in commands of at most MDTS, against the image file."""
    n = 1 << 20
    with ctrl.dev.dma_alloc(n) as buf:
        ctrl.ns.read(0, buf)
        got = bytes(buf)
        segments = len(buf.segments)
    assert segments >= 1
    assert got == read_image(image, 0, n)
    assert got == NVME.image_pattern(0, n)


def test_prp_list_64k_one_command(ctrl):
    """64 KiB in one command: PRP1 and a PRP list of 15 pages."""
    n = 64 << 10
    assert ctrl.ns.max_transfer >= n
    with ctrl.dev.dma_alloc(n) as buf:
        plist = ctrl.ns.prp_lists[0]
        first, second = ctrl.prps(buf, 0, n, plist)
        assert first == buf.segments[0][0]
        assert second == plist.iova
        # The list holds the device address of pages 1..15, worked out here
        # from the segments independently (bus addresses in no-IOMMU mode).
        pages = [a + k for a, length in buf.segments for k in range(0, length, PAGE)]
        assert [plist.read64(8 * i) for i in range(15)] == pages[1:16]
        cid = ctrl.ns.submit(NVME.NVM_READ, 0, buf, 0, n)
        ctrl.io.wait(cid, 10.0)
        assert bytes(buf) == NVME.image_pattern(0, n)
    # Two pages: PRP2 is the second page itself, no list.
    with ctrl.dev.dma_alloc(2 * PAGE) as buf:
        pages = [a + k for a, length in buf.segments for k in range(0, length, PAGE)]
        assert ctrl.prps(buf, 0, 2 * PAGE, None) == (pages[0], pages[1])


def test_prp_unaligned_start(ctrl):
    """A transfer starting 512 bytes into a page spans 17 pages."""
    n, off = 64 << 10, 512
    with ctrl.dev.dma_alloc(n + PAGE) as buf:
        ctrl.ns.read(0, buf, off, n)
        assert buf.read(off, n) == NVME.image_pattern(0, n)
        assert buf.read(0, off) == bytes(off)          # nothing before it


def test_write_read_back_and_in_image(ctrl, image):
    bs = ctrl.ns.block_size
    n = 64 << 10
    data = NVME.pattern(5, n)
    with ctrl.dev.dma_alloc(n) as buf:
        buf.write(0, data)
        ctrl.ns.write(WRITE_LBA, buf)
        ctrl.ns.flush()
        buf.write(0, bytes(n))
        ctrl.ns.read(WRITE_LBA, buf)
        assert bytes(buf) == data
    # The host's file holds what the device wrote.
    assert read_image(image, WRITE_LBA * bs, n) == data


def test_queue_depth_32(ctrl):
    bs = ctrl.ns.block_size
    lbas = [(i * 97) % (PATTERN_BYTES // PAGE) * (PAGE // bs) for i in range(64)]
    with ctrl.dev.dma_alloc(64 * PAGE) as buf:
        ctrl.ns.read_many(lbas, buf, PAGE, depth=32)
        for i, lba in enumerate(lbas):
            assert buf.read(i * PAGE, PAGE) == NVME.image_pattern(lba * bs, PAGE), i
    assert len(ctrl.io.free_cids) == ctrl.io.depth - 1 and not ctrl.io.inflight


def test_queue_depth_32_error_drains(ctrl):
    """A failing command among 32 in flight: the others finish, the error is
    raised once they have, and the queue is clean for the next command."""
    lbas = [i * (PAGE // ctrl.ns.block_size) for i in range(40)]
    lbas[5] = ctrl.ns.blocks                          # past the end
    with ctrl.dev.dma_alloc(40 * PAGE) as buf:
        with pytest.raises(NVME.NvmeError) as e:
            ctrl.ns.read_many(lbas, buf, PAGE, depth=32)
        assert (e.value.sct, e.value.sc) == (0, 0x80)
        io = ctrl.io
        assert not io.inflight and not io.done and len(io.free_cids) == io.depth - 1
        ctrl.ns.read(0, buf, 0, PAGE)
        assert buf.read(0, PAGE) == NVME.image_pattern(0, PAGE)


def test_invalid_admin_opcode_raises(ctrl):
    with pytest.raises(NVME.NvmeError) as e:
        ctrl.admin_command(NVME.command(0x7F), "Reserved admin opcode")
    assert (e.value.sct, e.value.sc, e.value.opcode) == (0, 0x01, 0x7F)
    assert "Reserved admin opcode" in str(e.value) and "Invalid Command Opcode" in str(e.value)
    # The queue goes on working.
    assert ctrl.identify_namespace(1) == ctrl.ns_info


def test_identify_invalid_namespace_raises(ctrl):
    with pytest.raises(NVME.NvmeError) as e:
        ctrl.identify_namespace(0)
    assert (e.value.sct, e.value.sc) == (0, 0x0B)
    assert str(e.value).startswith("Identify Namespace 0 (opcode 0x06) failed")


def test_read_past_end_raises(ctrl):
    with ctrl.dev.dma_alloc(PAGE) as buf:
        with pytest.raises(NVME.NvmeError) as e:
            ctrl.ns.read(ctrl.ns.blocks - 1, buf, 0, 2 * ctrl.ns.block_size)
        assert (e.value.sct, e.value.sc, e.value.dnr) == (0, 0x80, True)
        assert "LBA Out of Range" in str(e.value)
        ctrl.ns.read(0, buf)                               # the I/O queue still works
        assert bytes(buf) == NVME.image_pattern(0, PAGE)


def test_shutdown_frees_everything(nvme):
    c = NVME.Controller(nvme)
    c.enable()
    c.create_io_queues()
    c.ns = NVME.Namespace(c, c.identify_namespace(1))
    held = [c.admin.sq, c.admin.cq, c.io.sq, c.io.cq] + list(c.blocks)
    csts = NVME.shutdown(c)
    assert csts & c.CSTS_SHST_MASK == c.CSTS_SHST_DONE
    assert not c.bar.read32(c.CSTS) & c.CSTS_RDY
    assert all(b.closed for b in held) and c.page_pool.closed and c.small_pool.closed
    assert c.blocks == [] and c.irqs == [] and c.io is None and c.admin is None
    assert not nvme.config.read16(0x4) & 0x4               # bus mastering off
    # The device can be driven again after a clean shutdown.
    again = NVME.Controller(nvme)
    try:
        again.enable()
        assert again.identify_controller()["serial"] == "vfiotest"
    finally:
        NVME.shutdown(again)


def test_no_iommu_group(nvme_addr, backend):
    """In a VM without an IOMMU the device sits in a vfio-dkms no-IOMMU group."""
    name_path = "/sys/bus/pci/devices/%s/iommu_group/name" % nvme_addr
    if IOMMU:
        assert not os.path.exists(name_path) or open(name_path).read().strip() != "vfio-noiommu"
    else:
        assert backend == "vfio-dkms"
        assert open(name_path).read().strip() == "vfio-noiommu"


def test_example_script(backend, nvme_addr):
    """examples/nvme.py as a user runs it, on the device the fixtures bound."""
    env = dict(os.environ)
    r = subprocess.run(["/usr/bin/python3", os.path.join(TOP, "examples", "nvme.py"),
                        "--address", nvme_addr, "--backend", backend,
                        "--expect-host-pattern"],
                       capture_output=True, text=True, env=env, timeout=300)
    out = r.stdout + r.stderr
    assert r.returncode == 0, out
    assert "0 failure(s)" in out and "match the image" in out
    assert "backend %s" % backend in out
