"""The ``local`` sandbox backend: bubblewrap namespaces on this machine.

Each sandbox gets private writable folders (``/app``, ``/tmp``, ``/root``,
``/logs``, ``/tests``, ``/solution`` ...) over a read-only view of the host's
``/usr`` and ``/etc``, its own PID, IPC, UTS and (unless the task allows the
network) network namespace. Inside runs one small bash *control loop* that
executes requests written to a private control folder; that keeps an ``exec``
round trip at a few milliseconds. Killing the namespace's PID 1 kills every
process in it, which is how agent leftovers (daemons included) are removed
before verification and at stop.

A task's Dockerfile is applied here when it only uses FROM (a Debian 12 image or
litecore's base images, matching this host), WORKDIR, ENV, COPY/ADD of local
files, and RUN steps that succeed in the sandbox; anything else needs a
container backend, and the error says so.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import resource
import secrets
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath

import attrs
import psutil

import litecore
from litecore.dockerfile import env_pairs, parse_dockerfile
from litecore.errors import SandboxUnavailable
from litecore.records import SandboxBackendPlugin
from litecore.sandbox import (
    MAX_OUTPUT_BYTES,
    ExecResult,
    OutputBuffer,
    Sandbox,
    SandboxBackend,
    Session,
    default_cache_dir,
    shell_script,
)
from litecore.task import Task, tree_digest

#: Folders a sandbox owns (writable, private). Everything else is the host's, read-only.
PRIVATE_DIRS = (
    "/app", "/root", "/home", "/srv", "/opt", "/data", "/workspace", "/mnt",
    "/tmp", "/var/tmp", "/run", "/logs", "/tests", "/solution",
)
#: FROM images this host can stand in for (Debian 12), besides configured ones.
HOST_COMPATIBLE_IMAGES = (
    "debian:bookworm", "debian:bookworm-slim", "debian:12", "debian:12-slim",
    "litecore/base:bookworm", "litecore/dev:bookworm", "debian-min:bookworm",
)
IGNORED_INSTRUCTIONS = {"LABEL", "EXPOSE", "CMD", "ENTRYPOINT", "ARG", "SHELL", "STOPSIGNAL",
                        "HEALTHCHECK", "VOLUME", "MAINTAINER"}
SANDBOX_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#: The environment every sandbox process starts from (the task's ENV comes on top).
BASE_ENV = {"PATH": SANDBOX_PATH, "HOME": "/root", "LANG": "C.UTF-8", "TERM": "xterm", "PYTHONDONTWRITEBYTECODE": "1"}
#: Folders the sandbox shares with the host, read-only (``/bin``, ``/sbin``, ``/lib*`` link into ``/usr``).
HOST_SHARED_DIRS = ("/usr", "/etc", "/var", "/bin", "/sbin", "/lib", "/lib64")
INSTALL_HINT = "apt-get install -y bubblewrap"

CONTROL_LOOP = r"""
while IFS=' ' read -r op id t; do
  case "$op" in
    X) timeout -k 1 "$t" bash --noprofile --norc /.lc/$id.sh </dev/null >/.lc/$id.out 2>&1
       echo "$id $?" ;;
    S) ( cd "$(cat /.lc/$id.cwd)" 2>/dev/null
         exec -a lc-session-$id bash --noprofile --norc /.lc/session.sh $id ) </.lc/$id.in >/.lc/$id.out 2>&1 &
       echo "$id 0" ;;
    *) echo "$id 127" ;;
  esac
done
"""
SESSION_SHELL = r"""trap 'printf "\036EXIT:%d\036\n" $?' EXIT
. /.lc/$1.rc
while IFS= read -r __lc_line; do eval "$__lc_line"; done
"""


@attrs.frozen(kw_only=True)
class LocalConfig:
    """Options of ``[sandbox.local]``."""

    #: Where sandbox folders live (default: a litecore folder in the system temp dir).
    root: str | None = None
    #: Extra FROM images to treat as equivalent to this host.
    compatible_images: list[str] = attrs.field(factory=list)
    #: Output kept per command, in bytes.
    max_output_bytes: int = MAX_OUTPUT_BYTES
    #: Resource limits (task.toml ``[environment] memory_mb``, ``storage_mb``, ``cpus`` override the
    #: defaults): memory and CPU through a cgroup where this host allows one (else a per-process
    #: address-space limit), processes through the cgroup's pids limit (else RLIMIT_NPROC), the
    #: sandbox's writable folders through a storage watchdog plus a per-file size limit.
    limits: bool = True
    #: Run litecore's standard verifier (``tests/test.sh`` as generated) from a pytest fork server that
    #: joins the sandbox, instead of starting pytest afresh each time: same tests, same sandbox, about
    #: 0.13 s less CPU per verification. ``false``: always ``bash /tests/test.sh``.
    prewarmed_pytest: bool = True
    memory_mb: int = 2048
    storage_mb: int = 4096
    pids: int = 1024
    cpus: float = 1.0


def sandbox_root(config: LocalConfig | None = None) -> Path:
    if config and config.root:
        return Path(config.root)
    return Path(tempfile.gettempdir()) / "litecore-sandboxes"


def _require_bwrap() -> str:
    path = shutil.which("bwrap")
    if not path:
        raise SandboxUnavailable(f"the local sandbox needs bubblewrap, which is not installed: {INSTALL_HINT}")
    return path


@attrs.frozen
class PreparedEnv:
    """A task environment applied to a snapshot folder."""

    snapshot: Path
    env: Mapping[str, str]
    workdir: str


def _host_path(fs: Path, sandbox_path: str) -> Path:
    """Map an absolute sandbox path into the sandbox's private folders on the host."""
    p = PurePosixPath(sandbox_path)
    if not p.is_absolute():
        raise ValueError(f"sandbox path must be absolute: {sandbox_path}")
    for d in sorted(PRIVATE_DIRS, key=len, reverse=True):
        if p == PurePosixPath(d) or PurePosixPath(d) in p.parents:
            rel = p.relative_to("/")
            host = fs / rel
            # resolve without following links out of the sandbox tree
            return host
    raise PermissionError(f"{sandbox_path} is read-only in the local sandbox (writable: {', '.join(PRIVATE_DIRS)})")


