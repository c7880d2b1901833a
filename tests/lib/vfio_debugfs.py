# SPDX-License-Identifier: GPL-2.0
"""Reading vfio-dkms's debugfs files (docs/introspection.md)."""

import os

DBG = "/sys/kernel/debug/vfio-dkms"


def parse(name):
    """Blocks separated by blank lines: {id: {key: [values]}}."""
    out = {}
    with open(os.path.join(DBG, name)) as f:
        text = f.read()
    for block in text.split("\n\n"):
        lines = [l for l in block.splitlines() if l.strip()]
        if not lines:
            continue
        _kind, ident = lines[0].split()
        rec = {}
        for l in lines[1:]:
            key, _, val = l.partition(": ")
            rec.setdefault(key, []).append(val)
        out[ident] = rec
    return out


def dma_ranges(c):
    """[(start, end, prot, pid)] of a container block."""
    out = []
    for d in c.get("dma", []):
        rng, rest = d.split("] ")
        start, end = (int(x, 16) for x in rng.lstrip("[").split(", "))
        prot, _, pid = rest.split()
        out.append((start, end, prot, int(pid)))
    return out
