# SPDX-License-Identifier: GPL-2.0
"""Run Debian's QEMU with one vfio-pci device, stopped before the guest
starts (-S), ask it over QMP what it realized, and record the VFIO ioctls
it made.

No guest OS boots: realizing the device is where QEMU opens the group and
the container, sets the IOMMU, maps guest RAM and probes the device's
regions and interrupts; the machine reset that follows tries the device
resets.  Those ioctls and their results are what this suite compares.
"""

import json
import os
import re
import shutil
import socket
import subprocess
import time

QEMU = "qemu-system-x86_64"
SCRATCH = "/tmp/dropin-qemu"


def present():
    return shutil.which(QEMU) is not None and shutil.which("strace") is not None


class Qmp:
    def __init__(self, path, timeout=60.0):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        try:
            self.sock.connect(path)
        except OSError:
            self.sock.close()
            raise
        self.buf = b""
        self._read()                      # greeting
        self.cmd("qmp_capabilities")

    def _read(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("QMP connection closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def cmd(self, name, **args):
        msg = {"execute": name}
        if args:
            msg["arguments"] = args
        self.sock.sendall(json.dumps(msg).encode() + b"\n")
        while True:
            r = self._read()
            if "return" in r:
                return r["return"]
            if "error" in r:
                raise RuntimeError("%s: %r" % (name, r["error"]))
            # events ("event": ...) are skipped

    def close(self):
        self.sock.close()


def pci_functions(query_pci):
    """(bus, slot, function, vendor, device, qdev_id) of every function."""
    out = []
    for bus in query_pci:
        for d in bus["devices"]:
            out.append((bus["bus"], d["slot"], d["function"], d["id"]["vendor"],
                        d["id"]["device"], d.get("qdev_id", "")))
    return out


# "1234  ioctl(13, VFIO_DEVICE_GET_INFO, 0x7ff...) = 0" or "= -1 ENODEV (...)"
_IOCTL = re.compile(r"^\d+\s+ioctl\(\d+, (?P<req>[^,]+), .*\) = (?P<res>-1 \w+|-?\d+)")


def vfio_ioctls(strace_text):
    """The VFIO ioctls of a strace log, as (request, result) in order;
    file descriptors and addresses differ between runs and are left out,
    and a successful result > 0 (a new fd, an extension) is kept as is."""
    out = []
    for line in strace_text.splitlines():
        m = _IOCTL.match(line)
        if m and "VFIO" in m.group("req"):
            res = m.group("res")
            if res.isdigit() and m.group("req").startswith("VFIO_GROUP_GET_DEVICE_FD"):
                res = "fd"
            out.append((m.group("req"), res))
    return out


def realize(host_bdf, tag):
    """Start QEMU with -device vfio-pci,host=@host_bdf under strace; return
    a dict with "functions" (from query-pci, or None when QEMU did not come
    up), "ioctls" (vfio_ioctls()), "stderr" and "returncode".  QEMU is
    quit afterwards."""
    os.makedirs(SCRATCH, exist_ok=True)
    sock = os.path.join(SCRATCH, tag + ".qmp")
    if os.path.exists(sock):
        os.unlink(sock)
    errpath = os.path.join(SCRATCH, tag + ".stderr")
    tracepath = os.path.join(SCRATCH, tag + ".strace")
    # --seccomp-bpf stops QEMU only at ioctls: TCG's other syscalls run
    # at full speed.
    cmd = ["strace", "-f", "--seccomp-bpf", "-e", "trace=ioctl", "-e", "signal=none",
           "-o", tracepath,
           QEMU, "-machine", "q35", "-accel", "tcg", "-m", "32", "-nodefaults",
           "-display", "none", "-S", "-qmp", "unix:%s,server=on,wait=off" % sock,
           "-device", "vfio-pci,host=%s,id=hostdev0" % host_bdf]
    with open(errpath, "w") as err:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=err, stderr=err)
    res = {"functions": None, "returncode": None}
    try:
        end = time.monotonic() + 60
        qmp = None
        while qmp is None and proc.poll() is None and time.monotonic() < end:
            try:
                qmp = Qmp(sock)
            except (FileNotFoundError, ConnectionRefusedError):
                time.sleep(0.05)
        if qmp is not None:
            try:
                res["functions"] = pci_functions(qmp.cmd("query-pci"))
                qmp.cmd("quit")
            finally:
                qmp.close()
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        res["returncode"] = proc.returncode
        with open(errpath) as f:
            res["stderr"] = f.read()
        with open(tracepath) as f:
            res["ioctls"] = vfio_ioctls(f.read())
    return res