def _clear_dir(path: Path) -> None:
    """Empty ``path`` (a bind-mount source: the folder itself must survive)."""
    if path.is_symlink() or (path.exists() and not path.is_dir()):
        path.unlink()
    path.mkdir(parents=True, exist_ok=True)
    for child in path.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)


def _copy_in(src: Path, dst: Path) -> None:
    if src.is_dir():
        shutil.copytree(src, dst, symlinks=True, dirs_exist_ok=True)
    else:
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst)


#: What root keeps inside a limited sandbox: Docker's default capability set.
DEFAULT_CAPS = (
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID",
    "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL",
    "CAP_AUDIT_WRITE",
)
_JOIN_CGROUPS = 'n=$1; shift; while [ "$n" -gt 0 ]; do echo $$ > "$1" || exit 125; shift; n=$((n-1)); done; exec "$@"'
CGROUP_ROOT = Path("/sys/fs/cgroup")
CGROUP_PREFIX = "litecore-"


def _own_cgroup(controller: str) -> Path | None:
    """This process's cgroup (v1) for ``controller``, if that hierarchy is mounted and writable."""
    base = CGROUP_ROOT / controller
    if not (base / "cgroup.procs").is_file():
        return None
    try:
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, names, path = line.split(":", 2)
            if controller in names.split(","):
                own = base / path.lstrip("/")
                return own if os.access(own, os.W_OK) else None
    except (OSError, ValueError):
        return None
    return None


@attrs.frozen
class _Limits:
    """One sandbox's resource limits: its cgroups (v1) where possible, else rlimits."""

    memory_mb: int
    storage_mb: int
    pids: int
    cpus: float
    cgroups: tuple[Path, ...] = ()

    @classmethod
    def create(cls, name: str, config: LocalConfig, task: Task) -> _Limits:
        env = task.config.get("environment", {})
        memory = int(task.memory_mb or config.memory_mb)
        storage = int(env.get("storage_mb") or config.storage_mb)
        cpus = float(task.cpus or config.cpus)
        made: list[Path] = []
        settings = {
            "memory": {"memory.limit_in_bytes": str(memory * 2**20), "memory.memsw.limit_in_bytes": str(memory * 2**20),
                       "memory.swappiness": "0"},
            "pids": {"pids.max": str(config.pids)},
            "cpu": {"cpu.cfs_period_us": "100000", "cpu.cfs_quota_us": str(max(1000, int(cpus * 100000)))},
        }
        for controller, values in settings.items():
            own = _own_cgroup(controller)
            if own is None:
                continue
            cg = own / f"{CGROUP_PREFIX}{name}"
            try:
                cg.mkdir(exist_ok=True)
                for key, value in values.items():
                    try:
                        (cg / key).write_text(value)
                    except OSError:
                        if key in ("memory.limit_in_bytes", "pids.max"):
                            raise
                made.append(cg)
            except OSError:
                _remove_cgroup(cg)
        return cls(memory_mb=memory, storage_mb=storage, pids=config.pids, cpus=cpus, cgroups=tuple(made))

    def has(self, controller: str) -> bool:
        return any(c.parent.is_relative_to(CGROUP_ROOT / controller) for c in self.cgroups)

    def ulimits(self) -> str:
        """Shell ``ulimit`` lines run first in the control loop (inherited by everything in the sandbox)."""
        lines = [f"ulimit -f {self.storage_mb * 1024}", "ulimit -c 0"]
        if not self.has("memory"):
            lines.append(f"ulimit -v {self.memory_mb * 1024}")
        if not self.has("pids"):
            lines.append(f"ulimit -u {self.pids + _host_processes()}")
        return "; ".join(lines) + "\n"

    def remove(self) -> None:
        for cg in self.cgroups:
            _remove_cgroup(cg)

    def oom_kills(self) -> int:
        for cg in self.cgroups:
            ctl = cg / "memory.oom_control"
            if ctl.is_file():
                try:
                    for line in ctl.read_text().splitlines():
                        if line.startswith("oom_kill "):
                            return int(line.split()[1])
                except (OSError, ValueError):
                    return 0
        return 0


def _host_processes() -> int:
    """RLIMIT_NPROC counts all of a user's processes; the fallback limit adds the host's."""
    return len(psutil.pids())


def _remove_cgroup(cg: Path) -> None:
    """Remove a sandbox cgroup, killing anything still in it first."""
    procs = cg / "cgroup.procs"
    for _ in range(50):
        if not cg.exists():
            return
        try:
            pids = [int(x) for x in procs.read_text().split()]
        except (OSError, ValueError):
            pids = []
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        try:
            cg.rmdir()
            return
        except OSError:
            time.sleep(0.02)


def _usage_bytes(root: Path, stop_at: int) -> int:
    """Disk blocks used under ``root`` (stops counting once past ``stop_at``)."""
    total = 0
    stack = [str(root)]
    while stack:
        d = stack.pop()
        try:
            with os.scandir(d) as it:
                for e in it:
                    try:
                        st = e.stat(follow_symlinks=False)
                    except OSError:
                        continue
                    total += st.st_blocks * 512
                    if e.is_dir(follow_symlinks=False):
                        stack.append(e.path)
        except OSError:
            continue
        if total > stop_at:
            break
    return total


