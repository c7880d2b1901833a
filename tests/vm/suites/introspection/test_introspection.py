# SPDX-License-Identifier: GPL-2.0
"""Introspection (docs/introspection.md): /sys/kernel/debug/vfio-dkms/.

The counters must be exact: every number is compared with what this test
mapped.  Runs against vfio-dkms only (the in-tree framework has no such
files)."""

import mmap
import os
import resource
import signal
import stat
import threading
import time

import pytest

import vfio_uapi as V
from vfio_debugfs import DBG, dma_ranges, parse
from vfio_process import drop_ipc_lock, fork_start as fork_call, set_comm, vm_lck_kb, wait_ok
from vfio_session import Session

PAGE = mmap.PAGESIZE
MiB = 1 << 20


# --- reading the files -------------------------------------------------------

def group_rec(edu):
    return parse("groups")[edu.group]


def container_of_group(edu):
    """The container block that lists edu's group, or None."""
    found = [(cid, c) for cid, c in parse("containers").items()
             if edu.group in c.get("group", [])]
    assert len(found) <= 1, found
    return found[0] if found else (None, None)


def total_pinned():
    return sum(int(c["pinned_pages"][0]) for c in parse("containers").values()
               if "pinned_pages" in c)


def wait_released(edu, timeout=20):
    deadline = time.monotonic() + timeout
    while True:
        g = group_rec(edu)
        cid, _ = container_of_group(edu)
        if g["owner"] == ["none"] and g["container"] == ["none"] and cid is None:
            return
        if time.monotonic() > deadline:
            raise AssertionError("group still held: %r" % (g,))
        time.sleep(0.05)


# --- tests -------------------------------------------------------------------

def test_files_root_only(edu):
    st = os.stat(DBG)
    assert stat.S_ISDIR(st.st_mode)
    for name in ("groups", "containers"):
        st = os.stat(os.path.join(DBG, name))
        assert stat.S_IMODE(st.st_mode) == 0o400, oct(st.st_mode)
        assert st.st_uid == 0 and st.st_gid == 0


def test_module_version(edu):
    """MODULE_VERSION of both modules is the release in the VERSION file."""
    top = os.path.dirname(os.path.abspath(__file__))
    for _ in range(4):
        top = os.path.dirname(top)
    with open(os.path.join(top, "VERSION")) as f:
        want = f.read().strip()
    for mod in ("vfio_dkms", "vfio_dkms_pci"):
        with open("/sys/module/%s/version" % mod) as f:
            assert f.read().strip() == want, mod


def test_idle_group(edu):
    g = group_rec(edu)
    assert g["shared"] == ["0"]        # docs/shared-ownership.md
    assert g["owner"] == ["none"]
    assert g["container"] == ["none"]
    assert g["device"] == ["%s open 0" % edu.bdf]
    assert container_of_group(edu) == (None, None)


def test_counters_exact(backend, edu):
    sizes = [1, 2, 3, 16, 512, 5]          # pages
    comm = open("/proc/self/comm").read().strip()
    with Session(backend, edu) as s:
        g = group_rec(edu)
        assert g["owner"] == ["%d %s" % (os.getpid(), comm)]
        assert g["device"] == ["%s open 1" % edu.bdf]
        cid, c = container_of_group(edu)
        assert g["container"] == [cid]
        assert c["files"] == ["1"]
        assert c["backend"] == ["type1v2"]
        assert c["mappings"] == ["0"] and c["pinned_pages"] == ["0"]
        base_avail = int(c["dma_avail"][0])

        bufs, expect = [], []
        iova = 0x1000000
        for n in sizes:
            mm = mmap.mmap(-1, n * PAGE)
            bufs.append(mm)
            va = V.buffer_address(mm)
            flags = V.VFIO_DMA_MAP_FLAG_READ | (V.VFIO_DMA_MAP_FLAG_WRITE if n != 3 else 0)
            V.map_dma(s.container, va, iova, n * PAGE, flags)
            expect.append((iova, iova + n * PAGE - 1, "rw" if n != 3 else "r-", os.getpid()))
            iova += n * PAGE + 0x100000        # gaps between mappings

        _, c = container_of_group(edu)
        assert c["mappings"] == [str(len(sizes))]
        assert c["pinned_pages"] == [str(sum(sizes))]
        assert c["dma_avail"] == [str(base_avail - len(sizes))]
        assert dma_ranges(c) == expect

        # Unmap one: the counters drop by exactly that mapping.
        victim = expect[3]
        assert V.unmap_dma(s.container, victim[0], 16 * PAGE) == 16 * PAGE
        _, c = container_of_group(edu)
        assert c["mappings"] == [str(len(sizes) - 1)]
        assert c["pinned_pages"] == [str(sum(sizes) - 16)]
        assert dma_ranges(c) == [e for e in expect if e != victim]

        # A failed map (overlap) changes nothing.
        assert V.errno_of(V.map_dma, s.container, V.buffer_address(bufs[0]),
                          expect[0][0], PAGE) != 0
        _, c2 = container_of_group(edu)
        assert c2 == c

        assert V.unmap_dma(s.container, 0, 0, V.VFIO_DMA_UNMAP_FLAG_ALL) == \
            (sum(sizes) - 16) * PAGE
        _, c = container_of_group(edu)
        assert c["mappings"] == ["0"] and c["pinned_pages"] == ["0"]
        assert "dma" not in c

        # Closing with mappings left: remove-all on release.
        V.map_dma(s.container, V.buffer_address(bufs[4]), 0x1000000, 512 * PAGE)
        assert int(container_of_group(edu)[1]["pinned_pages"][0]) == 512
    wait_released(edu, timeout=2)


