#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Row 7, Python half: edu's id register read through the vfio bindings.

    py-read.py BACKEND BDF COUNT

Prints one JSON object: ns per Region.read32 (one pread through libvfio)
and per RegionMap.read32 (one load from the mapped BAR), the same two
reads vfio-bench times in C (row 7_c_read).  The loop binds the method
once, as a driver's hot loop would.
"""
import json
import sys
import time

import vfio

backend, bdf, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
with vfio.open(bdf, backend) as dev:
    bar = dev.region(0)
    rd = bar.read32
    rd(0)
    t0 = time.perf_counter_ns()
    for _ in range(n):
        v = rd(0)
    t1 = time.perf_counter_ns()
    with bar.map() as regs:
        mrd = regs.read32
        mrd(0)
        t2 = time.perf_counter_ns()
        for _ in range(n):
            w = mrd(0)
        t3 = time.perf_counter_ns()
    ok = v == 0x010000ED and w == 0x010000ED
print(json.dumps({"7_py_read": {"count": n, "pread_ns": (t1 - t0) / n,
                                "mmio_ns": (t3 - t2) / n, "id_ok": int(ok)}}))
