# SPDX-License-Identifier: GPL-2.0
"""Shared ownership of a group (docs/shared-ownership.md), vfio-dkms only.

Two real processes (forked workers driven over pipes) use edu's group at
once through raw ioctls: each maps its own buffer, runs edu DMA round trips,
cannot unmap the other's mappings, and takes only its own pins and charges
with it when it closes its container or dies.  Every counter is compared
exactly with /sys/kernel/debug/vfio-dkms (docs/introspection.md) and with
each process's VmLck."""

import errno
import mmap
import os
import pickle
import signal
import stat
import struct
import time
import traceback

import pytest

import vfio_debugfs
import vfio_uapi as V
from vfio_backends import wait_for
from vfio_debugfs import parse
from vfio_process import (drop_cap as _drop_cap, fork_start, run_in_child as fork_call,
                          set_comm, vm_lck_kb)

PAGE = mmap.PAGESIZE
RW = V.VFIO_DMA_MAP_FLAG_READ | V.VFIO_DMA_MAP_FLAG_WRITE
EDU_BUF = 0x40000
DMA_LEN = 4095          # QEMU 7.2's edu aborts on a full 4096-byte transfer
IOVA_A, PAGES_A = 0x1000000, 2      # edu masks DMA addresses to 28 bits
IOVA_B, PAGES_B = 0x2000000, 6
CAP_SYS_ADMIN = 21


# --- the attribute and the debugfs files -----------------------------------

def attr_path(edu):
    return "/sys/class/vfio-dkms/%s/shared" % edu.group


def attr_read(edu):
    with open(attr_path(edu)) as f:
        return f.read()


def attr_write(edu, value):
    """Write @value; returns 0 or the errno."""
    try:
        fd = os.open(attr_path(edu), os.O_WRONLY)
    except OSError as e:
        return e.errno
    try:
        os.write(fd, value.encode())
    except OSError as e:
        return e.errno
    finally:
        os.close(fd)
    return 0


def group_rec(edu):
    return parse("groups")[edu.group]


def container_rec(edu):
    """The container block listing edu's group, or None."""
    found = [c for c in parse("containers").values()
             if edu.group in c.get("group", [])]
    assert len(found) <= 1, found
    return found[0] if found else None


def dma_ranges(c):
    """{(start, end, prot, pid)} of a container block."""
    return set(vfio_debugfs.dma_ranges(c))


def rng(iova, pages, pid, prot="rw"):
    return (iova, iova + pages * PAGE - 1, prot, pid)


def released(edu):
    g = group_rec(edu)
    return (g["owner"] == ["none"] and g["container"] == ["none"] and
            container_rec(edu) is None)


def comm_of(pid):
    return open("/proc/%d/comm" % pid).read().strip()


# --- workers: one process each, driven over a pipe ---------------------------

def _send(fd, obj):
    data = pickle.dumps(obj)
    os.write(fd, struct.pack("<I", len(data)) + data)


def _recv(fd):
    def exact(n):
        buf = b""
        while len(buf) < n:
            chunk = os.read(fd, n - len(buf))
            if not chunk:
                raise EOFError("worker pipe closed")
            buf += chunk
        return buf
    n = struct.unpack("<I", exact(4))[0]
    return pickle.loads(exact(n))


