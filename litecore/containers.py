"""What the Docker and Podman backends share: one implementation over the Docker engine API.

Both engines speak the Docker API (Podman through ``podman system service``), so
one backend class drives either through the ``docker`` SDK; the two plugins only
differ in defaults. Everything goes through the API, never through CLI
subprocesses:

* **Images** are built once per content key (hash of ``environment/`` plus the
  identity of every base image after alias mapping), tagged
  ``litecore-env:<key>``, and reused across trials and runs. A trial never
  deletes an image. Builds of one key wait for each other (file lock).
  ``FROM`` names are mapped through the alias map by sending the engine a build
  context whose Dockerfile has the mapped names; the task stays unedited.
* **Containers** run ``sleep infinity`` as PID 1, so an ``exec`` of
  ``kill -9 -1`` kills everything the agent left while the container lives on.
  Each carries the labels ``litecore=1``, the run id, the task and the owner
  (host and PID), which is how ``litecore clean`` finds leftovers of crashed runs.
* **exec** runs ``timeout`` inside the container with output to a file, so
  background jobs that keep stdout open never hold the call; the exit code comes
  back in-band after the output (two API calls per command).
* **Sessions** are one long-running exec with an attached socket, speaking the
  same marker protocol as the local backend's session shell.
"""

from __future__ import annotations

import atexit
import base64
import fcntl
import hashlib
import io
import json
import os
import re
import secrets
import select
import socket
import struct
import tarfile
import threading
import time
import weakref
from collections.abc import Iterator, Mapping
from pathlib import Path, PurePosixPath
from typing import Any

import attrs

from litecore.dockerfile import parse_dockerfile
from litecore.errors import SandboxUnavailable, one_line
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

LABEL = "litecore"
LABEL_RUN = "litecore.run"
LABEL_TASK = "litecore.task"
LABEL_OWNER = "litecore.owner"
LABEL_ENV_KEY = "litecore.env"
ENV_REPO = "litecore-env"
#: Bump when the way images are built changes.
BUILD_VERSION = "c1"

DEFAULT_SOCKETS: Mapping[str, str] = {
    "docker": "unix:///run/litecore/dockerd.sock",
    "podman": "unix:///run/litecore/podman.sock",
}
HOST_ENV: Mapping[str, str] = {"docker": "LITECORE_DOCKER_HOST", "podman": "LITECORE_PODMAN_HOST"}
START_HINT: Mapping[str, str] = {
    "docker": "start one with scripts/engines/start-docker.sh (or set LITECORE_DOCKER_HOST / [sandbox.docker] base_url)",
    "podman": "start one with scripts/engines/start-podman.sh (or set LITECORE_PODMAN_HOST / [sandbox.podman] base_url)",
}

PID1 = ["sleep", "infinity"]

#: The control shell: one long-running exec per sandbox that runs requests sent on its
#: stdin and answers ``\036R:id:code:len\036`` + ``len`` bytes. Every payload is read
#: before it is acted on, so a failing request never desynchronizes the stream.
CONTROL_SHELL = r"""exec 2>/dev/null
D=/.lc; LIM=$1
mkdir -p /logs/agent /logs/verifier /logs/artifacts "$D"
lc_reply() {
  local n=0 h
  [ -f "$3" ] && n=$(stat -c %s "$3")
  if [ "$4" = cut ] && [ "$n" -gt "$LIM" ]; then
    h=$((LIM / 2))
    { head -c $h "$3"; printf '\n[... %d bytes of output omitted ...]\n' $((n - 2 * h)); tail -c $h "$3"; } >"$3.c"
    mv -f "$3.c" "$3"; n=$(stat -c %s "$3")
  fi
  printf '\036R:%s:%s:%s\036' "$1" "$2" "$n"
  [ "$n" -gt 0 ] && cat "$3"
  rm -f "$3"
}
printf '\036READY:%d\036' $$
while IFS=' ' read -r op id t n a; do
  [ -d "$D" ] || mkdir -p "$D"
  printf -v a '%b' "$a"
  o=$D/$id.out; p=$D/$id.in
  if [ "$n" -gt 0 ]; then head -c "$n" >"$p"; else : >"$p"; fi
  case "$op" in
    X) timeout -k 1 "$t" bash --noprofile --norc "$p" </dev/null >"$o" 2>&1; c=$?; rm -f "$p"
       lc_reply "$id" "$c" "$o" cut ;;
    U) rm -rf -- "$a"
       if [ "$t" = d ]; then mkdir -p -- "$a" && tar -x --no-same-owner -C "$a" -f "$p" >"$o" 2>&1
       else mkdir -p -- "${a%/*}/" && tar -x --no-same-owner -C "${a%/*}/" -f "$p" >"$o" 2>&1; fi
       c=$?; rm -f "$p"; lc_reply "$id" "$c" "$o" cut ;;
    D) if [ -e "$a" ] || [ -L "$a" ]; then tar -C "${a%/*}/" -cf "$o" -- "${a##*/}"; c=$?; else c=2; fi
       rm -f "$p"; lc_reply "$id" "$c" "$o" ;;
    K) for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
         kill -9 -1; left=0; z=0
         for s in /proc/[0-9]*/stat; do
           q=${s#/proc/}; q=${q%/stat}
           [ "$q" = 1 ] || [ "$q" = $$ ] && continue
           read -r line <"$s" || continue
           case "${line##*) }" in Z*) z=$((z + 1)) ;; X*) ;; *) left=$((left + 1)) ;; esac
         done
         [ "$left" = 0 ] && break
         sleep 0.05
       done
       # PID 1 does not reap: a fork bomb's zombies would hold the process limit the verifier needs
       [ "$left" = 0 ] && [ "$z" -ge 32 ] && left=$z
       rm -f "$p"; : >"$o"; lc_reply "$id" "$left" "$o" ;;
    *) rm -f "$p"; : >"$o"; lc_reply "$id" 127 "$o" ;;
  esac
done
"""
#: Kills every process but PID 1 and itself, until none is left (zombies do not count).
KILL_ALL = r"""for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
  kill -9 -1 2>/dev/null
  left=0
  for s in /proc/[0-9]*/stat; do
    p=${s#/proc/}; p=${p%/stat}
    [ "$p" = 1 ] || [ "$p" = $$ ] && continue
    read -r line <"$s" 2>/dev/null || continue
    case "${line##*) }" in Z*|X*) ;; *) left=$((left + 1)) ;; esac
  done
  [ "$left" = 0 ] && exit 0
  sleep 0.05
done
echo "$left processes survived"
exit 1
"""
SESSION_SHELL = r"""exec 2>&1
trap 'printf "\036EXIT:%d\036\n" $?' EXIT
printf '\036PID:%d\036\n' $$
while IFS= read -r __lc_line; do eval "$__lc_line"; done
"""
#: Kills the descendants of a session shell with a PID above $2 (the timed-out command's processes:
#: PIDs grow within the container's namespace); with $3 set, the shell itself too.
SESSION_INTERRUPT = r"""S=$1; P0=$2; SELF=$3
declare -A PP
for f in /proc/[0-9]*/stat; do
  read -r line <"$f" 2>/dev/null || continue
  p=${f#/proc/}; p=${p%/stat}
  set -- ${line##*) }
  PP[$p]=$2
done
for p in "${!PP[@]}"; do
  a=${PP[$p]}; hops=0
  while [ -n "$a" ] && [ "$a" != 0 ] && [ "$a" != "$S" ] && [ $hops -lt 64 ]; do a=${PP[$a]}; hops=$((hops + 1)); done
  [ "$a" = "$S" ] || continue
  [ "$p" -gt "$P0" ] && kill -9 "$p" 2>/dev/null
done
[ -n "$SELF" ] && kill -9 "$S" 2>/dev/null
exit 0
"""


