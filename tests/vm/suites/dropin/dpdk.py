# SPDX-License-Identifier: GPL-2.0
"""Unmodified DPDK (Debian's dpdk/dpdk-dev) on two QEMU e1000e NICs joined
by a QEMU hub, for the dropin-dpdk suites.

dpdk-devbind.py binds both NICs to "vfio-pci" (whichever module has that
name), dpdk-testpmd forwards in io mode after sending a first burst on
each port (--tx-first): what one port sends the hub delivers to the other,
which forwards it back, so packets circulate as long as VFIO DMA and
interrupts work.  The vm-args of the suites add the NICs:
    -netdev hubport,id=n0,hubid=0 -device e1000e,netdev=n0 (and n1).
"""

import os
import re
import shutil
import subprocess
import threading
import time

E1000E = ("0x8086", "0x10d3")
HUGEPAGES = 256                 # 2 MiB pages
FORWARD_SECONDS = 12
# Python and lspci under TCG: dpdk-devbind.py takes a minute or more.
DEVBIND_TIMEOUT = 400
EAL_TIMEOUT = 300               # until testpmd forwards
MIN_PACKETS = 1000              # per port, received and sent


def sh(*cmd, check=True, timeout=None):
    return subprocess.run(cmd, check=check, capture_output=True, text=True, timeout=timeout)


def nics():
    found = []
    for bdf in sorted(os.listdir("/sys/bus/pci/devices")):
        d = "/sys/bus/pci/devices/" + bdf
        if (open(d + "/vendor").read().strip(), open(d + "/device").read().strip()) == E1000E:
            found.append(bdf)
    return found


def tools_present():
    return shutil.which("dpdk-testpmd") and shutil.which("dpdk-devbind.py")


def hugepages():
    """256 x 2 MiB hugepages on a hugetlbfs mount, as DPDK wants them."""
    nr = "/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages"
    with open(nr, "w") as f:
        f.write(str(HUGEPAGES))
    assert int(open(nr).read()) == HUGEPAGES, "could not reserve hugepages"
    os.makedirs("/dev/hugepages", exist_ok=True)
    if not os.path.ismount("/dev/hugepages"):
        sh("mount", "-t", "hugetlbfs", "nodev", "/dev/hugepages")


def devbind(driver, bdfs):
    """dpdk-devbind.py -b DRIVER; returns the CompletedProcess."""
    return sh("dpdk-devbind.py", "--force", "-b", driver, *bdfs, check=False,
              timeout=DEVBIND_TIMEOUT)


def driver_of(bdf):
    link = "/sys/bus/pci/devices/%s/driver" % bdf
    return os.path.basename(os.readlink(link)) if os.path.islink(link) else None


def unbind(bdfs):
    """Leave the NICs without a driver (through sysfs: dpdk-devbind.py takes
    a minute under TCG, and the suites must end within the VM timeout)."""
    for bdf in bdfs:
        d = "/sys/bus/pci/devices/" + bdf
        if os.path.islink(d + "/driver"):
            with open(d + "/driver/unbind", "w") as f:
                f.write(bdf)
        with open(d + "/driver_override", "w") as f:
            f.write("\n")


def testpmd(bdfs, eal_args=()):
    """Run dpdk-testpmd for FORWARD_SECONDS; returns (output, {port: stats})
    with stats a dict of RX-packets and TX-packets from its final report."""
    # Line-buffered: its "Press enter" line must arrive before it exits.
    cmd = ["stdbuf", "-oL", "dpdk-testpmd", "-l", "0-1", "-n", "1", "--file-prefix", "dropin"]
    for bdf in bdfs:
        cmd += ["-a", bdf]
    cmd += list(eal_args)
    cmd += ["--", "--forward-mode=io", "--tx-first", "--nb-cores=1"]
    # Without -i testpmd forwards until a line arrives on stdin; it says
    # "Press enter to exit" once both ports forward.
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True)
    lines = []
    forwarding = threading.Event()

    def reader():
        for line in p.stdout:
            lines.append(line)
            if "Press enter to exit" in line:
                forwarding.set()
        forwarding.set()

    t = threading.Thread(target=reader)
    t.start()
    try:
        forwarding.wait(EAL_TIMEOUT)
        if p.poll() is None:
            time.sleep(FORWARD_SECONDS)
            p.stdin.write("\n")
            p.stdin.flush()
        p.wait(timeout=120)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        t.join()
    out = "".join(lines)
    return out, p.returncode, port_stats(out)


def port_stats(out):
    stats = {}
    for m in re.finditer(r"Forward statistics for port (\d+)\s+-+\s*\n"
                         r"\s*RX-packets: (\d+).*\n\s*TX-packets: (\d+)", out):
        stats[int(m.group(1))] = {"rx": int(m.group(2)), "tx": int(m.group(3))}
    return stats


def forwards(stats):
    return (len(stats) == 2 and
            all(s["rx"] >= MIN_PACKETS and s["tx"] >= MIN_PACKETS for s in stats.values()))