class Agent:
    """What a worker process does: its own container, group and device
    fds, its own buffers (one mapping each, keyed by IOVA)."""

    def __init__(self, backend, edu):
        self.backend = backend
        self.edu = edu
        self.container = self.group = self.device = None
        self.bufs = {}

    # set-up, step by step or all at once
    def open_container(self):
        self.container = os.open(self.backend.container_path, os.O_RDWR)

    def open_group(self):
        self.group = os.open(self.backend.group_path(self.edu.group), os.O_RDWR)

    def status(self):
        st = V.GroupStatus()
        V.ioctl(self.group, V.VFIO_GROUP_GET_STATUS, st)
        return st.flags

    def set_container(self):
        V.set_container(self.group, self.container)

    def unset_container(self):
        V.ioctl(self.group, V.VFIO_GROUP_UNSET_CONTAINER)

    def set_iommu(self, kind=V.VFIO_TYPE1v2_IOMMU):
        V.ioctl(self.container, V.VFIO_SET_IOMMU, kind)

    def get_device(self):
        self.device = V.get_device_fd(self.group, self.edu.bdf)

    def setup(self):
        """The unmodified program's sequence."""
        self.open_container()
        self.open_group()
        self.set_container()
        self.set_iommu()
        self.get_device()

    def close(self, what):
        fd = getattr(self, what)
        os.close(fd)
        setattr(self, what, None)

    # DMA mappings
    def map(self, iova, pages, flags=RW):
        mm = mmap.mmap(-1, pages * PAGE)
        mm[:] = b"\0" * (pages * PAGE)
        V.map_dma(self.container, V.buffer_address(mm), iova, pages * PAGE, flags)
        self.bufs[iova] = mm

    def map_at(self, iova, pages, flags=RW):
        """Map a fresh buffer at @iova without keeping it on success."""
        mm = mmap.mmap(-1, pages * PAGE)
        V.map_dma(self.container, V.buffer_address(mm), iova, pages * PAGE, flags)
        self.bufs[iova] = mm

    def unmap(self, iova, size, flags=0):
        return V.unmap_dma(self.container, iova, size, flags)

    def write_buf(self, iova, off, data):
        self.bufs[iova][off:off + len(data)] = data

    def read_buf(self, iova, off, n):
        return bytes(self.bufs[iova][off:off + n])

    # the device
    def _pread(self, index, off, size):
        return os.pread(self.device, size, V.region_offset(index) + off)

    def _pwrite(self, index, off, data):
        assert os.pwrite(self.device, data, V.region_offset(index) + off) == len(data)

    def bar64(self, off, val=None):
        if val is None:
            return struct.unpack("<Q", self._pread(0, off, 8))[0]
        self._pwrite(0, off, struct.pack("<Q", val))

    def bus_master(self):
        cfg = V.VFIO_PCI_CONFIG_REGION_INDEX
        cmd = struct.unpack("<H", self._pread(cfg, 4, 2))[0]
        self._pwrite(cfg, 4, struct.pack("<H", cmd | 0x6))

    def edu_dma(self, src, dst, to_ram):
        self.bus_master()
        self.bar64(0x80, src)
        self.bar64(0x88, dst)
        self.bar64(0x90, DMA_LEN)
        self.bar64(0x98, 1 | (2 if to_ram else 0))
        end = time.monotonic() + 60
        while time.monotonic() < end:
            if not self.bar64(0x98) & 1:
                return
            time.sleep(0.002)
        raise AssertionError("edu DMA did not complete")

    def round_trip(self, iova, seed):
        """RAM -> device from the first page of my buffer at @iova, device
        -> RAM into its second page; the content must come back."""
        pattern = bytes((i * 7 + seed) & 0xff for i in range(DMA_LEN))
        mm = self.bufs[iova]
        mm[:DMA_LEN] = pattern
        mm[PAGE:PAGE + DMA_LEN] = b"\0" * DMA_LEN
        self.edu_dma(iova, EDU_BUF, to_ram=False)
        self.edu_dma(EDU_BUF, iova + PAGE, to_ram=True)
        got = bytes(mm[PAGE:PAGE + DMA_LEN])
        assert got == pattern, "DMA round trip at %#x came back wrong" % iova

    def vm_lck(self):
        return vm_lck_kb()

    # load for the concurrency test
    def churn(self, iova, n, foreign):
        """Map and unmap around @iova; try to unmap @foreign, another's
        (iova, size) (EPERM)."""
        mm = mmap.mmap(-1, 4 * PAGE)
        va = V.buffer_address(mm)
        for i in range(n):
            V.map_dma(self.container, va, iova, 4 * PAGE)
            V.map_dma(self.container, va, iova + 0x100000, PAGE)
            assert V.errno_of(V.unmap_dma, self.container, *foreign) == errno.EPERM
            if i % 2:
                assert V.unmap_dma(self.container, iova, 0x200000) == 5 * PAGE
            else:
                assert V.unmap_dma(self.container, iova, 4 * PAGE) == 4 * PAGE
                assert V.unmap_dma(self.container, iova + 0x100000, PAGE) == PAGE

    def cycle(self, iova, n):
        """Join and leave again and again, each time with a mapping."""
        mm = mmap.mmap(-1, PAGE)
        for i in range(n):
            c = os.open(self.backend.container_path, os.O_RDWR)
            g = os.open(self.backend.group_path(self.edu.group), os.O_RDWR)
            V.set_container(g, c)
            V.ioctl(c, V.VFIO_SET_IOMMU, V.VFIO_TYPE1v2_IOMMU)
            d = V.get_device_fd(g, self.edu.bdf) if i % 2 else None
            V.map_dma(c, V.buffer_address(mm), iova, PAGE)
            # Close in varying orders: the container first or last.
            order = [d, g, c] if i % 3 else [c, d, g]
            for fd in order:
                if fd is not None:
                    os.close(fd)