@attrs.frozen(kw_only=True)
class ContainerConfig:
    """Options of ``[sandbox.docker]`` / ``[sandbox.podman]``."""

    #: Engine API URL (``unix:///...``); default: $LITECORE_DOCKER_HOST / $LITECORE_PODMAN_HOST or litecore's socket.
    base_url: str | None = None
    #: FROM name (or glob) -> local image; merged over litecore's defaults unless ``default_aliases`` is false.
    aliases: dict[str, str] = attrs.field(factory=dict)
    default_aliases: bool = True
    #: Allow the network while building images (RUN apt-get ...).
    build_network: bool = True
    #: Seconds an engine API call may take (builds use the task's build timeout).
    api_timeout_s: float = 120.0
    #: Output kept per command, in bytes.
    max_output_bytes: int = MAX_OUTPUT_BYTES
    #: Ignore task.toml's network_mode and cut every sandbox off the network.
    force_no_network: bool = False
    #: Seconds a new sandbox waits for an engine that stopped answering (restarted mid-run) before failing.
    engine_wait_s: float = 120.0


class ImageBuildError(SandboxUnavailable):
    """An environment image could not be built; ``cause`` says why in one word."""

    def __init__(self, message: str, cause: str, log: str = "") -> None:
        super().__init__(message)
        self.cause = cause
        self.log = log


@attrs.frozen
class PreparedImage:
    tag: str
    key: str
    workdir: str


def engine_url(engine: str, base_url: str | None = None) -> str:
    return base_url or os.environ.get(HOST_ENV.get(engine, ""), "") or DEFAULT_SOCKETS[engine]


def connect(engine: str, base_url: str | None = None, *, timeout: float = 120.0) -> Any:
    """A docker SDK client for ``engine``; a one-line error when nothing answers."""
    import docker
    import docker.errors
    import requests

    url = engine_url(engine, base_url)
    if url.startswith("unix://") and not os.path.exists(url[len("unix://"):]):
        raise SandboxUnavailable(f"no {engine} engine at {url}; {START_HINT[engine]}")
    try:
        client = docker.DockerClient(base_url=url, timeout=int(timeout), max_pool_size=64, version="1.41")
        client.ping()
    except (docker.errors.DockerException, requests.RequestException, OSError) as exc:
        raise SandboxUnavailable(f"the {engine} engine at {url} does not answer ({type(exc).__name__}); "
                                 f"{START_HINT[engine]}") from None
    return client


def owner_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


# ---------------------------------------------------------------------------
# tar helpers (uploads, downloads, build contexts)
# ---------------------------------------------------------------------------

def _root_owned(ti: tarfile.TarInfo) -> tarfile.TarInfo:
    ti.uid = ti.gid = 0
    ti.uname = ti.gname = "root"
    return ti


