"""What every sandbox backend provides, and the pieces they share.

A backend prepares a task's environment once (image or snapshot, cached by
content) and opens sandboxes from it. A sandbox runs commands with a timeout
and *always* returns an :class:`ExecResult` (it never raises on a slow or dead
command), keeps persistent shell sessions for multi-turn agents, moves files in
and out, and is gone after ``stop()``, whatever happened.

In-sandbox paths follow Harbor: the agent works in ``/app`` (or the task's
workdir), logs go to ``/logs/agent`` and ``/logs/verifier``, tests are copied to
``/tests`` only for verification, and the reference solution to ``/solution``
only for the oracle.
"""

from __future__ import annotations

import abc
import os
import shlex
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType

import attrs

from litecore.task import Task

#: Output kept per command; the middle of longer output is cut (head and tail stay).
MAX_OUTPUT_BYTES = 256 * 1024

AGENT_LOGS = "/logs/agent"
VERIFIER_LOGS = "/logs/verifier"
TESTS_DIR = "/tests"
SOLUTION_DIR = "/solution"


#: How a trajectory's ``error`` or a validation's reason starts when its sandbox failed on
#: every try (an infrastructure failure): such work is no data, and a resumed run does it again.
SANDBOX_FAILED = "sandbox failed on every try"


@attrs.frozen(kw_only=True)
class ExecResult:
    """The outcome of one command. ``exit_code`` is None when it timed out or was killed."""

    exit_code: int | None
    output: str
    timed_out: bool = False
    duration_s: float = 0.0
    truncated: bool = False
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.timed_out


def clip_output(data: bytes, limit: int = MAX_OUTPUT_BYTES) -> tuple[str, bool]:
    """Decode output, keeping the head and the tail when it is longer than ``limit``."""
    if len(data) <= limit:
        return data.decode("utf-8", "replace"), False
    half = limit // 2
    cut = len(data) - 2 * half
    text = (
        data[:half].decode("utf-8", "replace")
        + f"\n[... {cut} bytes of output omitted ...]\n"
        + data[-half:].decode("utf-8", "replace")
    )
    return text, True


class OutputBuffer:
    """Accumulates a stream, keeping at most ``limit`` bytes (head and tail)."""

    def __init__(self, limit: int = MAX_OUTPUT_BYTES) -> None:
        self.limit = limit
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0

    def add(self, chunk: bytes) -> None:
        self.total += len(chunk)
        room = self.limit // 2 - len(self.head)
        if room > 0:
            self.head += chunk[:room]
            chunk = chunk[room:]
        if chunk:
            self.tail += chunk
            if len(self.tail) > self.limit // 2:
                del self.tail[: len(self.tail) - self.limit // 2]

    def text(self) -> tuple[str, bool]:
        omitted = self.total - len(self.head) - len(self.tail)
        if omitted <= 0:
            return (bytes(self.head) + bytes(self.tail)).decode("utf-8", "replace"), False
        return (
            self.head.decode("utf-8", "replace")
            + f"\n[... {omitted} bytes of output omitted ...]\n"
            + self.tail.decode("utf-8", "replace"),
            True,
        )


def shell_script(command: str, *, cwd: str | None, env: Mapping[str, str] | None) -> str:
    """The bash script a backend runs for one ``exec``: cd, exports, then the command."""
    lines = []
    for k, v in (env or {}).items():
        lines.append(f"export {k}={shlex.quote(v)}")
    if cwd:
        lines.append(f"cd {shlex.quote(cwd)} || exit 126")
    lines.append(command)
    return "\n".join(lines) + "\n"


class Session(abc.ABC):
    """A persistent shell: cwd, variables and background jobs survive between commands."""

    @abc.abstractmethod
    def run(self, command: str, *, timeout: float) -> ExecResult:
        """Run ``command`` in the shell; on timeout its processes are killed, the shell lives on."""

    @abc.abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Sandbox(abc.ABC):
    """One running sandbox for one task."""

    task: Task

    @property
    @abc.abstractmethod
    def workdir(self) -> str:
        """Where the agent starts (``/app`` unless the task says otherwise)."""

    @abc.abstractmethod
    def exec(
        self,
        command: str,
        *,
        timeout: float,
        cwd: str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> ExecResult:
        """Run a bash command in a fresh shell; always returns, never raises on the command."""

    @abc.abstractmethod
    def session(self) -> Session:
        """Open a persistent shell session (starting in :attr:`workdir`)."""

    @abc.abstractmethod
    def upload(self, src: Path, dst: str) -> None:
        """Copy a host file or folder to ``dst`` in the sandbox, replacing what is there."""

    @abc.abstractmethod
    def download(self, src: str, dst: Path) -> None:
        """Copy a sandbox file or folder to the host."""

    @abc.abstractmethod
    def kill_agent_processes(self) -> None:
        """Kill every process the agent left (daemons included) before verification."""

    @abc.abstractmethod
    def stop(self) -> None:
        """Remove every process, file and engine object of this sandbox (idempotent)."""

    def run_pytest(self, args: Sequence[str], *, cwd: str, env: Mapping[str, str], log: str,
                   timeout: float) -> ExecResult | None:
        """``python3 -I -m pytest ARGS`` in ``cwd``, output to ``log``, from an interpreter that
        has already imported pytest; None where this backend keeps none (then run the command).

        The verifier's fast path for litecore's standard ``tests/test.sh``: the same test process
        in the same sandbox, without paying pytest's start-up on every verification.
        """
        return None

    def read_file(self, path: str, *, limit: int = MAX_OUTPUT_BYTES) -> bytes | None:
        """Read a small file from the sandbox; None if it does not exist."""
        import tempfile

        with tempfile.TemporaryDirectory(prefix="litecore-read-") as tmp:
            target = Path(tmp) / "f"
            try:
                self.download(path, target)
            except FileNotFoundError:
                return None
            if not target.is_file():
                return None
            with open(target, "rb") as fh:
                return fh.read(limit)

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()


class SandboxBackend(abc.ABC):
    """Prepares environments and opens sandboxes."""

    name: str

    @abc.abstractmethod
    def prepare(self, task: Task) -> None:
        """Build (or find cached) the task's environment; raise SandboxUnavailable if impossible."""

    @abc.abstractmethod
    def open(self, task: Task) -> Sandbox:
        """Start a sandbox for ``task`` (preparing it first if needed)."""

    def close(self) -> None:
        """Release backend-wide resources (engine clients...)."""


def default_cache_dir() -> Path:
    """Where litecore keeps prepared environments and other caches."""
    base = os.environ.get("LITECORE_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "litecore"
    )
    return Path(base)