def _serve(agent, rfd, wfd):
    while True:
        msg = _recv(rfd)
        if msg[0] == "exit":
            return
        name, args = msg
        try:
            _send(wfd, ("ok", getattr(agent, name)(*args)))
        except OSError as e:
            _send(wfd, ("oserror", e.errno, str(e)))
        except Exception:       # noqa: BLE001
            _send(wfd, ("error", traceback.format_exc()))


_pipes = []     # the parent's ends of every worker's pipes


class Worker:
    def __init__(self, backend, edu, name):
        r1, w1 = os.pipe()
        r2, w2 = os.pipe()

        def serve():
            for fd in _pipes + [w1, r2]:
                os.close(fd)
            set_comm(name)
            _serve(Agent(backend, edu), r1, w2)

        pid = fork_start(serve)
        os.close(r1)
        os.close(w2)
        self.pid, self.name = pid, name
        self.w, self.r = w1, r2
        _pipes.extend([w1, r2])
        self.status = None

    def __getattr__(self, name):
        def call(*args):
            _send(self.w, (name, args))
            reply = _recv(self.r)
            if reply[0] == "ok":
                return reply[1]
            if reply[0] == "oserror":
                raise OSError(reply[1], "%s in %s: %s" % (name, self.name, reply[2]))
            raise AssertionError("%s in %s failed:\n%s" % (name, self.name, reply[1]))
        return call

    def start(self, name, *args):
        """Send a call without waiting; result() collects it."""
        _send(self.w, (name, args))

    def result(self):
        reply = _recv(self.r)
        if reply[0] == "ok":
            return reply[1]
        raise AssertionError("%s failed: %r" % (self.name, reply[1:]))

    def eno(self, name, *args):
        """errno of a call that must fail (0 if it did not)."""
        try:
            getattr(self, name)(*args)
        except OSError as e:
            return e.errno
        return 0

    def _reap(self):
        _, self.status = os.waitpid(self.pid, 0)
        for fd in (self.w, self.r):
            _pipes.remove(fd)
            os.close(fd)

    def exit(self):
        """Exit without closing anything first (the kernel closes)."""
        _send(self.w, ("exit",))
        self._reap()
        assert os.WIFEXITED(self.status) and os.WEXITSTATUS(self.status) == 0, self.status

    def kill(self):
        os.kill(self.pid, signal.SIGKILL)
        self._reap()
        assert os.WIFSIGNALED(self.status), self.status

    def alive(self):
        return self.status is None


@pytest.fixture
def workers():
    """Workers made by a test; killed at its end if still running."""
    made = []
    yield made
    for w in made:
        if w.alive():
            w.kill()


def worker(workers, backend, edu, name):
    w = Worker(backend, edu, name)
    workers.append(w)
    return w


@pytest.fixture
def shared(edu, workers):
    """edu's group shared for one test, back to 0 afterwards (which also
    proves that everything was released: the write fails while open)."""
    assert attr_write(edu, "1") == 0
    yield
    for w in workers:
        if w.alive():
            w.kill()
    assert wait_for(lambda: released(edu)), group_rec(edu)
    assert attr_write(edu, "0") == 0
    assert attr_read(edu) == "0\n"


# --- the attribute -------------------------------------------------------------

def test_attribute_default_off(edu):
    st = os.stat(attr_path(edu))
    assert stat.S_IMODE(st.st_mode) == 0o644, oct(st.st_mode)
    assert st.st_uid == 0
    assert attr_read(edu) == "0\n"
    assert group_rec(edu)["shared"] == ["0"]


def test_attribute_root_only(edu):
    def nobody():
        os.setgroups([])
        os.setresgid(65534, 65534, 65534)
        os.setresuid(65534, 65534, 65534)
        assert attr_read(edu) == "0\n"                  # world-readable
        assert attr_write(edu, "1") == errno.EACCES     # mode 0644, root's

    def root_without_sys_admin():
        _drop_cap(CAP_SYS_ADMIN)
        assert attr_write(edu, "1") == errno.EPERM      # capable() at write

    assert fork_call(nobody) == 0
    assert fork_call(root_without_sys_admin) == 0
    assert attr_read(edu) == "0\n"


def test_attribute_invalid_values(edu):
    for bad in ("2", "-1", "yes", "0x1", "10", "1 1"):
        assert attr_write(edu, bad) == errno.EINVAL, bad
        assert attr_read(edu) == "0\n"
    assert attr_write(edu, "1\n") == 0
    assert attr_read(edu) == "1\n"
    assert group_rec(edu)["shared"] == ["1"]
    assert attr_write(edu, "0") == 0
    assert attr_read(edu) == "0\n"


