# SPDX-License-Identifier: GPL-2.0
"""Kernel fault injection (CONFIG_FAILSLAB, CONFIG_FAIL_PAGE_ALLOC with
CONFIG_FAULT_INJECTION_DEBUG_FS) for the VM suites.

A sweep fails the Nth allocation made by the calling thread inside one
call, for N = 1, 2, ... until the call makes fewer than N allocations.  The
Nth allocation is chosen with /proc/thread-self/fail-nth, the per-task
counter of the fault-injection core: it counts only this thread's own calls
into an enabled fault site (not interrupts, not kernel threads), so the
rest of the guest is never failed.  The probability must be non-zero (since
6.11 it switches the static key that makes the allocators call the fault
site at all), so the global mode is fenced off twice instead: times 0 (no
failure left to give) and task-filter on with no task's make-it-fail set.
Which allocator is failed is chosen per sweep by making the other one
ignore everything.

failslab can also be narrowed to some slab caches (its cache-filter: only
caches whose /sys/kernel/slab/NAME/failslab is 1 fail): select(kind,
spare_caches=...) marks every cache but those.  Marking needs caches that
are not merged with others (the debug kernel's KASAN keeps them apart).
"""

import os

DEBUGFS = "/sys/kernel/debug"
SLAB = "/sys/kernel/slab"
FAIL_NTH = "/proc/thread-self/fail-nth"

# Allocator -> debugfs settings that make it (and only it) a fault site.
# Pages allocated for user memory (__GFP_HIGHMEM) stay exempt: failing the
# test's own page faults tests the mm, not us.
_ON = {
    "failslab": {"ignore-gfp-wait": "N", "cache-filter": "N"},
    "fail_page_alloc": {"ignore-gfp-wait": "N", "ignore-gfp-highmem": "Y",
                        "min-order": "0"},
}
# The same allocator never failing: cache-filter with no cache marked
# SLAB_FAILSLAB; a minimum order above any order the page allocator has.
_OFF = {
    "failslab": {"ignore-gfp-wait": "Y", "cache-filter": "Y"},
    "fail_page_alloc": {"ignore-gfp-wait": "Y", "ignore-gfp-highmem": "Y",
                        "min-order": "64"},
}
_COMMON = {"probability": "100", "interval": "1", "times": "0", "space": "0",
           "verbose": "0", "task-filter": "Y"}
KINDS = tuple(_ON)


def available():
    """None when fault injection can be used here, else why not."""
    for kind in KINDS:
        if not os.path.isdir(os.path.join(DEBUGFS, kind)):
            return "no %s/%s (kernel without it?)" % (DEBUGFS, kind)
    if not os.path.exists(FAIL_NTH):
        return "no %s" % FAIL_NTH
    return None


def _write(kind, name, value):
    with open(os.path.join(DEBUGFS, kind, name), "w") as f:
        f.write(value)


def _read(kind, name):
    with open(os.path.join(DEBUGFS, kind, name)) as f:
        return f.read().strip()


def snapshot():
    """The current settings of both allocators, for restore()."""
    out = {}
    for kind in KINDS:
        names = set(_COMMON) | set(_ON[kind])
        out[kind] = {n: _read(kind, n) for n in names}
    return out


def restore(saved):
    _mark_caches(())
    for kind, values in saved.items():
        for name, value in values.items():
            _write(kind, name, value)


# The caches this module marked for failslab's cache-filter.
_marked = set()


def _set_failslab(cache, on):
    with open(os.path.join(SLAB, cache, "failslab"), "w") as f:
        f.write("1" if on else "0")


def _mark_caches(caches):
    """Mark exactly @caches (of those this module marks) for failslab."""
    want = set(caches)
    for cache in sorted(_marked - want):
        _set_failslab(cache, False)
    for cache in sorted(want - _marked):
        _set_failslab(cache, True)
    _marked.clear()
    _marked.update(want)


def slab_caches():
    """Every slab cache's own name (aliases of merged caches left out)."""
    return sorted(c for c in os.listdir(SLAB)
                  if not os.path.islink(os.path.join(SLAB, c)))


def select(kind, spare_caches=None):
    """Make @kind the only allocator fail-nth can fail.  With
    @spare_caches (failslab only), every slab cache but those can fail."""
    for k in KINDS:
        for name, value in _COMMON.items():
            _write(k, name, value)
        for name, value in (_ON if k == kind else _OFF)[k].items():
            _write(k, name, value)
    if spare_caches is None:
        _mark_caches(())
        return
    assert kind == "failslab", "only failslab filters by cache"
    missing = set(spare_caches) - set(os.listdir(SLAB))
    assert not missing, "no slab cache %s" % ", ".join(sorted(missing))
    _mark_caches(c for c in slab_caches() if c not in spare_caches)
    _write("failslab", "cache-filter", "Y")


class FailNth:
    """This thread's fail-nth file, opened once (opening it allocates)."""

    def __init__(self):
        self.fd = os.open(FAIL_NTH, os.O_RDWR)

    def arm(self, n):
        os.pwrite(self.fd, b"%d" % n, 0)

    def disarm(self):
        """Returns True when the armed fault was injected (the counter had
        reached the Nth call), False when the call made fewer calls."""
        left = int(os.pread(self.fd, 32, 0).decode().strip() or "0")
        os.pwrite(self.fd, b"0", 0)
        return left == 0

    def close(self):
        os.close(self.fd)


def sweep(setup, call, cleanup, check, limit):
    """Fail the Nth allocation of call(state) for N = 1 .. (until the call
    makes fewer than N allocations, at most @limit).

    setup() -> state, done without faults; call(state) is what is failed;
    cleanup(state) undoes it without faults; check(n, errno) runs after
    cleanup and raises on a leak.  Returns (outcomes, complete):
    outcomes maps errno (0 = success) to how many N gave it; complete is
    False when @limit was reached before the call ran out of allocations.
    """
    fnth = FailNth()
    outcomes = {}
    try:
        for n in range(1, limit + 1):
            state = setup()
            fnth.arm(n)
            err = 0
            try:
                call(state)
            except OSError as e:
                err = e.errno
            injected = fnth.disarm()
            cleanup(state)
            check(n, err)
            if not injected:
                # Fewer than n fault sites: the call ran untouched.
                if err:
                    raise AssertionError("call failed with errno %d without "
                                         "any injected fault" % err)
                return outcomes, True
            outcomes[err] = outcomes.get(err, 0) + 1
        return outcomes, False
    finally:
        fnth.close()
