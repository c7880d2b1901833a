# SPDX-License-Identifier: GPL-2.0
"""pytest plugin: print one TAP line per test so tests/run-all can count.

Use: python3 -m pytest -p pytest_tap (with tests/lib on PYTHONPATH).
Skipped tests are reported as "# SKIP", never as passes; an error in
setup or teardown is a failure.
"""

_n = 0


def _emit(status, nodeid, extra=""):
    global _n
    _n += 1
    print("\n%s %d - %s%s" % (status, _n, nodeid, extra), flush=True)


def pytest_runtest_logreport(report):
    if report.when == "call":
        if report.passed:
            _emit("ok", report.nodeid)
        elif report.skipped:
            reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else ""
            _emit("ok", report.nodeid, " # SKIP %s" % reason)
        else:
            _emit("not ok", report.nodeid)
    elif report.failed:
        _emit("not ok", "%s (%s)" % (report.nodeid, report.when))
    elif report.skipped and report.when == "setup":
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else ""
        _emit("ok", report.nodeid, " # SKIP %s" % reason)


def pytest_sessionfinish(session, exitstatus):
    print("1..%d" % _n, flush=True)