def test_attribute_busy_while_open(backend, edu):
    path = backend.group_path(edu.group)
    g = os.open(path, os.O_RDWR)
    assert attr_write(edu, "1") == errno.EBUSY
    os.close(g)
    assert attr_read(edu) == "0\n"
    assert attr_write(edu, "1") == 0
    g1 = os.open(path, os.O_RDWR)
    g2 = os.open(path, os.O_RDWR)       # shared: a second open works
    assert attr_write(edu, "0") == errno.EBUSY
    os.close(g1)
    assert attr_write(edu, "0") == errno.EBUSY
    os.close(g2)
    assert attr_write(edu, "0") == 0
    # Not shared any more: the second open is refused again.
    g = os.open(path, os.O_RDWR)
    try:
        with pytest.raises(OSError) as e:
            os.open(path, os.O_RDWR)
        assert e.value.errno == errno.EBUSY
    finally:
        os.close(g)


# --- the model, in one process (several files) -----------------------------------

VIABLE = V.VFIO_GROUP_FLAGS_VIABLE
SET = V.VFIO_GROUP_FLAGS_CONTAINER_SET


def test_join_status_and_set_iommu(backend, edu, shared):
    """Two group files and two container files: the second container file
    joins the first one's container; status and SET_IOMMU per file."""
    path = backend.group_path(edu.group)
    fds = []

    def opn(p):
        fds.append(os.open(p, os.O_RDWR))
        return fds[-1]

    try:
        g1, g2 = opn(path), opn(path)
        c1, c2, c3 = (opn(backend.container_path) for _ in range(3))

        def status(g):
            st = V.GroupStatus()
            V.ioctl(g, V.VFIO_GROUP_GET_STATUS, st)
            return st.flags

        assert status(g1) == VIABLE and status(g2) == VIABLE
        V.set_container(g1, c1)
        assert status(g1) == VIABLE | SET
        assert status(g2) == VIABLE             # set per file
        assert V.errno_of(V.ioctl, c2, V.VFIO_SET_IOMMU, V.VFIO_TYPE1v2_IOMMU) == errno.EINVAL
        V.set_container(g2, c2)                 # c2 joins c1's container
        assert status(g2) == VIABLE | SET
        assert V.errno_of(V.set_container, g2, c2) == errno.EINVAL   # once
        assert V.errno_of(V.set_container, g2, c3) == errno.EINVAL
        c = container_rec(edu)
        assert c["files"] == ["2"] and c["backend"] == ["none"]

        # Before SET_IOMMU a file has no backend (its device fd neither).
        assert V.errno_of(V.get_device_fd, g1, edu.bdf) == errno.EINVAL
        V.ioctl(c1, V.VFIO_SET_IOMMU, V.VFIO_TYPE1v2_IOMMU)
        assert V.errno_of(V.ioctl, c1, V.VFIO_SET_IOMMU, V.VFIO_TYPE1v2_IOMMU) == errno.EINVAL
        mm = mmap.mmap(-1, 4 * PAGE)
        va = V.buffer_address(mm)
        assert V.errno_of(V.map_dma, c2, va, 0x100000, PAGE) == errno.EINVAL
        # Another type than the container's: busy with someone else's choice.
        assert V.errno_of(V.ioctl, c2, V.VFIO_SET_IOMMU, V.VFIO_TYPE1_IOMMU) == errno.EBUSY
        V.ioctl(c2, V.VFIO_SET_IOMMU, V.VFIO_TYPE1v2_IOMMU)          # no-op
        assert V.errno_of(V.ioctl, c2, V.VFIO_SET_IOMMU, V.VFIO_TYPE1v2_IOMMU) == errno.EINVAL
        assert container_rec(edu)["backend"] == ["type1v2"]

        # Owners are container files, even in one process.
        V.map_dma(c1, va, 0x100000, PAGE)
        V.map_dma(c2, va + PAGE, 0x200000, 2 * PAGE)
        assert V.errno_of(V.map_dma, c2, va, 0x100000, PAGE) == errno.EEXIST
        assert V.errno_of(V.unmap_dma, c2, 0x100000, PAGE) == errno.EPERM
        assert V.errno_of(V.unmap_dma, c1, 0x200000, 2 * PAGE) == errno.EPERM
        assert V.errno_of(V.unmap_dma, c1, 0, 1 << 28) == errno.EPERM
        assert int(container_rec(edu)["pinned_pages"][0]) == 3
        assert V.unmap_dma(c2, 0, 0, V.VFIO_DMA_UNMAP_FLAG_ALL) == 2 * PAGE
        c = container_rec(edu)
        assert c["mappings"] == ["1"] and c["pinned_pages"] == ["1"]
        assert V.unmap_dma(c2, 0x200000, 2 * PAGE) == 0     # c2's is gone
        assert V.errno_of(V.unmap_dma, c2, 0, 1 << 28) == errno.EPERM
        V.map_dma(c2, va + PAGE, 0x200000, 2 * PAGE)

        # A third group file with c1, the container the group is in: joins
        # nothing, just sets it.
        g3 = opn(path)
        V.set_container(g3, c1)
        assert status(g3) == VIABLE | SET

        # UNSET per file; a device fd of that file keeps it set.
        d2 = V.get_device_fd(g2, edu.bdf)
        fds.append(d2)
        assert V.errno_of(V.ioctl, g2, V.VFIO_GROUP_UNSET_CONTAINER) == errno.EBUSY
        os.close(fds.pop())
        V.ioctl(g2, V.VFIO_GROUP_UNSET_CONTAINER)
        assert status(g2) == VIABLE and status(g1) == VIABLE | SET
        assert V.errno_of(V.get_device_fd, g2, edu.bdf) == errno.EINVAL
        assert V.errno_of(V.ioctl, g2, V.VFIO_GROUP_UNSET_CONTAINER) == errno.EINVAL
        # c2's mappings belong to c2 and stay while it is open.
        c = container_rec(edu)
        assert c["mappings"] == ["2"] and c["pinned_pages"] == ["3"]
        V.set_container(g2, c2)                 # c2 uses the group's container
        assert status(g2) == VIABLE | SET

        # Closing c2 removes exactly its mappings.
        fds.remove(c2)
        os.close(c2)
        c = container_rec(edu)
        assert c["files"] == ["1"]
        assert c["mappings"] == ["1"] and c["pinned_pages"] == ["1"]
        assert dma_ranges(c) == {rng(0x100000, 1, os.getpid())}
        owners = group_rec(edu)["owner"]
        me = "%d %s" % (os.getpid(), comm_of(os.getpid()))
        assert owners == [me] * 3
    finally:
        for fd in fds:
            os.close(fd)