def tar_of(src: Path, arcname: str) -> bytes:
    """A tar of ``src`` (file or folder) named ``arcname`` inside, owned by root."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        tf.add(str(src), arcname=arcname, filter=_root_owned)
    return buf.getvalue()


def extract_archive(chunks: Iterator[bytes], dst: Path) -> None:
    """Write a get_archive stream to ``dst``: the single top entry becomes ``dst`` itself."""
    data = b"".join(chunks)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r") as tf:
        members = tf.getmembers()
        if not members:
            raise FileNotFoundError(str(dst))
        top = members[0].name.split("/")[0]
        first = members[0]
        if first.isfile() and len(members) == 1:
            dst.parent.mkdir(parents=True, exist_ok=True)
            fh = tf.extractfile(first)
            assert fh is not None
            dst.write_bytes(fh.read())
            return
        if not first.isdir():
            raise FileNotFoundError(str(dst))  # a link or device: never followed out of the sandbox
        dst.mkdir(parents=True, exist_ok=True)
        for m in members:
            rel = m.name[len(top):].lstrip("/")
            if not rel:
                continue
            m.name = rel
            tf.extract(m, dst, filter="data")


def build_context(context: Path, dockerfile_text: str) -> bytes:
    """The build context tar: ``environment/`` as is, with the (alias-mapped) Dockerfile."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for p in sorted(context.rglob("*")):
            rel = p.relative_to(context).as_posix()
            if rel == "Dockerfile":
                continue
            tf.add(str(p), arcname=rel, recursive=False, filter=_root_owned)
        data = dockerfile_text.encode()
        ti = tarfile.TarInfo("Dockerfile")
        ti.size = len(data)
        ti.mode = 0o644
        tf.addfile(_root_owned(ti), io.BytesIO(data))
    return buf.getvalue()


def copy_sources_missing(dockerfile: Path) -> list[tuple[int, str]]:
    """COPY/ADD sources that do not exist in the build context: (line, source)."""
    import glob

    context = dockerfile.parent
    missing = []
    for ins in parse_dockerfile(dockerfile):
        if ins.keyword not in ("COPY", "ADD"):
            continue
        args = ins.args()
        if any(a.startswith("--from") for a in args):
            continue
        words = [a for a in args if not a.startswith("--")]
        for s in words[:-1]:
            if "://" in s or "$" in s:
                continue
            pattern = str(context / s)
            if not glob.glob(pattern) and not (context / s).exists():
                missing.append((ins.line, s))
    return missing


# ---------------------------------------------------------------------------
# Raw exec streams (Docker's multiplexed framing)
# ---------------------------------------------------------------------------

class _Stream:
    """Reads the 8-byte-header frames of an attached, non-tty exec socket with deadlines."""

    def __init__(self, sock: Any) -> None:
        self.sock_obj = sock
        self.raw: socket.socket = getattr(sock, "_sock", sock)
        self.raw.setblocking(False)
        self.pending = b""
        self.closed = False

    def send(self, data: bytes) -> None:
        self.raw.setblocking(True)
        try:
            self.raw.sendall(data)
        finally:
            self.raw.setblocking(False)

    def read(self, deadline: float | None) -> bytes | None:
        """Payload bytes available before ``deadline``; b"" at EOF; None on deadline."""
        while True:
            out = self._take()
            if out:
                return out
            if self.closed:
                return b""
            wait = None if deadline is None else max(0.0, deadline - time.monotonic())
            ready, _, _ = select.select([self.raw], [], [], wait)
            if not ready:
                return None
            try:
                chunk = self.raw.recv(65536)
            except BlockingIOError:
                continue
            except OSError:
                chunk = b""
            if not chunk:
                self.closed = True
                continue
            self.pending += chunk

    def _take(self) -> bytes:
        out = bytearray()
        while len(self.pending) >= 8:
            _, size = struct.unpack(">BxxxL", self.pending[:8])
            if len(self.pending) < 8 + size:
                break
            out += self.pending[8:8 + size]
            self.pending = self.pending[8 + size:]
        return bytes(out)

    def close(self) -> None:
        for obj in (self.sock_obj, self.raw):
            try:
                obj.close()
            except Exception:
                pass


# ---------------------------------------------------------------------------
# Sessions
# ---------------------------------------------------------------------------

_STALE_MARKER = re.compile(rb"\x1e[0-9a-f]{12}:-?[0-9]+\x1e\n?")
_PID_MARKER = re.compile("\x1eP:([0-9]*)\x1e")