class _StorageWatch:
    """Keeps each sandbox's writable folders under its ``storage_mb``.

    Cheap when nothing happens: it checks the file system's free space twice a second
    and walks the open sandboxes' folders only after free space dropped noticeably; a
    sandbox over its limit has every process killed (its files stay, for the verifier).
    """

    INTERVAL = 0.5
    TRIGGER_BYTES = 32 * 2**20

    def __init__(self) -> None:
        self._sandboxes: dict[int, LocalSandbox] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def add(self, sb: LocalSandbox) -> None:
        with self._lock:
            self._sandboxes[id(sb)] = sb
            if self._thread is None or not self._thread.is_alive():
                self._stop.clear()
                self._thread = threading.Thread(target=self._run, name="litecore-storage-watch", daemon=True)
                self._thread.start()

    def remove(self, sb: LocalSandbox) -> None:
        with self._lock:
            self._sandboxes.pop(id(sb), None)

    def close(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        last_free: int | None = None
        while not self._stop.wait(self.INTERVAL):
            with self._lock:
                sandboxes = list(self._sandboxes.values())
            if not sandboxes:
                last_free = None
                continue
            try:
                st = os.statvfs(sandboxes[0].dir)
            except OSError:
                continue
            free = st.f_bavail * st.f_frsize
            if last_free is not None and last_free - free < self.TRIGGER_BYTES:
                last_free = max(last_free, free)
                continue
            last_free = free
            for sb in sandboxes:
                sb._check_storage()


class _Namespace:
    """One bwrap process tree running the control loop."""

    def __init__(self, fs: Path, ctl: Path, *, network: bool, env: Mapping[str, str],
                 limits: _Limits | None = None) -> None:
        self.ctl = ctl
        ctl.mkdir(parents=True, exist_ok=True)
        (ctl / "session.sh").write_text(SESSION_SHELL)
        args = [
            _require_bwrap(),
            "--ro-bind", "/usr", "/usr",
            "--ro-bind", "/etc", "/etc",
            "--ro-bind", "/var", "/var",
            "--symlink", "usr/bin", "/bin",
            "--symlink", "usr/lib", "/lib",
            "--symlink", "usr/sbin", "/sbin",
        ]
        if os.path.isdir("/usr/lib64"):
            args += ["--symlink", "usr/lib64", "/lib64"]
        args += ["--dev", "/dev", "--proc", "/proc"]
        for d in PRIVATE_DIRS:
            args += ["--bind", str(fs / d.lstrip("/")), d]
        args += ["--bind", str(ctl), "/.lc"]
        args += ["--unshare-all", "--die-with-parent", "--new-session", "--clearenv"]
        if limits is not None:
            # root in the sandbox keeps a container's default capabilities only: without
            # CAP_SYS_ADMIN / CAP_SYS_RESOURCE it can neither remount the host's folders
            # writable, nor leave its cgroup, nor lift its resource limits
            args += ["--cap-drop", "ALL"]
            for cap in DEFAULT_CAPS:
                args += ["--cap-add", cap]
        if network:
            args += ["--share-net"]
        for k, v in {**BASE_ENV, **env}.items():
            args += ["--setenv", k, v]
        args += ["bash", "--noprofile", "--norc", "-c", (limits.ulimits() if limits else "") + CONTROL_LOOP]

        # bwrap reports the host PID of the namespace's PID 1 on --info-fd: killing that
        # process makes the kernel kill everything else in the namespace.
        info_r, info_w = os.pipe()
        args[1:1] = ["--info-fd", str(info_w)]
        if limits is not None and limits.cgroups:
            # join the sandbox's cgroups *before* bwrap starts, so no process escapes them
            procs = [str(c / "cgroup.procs") for c in limits.cgroups]
            args = ["/bin/sh", "-c", _JOIN_CGROUPS, "sh", str(len(procs)), *procs, *args]
        try:
            self.proc = subprocess.Popen(
                args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                start_new_session=True, bufsize=0, pass_fds=(info_w,),
            )
        finally:
            os.close(info_w)
        self._info_fd = info_r
        self._info_lock = threading.Lock()
        self._init_pid: int | None = None
        self._lock = threading.Lock()
        self._reader = self.proc.stdout
        #: Whether the control loop has answered a request (so bwrap has set the sandbox up).
        self.answered = False

    def request(self, op: str, rid: str, arg: str, *, deadline: float | None) -> int | None:
        """Send one control request and wait for its reply line; None if the deadline passes."""
        with self._lock:
            assert self.proc.stdin is not None
            try:
                self.proc.stdin.write(f"{op} {rid} {arg}\n".encode())
            except (BrokenPipeError, OSError):
                return None
            line = b""
            fd = self._reader.fileno()
            while not line.endswith(b"\n"):
                wait = None if deadline is None else max(0.0, deadline - time.monotonic())
                ready, _, _ = select.select([fd], [], [], wait)
                if not ready:
                    return None
                chunk = os.read(fd, 4096)
                if not chunk:
                    return None
                line += chunk
            rid_back, _, code = line.decode().strip().rpartition(" ")
            if rid_back != rid or not code.lstrip("-").isdigit():
                return None
            self.answered = True
            return int(code)

    def descendants(self) -> list[psutil.Process]:
        try:
            return psutil.Process(self.proc.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []

    def init_pid(self) -> int | None:
        """Host PID of the namespace's PID 1 (read once from bwrap's --info-fd)."""
        with self._info_lock:
            return self._read_init_pid()

    def _read_init_pid(self) -> int | None:
        if self._init_pid is None and self._info_fd is not None:
            data = b""
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                ready, _, _ = select.select([self._info_fd], [], [], 0.1)
                if ready:
                    chunk = os.read(self._info_fd, 4096)
                    if not chunk:
                        break
                    data += chunk
                    try:
                        self._init_pid = int(json.loads(data)["child-pid"])
                        break
                    except (ValueError, KeyError):
                        continue
                elif self.proc.poll() is not None:
                    break
        return self._init_pid

    def shell_pid(self) -> int | None:
        """Host PID of the control loop's shell, the parent of every command (once it has answered)."""
        pid = self.init_pid()
        try:
            children = psutil.Process(pid).children() if pid is not None else []
        except psutil.NoSuchProcess:
            return None
        return children[0].pid if len(children) == 1 else None

    def kill_processes(self) -> None:
        """Kill the namespace from another thread (a limit was hit); its owner notices and restarts it."""
        pid = self.init_pid() if self.proc.poll() is None else None
        if pid is not None:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def kill(self) -> None:
        """Kill every process in the namespace and wait until they are gone.

        Killing the namespace's PID 1 makes the kernel kill every other member, and PID 1
        is reaped only once they are all dead; bwrap exits after reaping it. So when
        ``proc.wait()`` returns, nothing of this namespace runs any more.
        """
        if self.proc.poll() is None:
            pid = self.init_pid()
            try:
                if pid is not None:
                    os.kill(pid, signal.SIGKILL)
                else:
                    os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                for p in self.descendants():
                    try:
                        p.kill()
                    except psutil.NoSuchProcess:
                        pass
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                if stream:
                    stream.close()
            except OSError:
                pass
        if self._info_fd is not None:
            os.close(self._info_fd)
            self._info_fd = None


class LocalSession(Session):
    """A bash reading lines from a FIFO; each ``run`` evals a command file and prints a marker."""

    def __init__(self, sandbox: LocalSandbox, sid: str, cwd: str) -> None:
        self.sandbox = sandbox
        self.sid = sid
        self.cwd = cwd
        self._pid: int | None = None
        self._counter = 0
        self._closed = False
        self._start()

    def _start(self) -> None:
        self.sandbox._ensure_namespace()
        ns = self._ns = self.sandbox._ns
        ctl = ns.ctl
        for suffix in (".in", ".out"):
            p = ctl / f"{self.sid}{suffix}"
            p.unlink(missing_ok=True)
            os.mkfifo(p)
        (ctl / f"{self.sid}.cwd").write_text(self.cwd)
        rc_lines = [f"export {k}={_q(v)}" for k, v in self.sandbox.env.items()]
        (ctl / f"{self.sid}.rc").write_text("\n".join(rc_lines) + "\n")
        self._out_fd = os.open(ctl / f"{self.sid}.out", os.O_RDONLY | os.O_NONBLOCK)
        ns.request("S", self.sid, "0", deadline=time.monotonic() + 10)
        deadline = time.monotonic() + 10
        while True:
            try:
                self._in_fd = os.open(ctl / f"{self.sid}.in", os.O_WRONLY | os.O_NONBLOCK)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("local sandbox: session shell did not start") from None
                time.sleep(0.001)
        os.set_blocking(self._in_fd, True)
        self._pid = None
        self._dead = False

    def _session_pid(self) -> int | None:
        """Host PID of the session shell, and the offset between psutil's clock and ours."""
        if self._pid is None:
            for p in self.sandbox._ns.descendants():
                try:
                    if p.cmdline()[:1] == [f"lc-session-{self.sid}"]:
                        self._pid = p.pid
                        break
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    continue
        return self._pid

    def run(self, command: str, *, timeout: float) -> ExecResult:
        if self._closed:
            return ExecResult(exit_code=None, output="", error="session is closed")
        note = ""
        if self._dead:
            self._restart()
            note = "[the previous shell exited; a new shell was started in the working folder]\n"
        self._counter += 1
        cmd_file = self.sandbox._ns.ctl / f"{self.sid}.c{self._counter}"
        cmd_file.write_text(command)
        nonce = secrets.token_hex(6)
        line = (
            f"jobs -p >/.lc/{self.sid}.jobs 2>/dev/null; "
            f'{{ eval "$(cat /.lc/{self.sid}.c{self._counter})"; }} </dev/null; '
            f"printf '\\036{nonce}:%d\\036\\n' $?\n"
        )
        start = time.monotonic()
        try:
            os.write(self._in_fd, line.encode())
        except OSError:
            self._dead = True
            return ExecResult(exit_code=None, output=note, error="session shell is gone", duration_s=0.0)
        buf = OutputBuffer(self.sandbox.config.max_output_bytes)
        window = b""
        marker = f"\x1e{nonce}:".encode()
        exit_marker = b"\x1eEXIT:"
        deadline = start + timeout
        code: int | None = None
        timed_out = False
        died = False
        eof_since = 0.0
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                timed_out = True
                self._interrupt()
                break
            ready, _, _ = select.select([self._out_fd], [], [], remaining)
            if not ready:
                continue
            try:
                chunk = os.read(self._out_fd, 65536)
            except BlockingIOError:
                continue
            if not chunk:
                # no writer at the moment: a command between writes, or a dead shell / sandbox
                now = time.monotonic()
                eof_since = eof_since or now
                if now - eof_since > 0.2 and self._shell_gone(now - eof_since):
                    self._dead = True
                    died = True
                    buf.add(window)
                    window = b""
                    break
                time.sleep(0.001)
                continue
            eof_since = 0.0
            window += chunk
            idx = window.find(marker)
            eidx = window.find(exit_marker)
            if idx >= 0 or eidx >= 0:
                use = idx if idx >= 0 else eidx
                mlen = len(marker) if idx >= 0 else len(exit_marker)
                end = window.find(b"\x1e", use + mlen)
                if end < 0:
                    continue  # marker not complete yet
                buf.add(window[:use])
                try:
                    code = int(window[use + mlen : end])
                except ValueError:
                    code = None
                if idx < 0:
                    self._dead = True
                break
            # keep a short tail in the window in case a marker is split
            if len(window) > 64:
                buf.add(window[:-64])
                window = window[-64:]
        if timed_out:
            # drain what is there without waiting
            try:
                while True:
                    chunk = os.read(self._out_fd, 65536)
                    if not chunk:
                        break
                    buf.add(chunk.replace(b"\x1e", b""))
            except BlockingIOError:
                pass
            buf.add(window)
        text, truncated = buf.text()
        text = _STALE_MARKER.sub("", text)
        error = None
        if died:
            if self._ns.proc.poll() is not None:
                error = f"the sandbox's processes were killed{self.sandbox._limit_note()}"
            else:
                text += "[the shell exited or closed its output; the next command gets a new shell]\n"
        return ExecResult(
            exit_code=None if timed_out else code,
            output=note + text,
            timed_out=timed_out,
            duration_s=time.monotonic() - start,
            truncated=truncated,
            error=error,
        )

    def _shell_gone(self, silent_s: float) -> bool:
        """Whether nobody will write this session's output again, ``silent_s`` into an end-of-file.

        The sandbox died; or the shell was killed; or the shell closed its own output
        (then it is killed here, and the next command gets a new shell).
        """
        if self._ns.proc.poll() is not None:
            return True
        if silent_s < 1.0:
            return False
        pid = self._session_pid()
        try:
            alive = pid is not None and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            alive = False
        if alive and silent_s > 3.0:
            try:
                os.kill(pid, signal.SIGKILL)  # type: ignore[arg-type]
            except ProcessLookupError:
                pass
            return True
        return not alive

    def _interrupt(self) -> None:
        """Kill what the timed-out command started; background jobs from before it survive."""
        pid = self._session_pid()
        if pid is None:
            return
        try:
            keep = {int(x) for x in (self.sandbox._ns.ctl / f"{self.sid}.jobs").read_text().split()}
        except (OSError, ValueError):
            keep = set()
        try:
            children = psutil.Process(pid).children()
        except psutil.NoSuchProcess:
            self._dead = True
            return
        victims = []
        for c in children:
            if _ns_pid(c.pid) in keep:
                continue
            try:
                victims.append(c)
                victims.extend(c.children(recursive=True))
            except psutil.NoSuchProcess:
                continue
        for v in victims:
            try:
                v.kill()
            except psutil.NoSuchProcess:
                pass
        # let the shell print its marker for the killed command, then swallow it
        end = time.monotonic() + 1.0
        while time.monotonic() < end:
            ready, _, _ = select.select([self._out_fd], [], [], 0.05)
            if ready:
                try:
                    chunk = os.read(self._out_fd, 65536)
                except BlockingIOError:
                    continue
                if b"\x1e" in chunk:
                    break

    def _restart(self) -> None:
        for fd in (self._in_fd, self._out_fd):
            try:
                os.close(fd)
            except OSError:
                pass
        self._counter = 0
        self._start()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for fd in (getattr(self, "_in_fd", None), getattr(self, "_out_fd", None)):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        # The shell reads EOF and exits; what it left running dies with the namespace
        # (at verification or stop), as on a real terminal whose jobs outlive the shell.


#: Every resource limit a process has (copied from the sandbox's shell to the pytest server's child).
RLIMITS = tuple(name for name in dir(resource) if name.startswith("RLIMIT_") and name != "RLIMIT_INFINITY")


def _dies_within(pid: int, seconds: float) -> bool:
    """Whether process ``pid`` is gone (or a zombie) within ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.01)


def _capabilities(host_pid: int) -> dict[str, int] | None:
    """A process's capability sets (``CapBnd``... of /proc/PID/status), to give another process the same."""
    try:
        with open(f"/proc/{host_pid}/status") as fh:
            caps = {k: int(v, 16) for k, _, v in (ln.partition(":\t") for ln in fh) if k.startswith("Cap")}
    except (OSError, ValueError):
        return None
    return caps if len(caps) == 5 else None


def _ns_pid(host_pid: int) -> int | None:
    """The PID a process has inside its (innermost) PID namespace."""
    try:
        with open(f"/proc/{host_pid}/status") as fh:
            for line in fh:
                if line.startswith("NSpid:"):
                    return int(line.split()[-1])
    except (OSError, ValueError):
        return None
    return None


_STALE_MARKER = re.compile("\x1e[0-9a-f]{12}:-?[0-9]+\x1e\n?")


def _q(v: str) -> str:
    import shlex

    return shlex.quote(v)


class _PytestServer:
    """One pytest fork server (``pytest_server.py``) run by one interpreter, for every sandbox."""

    START_TIMEOUT_S = 60.0

    def __init__(self, python: str) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="litecore-pytest-"))
        self.socket = self.dir / "server.sock"
        source = (Path(__file__).parent / "pytest_server.py").read_text()
        # stdin stays open while this process lives: the server exits when it reads EOF
        self.proc = subprocess.Popen([python, "-I", "-c", source, str(self.socket)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd="/")
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], self.START_TIMEOUT_S)
        self.ok = bool(ready) and self.proc.stdout.readline().strip() == b"ready"
        if not self.ok:  # e.g. no pytest for this interpreter: verifications take the standard path
            self.close()

    def run(self, request: dict, timeout: float) -> dict | None:
        """Send one run; its reply, or None if the server is gone."""
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
                conn.settimeout(timeout + 60.0)
                conn.connect(str(self.socket))
                conn.sendall(json.dumps(request).encode() + b"\n")
                with conn.makefile("rb") as fh:
                    line = fh.readline()
            return json.loads(line) if line else None
        except (OSError, ValueError):
            return None

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        shutil.rmtree(self.dir, ignore_errors=True)