def test_set_iommu_counts_for_one_backend(backend, edu, shared):
    """A file's SET_IOMMU counts for the backend it was made on.  Once the
    container has emptied (its backend goes with the last group) and got a
    new backend, a joined file must set it again before it may map, and
    setting it is then allowed again."""
    path = backend.group_path(edu.group)
    fds = []

    def opn(p):
        fds.append(os.open(p, os.O_RDWR))
        return fds[-1]

    try:
        g1, g2 = opn(path), opn(path)
        c1, c2 = opn(backend.container_path), opn(backend.container_path)
        V.set_container(g1, c1)
        V.set_container(g2, c2)                 # c2 joins c1's container
        V.ioctl(c1, V.VFIO_SET_IOMMU, V.VFIO_TYPE1v2_IOMMU)
        V.ioctl(c2, V.VFIO_SET_IOMMU, V.VFIO_TYPE1v2_IOMMU)
        # Both files leave: the container empties, its backend goes.
        V.ioctl(g1, V.VFIO_GROUP_UNSET_CONTAINER)
        V.ioctl(g2, V.VFIO_GROUP_UNSET_CONTAINER)
        assert group_rec(edu)["container"] == ["none"]

        V.set_container(g1, c1)
        V.ioctl(c1, V.VFIO_SET_IOMMU, V.VFIO_TYPE1v2_IOMMU)
        V.set_container(g2, c2)                 # still joined to it
        mm = mmap.mmap(-1, PAGE)
        va = V.buffer_address(mm)
        assert V.errno_of(V.map_dma, c2, va, 0x100000, PAGE) == errno.EINVAL
        assert V.errno_of(V.ioctl, c2, V.VFIO_SET_IOMMU, V.VFIO_TYPE1_IOMMU) == errno.EBUSY
        V.ioctl(c2, V.VFIO_SET_IOMMU, V.VFIO_TYPE1v2_IOMMU)
        V.map_dma(c2, va, 0x100000, PAGE)
        assert V.unmap_dma(c2, 0x100000, PAGE) == PAGE
    finally:
        for fd in reversed(fds):
            os.close(fd)