class ContainerSession(Session):
    """A bash reading command lines from an attached exec socket; each run ends with a marker."""

    def __init__(self, sandbox: ContainerSandbox, sid: str) -> None:
        self.sandbox = sandbox
        self.sid = sid
        self._closed = False
        self._start()

    def _start(self) -> None:
        api = self.sandbox.api
        eid = api.exec_create(self.sandbox.cid, ["bash", "--noprofile", "--norc", "-c", SESSION_SHELL],
                              stdin=True, tty=False, workdir=self.sandbox.workdir)["Id"]
        self._stream = _Stream(api.exec_start(eid, socket=True))
        self._dead = False
        self.pid: int | None = None
        deadline = time.monotonic() + 15
        window = b""
        while self.pid is None:
            chunk = self._stream.read(deadline)
            if not chunk:
                self._dead = True
                raise SandboxUnavailable(f"session shell did not start in container {self.sandbox.cid[:12]}")
            window += chunk
            m = re.search(rb"\x1ePID:(\d+)\x1e\n", window)
            if m:
                self.pid = int(m.group(1))

    def run(self, command: str, *, timeout: float) -> ExecResult:
        if self._closed:
            return ExecResult(exit_code=None, output="", error="session is closed")
        note = ""
        if self._dead:
            self._stream.close()
            try:
                self._start()
            except SandboxUnavailable as exc:
                return ExecResult(exit_code=None, output="", error=str(exc))
            note = "[the previous shell exited; a new shell was started in the working folder]\n"
        nonce = secrets.token_hex(6)
        encoded = base64.b64encode(command.encode()).decode()
        line = (
            "read -r __lc_p </proc/sys/kernel/ns_last_pid; printf '\\036P:%s\\036' \"$__lc_p\"; "
            f'{{ eval "$(printf %s {encoded} | base64 -d)"; }} </dev/null; '
            f"printf '\\036{nonce}:%d\\036\\n' $?\n"
        )
        start = time.monotonic()
        try:
            self._stream.send(line.encode())
        except OSError:
            self._dead = True
            return ExecResult(exit_code=None, output=note, error="session shell is gone")
        buf = OutputBuffer(self.sandbox.config.max_output_bytes)
        window = b""
        marker = f"\x1e{nonce}:".encode()
        exit_marker = b"\x1eEXIT:"
        deadline = start + timeout
        code: int | None = None
        timed_out = False
        while True:
            chunk = self._stream.read(deadline)
            if chunk is None:
                timed_out = True
                break
            if chunk == b"":
                self._dead = True
                buf.add(window)
                window = b""
                break
            window += chunk
            idx = window.find(marker)
            eidx = window.find(exit_marker)
            if idx >= 0 or eidx >= 0:
                use = idx if idx >= 0 else eidx
                mlen = len(marker) if idx >= 0 else len(exit_marker)
                end = window.find(b"\x1e", use + mlen)
                if end < 0:
                    continue
                buf.add(window[:use])
                try:
                    code = int(window[use + mlen:end])
                except ValueError:
                    code = None
                if idx < 0:
                    self._dead = True
                window = b""
                break
            if len(window) > 64:
                buf.add(window[:-64])
                window = window[-64:]
        if timed_out:
            buf.add(window)
        text, truncated = buf.text()
        m = _PID_MARKER.search(text)
        first_pid = m.group(1) if m else None
        text = _PID_MARKER.sub("", _STALE_MARKER.sub(b"", text.encode()).decode())
        if timed_out:
            self._interrupt(first_pid or "0", marker)
        return ExecResult(exit_code=None if timed_out else code, output=note + text, timed_out=timed_out,
                          duration_s=time.monotonic() - start, truncated=truncated,
                          error="session shell exited" if self._dead and code is None and not timed_out else None)

    def _interrupt(self, last_pid: str, marker: bytes) -> None:
        """Kill what the timed-out command started; earlier background jobs survive."""
        if self.pid is None:
            return
        self.sandbox._raw_exec(["bash", "-c", SESSION_INTERRUPT, "lc", str(self.pid), last_pid], timeout=15)
        deadline = time.monotonic() + 2.0
        window = b""
        while time.monotonic() < deadline:
            chunk = self._stream.read(deadline)
            if not chunk:
                if chunk == b"":
                    self._dead = True
                break
            window += chunk
            if marker in window:
                break

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self.pid is not None and not self.sandbox._stopped:
            self.sandbox._raw_exec(["bash", "-c", SESSION_INTERRUPT, "lc", str(self.pid), "0", "self"], timeout=10)
        self._stream.close()


# ---------------------------------------------------------------------------
# Sandbox
# ---------------------------------------------------------------------------

class _Control:
    """The sandbox's control shell: requests in, length-prefixed replies out (one at a time)."""

    def __init__(self, sandbox: ContainerSandbox) -> None:
        # An engine under load can drop a fresh exec stream before it says anything
        # (seen with Podman at concurrency 8): try again before calling the image unfit.
        for attempt in range(3):
            if self._start(sandbox):
                break
            time.sleep(0.2 * (attempt + 1))
        else:
            raise SandboxUnavailable(f"the control shell did not start in container {sandbox.cid[:12]} "
                                     f"(the image needs bash, tar and coreutils)")

    def _start(self, sandbox: ContainerSandbox) -> bool:
        api = sandbox.api
        eid = api.exec_create(sandbox.cid, ["bash", "--noprofile", "--norc", "-c", CONTROL_SHELL, "lc-control",
                                            str(sandbox.config.max_output_bytes)],
                              stdin=True, tty=False, workdir="/")["Id"]
        self.stream = _Stream(api.exec_start(eid, socket=True))
        self.counter = 0
        self.buf = b""
        deadline = time.monotonic() + 30
        while b"\x1eREADY:" not in self.buf:
            chunk = self.stream.read(deadline)
            if not chunk:
                self.stream.close()
                return False
            self.buf += chunk
        self.buf = self.buf[self.buf.index(b"\x1e", self.buf.index(b"\x1eREADY:") + 1) + 1:]
        self.alive = True
        return True

    def request(self, op: str, arg: str = "", payload: bytes = b"", t: str = "-",
                deadline: float | None = None) -> tuple[int, bytes] | None:
        """Send one request; (code, reply bytes), or None when the shell died or the deadline passed."""
        self.counter += 1
        rid = f"r{self.counter}"
        encoded = "".join(c if c.isalnum() or c in "/._-" else "".join(f"\\x{b:02x}" for b in c.encode())
                          for c in arg) or "-"
        try:
            self.stream.send(f"{op} {rid} {t} {len(payload)} {encoded}\n".encode() + payload)
        except OSError:
            self.alive = False
            return None
        head = f"\x1eR:{rid}:".encode()
        while True:
            i = self.buf.find(head)
            if i >= 0:
                j = self.buf.find(b"\x1e", i + len(head))
                if j >= 0:
                    code_s, _, len_s = self.buf[i + len(head):j].partition(b":")
                    size = int(len_s)
                    if len(self.buf) >= j + 1 + size:
                        data = self.buf[j + 1:j + 1 + size]
                        self.buf = self.buf[j + 1 + size:]
                        return int(code_s), data
            chunk = self.stream.read(deadline)
            if chunk is None:
                self.alive = False  # wedged: the caller kills everything and starts a new shell
                return None
            if chunk == b"":
                self.alive = False
                return None
            self.buf += chunk

    def close(self) -> None:
        self.alive = False
        self.stream.close()


