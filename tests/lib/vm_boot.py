# SPDX-License-Identifier: GPL-2.0
"""Several VM suites in one guest boot: planning, running, attributing.

Suites of the same kernel with the same `vm-args` share one boot of
tests/vm/run-vm: tests/vm/guest/run-suites runs them one after the other
and leaves each one's output, exit status and wall time in
RUN/suites/NAME/.  A boot that stops during suite X (a crash, a panic, the
boot's time limit) fails suite X, and the suites after X run again in a
fresh boot.  Kernel-log problems are attributed to the suite that was
running when they were logged (the guest writes "vfio-test: suite X begin"
and "... end" into the kernel log around each suite).
"""

import importlib.machinery
import importlib.util
import itertools
import json
import os
import re
import subprocess
import time

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO = os.path.dirname(TESTS)
RUN_VM = os.path.join(TESTS, "vm", "run-vm")
GUEST_RUNNER = os.path.join(TESTS, "vm", "guest", "run-suites")
MARK_RE = re.compile(r"vfio-test: suite (\S+) (begin|end)")
# Boot, module builds of the initramfs and the kmemleak scan, on top of the
# suites' own limits.
BOOT_ALLOWANCE = 180
DEBUG_BOOT_ALLOWANCE = 600
# A whole boot never runs longer than this, whatever its suites' limits add
# up to: a guest wedged after a suite's own time limit (its clean-up stuck
# behind an RCU stall) must not hold a worker for hours.  About twice the
# longest boot measured (debug: 1435 s; stock: 662 s).
BOOT_CAP = 1800
DEBUG_BOOT_CAP = 3600