def test_type1_v1_backend(backend, edu):
    with Session(backend, edu, iommu=V.VFIO_TYPE1_IOMMU, device=False) as s:
        _, c = container_of_group(edu)
        assert c["backend"] == ["type1"]
        assert group_rec(edu)["device"] == ["%s open 0" % edu.bdf]
        mm = mmap.mmap(-1, 4 * PAGE)
        V.map_dma(s.container, V.buffer_address(mm), 0x400000, 4 * PAGE)
        _, c = container_of_group(edu)
        assert c["mappings"] == ["1"] and c["pinned_pages"] == ["4"]
    wait_released(edu, timeout=2)


def test_container_without_backend(backend, edu):
    c = os.open(backend.container_path, os.O_RDWR)
    g = os.open(backend.group_path(edu.group), os.O_RDWR)
    try:
        V.set_container(g, c)
        cid, rec = container_of_group(edu)
        assert group_rec(edu)["container"] == [cid]
        assert rec["backend"] == ["none"]
        # The group keeps the container when its file is closed.
        os.close(c)
        c = None
        assert container_of_group(edu)[1]["files"] == ["0"]
    finally:
        os.close(g)
        if c is not None:
            os.close(c)
    wait_released(edu, timeout=2)


CHUNK = 4 * MiB
BIG = 256 * MiB


def _greedy_child(backend, edu, wfd):
    set_comm("vfio-greedy")
    drop_ipc_lock()
    limit = vm_lck_kb() * 1024 + BIG + MiB
    resource.setrlimit(resource.RLIMIT_MEMLOCK, (limit, limit))
    s = Session(backend, edu, device=False)
    mm = mmap.mmap(-1, BIG)
    va = V.buffer_address(mm)
    for i in range(BIG // CHUNK):
        V.map_dma(s.container, va + i * CHUNK, 0x10000000 + i * CHUNK, CHUNK)
        os.write(wfd, b"m")
    os.write(wfd, b"d")
    while True:
        time.sleep(1)


def _remap_child(backend, edu, size):
    drop_ipc_lock()
    base = vm_lck_kb()
    limit = base * 1024 + size
    resource.setrlimit(resource.RLIMIT_MEMLOCK, (limit, limit))
    with Session(backend, edu, device=False) as s:
        mm = mmap.mmap(-1, size + PAGE)
        va = V.buffer_address(mm)
        # One page over the limit is refused, the full limit is not.
        assert V.errno_of(V.map_dma, s.container, va, 0x10000000, size + PAGE) != 0
        V.map_dma(s.container, va, 0x10000000, size)
        assert vm_lck_kb() == base + size // 1024
        _, c = container_of_group(edu)
        assert c["pinned_pages"] == [str(size // PAGE)]
        assert dma_ranges(c) == [(0x10000000, 0x10000000 + size - 1, "rw", os.getpid())]
    assert vm_lck_kb() == base


def test_sigkill_midway_releases_everything(backend, edu):
    r, w = os.pipe()
    pid = fork_call(_greedy_child, backend, edu, w)
    os.close(w)
    try:
        got = b""
        # Kill once a quarter is mapped: the child is still in its loop.
        while got.count(b"m") < BIG // CHUNK // 4:
            chunk = os.read(r, 64)
            assert chunk, "child died early (see its traceback above)"
            assert b"d" not in chunk
            got += chunk
        g = group_rec(edu)
        assert g["owner"] == ["%d vfio-greedy" % pid]
        _, c = container_of_group(edu)
        n = int(c["mappings"][0])
        assert n >= BIG // CHUNK // 4
        assert {d[3] for d in dma_ranges(c)} == {pid}
        assert int(c["pinned_pages"][0]) == sum(
            (e - s + 1) // PAGE for s, e, _, _ in dma_ranges(c))
        assert vm_lck_kb(pid) >= n * CHUNK // 1024
    finally:
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        os.close(r)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
    wait_released(edu)
    assert total_pinned() == 0
    # A new process under RLIMIT_MEMLOCK can map again, exactly its limit.
    wait_ok(fork_call(_remap_child, backend, edu, 64 * MiB))
    wait_released(edu, timeout=2)
    assert total_pinned() == 0


def test_read_while_groups_come_and_go(backend, edu):
    """Readers race with sessions opening, mapping and closing (KASAN and
    lockdep check the kernel side)."""
    stop = threading.Event()
    errors = []

    def reader():
        try:
            while not stop.is_set():
                parse("groups")
                parse("containers")
        except Exception as e:      # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        mm = mmap.mmap(-1, 64 * PAGE)
        for i in range(20):
            with Session(backend, edu, device=bool(i & 1)) as s:
                for j in range(4):
                    V.map_dma(s.container, V.buffer_address(mm) + j * 16 * PAGE,
                              0x100000 * (j + 1), 16 * PAGE)
                if i & 2:
                    V.unmap_dma(s.container, 0x100000, 16 * PAGE)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert not errors, errors
    wait_released(edu, timeout=2)
