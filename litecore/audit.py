"""``litecore audit DATASET``: does each task build, does its oracle earn 1 and doing nothing 0,
and does it need the network to build or to be solved and tested?

Each task is checked with fresh sandboxes and litecore's tamper-proof verifier:
1. load (format errors are a cause of their own);
2. build *offline*; when that fails, build again with the network: a task that
   only builds online *needs the network at build time*;
3. oracle offline; when it does not earn 1 and the task allows the network, the
   oracle again online: earning 1 then means it *needs the network at solve/test time*;
4. noop (same network as the oracle that earned 1): anything above 0 means the
   tests pass without any work.

Network use is inferred from what breaks without it (a build that uses the
network but tolerates its absence is not flagged). An image already built before
the audit is reported as ``cached`` for build-time network, and so is every build
on an engine that cannot build offline (Podman 4.3's compat API ignores it).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import attrs

from litecore.errors import LitecoreError, TaskFormatError
from litecore.sandbox import SandboxBackend
from litecore.task import Task, is_task_dir, load_task
from litecore.verify import HarborVerifier, Verifier, run_solution

#: Why a task is broken (None = healthy). Ordered by when the audit finds them.
CAUSES = {
    "task-format": "task folder is malformed",
    "missing-copy-source": "Dockerfile COPY/ADD names a file that is not in environment/",
    "base-image-missing": "FROM image is not available and no alias maps it",
    "build-failed": "image build fails (even with the network)",
    "build-timeout": "image build exceeds its timeout",
    "sandbox-error": "the sandbox could not start",
    "oracle-verifier-error": "with the reference solution the tests write no valid reward",
    "oracle-fails": "the reference solution does not earn 1",
    "noop-passes": "doing nothing earns a reward (tests pass without any work)",
    "noop-verifier-error": "with no work done the tests write no valid reward",
}


@attrs.frozen(kw_only=True)
class TaskAudit:
    task_id: str
    builds: bool | None = None
    build_s: float | None = None
    #: True: builds only with the network; False: builds offline; None: not known (cached or not built).
    build_network: bool | None = None
    build_cached: bool = False
    oracle: float | None = None
    noop: float | None = None
    #: True: the oracle earns 1 only with the network.
    test_network: bool | None = None
    cause: str | None = None
    detail: str = ""
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.cause is None


@attrs.frozen(kw_only=True)
class AuditReport:
    dataset: str
    backend: str
    tasks: tuple[TaskAudit, ...]
    seconds: float

    @property
    def summary(self) -> dict[str, Any]:
        causes = Counter(t.cause for t in self.tasks if t.cause)
        return {
            "tasks": len(self.tasks),
            "ok": sum(t.ok for t in self.tasks),
            "broken": sum(not t.ok for t in self.tasks),
            "causes": dict(causes.most_common()),
            "needs_network_build": sum(t.build_network is True for t in self.tasks),
            "needs_network_test": sum(t.test_network is True for t in self.tasks),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "backend": self.backend,
            "seconds": round(self.seconds, 3),
            "summary": self.summary,
            "tasks": [attrs.asdict(t) | {"ok": t.ok} for t in self.tasks],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)


def _dataset_paths(path: Path) -> list[Path]:
    if is_task_dir(path):
        return [path]
    if not path.is_dir():
        raise TaskFormatError(f"{path}: no such task or dataset folder")
    found = sorted(p for p in path.iterdir() if p.is_dir() and is_task_dir(p))
    if not found:
        raise TaskFormatError(f"{path}: no task folders found (a task folder holds task.toml)")
    return found


def _supports_network_probe(backend: SandboxBackend) -> bool:
    from litecore.containers import ContainerBackend

    return isinstance(backend, ContainerBackend)


def _trial(backend: SandboxBackend, task: Task, verifier: Verifier, *, oracle: bool,
           network: bool | None) -> tuple[float | None, str | None]:
    if network is not None and _supports_network_probe(backend):
        sandbox = backend.open(task, network=network)  # type: ignore[call-arg]
    else:
        sandbox = backend.open(task)
    with sandbox:
        if oracle:
            run_solution(sandbox, task)
        result = verifier.verify(task, sandbox)
    return result.reward, result.error


def audit_task(path: Path, backend: SandboxBackend, verifier: Verifier | None = None, *,
               probe_network: bool = True) -> TaskAudit:
    """Audit one task folder (never raises on a broken task: the cause says what broke)."""
    from litecore.containers import ImageBuildError

    verifier = verifier or HarborVerifier()
    start = time.monotonic()
    tid = path.name

    def done(**kw: Any) -> TaskAudit:
        return TaskAudit(task_id=tid, seconds=time.monotonic() - start, **kw)

    try:
        task = load_task(path)
    except TaskFormatError as exc:
        return done(cause="task-format", detail=str(exc))
    probe = probe_network and _supports_network_probe(backend)
    build: dict[str, Any] = {}
    t0 = time.monotonic()
    try:
        if probe and not getattr(backend, "offline_builds", False):
            build["build_cached"] = backend.is_prepared(task)  # type: ignore[attr-defined]
            backend.prepare(task)  # the engine cannot build offline: build-time network stays unknown
        elif probe:
            cached = backend.is_prepared(task)  # type: ignore[attr-defined]
            build["build_cached"] = cached
            try:
                backend.prepare(task, network=False)  # type: ignore[call-arg]
                build["build_network"] = None if cached else False
            except ImageBuildError as exc:
                if exc.cause != "build-failed":
                    raise
                backend.prepare(task, network=True)  # type: ignore[call-arg]
                build["build_network"] = True
        else:
            backend.prepare(task)
    except ImageBuildError as exc:
        return done(builds=False, build_s=time.monotonic() - t0, cause=exc.cause, detail=str(exc), **build)
    except LitecoreError as exc:
        return done(builds=False, build_s=time.monotonic() - t0, cause="build-failed", detail=str(exc), **build)
    build.update(builds=True, build_s=time.monotonic() - t0)
    try:
        net: bool | None = False if probe else None
        oracle, err = _trial(backend, task, verifier, oracle=True, network=net)
        if probe and (oracle is None or oracle < 1.0) and task.allows_network:
            online, online_err = _trial(backend, task, verifier, oracle=True, network=True)
            if online is not None and online >= 1.0:
                oracle, err, net = online, None, True
                build["test_network"] = True
            else:
                build["test_network"] = False
        elif probe:
            build["test_network"] = False
        if oracle is None:
            return done(oracle=None, cause="oracle-verifier-error", detail=err or "", **build)
        if oracle < 1.0:
            return done(oracle=oracle, cause="oracle-fails", detail=f"oracle reward {oracle:g}", **build)
        noop, nerr = _trial(backend, task, verifier, oracle=False, network=net)
        if noop is None:
            return done(oracle=oracle, cause="noop-verifier-error", detail=nerr or "", **build)
        if noop > 0.0:
            return done(oracle=oracle, noop=noop, cause="noop-passes", detail=f"noop reward {noop:g}", **build)
        return done(oracle=oracle, noop=noop, **build)
    except LitecoreError as exc:
        return done(cause="sandbox-error", detail=str(exc), **build)


def audit_dataset(
    dataset: str | Path,
    backend: SandboxBackend,
    verifier: Verifier | None = None,
    *,
    workers: int = 1,
    probe_network: bool = True,
    progress: Callable[[TaskAudit], None] | None = None,
) -> AuditReport:
    """Audit every task of a dataset folder (or one task folder) with ``workers`` in parallel."""
    start = time.monotonic()
    paths = _dataset_paths(Path(dataset))

    def one(p: Path) -> TaskAudit:
        row = audit_task(p, backend, verifier, probe_network=probe_network)
        if progress:
            progress(row)
        return row

    if workers <= 1:
        rows = [one(p) for p in paths]
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            rows = list(pool.map(one, paths))
    return AuditReport(dataset=str(dataset), backend=getattr(backend, "name", type(backend).__name__),
                       tasks=tuple(rows), seconds=time.monotonic() - start)


def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def report_rows(report: AuditReport) -> list[list[str]]:
    """The table the CLI prints: one row per task."""
    rows = []
    for t in report.tasks:
        bnet = "cached" if t.build_cached and t.build_network is None and t.builds else _fmt(t.build_network)
        rows.append([t.task_id, _fmt(t.builds), bnet, _fmt(t.oracle), _fmt(t.noop), _fmt(t.test_network),
                     t.cause or "ok", t.detail[:120]])
    return rows


REPORT_HEADER: Sequence[str] = ("task", "builds", "net@build", "oracle", "noop", "net@test", "cause", "detail")