class ContainerSandbox(Sandbox):
    """One container for one task; removed (with its anonymous volumes) by ``stop``."""

    def __init__(self, backend: ContainerBackend, task: Task, prepared: PreparedImage, *,
                 network: bool | None = None) -> None:
        self.task = task
        self.backend = backend
        self.config = backend.config
        self.api = backend.client.api
        self._workdir = prepared.workdir
        self._stopped = False
        self._sessions: list[ContainerSession] = []
        self._control: _Control | None = None
        self._lock = threading.Lock()
        self.cid = ""
        host_config: dict[str, Any] = {}
        if task.cpus:
            host_config["nano_cpus"] = int(float(task.cpus) * 1e9)
        if task.memory_mb:
            host_config["mem_limit"] = f"{int(task.memory_mb)}m"
        if network is None:
            network = task.allows_network and not self.config.force_no_network
        host_config["network_mode"] = backend.network_mode if network else "none"
        labels = {LABEL: "1", LABEL_RUN: backend.run_id, LABEL_TASK: task.id[:200], LABEL_OWNER: owner_id()}
        try:
            hc = self.api.create_host_config(**host_config)
            created = self.api.create_container(
                prepared.tag, command=PID1[1:], entrypoint=PID1[:1], working_dir=self._workdir,
                environment=task.env or None, labels=labels, host_config=hc, hostname="sandbox",
                detach=True, stdin_open=False, tty=False,
            )
            self.cid = created["Id"]
            backend._track(self)
            self.api.start(self.cid)
            self._control = _Control(self)
        except BaseException as exc:
            self.stop()
            if isinstance(exc, Exception) and not isinstance(exc, SandboxUnavailable):
                raise SandboxUnavailable(f"{backend.name}: could not start a container for {task.id}: "
                                         f"{one_line(exc)}") from None
            raise

    @property
    def workdir(self) -> str:
        return self._workdir

    def _raw_exec(self, cmd: list[str], *, timeout: float) -> tuple[bytes, bool]:
        """An engine exec outside the control shell; (output, finished before ``timeout``)."""
        if self._stopped:
            return b"", False
        try:
            eid = self.api.exec_create(self.cid, cmd, stdout=True, stderr=True, tty=False)["Id"]
            stream = _Stream(self.api.exec_start(eid, socket=True))
        except Exception as exc:
            return f"[engine error: {one_line(exc)}]".encode(), False
        deadline = time.monotonic() + timeout
        out = bytearray()
        try:
            while True:
                chunk = stream.read(deadline)
                if chunk is None:
                    return bytes(out), False
                if chunk == b"":
                    return bytes(out), True
                out += chunk
        finally:
            stream.close()

    def _request(self, op: str, arg: str = "", payload: bytes = b"", t: str = "-",
                 timeout: float = 60.0) -> tuple[int, bytes] | None:
        """One control request (serialized); restarts the control shell when it is gone."""
        with self._lock:
            if self._stopped:
                return None
            if self._control is None or not self._control.alive:
                if self._control is not None:
                    self._control.close()
                self._control = _Control(self)
            reply = self._control.request(op, arg, payload, t, deadline=time.monotonic() + timeout)
            if reply is None and self._control.stream.closed is False:
                # the shell is wedged: nothing in the sandbox may keep running
                self._control.close()
                self._raw_exec(["sh", "-c", KILL_ALL], timeout=15)
            return reply

    def exec(self, command: str, *, timeout: float, cwd: str | None = None,
             env: Mapping[str, str] | None = None) -> ExecResult:
        start = time.monotonic()
        if self._stopped:
            return ExecResult(exit_code=None, output="", error="sandbox is stopped")
        t = max(0.01, float(timeout))
        script = shell_script(command, cwd=cwd or self._workdir, env=env).encode()
        try:
            reply = self._request("X", payload=script, t=f"{t:.3f}", timeout=t + 10.0)
        except Exception as exc:  # engine trouble: still a result
            return ExecResult(exit_code=None, output="", duration_s=time.monotonic() - start,
                              error=f"engine error: {one_line(exc)}")
        elapsed = time.monotonic() - start
        if reply is None:
            return ExecResult(exit_code=None, output="", timed_out=elapsed >= t, duration_s=elapsed,
                              error="the sandbox's control shell was killed or did not answer; restarted")
        code, data = reply
        text = data.decode("utf-8", "replace")
        truncated = b"bytes of output omitted ...]\n" in data and len(data) > self.config.max_output_bytes
        timed_out = code == 124 and elapsed >= t * 0.95
        return ExecResult(exit_code=None if timed_out else code, output=text, timed_out=timed_out,
                          duration_s=elapsed, truncated=truncated)

    def session(self) -> Session:
        s = ContainerSession(self, f"s{len(self._sessions) + 1}")
        self._sessions.append(s)
        return s

    def upload(self, src: Path, dst: str) -> None:
        src = Path(src)
        if not PurePosixPath(dst).is_absolute():
            raise ValueError(f"sandbox path must be absolute: {dst}")
        if not src.exists():
            raise FileNotFoundError(str(src))
        p = PurePosixPath(dst)
        if src.is_dir():
            kind, data = "d", tar_of(src, ".")
        else:
            kind, data = "f", tar_of(src, p.name)
        reply = self._request("U", dst, data, t=kind, timeout=300)
        if reply is None or reply[0] != 0:
            why = "control shell gone" if reply is None else reply[1].decode("utf-8", "replace").strip()[-200:]
            raise SandboxUnavailable(f"upload of {src} to {dst} failed: {why}")

    def _archive(self, src: str) -> bytes | None:
        reply = self._request("D", src, timeout=300)
        if reply is None:
            raise SandboxUnavailable(f"download of {src} failed: control shell gone")
        code, data = reply
        return data if code == 0 else None

    def download(self, src: str, dst: Path) -> None:
        data = self._archive(src)
        if data is None:
            raise FileNotFoundError(src)
        extract_archive(iter([data]), Path(dst))

    def read_file(self, path: str, *, limit: int = MAX_OUTPUT_BYTES) -> bytes | None:
        data = self._archive(path)
        if not data:
            return None
        with tarfile.open(fileobj=io.BytesIO(data), mode="r") as tf:
            first = tf.next()
            if first is None or not first.isfile():
                return None
            fh = tf.extractfile(first)
            return fh.read(limit) if fh else None

    def kill_agent_processes(self) -> None:
        """Kill everything but PID 1 from a fresh control shell (which then serves the verifier)."""
        for s in self._sessions:
            s._closed = True
            s._stream.close()
        self._sessions.clear()
        with self._lock:
            old = self._control
            if old is not None:
                old.close()
            try:
                self._control = _Control(self)
            except Exception:
                # the container itself died (the OOM killer took PID 1, the agent broke it):
                # restart it; its files, which the verifier needs, survive a restart
                self.api.restart(self.cid, timeout=0)
                self._control = _Control(self)
        reply = self._request("K", timeout=30)
        if reply is None or reply[0] != 0:
            # something survived, or zombies pile up (or the engine did not answer): restart the
            # container, PID 1 included
            with self._lock:
                if self._control is not None:
                    self._control.close()
                self.api.restart(self.cid, timeout=0)
                self._control = _Control(self)

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        for s in self._sessions:
            s._closed = True
            s._stream.close()
        if self._control is not None:
            self._control.close()
        if self.cid:
            import docker.errors

            for attempt in range(3):
                try:
                    self.api.remove_container(self.cid, force=True, v=True)
                    break
                except docker.errors.NotFound:
                    break
                except Exception:
                    if attempt == 2:
                        if not self.backend.answers():
                            # the engine is away (restarting): remove the container once it is back
                            self.backend._orphans.add(self.cid)
                            break
                        raise
                    time.sleep(0.2)
        self.backend._untrack(self)


