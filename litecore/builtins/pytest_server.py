"""A pytest fork server for the local sandbox: the verifier without pytest's start-up cost.

Every verification runs pytest afresh in a fresh sandbox, and importing pytest is most of
a short test run's CPU (about 0.13 s of 0.2 s). This program imports pytest once and,
per request, forks a child that joins the sandbox exactly as the sandbox's own processes
were placed there: its cgroups, then its user, IPC, UTS, network, PID, cgroup and mount
namespaces; the test process is forked inside the sandbox's PID namespace, starts a new
session, dies with its parent, takes the sandbox's resource limits, keeps only the
sandbox's capabilities, sets no-new-privileges, closes every inherited descriptor, and
gets the environment, folder and output file the standard ``tests/test.sh`` would give it.
Then it runs ``pytest.console_main()``, which is what ``python3 -I -m pytest`` runs.

It is run by the interpreter the sandbox's ``python3`` resolves to, as ``python3 -I`` (so
``sys.path`` and flags are those of the standard command), and uses only the standard
library and pytest: it is started with ``-c`` and this file's text, never imported by
litecore. Protocol: one connection per run on a Unix socket; the request and the reply are
one JSON line each. The server exits when its standard input closes (litecore is gone).
"""

from __future__ import annotations

import ctypes
import gc
import importlib
import json
import os
import resource
import select
import signal
import socket
import sys

CLONE_FLAGS = {
    "user": 0x10000000, "ipc": 0x08000000, "uts": 0x04000000, "net": 0x40000000,
    "pid": 0x20000000, "cgroup": 0x02000000, "mnt": 0x00020000,
}
PR_SET_PDEATHSIG = 1
PR_CAPBSET_DROP = 24
PR_SET_NO_NEW_PRIVS = 38
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_RAISE = 2
LINUX_CAPABILITY_VERSION_3 = 0x20080522


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _check(rc: int, what: str) -> None:
    if rc != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def enter_sandbox(req: dict) -> None:
    """Join the sandbox's cgroups and namespaces (PID: for the children forked after this)."""
    libc = _libc()
    for procs in req["cgroups"]:
        with open(procs, "w") as fh:
            fh.write(str(os.getpid()))
    target = req["ns_pid"]
    fds = {}
    try:
        for name in CLONE_FLAGS:
            mine, theirs = os.stat(f"/proc/self/ns/{name}"), os.stat(f"/proc/{target}/ns/{name}")
            if (mine.st_dev, mine.st_ino) != (theirs.st_dev, theirs.st_ino):
                fds[name] = os.open(f"/proc/{target}/ns/{name}", os.O_RDONLY | os.O_CLOEXEC)
        # the user namespace first: its owner's capabilities then allow joining the rest; mount last
        for name, fd in fds.items():
            _check(libc.setns(fd, CLONE_FLAGS[name]), f"joining the sandbox's {name} namespace")
    finally:
        for fd in fds.values():
            os.close(fd)


def _take_capabilities(caps: dict[str, int]) -> None:
    """Make this process's capability sets those of the sandbox's shell (``CapBnd``... masks)."""
    libc = _libc()
    with open("/proc/sys/kernel/cap_last_cap") as fh:
        last = int(fh.read())
    for cap in range(last + 1):
        if not caps["CapBnd"] >> cap & 1:
            _check(libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0), f"dropping capability {cap}")
    header = _CapHeader(LINUX_CAPABILITY_VERSION_3, 0)
    data = (_CapData * 2)()
    for i in (0, 1):
        data[i].effective = (caps["CapEff"] >> (32 * i)) & 0xFFFFFFFF
        data[i].permitted = (caps["CapPrm"] >> (32 * i)) & 0xFFFFFFFF
        data[i].inheritable = (caps["CapInh"] >> (32 * i)) & 0xFFFFFFFF
    _check(libc.capset(ctypes.byref(header), data), "setting capabilities")
    for cap in range(last + 1):
        if caps["CapAmb"] >> cap & 1:
            _check(libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0), f"raising ambient capability {cap}")


def run_tests(req: dict) -> None:
    """In the sandbox's PID namespace: become a sandbox process, then run pytest (never returns)."""
    import pytest

    os.setsid()
    libc = _libc()
    _check(libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "setting the parent-death signal")
    for name, (soft, hard) in req["rlimits"].items():
        if resource.getrlimit(getattr(resource, name)) != (soft, hard):
            resource.setrlimit(getattr(resource, name), (soft, hard))
    _take_capabilities(req["caps"])
    _check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "setting no-new-privileges")
    null = os.open("/dev/null", os.O_RDONLY)
    os.dup2(null, 0)
    log_dir = os.path.dirname(req["log"])
    os.makedirs(log_dir, exist_ok=True)
    out = os.open(req["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(out, 1)
    os.dup2(out, 2)
    os.closerange(3, max(1 << 16, os.sysconf("SC_OPEN_MAX")))
    os.environ.clear()
    os.environ.update(req["env"])
    os.chdir(req["cwd"])
    os.environ["PWD"] = req["cwd"]
    sys.argv = [os.path.join(os.path.dirname(pytest.__file__), "__main__.py"), *req["args"]]
    try:
        code = pytest.console_main()
    except SystemExit as exc:  # as the interpreter would exit: None is 0, any other object 1
        code = 0 if exc.code is None else exc.code if isinstance(exc.code, int) else 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(int(code))


def serve(conn: socket.socket) -> None:
    """One request: join the sandbox, fork the test process into it, wait (with the timeout), reply."""
    reply: dict = {"started": False, "exit": None, "timed_out": False, "error": None}
    try:
        with conn.makefile("r") as fh:
            req = json.loads(fh.readline())
        enter_sandbox(req)
        pid = os.fork()
        if pid == 0:
            try:
                run_tests(req)
            finally:
                os._exit(127)
        reply["started"] = True
        pidfd = os.pidfd_open(pid)
        ready, _, _ = select.select([pidfd], [], [], max(0.0, float(req["timeout"])))
        if not ready:
            reply["timed_out"] = True
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        reply["exit"] = None if reply["timed_out"] else os.waitstatus_to_exitcode(status)
    except Exception as exc:  # noqa: BLE001  (reported: litecore then runs `bash tests/test.sh`)
        reply["error"] = f"{type(exc).__name__}: {exc}"
    try:
        conn.sendall(json.dumps(reply).encode() + b"\n")
    except OSError:
        pass


def main() -> None:
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    import pytest  # noqa: F401  (the point: imported once, before any fork)
    from _pytest.config import default_plugins

    for name in default_plugins:  # the builtin plugins every run imports
        try:
            importlib.import_module(f"_pytest.{name}")
        except ImportError:
            pass
    gc.freeze()  # what is imported stays out of the children's garbage collections (fewer copied pages)

    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(sys.argv[1])
    server.listen(128)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # request handlers are reaped by the kernel
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    while True:
        readable, _, _ = select.select([server, sys.stdin], [], [])
        if sys.stdin in readable and not os.read(0, 1):
            return
        if server in readable:
            conn, _ = server.accept()
            if os.fork() == 0:
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                server.close()
                serve(conn)
                os._exit(0)
            conn.close()


if __name__ == "__main__":
    main()
