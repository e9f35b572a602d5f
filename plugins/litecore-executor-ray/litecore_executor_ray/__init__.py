"""litecore executor ``ray``: a stage's jobs as Ray tasks on a Ray cluster.

Each job (``litecore.pipeline.generate_job``, ``validate_job``, ``episode_job``) is a
module-level function of picklable arguments, so it ships to a Ray worker as is.
The worker resolves plugins from its own entry points (cached per process), opens
sandboxes on its own backend, writes the result file atomically under the run
folder and returns it; the driver yields results as they finish.

Lost workers: Ray re-runs a task whose worker or node died (``max_retries``);
since jobs skip finished items and write content-keyed files by rename, a re-run
neither loses nor doubles anything. A job that raises is *not* retried (the error
is the job's, not the cluster's) and reaches the user with its original type.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

import attrs

import litecore
from litecore.errors import LitecoreError
from litecore.records import ExecutorPlugin

R = TypeVar("R")


class ExecutorLost(LitecoreError):
    """A job's worker died more often than ``max_retries`` allows (rerun the command to resume)."""


def _non_negative(inst: Any, attr: attrs.Attribute, value: float) -> None:
    if value < 0:
        from litecore.config import FieldError

        raise FieldError(attr.name, f"must not be negative, got {value!r}")


@attrs.frozen(kw_only=True)
class RayConfig:
    """Options of ``[executor]`` when ``name = "ray"``."""

    #: Cluster to join (``"127.0.0.1:6379"``, ``"auto"``); empty: a private Ray instance in this process.
    address: str = ""
    #: CPUs Ray reserves for each job (each job runs one sandbox at a time).
    num_cpus_per_task: float = attrs.field(default=1.0, validator=_non_negative)
    #: Times Ray re-runs a job whose worker process or node died.
    max_retries: int = attrs.field(default=3, validator=_non_negative)
    #: Jobs submitted at once; 0: ``[run] concurrency``.
    max_in_flight: int = attrs.field(default=0, validator=_non_negative)
    #: CPUs of the private instance (only without ``address``); 0: all of this machine's.
    num_cpus: int = attrs.field(default=0, validator=_non_negative)


class RayExecutor:
    """Submits jobs as Ray tasks, at most ``max_in_flight`` at a time, and yields results as they finish."""

    name = "ray"

    def __init__(self, config: RayConfig | None = None, *, concurrency: int = 2) -> None:
        import ray

        self.config = config or RayConfig()
        self.in_flight = self.config.max_in_flight or concurrency
        self._owns = False
        if not ray.is_initialized():
            os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
            if self.config.address:
                ray.init(address=self.config.address, log_to_driver=False, logging_level="WARNING")
            else:
                ray.init(num_cpus=self.config.num_cpus or None, include_dashboard=False, log_to_driver=False,
                         logging_level="WARNING", _node_ip_address="127.0.0.1")
            self._owns = True

    def map(self, job: Callable[..., R], args: Sequence[tuple[Any, ...]], *,
            progress: Callable[[int], None] | None = None) -> Iterator[R]:
        import ray
        from ray.exceptions import RayTaskError

        remote = ray.remote(job).options(num_cpus=self.config.num_cpus_per_task,
                                         max_retries=self.config.max_retries, retry_exceptions=False)
        todo = iter(args)
        pending: dict[Any, tuple[Any, ...]] = {}

        def submit() -> bool:
            a = next(todo, None)
            if a is None:
                return False
            pending[remote.remote(*a)] = a
            return True

        try:
            while len(pending) < self.in_flight and submit():
                pass
            while pending:
                done, _ = ray.wait(list(pending), num_returns=1)
                for ref in done:
                    a = pending.pop(ref)
                    try:
                        result = ray.get(ref)
                    except RayTaskError as exc:
                        cause = getattr(exc, "cause", None)
                        if isinstance(cause, BaseException):
                            raise cause from None
                        raise
                    except ray.exceptions.RayError as exc:  # worker or node lost beyond max_retries
                        raise ExecutorLost(
                            f"ray: job {job.__name__}{_describe(a)} was lost "
                            f"({type(exc).__name__}) after {self.config.max_retries} retries; "
                            f"rerun the same command to resume"
                        ) from None
                    if progress:
                        progress(1)
                    yield result
                    submit()
        finally:
            for ref in pending:
                try:
                    ray.cancel(ref, force=True)
                except Exception:  # noqa: BLE001 - best effort while unwinding
                    pass

    def close(self) -> None:
        if self._owns:
            import ray

            ray.shutdown()
            self._owns = False


def _describe(args: tuple[Any, ...]) -> str:
    shown = [a for a in args[1:] if isinstance(a, (str, int)) and not isinstance(a, bool)]
    return f"({', '.join(map(str, shown))})" if shown else ""


@litecore.hookimpl
def litecore_executors():
    return [
        ExecutorPlugin(name="ray", factory=RayExecutor, config=RayConfig,
                       description="Ray tasks on a Ray cluster (or a private Ray instance), lost workers re-run"),
    ]