def test_no_mixing_with_non_shared_groups(backend, edu, shared):
    """A non-shared group never shares a container with a shared one."""
    from vfio_backends import NVME_IDS, bound_device
    gen = bound_device(backend, NVME_IDS)
    nvme = next(gen)
    fds = []
    try:
        c1 = os.open(backend.container_path, os.O_RDWR)
        fds.append(c1)
        c2 = os.open(backend.container_path, os.O_RDWR)
        fds.append(c2)
        g = os.open(backend.group_path(edu.group), os.O_RDWR)
        fds.append(g)
        n = os.open(backend.group_path(nvme.group), os.O_RDWR)
        fds.append(n)
        V.set_container(g, c1)
        assert V.errno_of(V.set_container, n, c1) == errno.EINVAL
        V.set_container(n, c2)
        g2 = os.open(backend.group_path(edu.group), os.O_RDWR)
        fds.append(g2)
        # c2 holds a non-shared group: it neither takes nor joins a shared one.
        assert V.errno_of(V.set_container, g2, c2) == errno.EINVAL
        V.ioctl(n, V.VFIO_GROUP_UNSET_CONTAINER)
        # Empty again, one file: it joins.
        V.set_container(g2, c2)
        assert container_rec(edu)["files"] == ["2"]
        # Shared groups in it: no non-shared group goes in.
        assert V.errno_of(V.set_container, n, c2) == errno.EINVAL
        assert V.errno_of(V.set_container, n, c1) == errno.EINVAL
        # Empty, but two files use it: still no non-shared group.
        V.ioctl(g, V.VFIO_GROUP_UNSET_CONTAINER)
        V.ioctl(g2, V.VFIO_GROUP_UNSET_CONTAINER)
        assert container_rec(edu) is None
        assert V.errno_of(V.set_container, n, c1) == errno.EINVAL
        assert V.errno_of(V.set_container, n, c2) == errno.EINVAL
        fds.remove(c2)
        os.close(c2)
        # One file again: c1 takes it, and then refuses the shared group.
        V.set_container(n, c1)
        assert V.errno_of(V.set_container, g, c1) == errno.EINVAL
        V.ioctl(n, V.VFIO_GROUP_UNSET_CONTAINER)
    finally:
        for fd in reversed(fds):
            os.close(fd)
        for _ in gen:
            pass


# --- two processes --------------------------------------------------------------

def _two(workers, backend, edu):
    """A and B, each with the unmodified sequence and its own mapping."""
    a = worker(workers, backend, edu, "shared-a")
    b = worker(workers, backend, edu, "shared-b")
    base = {a.pid: vm_lck_kb(a.pid), b.pid: vm_lck_kb(b.pid)}
    a.setup()
    b.setup()
    a.map(IOVA_A, PAGES_A)
    b.map(IOVA_B, PAGES_B)
    return a, b, base


def test_two_processes_dma_and_ownership(backend, edu, shared, workers):
    a, b, base = _two(workers, backend, edu)

    g = group_rec(edu)
    assert g["shared"] == ["1"]
    assert g["owner"] == ["%d shared-a" % a.pid, "%d shared-b" % b.pid]
    assert g["device"] == ["%s open 2" % edu.bdf]
    c = container_rec(edu)
    assert c["files"] == ["2"] and c["backend"] == ["type1v2"]
    assert c["mappings"] == ["2"]
    assert c["pinned_pages"] == [str(PAGES_A + PAGES_B)]
    assert dma_ranges(c) == {rng(IOVA_A, PAGES_A, a.pid), rng(IOVA_B, PAGES_B, b.pid)}
    # Each process's pages are charged to its own mm.
    assert vm_lck_kb(a.pid) == base[a.pid] + PAGES_A * PAGE // 1024
    assert vm_lck_kb(b.pid) == base[b.pid] + PAGES_B * PAGE // 1024

    a.round_trip(IOVA_A, 3)
    b.round_trip(IOVA_B, 5)

    # Nobody unmaps another's mapping, not even as part of a larger range.
    assert b.eno("unmap", IOVA_A, PAGES_A * PAGE) == errno.EPERM
    assert b.eno("unmap", 0, 1 << 28) == errno.EPERM
    assert a.eno("unmap", IOVA_B, PAGES_B * PAGE) == errno.EPERM
    assert a.eno("unmap", 0, 1 << 28) == errno.EPERM
    # Another's IOVAs are taken.
    assert b.eno("map_at", IOVA_A, 1) == errno.EEXIST
    assert b.eno("map_at", IOVA_A + PAGE, 4) == errno.EEXIST
    c2 = container_rec(edu)
    assert c2 == c, "a refused call changed something"
    a.round_trip(IOVA_A, 7)

    # UNMAP_ALL removes the caller's mappings only.
    assert b.unmap(0, 0, V.VFIO_DMA_UNMAP_FLAG_ALL) == PAGES_B * PAGE
    c = container_rec(edu)
    assert c["mappings"] == ["1"] and c["pinned_pages"] == [str(PAGES_A)]
    assert dma_ranges(c) == {rng(IOVA_A, PAGES_A, a.pid)}
    assert vm_lck_kb(b.pid) == base[b.pid]
    assert vm_lck_kb(a.pid) == base[a.pid] + PAGES_A * PAGE // 1024
    a.round_trip(IOVA_A, 9)

    # The documented risk, shown: no isolation between the sharers.  A
    # programs the device to write into B's buffer, and it lands.
    b.map(IOVA_B, PAGES_B)
    a.round_trip(IOVA_A, 11)            # edu's buffer now holds A's pattern
    a.edu_dma(EDU_BUF, IOVA_B + 2 * PAGE, True)
    want = bytes((i * 7 + 11) & 0xff for i in range(DMA_LEN))
    assert b.read_buf(IOVA_B, 2 * PAGE, DMA_LEN) == want

    a.exit()
    b.exit()