class LocalSandbox(Sandbox):
    def __init__(self, backend: LocalBackend, task: Task, prepared: PreparedEnv) -> None:
        self.task = task
        self.config = backend.config
        self._workdir = task.workdir or prepared.workdir
        self.env = {**prepared.env, **task.env}
        root = sandbox_root(backend.config)
        root.mkdir(parents=True, exist_ok=True)
        self.dir = Path(tempfile.mkdtemp(prefix="sbx-", dir=root))
        (self.dir / "owner").write_text(str(os.getpid()))
        self.fs = self.dir / "fs"
        self._stopped = False
        self._ns: _Namespace
        self._generation = 0
        self._sessions: list[LocalSession] = []
        self._backend = backend
        self.limits: _Limits | None = None
        #: Why the sandbox's processes were killed by litecore (a limit), if they were.
        self.limit_hit: str | None = None
        self._storage_mark = 0
        try:
            if self.config.limits:
                self.limits = _Limits.create(self.dir.name, self.config, task)
            for d in PRIVATE_DIRS:
                (self.fs / d.lstrip("/")).mkdir(parents=True, exist_ok=True)
            for sub in ("agent", "verifier", "artifacts"):
                (self.fs / "logs" / sub).mkdir(parents=True, exist_ok=True)
            for child in prepared.snapshot.iterdir():
                _copy_in(child, self.fs / child.name)
            (self.fs / self._workdir.lstrip("/")).mkdir(parents=True, exist_ok=True)
            self._start_namespace()
            if self.limits is not None:
                backend._watch.add(self)
        except BaseException:
            self.stop()
            raise

    def _start_namespace(self) -> None:
        self._generation += 1
        ctl = self.dir / f"ctl{self._generation}"
        self._ns = _Namespace(self.fs, ctl, network=self.task.allows_network, env=self.env, limits=self.limits)
        self._counter = 0

    def _ensure_namespace(self) -> None:
        """Start a fresh namespace (same files) if the current one died."""
        if self._ns.proc.poll() is not None:
            self._ns.kill()
            self._start_namespace()

    def _check_storage(self) -> None:
        """Called by the storage watch: kill every process of a sandbox over its storage limit."""
        if self.limits is None or self._stopped:
            return
        # after a kill the files stay (the verifier judges them): only growth past that level counts
        cap = max(self.limits.storage_mb * 2**20, self._storage_mark + 16 * 2**20)
        used = _usage_bytes(self.fs, cap)
        if used > cap:
            self._storage_mark = _usage_bytes(self.fs, 1 << 62)  # the full count, not the early stop
            self.limit_hit = f"the sandbox's files exceeded its storage limit ({self.limits.storage_mb} MB)"
            ns = getattr(self, "_ns", None)
            if ns is not None:
                ns.kill_processes()

    def _limit_note(self) -> str:
        if self.limits is not None and self.limits.oom_kills() and not self.limit_hit:
            self.limit_hit = f"a process was killed at the sandbox's memory limit ({self.limits.memory_mb} MB)"
        return f" ({self.limit_hit})" if self.limit_hit else ""

    @property
    def workdir(self) -> str:
        return self._workdir

    def exec(self, command: str, *, timeout: float, cwd: str | None = None,
             env: Mapping[str, str] | None = None) -> ExecResult:
        start = time.monotonic()
        if self._stopped:
            return ExecResult(exit_code=None, output="", error="sandbox is stopped")
        self._counter += 1
        rid = f"x{self._counter}"
        script = self._ns.ctl / f"{rid}.sh"
        script.write_text(shell_script(command, cwd=cwd or self._workdir, env=env))
        t = max(0.01, float(timeout))
        code = self._ns.request("X", rid, f"{t:.3f}", deadline=start + t + 5.0)
        out_path = self._ns.ctl / f"{rid}.out"
        data = b""
        try:
            with open(out_path, "rb") as fh:
                data = fh.read(self.config.max_output_bytes + 1)
                size = os.fstat(fh.fileno()).st_size
            if size > len(data):
                with open(out_path, "rb") as fh:
                    fh.seek(size - self.config.max_output_bytes // 2)
                    tail = fh.read()
                data = data[: self.config.max_output_bytes // 2] + b"\x00" + tail
        except FileNotFoundError:
            pass
        for p in (script, out_path):
            p.unlink(missing_ok=True)
        text, truncated = _decode_clipped(data, self.config.max_output_bytes)
        elapsed = time.monotonic() - start
        if code is None:
            # the control loop did not answer: the namespace is wedged or dead; restart it
            self._ns.kill()
            self._start_namespace()
            return ExecResult(exit_code=None, output=text, timed_out=True, duration_s=elapsed,
                              truncated=truncated,
                              error=f"sandbox control loop did not answer; restarted{self._limit_note()}")
        timed_out = code == 124 and elapsed >= t * 0.95
        return ExecResult(exit_code=None if timed_out else code, output=text, timed_out=timed_out,
                          duration_s=elapsed, truncated=truncated)

    def run_pytest(self, args: Sequence[str], *, cwd: str, env: Mapping[str, str], log: str,
                   timeout: float) -> ExecResult | None:
        """Fork the test process from the backend's pytest server into this sandbox (see pytest_server.py)."""
        start = time.monotonic()
        if self._stopped or not self.config.prewarmed_pytest:
            return None
        full_env = {**BASE_ENV, **self.env, **env}
        python = self._sandbox_python(full_env["PATH"])
        server = self._backend._pytest_server(python) if python else None
        if server is None:
            return None
        # a command's answer means bwrap has finished setting the sandbox up; its commands' parent
        # (the control loop's shell) is then the process to copy: namespaces, capabilities
        if not self._ns.answered and not self.exec("true", timeout=60).ok:
            return None
        ns_pid = self._ns.shell_pid()
        caps = _capabilities(ns_pid) if ns_pid is not None else None
        if caps is None:
            return None
        try:
            rlimits = {name: resource.prlimit(ns_pid, getattr(resource, name)) for name in RLIMITS}
        except OSError:
            return None
        request = {
            "ns_pid": ns_pid,
            "cgroups": [str(c / "cgroup.procs") for c in self.limits.cgroups] if self.limits else [],
            "rlimits": rlimits,
            "caps": caps,
            "env": full_env,
            "cwd": cwd,
            "args": list(args),
            "log": log,
            "timeout": float(timeout),
        }
        reply = server.run(request, timeout)
        if reply is None or not reply.get("started"):
            return None  # nothing ran: the caller runs the standard command instead
        text, truncated = _decode_clipped(self.read_file(log, limit=self.config.max_output_bytes + 1) or b"",
                                          self.config.max_output_bytes)
        error = reply.get("error")
        exit_code = reply.get("exit")
        if exit_code is not None and exit_code < 0 and _dies_within(ns_pid, 0.5):
            # the whole sandbox was killed under the tests (from outside, or at a limit), as an
            # exec's control loop that stops answering: say so, and start a fresh namespace
            self._ns.kill()
            self._start_namespace()
            exit_code, error = None, f"the sandbox died while the tests ran; restarted{self._limit_note()}"
        return ExecResult(exit_code=exit_code, output=text, timed_out=bool(reply.get("timed_out")),
                          duration_s=time.monotonic() - start, truncated=truncated, error=error)

    def _sandbox_python(self, path_var: str) -> str | None:
        """The host file the sandbox's ``python3`` is, if it is one of the host's shared folders.

        Walks ``PATH`` as the sandbox's shell would; a ``python3`` in one of the sandbox's own
        folders (an image's venv, or one the agent made) is not the host's: None.
        """
        for d in path_var.split(":"):
            p = PurePosixPath(d)
            if not p.is_absolute():
                return None
            if any(p == PurePosixPath(s) or PurePosixPath(s) in p.parents for s in HOST_SHARED_DIRS):
                candidate = Path(d) / "python3"
                if candidate.is_file() and os.access(candidate, os.X_OK):
                    return os.path.realpath(candidate)
                continue
            try:
                private = _host_path(self.fs, d)
            except PermissionError:
                continue  # not a folder the sandbox has
            if os.path.lexists(private / "python3"):
                return None
        return None

    def session(self) -> Session:
        sid = f"s{len(self._sessions) + 1}g{self._generation}"
        s = LocalSession(self, sid, self._workdir)
        self._sessions.append(s)
        return s

    def upload(self, src: Path, dst: str) -> None:
        host = _host_path(self.fs, dst)
        src = Path(src)
        if src.is_dir():
            _clear_dir(host)
        elif host.is_dir() and not host.is_symlink():
            shutil.rmtree(host)
        else:
            host.unlink(missing_ok=True)
        _copy_in(src, host)

    def download(self, src: str, dst: Path) -> None:
        host = _host_path(self.fs, src)
        # never follow a link the agent planted out of the sandbox's folders
        real = Path(os.path.realpath(host))
        if not real.is_relative_to(self.fs.resolve()):
            raise FileNotFoundError(src)
        if not real.exists():
            raise FileNotFoundError(src)
        if real.is_dir():
            shutil.copytree(real, dst, symlinks=True, dirs_exist_ok=True)
        else:
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(real, dst)

    def read_file(self, path: str, *, limit: int = MAX_OUTPUT_BYTES) -> bytes | None:
        # straight from the sandbox's folder on the host (as download, never following a link out)
        real = Path(os.path.realpath(_host_path(self.fs, path)))
        if not real.is_relative_to(self.fs.resolve()) or not real.is_file():
            return None
        try:
            with open(real, "rb") as fh:
                return fh.read(limit)
        except FileNotFoundError:
            return None

    def kill_agent_processes(self) -> None:
        for s in self._sessions:
            s._closed = True
        self._sessions.clear()
        self._ns.kill()
        self._start_namespace()

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        for s in self._sessions:
            s.close()
        ns = getattr(self, "_ns", None)
        if ns is not None:
            ns.kill()
        backend = getattr(self, "_backend", None)
        if backend is not None:
            backend._watch.remove(self)
        if getattr(self, "limits", None) is not None:
            self.limits.remove()
        shutil.rmtree(self.dir, ignore_errors=True)


def _decode_clipped(data: bytes, limit: int) -> tuple[str, bool]:
    if b"\x00" in data and len(data) > limit // 2:
        head, _, tail = data.partition(b"\x00")
        return (
            head.decode("utf-8", "replace") + "\n[... output omitted ...]\n" + tail.decode("utf-8", "replace"),
            True,
        )
    return data.decode("utf-8", "replace"), False


class LocalBackend(SandboxBackend):
    name = "local"

    def __init__(self, config: LocalConfig | None = None) -> None:
        self.config = config or LocalConfig()
        self.cache = default_cache_dir() / "local-env"
        self._prepared: dict[str, PreparedEnv] = {}
        self._lock = threading.Lock()
        self._watch = _StorageWatch()
        self._pytest_servers: dict[str, _PytestServer | None] = {}
        self._servers_lock = threading.Lock()
        _require_bwrap()

    def close(self) -> None:
        self._watch.close()
        with self._servers_lock:
            servers, self._pytest_servers = self._pytest_servers, {}
        for server in servers.values():
            if server is not None:
                server.close()

    def _pytest_server(self, python: str) -> _PytestServer | None:
        """The pytest server for ``python``, started on first use (None if it cannot run one)."""
        with self._servers_lock:
            if python not in self._pytest_servers:
                server = _PytestServer(python)
                self._pytest_servers[python] = server if server.ok else None
            return self._pytest_servers[python]

    def prepare(self, task: Task) -> PreparedEnv:
        self._check_tools(task)
        key = "v1-" + (tree_digest(task.path / "environment") if (task.path / "environment").is_dir() else "none")
        if task.docker_image and not task.dockerfile:
            key += "-" + task.docker_image
        with self._lock:
            if key in self._prepared:
                return self._prepared[key]
        target = self.cache / key
        self.cache.mkdir(parents=True, exist_ok=True)
        with open(self.cache / f"{key}.lock", "w") as lockf:
            fcntl.flock(lockf, fcntl.LOCK_EX)
            meta = target / "meta.json"
            if not meta.is_file():
                self._build(task, target)
        info = json.loads(meta.read_text())
        prepared = PreparedEnv(target / "fs", info["env"], info["workdir"])
        with self._lock:
            self._prepared[key] = prepared
        return prepared

    def _check_tools(self, task: Task) -> None:
        missing = [t for t in task.requires if not shutil.which(t, path=SANDBOX_PATH)]
        if missing:
            raise SandboxUnavailable(
                f"{task.path}: the local backend lacks {', '.join(missing)} on this host; "
                f"install them (apt-get install ...) or use a container backend (--backend docker)"
            )

    def _compatible(self, image: str) -> bool:
        return image in HOST_COMPATIBLE_IMAGES or image in self.config.compatible_images

    def _build(self, task: Task, target: Path) -> None:
        """Apply the Dockerfile to a fresh snapshot; write it atomically."""
        tmp = Path(tempfile.mkdtemp(prefix=".build-", dir=self.cache))
        fs = tmp / "fs"
        fs.mkdir()
        env: dict[str, str] = {}
        workdir = "/app"
        try:
            if task.dockerfile is None:
                image = task.docker_image or ""
                if not self._compatible(image):
                    raise SandboxUnavailable(
                        f"{task.path / 'task.toml'}: docker_image '{image}' is not this host's system; "
                        f"this task needs a container backend (--backend docker or podman)"
                    )
            else:
                env, workdir = self._apply_dockerfile(task, fs)
            (tmp / "meta.json").write_text(json.dumps({"env": env, "workdir": workdir}))
            if target.exists():
                shutil.rmtree(target)
            os.rename(tmp, target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    def _apply_dockerfile(self, task: Task, fs: Path) -> tuple[dict[str, str], str]:
        assert task.dockerfile is not None
        dockerfile = task.dockerfile
        context = dockerfile.parent
        env: dict[str, str] = {}
        workdir = "/app"
        runs: list[tuple[int, str, str, dict[str, str]]] = []

        def unsupported(line: int, why: str) -> SandboxUnavailable:
            return SandboxUnavailable(
                f"{dockerfile}:{line}: {why}; this task needs a container backend (--backend docker or podman)"
            )

        for ins in parse_dockerfile(dockerfile):
            kw = ins.keyword
            if kw == "FROM":
                image = ins.value.split()[0]
                if not self._compatible(image):
                    raise unsupported(ins.line, f"FROM {image} is not this host's system (Debian 12)")
            elif kw == "WORKDIR":
                workdir = str(PurePosixPath(workdir) / ins.value.strip())
                try:
                    _host_path(fs, workdir).mkdir(parents=True, exist_ok=True)
                except PermissionError:
                    raise unsupported(ins.line, f"WORKDIR {workdir} is outside the sandbox's writable folders")
            elif kw == "ENV":
                env.update(env_pairs(ins.value))
            elif kw in ("COPY", "ADD"):
                args = [a for a in ins.args() if not a.startswith("--")]
                if any(a.startswith("--from") for a in ins.args()):
                    raise unsupported(ins.line, f"{kw} --from (multi-stage builds)")
                if len(args) < 2:
                    raise unsupported(ins.line, f"{kw} needs a source and a destination")
                *srcs, dest = args
                dest_abs = dest if dest.startswith("/") else str(PurePosixPath(workdir) / dest)
                for s in srcs:
                    if kw == "ADD" and ("://" in s or s.endswith((".tar", ".tar.gz", ".tgz", ".tar.xz"))):
                        raise unsupported(ins.line, "ADD of URLs or archives")
                    src_path = (context / s).resolve()
                    if not src_path.is_relative_to(context.resolve()) or not src_path.exists():
                        raise SandboxUnavailable(f"{dockerfile}:{ins.line}: {kw} source '{s}' does not exist in environment/")
                    try:
                        if src_path.is_dir():
                            host = _host_path(fs, dest_abs)
                            host.mkdir(parents=True, exist_ok=True)
                            shutil.copytree(src_path, host, symlinks=True, dirs_exist_ok=True)
                        else:
                            into_dir = dest.endswith("/") or len(srcs) > 1
                            host = _host_path(fs, str(PurePosixPath(dest_abs) / src_path.name) if into_dir else dest_abs)
                            host.parent.mkdir(parents=True, exist_ok=True)
                            shutil.copy2(src_path, host)
                    except PermissionError:
                        raise unsupported(ins.line, f"{kw} destination {dest_abs} is outside the sandbox's writable folders")
            elif kw == "RUN":
                runs.append((ins.line, ins.value, workdir, dict(env)))
            elif kw == "USER":
                if ins.value.strip() not in ("root", "0", "0:0", "root:root"):
                    raise unsupported(ins.line, f"USER {ins.value.strip()} (the local sandbox runs as root)")
            elif kw in IGNORED_INSTRUCTIONS:
                continue
            else:
                raise unsupported(ins.line, f"instruction {kw} is not supported by the local backend")
        if runs:
            self._run_steps(task, fs, runs, dockerfile)
        return env, workdir

    def _run_steps(self, task: Task, fs: Path, runs: list[tuple[int, str, str, dict[str, str]]],
                   dockerfile: Path) -> None:
        for d in PRIVATE_DIRS:
            (fs / d.lstrip("/")).mkdir(parents=True, exist_ok=True)
        ctl = fs.parent / "ctl"
        ns = _Namespace(fs, ctl, network=task.allows_network, env={})
        try:
            for i, (line, cmd, workdir, env) in enumerate(runs):
                (ctl / f"r{i}.sh").write_text(shell_script(cmd, cwd=workdir, env=env))
                code = ns.request("X", f"r{i}", f"{task.build_timeout_sec:.0f}",
                                  deadline=time.monotonic() + task.build_timeout_sec + 5)
                if code != 0:
                    out = (ctl / f"r{i}.out").read_text(errors="replace") if (ctl / f"r{i}.out").exists() else ""
                    tail = out.strip().splitlines()[-1:] or [""]
                    raise SandboxUnavailable(
                        f"{dockerfile}:{line}: RUN failed in the local sandbox (exit {code}: {tail[0][:200]}); "
                        f"this task needs a container backend (--backend docker or podman)"
                    )
        finally:
            ns.kill()
            shutil.rmtree(ctl, ignore_errors=True)
        # the build's scratch folders are not part of the environment
        for d in ("tmp", "run", "logs", "tests", "solution"):
            _clear_dir(fs / d)

    def open(self, task: Task) -> LocalSandbox:
        prepared = self.prepare(task)
        return LocalSandbox(self, task, prepared)


def clean_leftovers(config: LocalConfig | None = None) -> int:
    """Remove sandbox folders whose owning process is gone (after a crash); returns the count."""
    root = sandbox_root(config)
    if not root.is_dir():
        return 0
    removed = 0
    for d in root.iterdir():
        owner = d / "owner"
        try:
            pid = int(owner.read_text())
        except (OSError, ValueError):
            pid = -1
        if pid > 0 and psutil.pid_exists(pid):
            continue
        for controller in ("memory", "pids", "cpu"):
            own = _own_cgroup(controller)
            if own is not None:
                _remove_cgroup(own / f"{CGROUP_PREFIX}{d.name}")
        shutil.rmtree(d, ignore_errors=True)
        removed += 1
    # cgroups of sandboxes whose folder lived elsewhere (a deleted root): empty and not new
    for controller in ("memory", "pids", "cpu"):
        own = _own_cgroup(controller)
        if own is None:
            continue
        for cg in own.glob(f"{CGROUP_PREFIX}sbx-*"):
            try:
                idle = not (cg / "cgroup.procs").read_text().split() and time.time() - cg.stat().st_mtime > 60
            except OSError:
                continue
            if idle:
                _remove_cgroup(cg)
    return removed


@litecore.hookimpl
def litecore_sandbox_backends():
    return [
        SandboxBackendPlugin(
            name="local",
            factory=LocalBackend,
            config=LocalConfig,
            description="bubblewrap namespaces on this host: fast, no daemon, no network unless allowed",
        )
    ]