# ---------------------------------------------------------------------------
# Backend
# ---------------------------------------------------------------------------

class ContainerBackend(SandboxBackend):
    """A sandbox backend over one Docker-API engine (dockerd or Podman's service)."""

    name = "container"
    #: What "the network" means for the engine ("bridge" for both Docker and Podman).
    network_mode = "bridge"
    #: Whether the engine honours network_mode=none for builds (Podman 4.3's compat API does not).
    offline_builds = True

    def __init__(self, config: ContainerConfig | None = None, *, engine: str = "docker") -> None:
        from litecore.images import merged_aliases

        self.config = config or ContainerConfig()
        self.engine = engine
        self.name = engine
        self.client = connect(engine, self.config.base_url, timeout=self.config.api_timeout_s)
        self.aliases = merged_aliases(self.config.aliases, defaults=self.config.default_aliases)
        self.run_id = secrets.token_hex(6)
        self.lock_dir = default_cache_dir() / "locks"
        self._prepared: dict[str, PreparedImage] = {}
        self._image_ids: dict[str, str | None] = {}
        self._lock = threading.Lock()
        self._open: set[ContainerSandbox] = set()
        #: Containers that could not be removed while the engine was away.
        self._orphans: set[str] = set()
        self._finalizer = weakref.finalize(self, _stop_all, self._open)
        atexit.register(self._finalizer)
        # containers of runs on this host that were killed (their owner process is gone) are removed here
        try:
            clean_engine(self.client, reap_only=True)
        except Exception:  # hygiene must never stop a run
            pass

    # -- bookkeeping ------------------------------------------------------
    def _track(self, sb: ContainerSandbox) -> None:
        with self._lock:
            self._open.add(sb)

    def _untrack(self, sb: ContainerSandbox) -> None:
        with self._lock:
            self._open.discard(sb)

    def answers(self) -> bool:
        """Whether the engine answers a ping now."""
        try:
            return bool(self.client.ping())
        except Exception:
            return False

    def wait_for_engine(self, seconds: float) -> bool:
        """Poll until the engine answers again (it is restarting), at most ``seconds``."""
        deadline = time.monotonic() + seconds
        while not self.answers():
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.5)
        return True

    def _remove_orphans(self) -> None:
        import docker.errors

        with self._lock:
            orphans, self._orphans = self._orphans, set()
        for cid in orphans:
            try:
                self.client.api.remove_container(cid, force=True, v=True)
            except docker.errors.NotFound:
                pass
            except Exception:
                with self._lock:
                    self._orphans.add(cid)

    def close(self) -> None:
        """Stop every sandbox still open (Ctrl-C, crashes in callers) and drop the client."""
        _stop_all(self._open)
        if self._orphans and self.wait_for_engine(min(30.0, self.config.engine_wait_s)):
            self._remove_orphans()
        try:
            self.client.close()
        except Exception:
            pass

    # -- images -----------------------------------------------------------
    def _image_id(self, name: str) -> str | None:
        import docker.errors

        with self._lock:
            if name in self._image_ids:
                return self._image_ids[name]
        try:
            iid = self.client.api.inspect_image(name)["Id"]
        except docker.errors.ImageNotFound:
            iid = None
        except docker.errors.APIError:
            iid = None
        if iid is not None:  # an absent image may be built or imported later in this process
            with self._lock:
                self._image_ids[name] = iid
        return iid

    def resolve_image(self, name: str) -> tuple[str, str | None]:
        """(image to use, its id): the name itself when the engine has it, else its alias."""
        from litecore.images import resolve_alias

        iid = self._image_id(name)
        if iid:
            return name, iid
        target = resolve_alias(name, self.aliases)
        if target:
            return target, self._image_id(target)
        return name, None

    def _mapped_dockerfile(self, dockerfile: Path) -> tuple[str, dict[str, str | None]]:
        """The Dockerfile text with FROM names mapped, and each used image's id (for the key)."""
        text = dockerfile.read_text(encoding="utf-8", errors="replace")
        stages: set[str] = set()
        used: dict[str, str | None] = {}
        lines = text.splitlines(keepends=True)
        out = []
        for line in lines:
            m = re.match(r"^(\s*FROM\s+)((?:--\S+\s+)*)(\S+)(.*)$", line, re.IGNORECASE)
            if not m:
                out.append(line)
                continue
            image = m.group(3)
            rest = m.group(4)
            sm = re.match(r"\s+AS\s+(\S+)", rest, re.IGNORECASE)
            if image in stages or "$" in image:
                out.append(line)
            else:
                target, iid = self.resolve_image(image)
                used[image] = iid
                out.append(f"{m.group(1)}{m.group(2)}{target}{rest}" + ("" if rest.endswith("\n") else
                                                                      ("\n" if line.endswith("\n") else "")))
                if iid is None:
                    used[image] = None
            if sm:
                stages.add(sm.group(1))
        return "".join(out), used

    def image_key(self, task: Task) -> tuple[str, str | None, dict[str, str | None]]:
        """(content key, mapped Dockerfile or None, base images used -> ids)."""
        env_dir = task.path / "environment"
        h = hashlib.sha256(BUILD_VERSION.encode())
        h.update((tree_digest(env_dir) if env_dir.is_dir() else "none").encode())
        if task.dockerfile is not None:
            text, used = self._mapped_dockerfile(task.dockerfile)
            h.update(text.encode())
            h.update(json.dumps(used, sort_keys=True).encode())
            return h.hexdigest()[:24], text, used
        image = task.docker_image or ""
        target, iid = self.resolve_image(image)
        h.update(json.dumps({image: iid, "target": target}).encode())
        return h.hexdigest()[:24], None, {image: iid}

    def prepare(self, task: Task, *, network: bool | None = None) -> PreparedImage:
        """Build (or find) the task's image: once per content key, builds of one key serialized."""
        key, text, used = self.image_key(task)
        with self._lock:
            if key in self._prepared:
                return self._prepared[key]
        tag = f"{ENV_REPO}:{key}"
        if text is None:
            # a prebuilt image (docker_image): use it, mapped through the alias map
            target, iid = self.resolve_image(task.docker_image or "")
            if iid is None:
                raise ImageBuildError(
                    f"{task.path / 'task.toml'}: docker_image '{task.docker_image}' is not in the {self.engine} "
                    f"engine and no alias maps it to a local image; add an alias (--alias NAME=litecore/dev:bookworm) "
                    f"or run `litecore images build`", cause="base-image-missing")
            tag = target
        else:
            self._build_locked(task, key, tag, text, used, network=network)
        prepared = PreparedImage(tag=tag, key=key, workdir=self._workdir_of(task, tag))
        with self._lock:
            self._prepared[key] = prepared
        return prepared

    def _workdir_of(self, task: Task, tag: str) -> str:
        if task.workdir:
            return task.workdir
        try:
            wd = (self.client.api.inspect_image(tag).get("Config") or {}).get("WorkingDir") or ""
        except Exception:
            wd = ""
        return wd if wd and wd != "/" else "/app"

    def _build_locked(self, task: Task, key: str, tag: str, text: str, used: Mapping[str, str | None],
                      *, network: bool | None) -> None:
        if self._image_id(tag) is not None:
            return
        self.lock_dir.mkdir(parents=True, exist_ok=True)
        with open(self.lock_dir / f"{self.engine}-{key}.lock", "w") as lockf:
            fcntl.flock(lockf, fcntl.LOCK_EX)
            with self._lock:
                self._image_ids.pop(tag, None)
            if self._image_id(tag) is not None:
                return
            self.build(task, tag, text, used, key=key, network=network)
            with self._lock:
                self._image_ids.pop(tag, None)

    def build(self, task: Task, tag: str, text: str, used: Mapping[str, str | None], *, key: str,
              network: bool | None = None) -> None:
        """One engine build of the task's environment (raises ImageBuildError with a cause)."""
        import docker.errors
        import requests

        assert task.dockerfile is not None
        missing = copy_sources_missing(task.dockerfile)
        if missing:
            line, src = missing[0]
            raise ImageBuildError(f"{task.dockerfile}:{line}: COPY source '{src}' does not exist in environment/",
                                  cause="missing-copy-source")
        absent = [name for name, iid in used.items() if iid is None]
        if absent:
            raise ImageBuildError(
                f"{task.dockerfile}: base image '{absent[0]}' is not in the {self.engine} engine and no alias maps it "
                f"to a local one; run `litecore images build` or add --alias {absent[0]}=litecore/dev:bookworm",
                cause="base-image-missing")
        use_net = self.config.build_network if network is None else network
        context = build_context(task.dockerfile.parent, text)
        log: list[str] = []
        error = None
        try:
            for item in self.client.api.build(
                fileobj=io.BytesIO(context), custom_context=True, tag=tag, rm=True, forcerm=True, pull=False,
                decode=True, timeout=int(task.build_timeout_sec) + 30,
                labels={LABEL: "1", LABEL_ENV_KEY: key, LABEL_TASK: task.id[:200]},
                network_mode="default" if use_net else "none",
            ):
                if "stream" in item:
                    log.append(item["stream"])
                if "error" in item:
                    error = item["error"]
                    log.append(error)
        except (requests.exceptions.ReadTimeout, requests.exceptions.ConnectionError):
            raise ImageBuildError(f"{task.dockerfile}: build took longer than {task.build_timeout_sec:.0f}s",
                                  cause="build-timeout", log="".join(log)) from None
        except docker.errors.APIError as exc:
            error = one_line(exc)
        if error is None and self._image_id_fresh(tag) is None:
            error = "the engine reported no error but produced no image"
        if error:
            tail = " ".join(error.split())[:300]
            raise ImageBuildError(f"{task.dockerfile}: build failed: {tail}", cause="build-failed",
                                  log="".join(log))

    def _image_id_fresh(self, name: str) -> str | None:
        with self._lock:
            self._image_ids.pop(name, None)
        return self._image_id(name)

    def is_prepared(self, task: Task) -> bool:
        """Whether the task's image is already in the engine (nothing to build)."""
        key, text, _ = self.image_key(task)
        if text is None:
            return self.resolve_image(task.docker_image or "")[1] is not None
        return self._image_id_fresh(f"{ENV_REPO}:{key}") is not None

    def open(self, task: Task, *, network: bool | None = None) -> ContainerSandbox:
        """Start a sandbox; ``network`` overrides task.toml's network mode (audits probe with it).

        An engine that stopped answering (restarted mid-run) is waited for, up to
        ``engine_wait_s``, instead of failing the episode at once.
        """
        if self._orphans:
            self._remove_orphans()
        try:
            return ContainerSandbox(self, task, self.prepare(task), network=network)
        except Exception:
            if self.answers():
                raise
        if not self.wait_for_engine(self.config.engine_wait_s):
            raise SandboxUnavailable(f"{self.name}: the engine stopped answering and did not come back "
                                     f"within {self.config.engine_wait_s:.0f}s; {START_HINT[self.engine]}")
        return ContainerSandbox(self, task, self.prepare(task), network=network)