def test_sigkill_takes_only_its_pins(backend, edu, shared, workers):
    a, b, base = _two(workers, backend, edu)
    b.map(IOVA_B + 0x100000, 3)
    total = PAGES_A + PAGES_B + 3
    c = container_rec(edu)
    assert c["pinned_pages"] == [str(total)] and c["mappings"] == ["3"]
    assert vm_lck_kb(b.pid) == base[b.pid] + (PAGES_B + 3) * PAGE // 1024
    b.round_trip(IOVA_B, 1)

    b.kill()
    assert wait_for(lambda: group_rec(edu)["owner"] == ["%d shared-a" % a.pid])
    g = group_rec(edu)
    assert g["owner"] == ["%d shared-a" % a.pid]
    assert g["device"] == ["%s open 1" % edu.bdf]
    c = container_rec(edu)
    assert c["files"] == ["1"]
    assert c["mappings"] == ["1"]
    assert c["pinned_pages"] == [str(total - PAGES_B - 3)]
    assert dma_ranges(c) == {rng(IOVA_A, PAGES_A, a.pid)}
    assert vm_lck_kb(a.pid) == base[a.pid] + PAGES_A * PAGE // 1024
    a.round_trip(IOVA_A, 13)

    # A exits: everything goes (the shared fixture checks the group is
    # released and the attribute writable again).
    a.exit()
    assert wait_for(lambda: released(edu)), group_rec(edu)
    assert sum(int(c["pinned_pages"][0]) for c in parse("containers").values()
               if "pinned_pages" in c) == 0


def test_container_close_uncharges_its_mm(backend, edu, shared, workers):
    """B closes only its container fd, and lives on: its pages are unpinned
    and its VmLck is back where it was; A keeps its mapping."""
    a, b, base = _two(workers, backend, edu)
    b.close("container")
    assert vm_lck_kb(b.pid) == base[b.pid]
    assert vm_lck_kb(a.pid) == base[a.pid] + PAGES_A * PAGE // 1024
    c = container_rec(edu)
    assert c["files"] == ["1"] and c["mappings"] == ["1"]
    assert c["pinned_pages"] == [str(PAGES_A)]
    # B's group file and device fd are still open: still an owner.
    assert group_rec(edu)["owner"] == ["%d shared-a" % a.pid, "%d shared-b" % b.pid]
    a.round_trip(IOVA_A, 17)
    b.exit()
    a.round_trip(IOVA_A, 19)
    a.exit()


def test_release_by_another_task_uncharges_the_owner(backend, edu, shared, workers):
    """The backend goes away in A's exit while B still has a mapping: the
    charge goes back to B's mm (B lives), not to A's."""
    a, b, base = _two(workers, backend, edu)
    b.close("device")
    b.close("group")                    # B keeps only its container fd
    c = container_rec(edu)
    assert c["mappings"] == ["2"] and c["files"] == ["2"]
    assert group_rec(edu)["owner"] == ["%d shared-a" % a.pid]
    assert vm_lck_kb(b.pid) == base[b.pid] + PAGES_B * PAGE // 1024
    a.exit()                            # last group file: the backend goes
    assert wait_for(lambda: released(edu)), group_rec(edu)
    assert vm_lck_kb(b.pid) == base[b.pid]
    # B's container has no backend any more.
    assert b.eno("map_at", IOVA_B + 0x100000, 1) == errno.EINVAL
    b.exit()


# --- the Python bindings, unchanged -------------------------------------------

