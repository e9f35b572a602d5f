"""Running many independent jobs: where a stage's fan-out goes.

A stage (generate, validate, rollout, eval) expresses each unit of work as a
*job*: a module-level function plus picklable arguments (the frozen
``PipelineConfig``, task paths as strings, a plan record). The job resolves the
plugins it needs inside whatever process runs it (cached per process, see
:func:`worker_plugins`), does the work, writes its result file atomically into
the run folder and returns it. Because jobs are idempotent and their outputs are
keyed by content, an executor may run a job twice (a worker lost mid-run, a
retry) without duplicating anything.

An :class:`Executor` runs jobs and yields results as they finish. The ``local``
executor (threads in this process, the default) and distributed ones (``ray``
from litecore-executor-ray) register through the one ``litecore_executors`` hook.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import attrs

import litecore
from litecore.records import ExecutorPlugin

if TYPE_CHECKING:
    from litecore.config import PipelineConfig
    from litecore.pipeline import Plugins

T = TypeVar("T")
R = TypeVar("R")


def map_unordered(
    fn: Callable[[T], R],
    items: Sequence[T] | Iterable[T],
    *,
    concurrency: int,
    progress: Callable[[int], None] | None = None,
) -> Iterator[R]:
    """Yield ``fn(item)`` as each finishes, at most ``concurrency`` at a time.

    On an exception or Ctrl-C, pending jobs are cancelled and running ones are
    waited for (their ``with`` blocks clean up their sandboxes) before re-raising.
    """
    items = list(items)
    if concurrency <= 1:
        for item in items:
            result = fn(item)
            if progress:
                progress(1)
            yield result
        return
    pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="litecore")
    it = iter(items)
    running: set[Future[R]] = set()
    try:
        for item in it:
            running.add(pool.submit(fn, item))
            if len(running) >= concurrency:
                break
        while running:
            done, running = wait(running, return_when=FIRST_COMPLETED)
            for fut in done:
                result = fut.result()
                if progress:
                    progress(1)
                yield result
                nxt = next(it, None)
                if nxt is not None:
                    running.add(pool.submit(fn, nxt))
    finally:
        for fut in running:
            fut.cancel()
        pool.shutdown(wait=True, cancel_futures=True)


# ---------------------------------------------------------------------------
# Executors
# ---------------------------------------------------------------------------


class Executor(Protocol):
    """What an executor plugin's factory (``factory(config, concurrency=N)``) returns."""

    name: str

    def map(self, job: Callable[..., R], args: Sequence[tuple[Any, ...]], *,
            progress: Callable[[int], None] | None = None) -> Iterator[R]:
        """Run ``job(*a)`` for every ``a`` in ``args``; yield results as they finish (any order).

        ``job`` is a module-level function and every argument is picklable. A job
        that raises ends the map with that exception (the original type, so a
        ``LitecoreError`` still reaches the user as one line).
        """
        ...

    def close(self) -> None:
        """Release what the executor holds (threads, a cluster connection)."""
        ...


@attrs.frozen(kw_only=True)
class LocalExecutorConfig:
    """The ``local`` executor takes no options: ``[run] concurrency`` sets its threads."""


class LocalExecutor:
    """Threads in this process: the default, and what every stage used before executors existed."""

    name = "local"

    def __init__(self, config: LocalExecutorConfig | None = None, *, concurrency: int = 2) -> None:
        self.concurrency = concurrency

    def map(self, job: Callable[..., R], args: Sequence[tuple[Any, ...]], *,
            progress: Callable[[int], None] | None = None) -> Iterator[R]:
        return map_unordered(lambda a: job(*a), args, concurrency=self.concurrency, progress=progress)

    def close(self) -> None:
        pass


def local_executor_record() -> ExecutorPlugin:
    return ExecutorPlugin(name="local", factory=LocalExecutor, config=LocalExecutorConfig,
                          description="threads in this process ([run] concurrency at a time)")


@litecore.hookimpl
def litecore_executors():
    return [local_executor_record()]


# ---------------------------------------------------------------------------
# The per-process plugin cache jobs resolve through
# ---------------------------------------------------------------------------


def config_key(cfg: PipelineConfig) -> str:
    """A stable key for a configuration (the same in every process that unpickles it)."""
    data = json.dumps(attrs.asdict(cfg), sort_keys=True, default=str)
    return hashlib.sha256(data.encode()).hexdigest()[:24]


@attrs.define
class WorkerState:
    """One configuration's resolved plugins in one process, plus the policies made from them."""

    plugins: Plugins
    owned: bool
    policies: dict[str, Any] = attrs.field(factory=dict)
    lock: threading.Lock = attrs.field(factory=threading.Lock)

    def policy(self, key: str, make: Callable[[], Any]) -> Any:
        """One policy object per (stage, checkpoint) per process, made on first use."""
        with self.lock:
            if key not in self.policies:
                self.policies[key] = make()
            return self.policies[key]


class _WorkerCache:
    """Resolved plugins by configuration key; filled lazily, never at import time."""

    def __init__(self) -> None:
        self.states: dict[str, WorkerState] = {}
        self.lock = threading.Lock()
        self.atexit = False


_CACHE: _WorkerCache | None = None
_CACHE_LOCK = threading.Lock()


def _cache() -> _WorkerCache:
    global _CACHE
    with _CACHE_LOCK:
        if _CACHE is None:
            _CACHE = _WorkerCache()
        return _CACHE


def adopt_plugins(cfg: PipelineConfig, plugins: Plugins) -> None:
    """Let jobs run in this process use the driver's already-resolved plugins (local executor).

    That keeps in-process registrations (tests, notebooks) working and resolves nothing twice.
    """
    c = _cache()
    with c.lock:
        c.states[config_key(cfg)] = WorkerState(plugins=plugins, owned=False)


def release_plugins(cfg: PipelineConfig) -> None:
    """Forget what :func:`adopt_plugins` registered (the driver closes its own backend)."""
    c = _cache()
    with c.lock:
        state = c.states.get(config_key(cfg))
        if state is not None and not state.owned:
            del c.states[config_key(cfg)]


def worker_state(cfg: PipelineConfig) -> WorkerState:
    """This process's resolved plugins for ``cfg``: adopted from the driver, or resolved here once.

    A worker process (Ray) loads plugins from entry points; its sandbox backend is closed
    when the process exits.
    """
    c = _cache()
    key = config_key(cfg)
    with c.lock:
        state = c.states.get(key)
        if state is not None:
            return state
        from litecore.pipeline import resolve_plugins
        from litecore.plugins import PluginManager

        plugins = resolve_plugins(cfg, PluginManager().load(warn=False))
        state = c.states[key] = WorkerState(plugins=plugins, owned=True)
        if not c.atexit:
            import atexit

            atexit.register(_close_owned)
            c.atexit = True
        return state


def worker_plugins(cfg: PipelineConfig) -> Plugins:
    return worker_state(cfg).plugins


def _close_owned() -> None:
    c = _cache()
    for state in list(c.states.values()):
        if state.owned:
            try:
                state.plugins.backend.close()
            except Exception:  # noqa: BLE001 - best effort at process exit
                pass