def _stop_all(open_set: set[ContainerSandbox]) -> None:
    for sb in list(open_set):
        try:
            sb.stop()
        except Exception:
            pass


# ---------------------------------------------------------------------------
# Hygiene
# ---------------------------------------------------------------------------

@attrs.frozen(kw_only=True)
class Leftovers:
    containers: int
    networks: int
    volumes: int
    images: int = 0


def labelled_objects(client: Any) -> dict[str, list[str]]:
    """Ids of every container, network and volume carrying litecore's label."""
    flt = {"label": LABEL}
    return {
        "containers": [c["Id"] for c in client.api.containers(all=True, filters=flt)],
        "networks": [n["Id"] for n in client.api.networks(filters=flt)],
        "volumes": [v["Name"] for v in (client.api.volumes(filters=flt).get("Volumes") or [])],
    }


def clean_engine(client: Any, *, all_owners: bool = False, images: bool = False,
                 run_id: str | None = None, reap_only: bool = False) -> Leftovers:
    """Remove litecore's containers (of dead owners, or all), networks, volumes (and env images).

    ``reap_only``: only the containers whose owner was a process on this host that is gone (what
    a backend does when it starts; other hosts' containers and shared objects are left alone).
    """
    import docker.errors

    host = socket.gethostname()
    removed = {"containers": 0, "networks": 0, "volumes": 0, "images": 0}
    for c in client.api.containers(all=True, filters={"label": LABEL}):
        labels = c.get("Labels") or {}
        if run_id and labels.get(LABEL_RUN) != run_id:
            continue
        if not all_owners and not run_id:
            owner_host, _, pid = labels.get(LABEL_OWNER, ":").partition(":")
            if owner_host == host and pid.isdigit() and _pid_alive(int(pid)):
                continue
            if reap_only and owner_host != host:
                continue
        try:
            client.api.remove_container(c["Id"], force=True, v=True)
            removed["containers"] += 1
        except docker.errors.NotFound:
            pass
    if reap_only:
        return Leftovers(**removed)
    for n in client.api.networks(filters={"label": LABEL}):
        try:
            client.api.remove_network(n["Id"])
            removed["networks"] += 1
        except docker.errors.APIError:
            pass
    for v in client.api.volumes(filters={"label": LABEL}).get("Volumes") or []:
        try:
            client.api.remove_volume(v["Name"], force=True)
            removed["volumes"] += 1
        except docker.errors.APIError:
            pass
    if images:
        for img in client.api.images(filters={"label": LABEL_ENV_KEY}):
            try:
                client.api.remove_image(img["Id"], force=True)
                removed["images"] += 1
            except docker.errors.APIError:
                pass
    return Leftovers(**removed)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