def _py_side(bdf, iova, seed, rfd, wfd):
    """One process of the pair: the vfio package's ordinary calls, with an
    explicit IOVA (the allocator is per process, docs/shared-ownership.md)."""
    import vfio
    with vfio.open(bdf, backend="vfio-dkms") as dev:
        dev.set_bus_master(True)
        dev.set_dma_mask(28)
        bar = dev.region(0)
        buf = mmap.mmap(-1, 2 * PAGE)
        m = dev.dma_map(buf, iova=iova)
        assert m.iova == iova
        os.write(wfd, b"r")
        assert os.read(rfd, 1) == b"g"

        def dma(src, dst, to_ram):
            bar.write32(0x80, src)
            bar.write32(0x88, dst)
            bar.write32(0x90, DMA_LEN)
            bar.write32(0x98, 1 | (2 if to_ram else 0))
            end = time.monotonic() + 60
            while bar.read32(0x98) & 1:
                assert time.monotonic() < end, "edu DMA did not complete"
                time.sleep(0.002)

        pattern = bytes((i * 7 + seed) & 0xff for i in range(DMA_LEN))
        buf[:DMA_LEN] = pattern
        dma(iova, EDU_BUF, False)
        dma(EDU_BUF, iova + PAGE, True)
        assert buf[PAGE:PAGE + DMA_LEN] == pattern
        os.write(wfd, b"d")
        assert os.read(rfd, 1) == b"x"
        m.unmap()


def test_python_bindings_pair(edu, shared):
    try:
        import vfio  # noqa: F401
    except ImportError as e:
        pytest.skip("vfio package not built (make all): %s" % e)
    procs = []
    try:
        for name, iova, seed in (("py-a", IOVA_A, 21), ("py-b", IOVA_B, 23)):
            r1, w1 = os.pipe()
            r2, w2 = os.pipe()

            def py_side():
                for p in procs:
                    os.close(p[1])
                    os.close(p[2])
                os.close(w1)
                os.close(r2)
                set_comm(name)
                _py_side(edu.bdf, iova, seed, r1, w2)

            pid = fork_start(py_side)
            os.close(r1)
            os.close(w2)
            procs.append((pid, w1, r2))
        # Both hold the group and a mapping at once.
        for pid, _, r in procs:
            assert os.read(r, 1) == b"r", "py process %d failed (see above)" % pid
        g = group_rec(edu)
        # Both open at once: in either order.
        assert sorted(g["owner"]) == sorted(["%d py-a" % procs[0][0], "%d py-b" % procs[1][0]])
        c = container_rec(edu)
        assert c["files"] == ["2"]
        assert dma_ranges(c) == {rng(IOVA_A, 2, procs[0][0]), rng(IOVA_B, 2, procs[1][0])}
        for pid, w, r in procs:         # one DMA round trip after the other
            os.write(w, b"g")
            assert os.read(r, 1) == b"d", "py process %d failed (see above)" % pid
        for pid, w, r in procs:
            os.write(w, b"x")
    finally:
        statuses = []
        for pid, w, r in procs:
            os.close(w)
            os.close(r)
            statuses.append(os.waitpid(pid, 0)[1])
    assert all(os.WIFEXITED(s) and os.WEXITSTATUS(s) == 0 for s in statuses), statuses


def test_concurrent_sharers(backend, edu, shared, workers):
    """Two sharers map and unmap at full speed while a third process joins
    and leaves again and again and debugfs is read all the time (KASAN and
    lockdep check the kernel side); then every counter is back exactly."""
    a, b, base = _two(workers, backend, edu)
    c = worker(workers, backend, edu, "shared-c")
    a.start("churn", IOVA_A + 0x400000, 25, (IOVA_B, PAGES_B * PAGE))
    b.start("churn", IOVA_B + 0x400000, 25, (IOVA_A, PAGES_A * PAGE))
    c.start("cycle", 0x3000000, 12)
    done = 0
    reads = 0
    import select
    pending = {w.r: w for w in (a, b, c)}
    while pending:
        parse("groups")
        parse("containers")
        reads += 1
        ready, _, _ = select.select(list(pending), [], [], 0.01)
        for fd in ready:
            pending.pop(fd).result()
            done += 1
    assert done == 3 and reads > 0
    g = group_rec(edu)
    assert g["owner"] == ["%d shared-a" % a.pid, "%d shared-b" % b.pid]
    cr = container_rec(edu)
    assert cr["files"] == ["2"]
    assert cr["mappings"] == ["2"]
    assert cr["pinned_pages"] == [str(PAGES_A + PAGES_B)]
    assert dma_ranges(cr) == {rng(IOVA_A, PAGES_A, a.pid), rng(IOVA_B, PAGES_B, b.pid)}
    assert vm_lck_kb(a.pid) == base[a.pid] + PAGES_A * PAGE // 1024
    assert vm_lck_kb(b.pid) == base[b.pid] + PAGES_B * PAGE // 1024
    a.round_trip(IOVA_A, 29)
    b.round_trip(IOVA_B, 31)
    c.exit()
    b.kill()
    a.exit()
