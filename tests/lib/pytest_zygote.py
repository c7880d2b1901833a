# SPDX-License-Identifier: GPL-2.0
"""One warm pytest interpreter per VM boot, forked for each suite.

Under TCG, `python3 -m pytest` spends seconds importing pytest and its
plugins before it collects anything, and a boot runs a dozen pytest suites.
tests/vm/guest/run-suites starts one server per boot that has paid for
those imports; a suite's `run` script starts

    /usr/bin/python3 -m pytest_zygote ARGS...        (tests/lib on PYTHONPATH)

instead of `python3 -m pytest ARGS...`.  That client hands the server its
argument list, working directory, environment and standard streams; the
server forks, and the child runs pytest.main() as `python3 -m pytest` would
have run it in the client's place: same sys.path (the working directory,
PYTHONPATH, then the system's), same streams, and in the client's process
group, so run-suites' timeout(1), which signals the whole group, stops the
tests too.  The client exits with the child's status.  Without the server
(VFIO_PYTEST_ZYGOTE unset, or nothing listening there) the client simply
becomes `python3 -m pytest`.

Only pytest and third-party modules are imported ahead: the project's test
libraries are imported by each child, after the fork, so no state of one
suite reaches the next.  Each child is a fresh fork of the same server.
"""

import json
import os
import signal
import socket
import sys

ENV = "VFIO_PYTEST_ZYGOTE"
MAX_REQUEST = 1 << 20


def _exec_pytest(argv):
    os.execv(sys.executable, [sys.executable, "-m", "pytest"] + argv)


def client(argv):
    path = os.environ.get(ENV)
    if not path:
        _exec_pytest(argv)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        sock.connect(path)
    except OSError:
        _exec_pytest(argv)
    request = {"argv": argv, "cwd": os.getcwd(), "env": dict(os.environ),
               "pgid": os.getpgrp()}
    socket.send_fds(sock, [json.dumps(request).encode()], [0, 1, 2])
    child = None

    def forward(signum, _frame):
        # A signal to this process alone (not to its group) is passed on.
        if child:
            try:
                os.kill(child, signum)
            except OSError:
                pass

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, forward)
    while True:
        msg = sock.recv(64)
        if not msg:
            print("pytest_zygote: the server went away", file=sys.stderr)
            return 125
        word, value = msg.decode().split()
        if word == "fallback":
            # The child could not join this process group, where a
            # timeout's signal would reach it: run pytest here instead.
            print("pytest_zygote: %s; running pytest directly" % value, file=sys.stderr)
            sock.close()
            _exec_pytest(argv)
        if word == "pid":
            child = int(value)
        elif word == "exit":
            code = int(value)
            return 128 - code if code < 0 else code


def _join_client_group(conn, request):
    """Move into the client's process group, or tell the client we could not."""
    try:
        os.setpgid(0, request["pgid"])
    except OSError as e:
        try:
            conn.send(b"fallback setpgid:%s" % os.strerror(e.errno).replace(" ", "_").encode())
        except OSError:
            pass
        os._exit(0)


def _child(request, fds, base_path):
    import pytest
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGPIPE):
        signal.signal(sig, signal.SIG_DFL)
    os.chdir(request["cwd"])
    env = request["env"]
    os.environ.clear()
    os.environ.update(env)
    extra = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    sys.path[:] = [request["cwd"]] + extra + base_path
    prefix = env.get("PYTHONPYCACHEPREFIX")
    if prefix:
        sys.pycache_prefix = prefix
    sys.argv = [pytest.__file__] + request["argv"]
    code = int(pytest.main(request["argv"]))
    sys.stdout.flush()
    sys.stderr.flush()
    # SystemExit, not os._exit: atexit handlers the tests registered run.
    sys.exit(code)


def serve(path):
    import pytest
    # The plugins pytest imports at its first configuration.
    import _pytest.config  # noqa: F401
    import _pytest.python  # noqa: F401
    import _pytest.fixtures  # noqa: F401
    import _pytest.assertion.rewrite  # noqa: F401
    import _pytest.terminal  # noqa: F401
    del pytest
    base_path = sys.path[1:]
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    srv.bind(path)
    srv.listen(4)
    print("ready", flush=True)
    while True:
        conn, _ = srv.accept()
        try:
            msg, fds, _, _ = socket.recv_fds(conn, MAX_REQUEST, 3)
            request = json.loads(msg)
        except (OSError, ValueError) as e:
            print("pytest_zygote: bad request: %s" % e, file=sys.stderr, flush=True)
            conn.close()
            continue
        pid = os.fork()
        if pid == 0:
            srv.close()
            _join_client_group(conn, request)
            conn.close()
            _child(request, fds, base_path)
        for fd in fds:
            os.close(fd)
        try:
            conn.send(b"pid %d" % pid)
        except OSError:
            pass
        _, status = os.waitpid(pid, 0)
        code = os.waitstatus_to_exitcode(status)
        print("pytest_zygote: %s: pid %d exit %d" % (request["cwd"], pid, code),
              file=sys.stderr, flush=True)
        try:
            conn.send(b"exit %d" % code)
        except OSError:
            pass
        conn.close()


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--serve":
        serve(sys.argv[2])
    else:
        sys.exit(client(sys.argv[1:]))