def _health_re():
    """The health gate's pattern, from run-vm itself (one definition)."""
    loader = importlib.machinery.SourceFileLoader("run_vm", RUN_VM)
    spec = importlib.util.spec_from_loader("run_vm", loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod.HEALTH_RE


HEALTH_RE = _health_re()


class Suite:
    """One VM suite on one kernel."""

    def __init__(self, sdir, kver, vmargs, limit):
        self.dir = sdir
        self.short = os.path.basename(sdir)
        self.kver = kver
        self.vmargs = tuple(vmargs)
        self.limit = limit
        self.name = "vm/%s/%s" % (kver, self.short)


class SuiteResult:
    def __init__(self, suite, rc, output, seconds, stopped=None):
        self.suite = suite
        self.rc = rc
        self.output = output
        self.seconds = seconds
        # Why the boot ended during this suite, or None when it finished.
        self.stopped = stopped
        # The guest kernel's lost-timer line when the boot ended because
        # the emulated CPU lost a timer interrupt (run-vm's LOST_TIMER_RE).
        self.lost_timer = None
        # This attempt was cut short by a lost timer and the suite ran
        # again in a fresh boot: the later attempt is its result.
        self.superseded = False


class BootResult:
    """One guest boot: which suites it ran, its wall time, its kernel log."""

    def __init__(self, kver, names, run_dir, rc, seconds, problems, suite_seconds):
        self.kver = kver
        self.names = names
        self.run_dir = run_dir
        self.rc = rc
        self.seconds = seconds
        self.problems = problems      # [(where, line)]
        self.suite_seconds = suite_seconds

    @property
    def label(self):
        return "vm/%s boot [%s]" % (self.kver, " ".join(self.names))


def vm_args(sdir):
    path = os.path.join(sdir, "vm-args")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [line.strip() for line in f if line.strip() and not line.startswith("#")]


def kernel_matches(sdir, kver):
    path = os.path.join(sdir, "kernels")
    if not os.path.exists(path):
        return True
    with open(path) as f:
        return re.search(f.read().strip(), kver) is not None


def _marker(sdir, name):
    return os.path.exists(os.path.join(sdir, name))


def runs_last(sdir):
    """A suite that leaves devices in states the others do not expect (the
    fuzzer writes edu's registers at random, and edu has no reset) says so
    with a file named `runs-last`: it runs after every other suite of its
    boot, so it costs no boot of its own."""
    return _marker(sdir, "runs-last")


def runs_first(sdir):
    """A suite that needs the kernel as booted (e.g. one that checks the
    kernel is not yet tainted by no-IOMMU mode, or allocates hugepages
    before anything fragmented memory) says so with a file named
    `runs-first`."""
    return _marker(sdir, "runs-first")


def plan(kernels, suite_dirs, wanted, per_suite=False):
    """Group the wanted suites into boots: same kernel, same vm-args, at
    most one `runs-first` suite per boot (run first) and one `runs-last`
    suite (run last); a second one of either kind gets a boot of its own.

    Returns a list of lists of Suite, the slowest boots first (the debug
    kernel's, then the largest groups), so they overlap with the rest.
    """
    groups, first, last = {}, {}, {}
    for kver in kernels:
        # Debug kernels (KASAN) run about five times slower.
        limit = 1500 if "debug" in kver else 600
        for sdir in suite_dirs:
            suite = Suite(sdir, kver, vm_args(sdir), limit)
            if not wanted(suite.name) or not kernel_matches(sdir, kver):
                continue
            key = (kver, suite.vmargs, suite.short if per_suite else "")
            special = None if per_suite else \
                first if runs_first(sdir) else last if runs_last(sdir) else None
            if special is None:
                groups.setdefault(key, []).append(suite)
                continue
            if key in special:
                key = (kver, suite.vmargs, suite.short)
            special[key] = suite
    for key, suite in first.items():
        groups.setdefault(key, []).insert(0, suite)
    for key, suite in last.items():
        groups.setdefault(key, []).append(suite)
    boots = list(groups.values())
    boots.sort(key=lambda b: ("debug" not in b[0].kver, -len(b)))
    return boots


def attribute(run_dir, names):
    """Kernel-log problem lines of one boot, each with where it was logged.

    `where` is "boot" (before the first suite), a suite name (logged while
    it ran, or while its devices were handed back after it), or "kmemleak"
    (the scan at the end of the boot: a leak of any suite of the boot).
    """
    found, seen = [], set()
    for fname in ("console.log", "dmesg.txt"):
        path = os.path.join(run_dir, fname)
        if not os.path.exists(path):
            continue
        where = "boot"
        with open(path, errors="replace") as f:
            for line in f:
                m = MARK_RE.search(line)
                if m:
                    where = m.group(1)
                    continue
                if not HEALTH_RE.search(line):
                    continue
                key = re.sub(r"^(\[[ 0-9.]+\] )?", "", line.strip())
                if key not in seen:
                    seen.add(key)
                    found.append((where, "%s: %s" % (fname, line.rstrip())))
    path = os.path.join(run_dir, "kmemleak.txt")
    if os.path.exists(path):
        with open(path, errors="replace") as f:
            first = next((l for l in f if l.strip()), None)
        if first:
            found.append(("kmemleak (suites %s)" % ", ".join(names),
                          "kmemleak.txt: " + first.rstrip()))
    return found


def describe(where):
    """Say in words where attribute() found a problem line."""
    if where == "boot":
        return "logged during boot, before the first suite"
    if where.startswith("kmemleak"):
        return "found by the " + where
    return "logged during suite %s (or while its devices were handed back)" % where


def _read(path, default=None):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return default


_boot_count = itertools.count(1)


def _boot_once(suites, run_root):
    """One run-vm boot over `suites`; returns (BootResult, [SuiteResult])."""
    kver = suites[0].kver
    stamp = time.strftime("%Y%m%d-%H%M%S")
    # The count keeps two boots of one process apart that start within a
    # second with the same suite (a boot that stopped at once, run again).
    run_dir = os.path.join(run_root, "%s-%s-%s-%d.%d" % (stamp, kver, suites[0].short,
                                                          os.getpid(), next(_boot_count)))
    allowance = DEBUG_BOOT_ALLOWANCE if "debug" in kver else BOOT_ALLOWANCE
    cap = DEBUG_BOOT_CAP if "debug" in kver else BOOT_CAP
    limit = min(sum(s.limit + 10 for s in suites) + allowance, cap)
    argv = [RUN_VM, "-q", "--kernel", kver, "--timeout", str(limit), "--run-dir", run_dir,
            "--cwd", REPO] + list(suites[0].vmargs) + ["--", GUEST_RUNNER]
    argv += ["%s=%d:%s" % (s.short, s.limit, s.dir) for s in suites]
    t0 = time.monotonic()
    try:
        res = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True, errors="replace", cwd=REPO,
                             stdin=subprocess.DEVNULL, timeout=limit + 120)
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else e.stdout
        res = subprocess.CompletedProcess(argv, 124, out or "")
    secs = time.monotonic() - t0
    results, suite_secs = [], 0.0
    stopped_at = None
    for s in suites:
        sdir = os.path.join(run_dir, "suites", s.short)
        out = _read(os.path.join(sdir, "output.log"))
        result = _read(os.path.join(sdir, "result.json"))
        if result is not None:
            r = json.loads(result)
            suite_secs += r["seconds"]
            results.append(SuiteResult(s, r["rc"], out or "", r["seconds"]))
            continue
        if out is None:
            break  # never started: the caller runs it in another boot
        why = ("run-vm exit %d%s; the boot's console: %s/console.log"
               % (res.returncode, " (time limit)" if res.returncode == 124 else "", run_dir))
        tail = "\n".join("# run-vm: " + l for l in res.stdout.splitlines()[-5:])
        # Its time is unknown: it gets the rest of the boot.
        results.append(SuiteResult(s, 126, out + "\n" + tail + "\n", secs - suite_secs, why))
        suite_secs = secs
        stopped_at = s
        break
    if not results:
        # The guest never reached the first suite (run-vm already retried
        # the boot): nothing ran, every suite of the boot fails.
        why = "the guest did not start the suites (run-vm exit %d; %s/console.log)" % (
            res.returncode, run_dir)
        tail = "\n".join("# run-vm: " + l for l in res.stdout.splitlines()[-5:])
        results = [SuiteResult(s, 126, tail + "\n", 0.0, why) for s in suites]
        stopped_at = suites[-1]
    if stopped_at:
        vm_result = _read(os.path.join(run_dir, "result.json"))
        lost_timer = json.loads(vm_result).get("lost_timer") if vm_result else None
        for r in results:
            if r.stopped:
                r.lost_timer = lost_timer
    names = [r.suite.short for r in results] if stopped_at else [s.short for s in suites]
    boot = BootResult(kver, names, run_dir, res.returncode, secs,
                      attribute(run_dir, names), suite_secs)
    return boot, results


def run_boot(suites, run_root):
    """Run `suites` in as few boots as the suites allow.

    Returns [(BootResult, [SuiteResult])]: one entry per boot.  A boot that
    stops during suite X reports X as failed; the suites after it run in a
    fresh boot, so one crashing suite never hides the others' results.
    When the boot stopped because the emulated CPU lost a timer interrupt,
    X itself runs once more in that fresh boot (every suite of the boot
    when it stopped before the first): the first attempt comes back marked
    `superseded`.
    """
    out, retried = [], set()
    while suites:
        boot, results = _boot_once(suites, run_root)
        out.append((boot, results))
        done = len(results)
        if done == 0:
            break
        # The emulation lost the guest's timer interrupt (a test-bed fault,
        # docs/testing.md) during the suite the boot stopped in, or before
        # the first suite when it stopped in none: those suites run once
        # more, in a fresh boot, and that attempt is their result.
        lost = [r for r in results if r.lost_timer and r.suite.name not in retried]
        for r in lost:
            retried.add(r.suite.name)
            r.superseded = True
        suites = suites[done - len(lost):]
    return out
