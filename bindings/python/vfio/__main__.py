# SPDX-License-Identifier: LGPL-2.1-or-later
"""python3 -m vfio list|bind|unbind|info: vfioctl's commands, in Python.

Exit status, as vfioctl(1): 0 ok, 1 failure, 2 usage, 3 no such device,
4 permission denied, 5 busy/group not viable, 6 not bound to a VFIO driver
or driver missing, 7 no IOMMU group.
"""

import argparse
import errno
import sys

import vfio

_EXIT = {errno.EINVAL: 2, errno.ENOENT: 3, errno.EACCES: 4, errno.EPERM: 4,
         errno.EBUSY: 5, errno.ENODEV: 6, errno.ENXIO: 7}
_REGION_NAMES = {0: "BAR0", 1: "BAR1", 2: "BAR2", 3: "BAR3", 4: "BAR4", 5: "BAR5",
                 6: "ROM", 7: "config", 8: "VGA"}


def _list(args):
    for d in vfio.devices():
        print("%s %04x:%04x [%06x] %-16s group %s" % (
            d.address, d.vendor, d.device, d.class_code, d.driver or "-",
            "-" if d.iommu_group is None else d.iommu_group))


def _bind(args):
    prev = vfio.bind(args.address, args.driver)
    print("%s: %s -> %s" % (args.address, prev or "(none)", args.driver))


def _unbind(args):
    vfio.unbind(args.address)
    print("%s: unbound" % args.address)


def _info(args):
    with vfio.open(args.address, backend=args.backend) as dev:
        print("%s %04x:%04x backend %s iommu group %d flags %#x" % (
            dev.address, dev.vendor, dev.device, dev.backend, dev.iommu_group, dev.flags))
        for i in range(dev.regions):
            r = dev.region(i)
            if not r.size:
                continue
            flags = "".join(c if f else "-" for c, f in
                            (("r", r.readable), ("w", r.writable), ("m", r.mappable)))
            print("  region %d %-6s size %#10x %s" % (i, _REGION_NAMES.get(i, ""), r.size, flags))
        for kind in vfio.IRQ_KINDS:
            n = dev.irq_count(kind)
            if n:
                print("  irq %-4s %d vector(s)" % (kind, n))


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python3 -m vfio", description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("list", help="list PCI devices").set_defaults(func=_list)
    p = sub.add_parser("bind", help="bind a device to a driver (root)")
    p.add_argument("address")
    p.add_argument("driver", nargs="?", default="vfio-dkms-pci")
    p.set_defaults(func=_bind)
    p = sub.add_parser("unbind", help="unbind a device (root)")
    p.add_argument("address")
    p.set_defaults(func=_unbind)
    p = sub.add_parser("info", help="open a device and show its regions and interrupts")
    p.add_argument("-b", "--backend", default="auto", choices=vfio.BACKENDS)
    p.add_argument("address")
    p.set_defaults(func=_info)
    args = ap.parse_args(argv)
    try:
        args.func(args)
    except OSError as e:
        print("vfio: %s" % (e.strerror or e), file=sys.stderr)
        return _EXIT.get(e.errno, 1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
