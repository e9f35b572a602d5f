"""``litecore run``: generate → validate → rollout → export (→ train → eval).

Every stage writes its results into the run folder before the next reads them,
one file or folder per item, atomically, named by content. Rerunning the same
command therefore resumes: finished items are skipped and a killed run loses
nothing it had written. All plugin names and options are resolved before any
work starts, so a typo fails in the first second, not after an hour.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import attrs

from litecore.config import PipelineConfig, plugin_config
from litecore.errors import ConfigError, LitecoreError, one_line
from litecore.executor import (
    Executor,
    adopt_plugins,
    local_executor_record,
    release_plugins,
    worker_plugins,
    worker_state,
)
from litecore.generate import (
    PAPER_DOMAIN_WEIGHTS,
    GeneratedTask,
    GenerationContext,
    Generator,
    TaskPlan,
    TaskRejected,
    plan_tasks,
)
from litecore.plugins import PluginManager
from litecore.progress import Progress
from litecore.rollout import Policy, load_trajectories, run_episode, trajectory_id, write_json_atomic
from litecore.sandbox import SANDBOX_FAILED, ExecResult, Sandbox, SandboxBackend, Session
from litecore.task import Task, load_task, write_task
from litecore.verify import Verifier, validate_task, validation_to_dict


@attrs.frozen
class Plugins:
    """Everything a run uses, resolved and configured up front."""

    generator: Generator | None
    backend: _LazyBackend
    verifier: Verifier
    policy_factory: Callable[[], Policy]
    trainer_factory: Callable[[], Any] | None = None
    eval_policy_factory: Callable[[Path | None], Policy] | None = None
    #: Makes the run's executor (called on the driver only, never inside a job).
    executor_factory: Callable[[], Executor] | None = None


def resolve_plugins(cfg: PipelineConfig, pm: PluginManager, backend: _LazyBackend | None = None) -> Plugins:
    src = cfg.source
    domains = pm.records("domain")
    gen = None
    if "generate" in cfg.run.stages:
        weights = domain_weights(cfg, domains)
        for name, fams in cfg.generate.families.items():
            if name not in domains:
                raise ConfigError(f"{src}: generate.families.{name}: unknown domain; available: {', '.join(domains)}")
            for f in fams:
                try:
                    domains[name].family(f)
                except LitecoreError as exc:
                    raise ConfigError(f"{src}: generate.families.{name}: {exc}") from None
        del weights
    brec = _get(pm, "sandbox", cfg.sandbox.backend, src, "sandbox.backend")
    boptions = plugin_config("sandbox backend", brec, cfg.sandbox.options, source=src, section="sandbox")
    vrec = _get(pm, "verifier", cfg.validate.verifier, src, "validate.verifier")
    voptions = plugin_config("verifier", vrec, cfg.validate.options, source=src, section="validate")
    verifier = vrec.factory(voptions)
    if backend is None:
        backend = _LazyBackend(lambda: brec.factory(boptions))
    if "generate" in cfg.run.stages:
        rec = _get(pm, "generator", cfg.generate.generator, src, "generate.generator")
        options = plugin_config("generator", rec, cfg.generate.options, source=src, section="generate")
        context = GenerationContext(backend=backend.get, verifier=verifier,
                                    work_dir=cfg.output_dir / "generation", tasks_dir=cfg.output_dir / "tasks")
        gen = rec.factory(options, domains, context)
    prec = _get(pm, "policy", cfg.rollout.policy, src, "rollout.policy")
    poptions = plugin_config("policy", prec, cfg.rollout.options, source=src, section="rollout")
    trainer_factory = eval_policy_factory = None
    if "train" in cfg.run.stages:
        trec = _get(pm, "trainer", cfg.train.trainer, src, "train.trainer")
        toptions = plugin_config("trainer", trec, cfg.train.options, source=src, section="train")
        trainer_factory = lambda: trec.factory(toptions)  # noqa: E731
    if "eval" in cfg.run.stages:
        ks = sorted({1, *cfg.eval.k})
        if cfg.eval.attempts and max(ks) > cfg.eval.attempts:
            raise ConfigError(f"{src}: eval.k: pass@{max(ks)} needs at least {max(ks)} attempts per task, "
                              f"got eval.attempts = {cfg.eval.attempts}")
        if ks[0] < 1:
            raise ConfigError(f"{src}: eval.k: every k must be positive, got {ks[0]}")
        erec = _get(pm, "policy", cfg.eval.policy, src, "eval.policy")
        eoptions = plugin_config("policy", erec, cfg.eval.options, source=src, section="eval")

        def eval_policy_factory(checkpoint: Path | None) -> Policy:
            """The eval policy, with any ``"@train"`` option replaced by the trained checkpoint."""
            options = eoptions
            if options is not None and attrs.has(type(options)):
                changes = {a.name: str(checkpoint) for a in attrs.fields(type(options))
                           if getattr(options, a.name) == "@train"}
                if changes and checkpoint is None:
                    raise ConfigError(f"{src}: eval: '@train' needs the train stage to have run first")
                options = attrs.evolve(options, **changes)
            return erec.factory(options)

    return Plugins(generator=gen, backend=backend, verifier=verifier, policy_factory=lambda: prec.factory(poptions),
                   trainer_factory=trainer_factory, eval_policy_factory=eval_policy_factory,
                   executor_factory=resolve_executor(cfg, pm))


def resolve_executor(cfg: PipelineConfig, pm: PluginManager) -> Callable[[], Executor]:
    """The ``[executor]`` plugin, configured; its factory runs only when a stage fans out."""
    src = cfg.source
    records = pm.records("executor")
    name = cfg.executor.name
    rec = records.get(name)
    if rec is None and name == "local":
        rec = local_executor_record()  # the default works even where no entry point registers it
    if rec is None:
        available = ", ".join(sorted({*records, "local"}))
        raise ConfigError(f"{src}: executor.name: unknown executor '{name}'; available: {available}")
    options = plugin_config("executor", rec, cfg.executor.options, source=src, section="executor")
    concurrency = cfg.run.concurrency
    return lambda: rec.factory(options, concurrency=concurrency)


class _LazyBackend:
    """The run's one sandbox backend, created on first use (a run that only exports needs none)."""

    def __init__(self, factory: Callable[[], SandboxBackend]) -> None:
        self._factory = factory
        self._backend: SandboxBackend | None = None
        self._lock = threading.Lock()

    def get(self) -> SandboxBackend:
        with self._lock:
            if self._backend is None:
                self._backend = self._factory()
            return self._backend

    def close(self) -> None:
        if self._backend is not None:
            self._backend.close()


def _get(pm: PluginManager, kind: str, name: str, source: str, field: str) -> Any:
    try:
        return pm.get(kind, name)
    except LitecoreError as exc:
        raise ConfigError(f"{source}: {field}: {exc}") from None


def domain_weights(cfg: PipelineConfig, domains: dict[str, Any]) -> dict[str, float]:
    """The configured mix, or the paper's mix over installed domains."""
    src = cfg.source
    if cfg.generate.domains:
        for name, w in cfg.generate.domains.items():
            if name not in domains:
                raise ConfigError(
                    f"{src}: generate.domains.{name}: unknown domain; available: {', '.join(domains) or 'none installed'}"
                )
            if w < 0:
                raise ConfigError(f"{src}: generate.domains.{name}: weight must not be negative")
        weights = {k: float(v) for k, v in cfg.generate.domains.items() if v > 0}
    else:
        # the paper's mix over the paper's domains that are installed; other domains
        # (examples, experiments) join a run only when [generate.domains] names them
        weights = {name: PAPER_DOMAIN_WEIGHTS[name] for name in domains if name in PAPER_DOMAIN_WEIGHTS}
        if not weights:
            weights = {name: 1.0 for name in domains}
    if not weights:
        raise ConfigError(f"{src}: generate.domains: no domain with a positive weight (install a litecore-plugin-<domain>)")
    return weights


@contextmanager
def run_lock(out: Path) -> Iterator[None]:
    out.mkdir(parents=True, exist_ok=True)
    with open(out / ".lock", "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LitecoreError(f"{out}: another litecore run is using this output folder") from None
        yield


class Pipeline:
    def __init__(self, cfg: PipelineConfig, pm: PluginManager, *, progress: Progress | None = None) -> None:
        self.cfg = cfg
        self.pm = pm
        self.out = cfg.output_dir
        self.progress = progress or Progress(enabled=False)
        self.plugins = resolve_plugins(cfg, pm)
        self.timings: dict[str, float] = {}
        self._executor: Executor | None = None

    @property
    def backend(self) -> SandboxBackend:
        return self.plugins.backend.get()

    # -- paths ---------------------------------------------------------------
    @property
    def tasks_dir(self) -> Path:
        return self.out / "tasks"

    @property
    def validation_dir(self) -> Path:
        return self.out / "validation"

    @property
    def trajectories_dir(self) -> Path:
        return self.out / "trajectories"

    @property
    def dataset_dir(self) -> Path:
        return self.out / "dataset"

    # -- running -------------------------------------------------------------
    def run(self, stages: Sequence[str] | None = None) -> dict[str, Any]:
        stages = list(stages or self.cfg.run.stages)
        with run_lock(self.out):
            timings = self._load_json(self.out / "timings.json", {})
            adopt_plugins(self.cfg, self.plugins)
            try:
                for stage in stages:
                    fn = getattr(self, f"stage_{stage}", None)
                    if fn is None:
                        raise ConfigError(f"{self.cfg.source}: run.stages: stage '{stage}' is not available")
                    t0 = time.monotonic()
                    fn()
                    timings[stage] = round(time.monotonic() - t0, 3)
                    write_json_atomic(self.out / "timings.json", json.dumps(timings, indent=2))
            finally:
                release_plugins(self.cfg)
                if self._executor is not None:
                    self._executor.close()
                    self._executor = None
                self.plugins.backend.close()
            return timings

    @property
    def executor(self) -> Executor:
        """The run's executor, made on first fan-out (a run that only exports starts none)."""
        if self._executor is None:
            assert self.plugins.executor_factory is not None
            self._executor = self.plugins.executor_factory()
        return self._executor

    @staticmethod
    def _load_json(path: Path, default: Any) -> Any:
        try:
            return json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            return default

    def plan(self) -> list[TaskPlan]:
        domains = self.pm.records("domain")
        weights = domain_weights(self.cfg, domains)
        generator = self.plugins.generator
        families = {name: list(self.cfg.generate.families.get(name) or
                                (generator.families(domains[name]) if generator else []))
                    for name in weights}
        return plan_tasks(
            domains,
            weights,
            count=self.cfg.generate.count,
            seed=self.cfg.run.seed,
            difficulties=self.cfg.generate.difficulties,
            families=families,
        )

    def stage_generate(self) -> None:
        assert self.plugins.generator is not None
        plans = self.plan()
        errors: dict[str, str] = {}
        _sweep_partials(self.tasks_dir)
        todo = [p for p in plans if not (self.tasks_dir / p.task_id).exists()]
        with self.progress.task("generate", total=len(plans), completed=len(plans) - len(todo)) as advance:
            for task_id, error, generated in self.executor.map(generate_job, [(self.cfg, p) for p in todo],
                                                               progress=advance):
                if error is not None:
                    errors[task_id] = error
                elif generated is not None:  # a worker without this run folder (no shared disk)
                    _write_generated(self.tasks_dir / task_id, generated)
        write_json_atomic(self.out / "plan.json", json.dumps(
            {"tasks": [attrs.asdict(p) | {"task_id": p.task_id} for p in plans], "errors": errors}, indent=2))

    def generated_tasks(self) -> list[Task]:
        if not self.tasks_dir.is_dir():
            return []
        return [load_task(p) for p in sorted(self.tasks_dir.iterdir()) if p.is_dir() and not p.name.startswith(".")]

    def stage_validate(self) -> None:
        tasks = self.generated_tasks()
        _sweep_partials(self.validation_dir)
        todo = [t for t in tasks if _finished_verdict(self.validation_dir / f"{t.id}.json") is None]
        with self.progress.task("validate", total=len(tasks), completed=len(tasks) - len(todo)) as advance:
            for rel, text in self.executor.map(validate_job, [(self.cfg, str(t.path)) for t in todo],
                                               progress=advance):
                _keep(self.out / rel, text)

    def validations(self) -> dict[str, dict[str, Any]]:
        out = {}
        if self.validation_dir.is_dir():
            for f in sorted(self.validation_dir.glob("*.json")):
                out[f.stem] = json.loads(f.read_text())
        return out

    def proven_tasks(self) -> list[Task]:
        vals = self.validations()
        return [t for t in self.generated_tasks() if vals.get(t.id, {}).get("ok")]

    def stage_rollout(self) -> None:
        tasks = self.proven_tasks()
        _sweep_partials(self.trajectories_dir)
        jobs = [(self.cfg, str(t.path), a, "rollout", None) for t in tasks for a in range(self.cfg.rollout.attempts)]
        with self.progress.task("rollout", total=len(jobs)) as advance:
            for rel, text in self.executor.map(episode_job, jobs, progress=advance):
                _keep(self.out / rel, text)

    def stage_export(self) -> None:
        from litecore.datasets import build_pairs, build_sft, write_pairs, write_sft
        from litecore.report import write_report

        formats = self.cfg.export.formats
        _sweep_partials(self.out, keep=frozenset({".lock"}))  # temp files of an export that was killed
        proven = self.proven_tasks()
        export_dataset(proven, self.dataset_dir)
        proven_ids = {p.id for p in proven}
        trajs = [t for t in load_trajectories(self.trajectories_dir) if t.task_id in proven_ids]
        sft = build_sft(trajs, self.cfg.export.sft)
        paths = write_sft(sft, self.out, formats=[f for f in formats if f != "preferences"])
        pair_stats: dict[str, Any] = {}
        if "preferences" in formats:
            pairs = build_pairs(trajs, self.cfg.export.pairs)
            pair_stats = dict(pairs.stats)
            for name, path in write_pairs(pairs, self.out, hf="hf" in formats).items():
                paths[f"preferences_{name}"] = path
        manifest = {
            "litecore_version": _version(),
            "config": self.cfg.source,
            "tasks_generated": len(self.generated_tasks()),
            "tasks_proven": len(proven),
            "dataset": str(self.dataset_dir.relative_to(self.out)),
            "tasks": {t.id: t.digest() for t in proven},
            "trajectories": len(trajs),
            "sft_rows": len(sft.rows),
            "sft_dropped": dict(sft.dropped),
            "preference_pairs": pair_stats,
            "files": {k: str(v.relative_to(self.out)) for k, v in paths.items() if v is not None},
        }
        write_json_atomic(self.out / "manifest.json", json.dumps(manifest, indent=2))
        write_report(self)


    # -- training and evaluation -------------------------------------------------
    @property
    def checkpoint_dir(self) -> Path:
        return self.out / "checkpoints" / self.cfg.train.trainer

    def train_data(self) -> Path:
        data = self.cfg.train.data
        named = {"sft": self.out / "sft.jsonl", "preferences": self.out / "preferences.jsonl"}
        path = named.get(data) or (Path(self.cfg.base_dir) / data)
        if not path.exists():
            hint = " (run the export stage first)" if data in named else ""
            raise ConfigError(f"{self.cfg.source}: train.data: {path} does not exist{hint}")
        return path

    def stage_train(self) -> None:
        from litecore.train import TrainResult

        assert self.plugins.trainer_factory is not None
        done = self.checkpoint_dir / "train_result.json"
        if done.is_file():
            return
        data = self.train_data()
        trainer = self.plugins.trainer_factory()
        tmp = self.checkpoint_dir.with_name(f".{self.checkpoint_dir.name}.partial")
        shutil.rmtree(tmp, ignore_errors=True)
        with self.progress.task("train", total=1) as advance:
            result: TrainResult = trainer.train(data, tmp)
            advance(1)
        shutil.rmtree(self.checkpoint_dir, ignore_errors=True)
        os.rename(tmp, self.checkpoint_dir)
        result = attrs.evolve(result, checkpoint=self.checkpoint_dir)
        write_json_atomic(done, json.dumps(result.to_dict(), indent=2))

    def trained_checkpoint(self) -> Path | None:
        return self.checkpoint_dir if (self.checkpoint_dir / "train_result.json").is_file() else None

    def stage_eval(self) -> None:
        from litecore.evaluate import summarize, write_report
        from litecore.task import load_dataset
        from litecore.trajectory import loads_many

        assert self.plugins.eval_policy_factory is not None
        ecfg = self.cfg.eval
        dataset = (Path(self.cfg.base_dir) / ecfg.dataset) if ecfg.dataset else self.dataset_dir
        tasks = load_dataset(dataset)
        ks = sorted({1, *ecfg.k})
        attempts = ecfg.attempts or max(ks)  # resolve_plugins checked k against attempts
        checkpoint = self.trained_checkpoint()
        out = self.out / "eval"
        _sweep_partials(out / "trajectories")
        jobs = [(self.cfg, str(t.path), a, "eval", str(checkpoint) if checkpoint else None)
                for t in tasks for a in range(attempts)]
        texts = []
        with self.progress.task("eval", total=len(jobs)) as advance:
            for rel, text in self.executor.map(episode_job, jobs, progress=advance):
                _keep(self.out / rel, text)
                texts.append(text)
        trajs = loads_many(texts)
        report = summarize(trajs, ks)
        report["attempts"] = attempts
        report["policy"] = trajs[0].policy if trajs else ecfg.policy
        report["model"] = trajs[0].model if trajs else ""
        report["backend"] = self.cfg.sandbox.backend
        report["dataset"] = str(dataset)
        write_report(report, out)


# ---------------------------------------------------------------------------
# Jobs: one unit of work each, run by the executor in any process.
#
# Each is a module-level function of picklable arguments (the frozen config, task
# paths as strings) that resolves its plugins in the process running it, writes its
# result atomically under the run folder (skipping work already there) and returns
# it, so the driver can keep it too when the worker does not share its disk.
# ---------------------------------------------------------------------------

#: Extra tries, each in a fresh sandbox, for an episode or validation whose sandbox failed
#: (an infrastructure error, not the agent's doing). When every try failed, the result is
#: kept marked :data:`SANDBOX_FAILED` (no data: not proven, not exported) and a resumed run
#: tries it again.
SANDBOX_RETRIES = 2


def generate_job(cfg: PipelineConfig, plan: TaskPlan) -> tuple[str, str | None, GeneratedTask | None]:
    """Generate one planned task into ``tasks/<id>``: (task id, error or None, the files)."""
    dest = cfg.output_dir / "tasks" / plan.task_id
    if dest.exists():
        return plan.task_id, None, None
    generator = worker_plugins(cfg).generator
    assert generator is not None
    try:
        gen = generator.generate(plan)
        _write_generated(dest, gen)
    except TaskRejected as exc:
        return plan.task_id, f"rejected: {exc}", None
    except LitecoreError:
        raise
    except Exception as exc:  # a broken family costs its instance, not the run
        return plan.task_id, f"{type(exc).__name__}: {exc}", None
    return plan.task_id, None, gen


def _write_generated(dest: Path, gen: Any) -> None:
    try:
        write_task(dest, instruction=gen.instruction, config=gen.config, files=gen.files,
                   executables=gen.executables)
    except OSError:
        if not dest.is_dir():  # not merely a twin of this job (a retry) finishing first
            raise


def validate_job(cfg: PipelineConfig, task_path: str) -> tuple[str, str]:
    """The gate for one task, written to ``validation/<id>.json``: (relative path, JSON text)."""
    task = load_task(task_path)
    rel = f"validation/{task.id}.json"
    path = cfg.output_dir / rel
    text = _finished_verdict(path)
    if text is not None:
        return rel, text
    plugins = worker_plugins(cfg)
    for _ in range(SANDBOX_RETRIES + 1):
        watched = _WatchedBackend(plugins.backend.get())
        v = validate_task(task, watched, plugins.verifier, repeats=cfg.validate.repeats)
        if not watched.failures:
            break
    else:
        v = attrs.evolve(v, error=_sandbox_failed(watched.failures))
    text = json.dumps(validation_to_dict(v), indent=2)
    write_json_atomic(path, text)
    return rel, text


def _finished_verdict(path: Path) -> str | None:
    """A verdict already on disk (its JSON text), unless there is none or its sandbox failed."""
    if not path.is_file():
        return None
    text = path.read_text()
    return None if json.loads(text)["reason"].startswith(SANDBOX_FAILED) else text


def episode_job(cfg: PipelineConfig, task_path: str, attempt: int, stage: str,
                checkpoint: str | None) -> tuple[str, str]:
    """One agent episode (``stage`` = rollout or eval) saved as a trajectory: (relative path, JSON text)."""
    from litecore.terminal import TERMINALS
    from litecore.trajectory import dumps, loads

    state = worker_state(cfg)
    plugins = state.plugins
    if stage == "rollout":
        policy = state.policy("rollout", plugins.policy_factory)
        folder, max_turns, terminal = "trajectories", cfg.rollout.max_turns, cfg.rollout.terminal
    else:
        assert plugins.eval_policy_factory is not None
        make = plugins.eval_policy_factory
        policy = state.policy(f"eval:{checkpoint}", lambda: make(Path(checkpoint) if checkpoint else None))
        folder, max_turns, terminal = "eval/trajectories", cfg.eval.max_turns, cfg.eval.terminal
    task = load_task(task_path)
    rel = f"{folder}/{trajectory_id(task.id, policy.name, attempt)}.json"
    path = cfg.output_dir / rel
    if path.is_file():
        text = path.read_text()
        if not loads(text).sandbox_failed:
            return rel, text
    backend = plugins.backend.get()
    for _ in range(SANDBOX_RETRIES + 1):
        failures: list[str] = []
        with backend.open(task) as sandbox:
            traj = run_episode(task, _WatchedSandbox(sandbox, failures), policy, plugins.verifier,
                               attempt=attempt, max_turns=max_turns, terminal_factory=TERMINALS[terminal])
        if not failures:
            break
    else:
        traj = attrs.evolve(traj, error=_sandbox_failed(failures))
    text = dumps(traj)
    write_json_atomic(path, text)
    return rel, text


def _keep(path: Path, text: str) -> None:
    """Write a job's result where the driver can see it, unless the worker already did."""
    if not path.is_file() or path.read_text() != text:
        write_json_atomic(path, text)


def _sandbox_failed(failures: Sequence[str]) -> str:
    return f"{SANDBOX_FAILED} ({SANDBOX_RETRIES + 1} tries); last try: {failures[0] if failures else '?'}"


def _sweep_partials(folder: Path, keep: frozenset[str] = frozenset()) -> None:
    """Remove temporary entries a killed run left (``.name.xxxx``); no job is running yet."""
    if not folder.is_dir():
        return
    for p in folder.iterdir():
        if p.name.startswith(".") and p.name not in keep:
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p, ignore_errors=True)
            else:
                p.unlink(missing_ok=True)


class _WatchedSession:
    def __init__(self, inner: Session, failures: list[str]) -> None:
        self._inner = inner
        self._failures = failures

    def run(self, command: str, *, timeout: float) -> ExecResult:
        res = self._inner.run(command, timeout=timeout)
        if res.error:
            self._failures.append(res.error)
        return res

    def close(self) -> None:
        self._inner.close()

    def __enter__(self) -> _WatchedSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class _WatchedSandbox:
    """A sandbox that notes every infrastructure error (``ExecResult.error``) it reports.

    An episode during which the sandbox itself failed (its processes killed from outside,
    an engine error) says nothing about the agent, so the job runs it again.
    """

    def __init__(self, inner: Sandbox, failures: list[str]) -> None:
        self._inner = inner
        self._failures = failures

    def exec(self, command: str, **kwargs: Any) -> ExecResult:
        res = self._inner.exec(command, **kwargs)
        if res.error:
            self._failures.append(res.error)
        return res

    def run_pytest(self, args: Sequence[str], **kwargs: Any) -> ExecResult | None:
        res = self._inner.run_pytest(args, **kwargs)
        if res is not None and res.error:
            self._failures.append(res.error)
        return res

    def session(self) -> _WatchedSession:
        return _WatchedSession(self._inner.session(), self._failures)

    def kill_agent_processes(self) -> None:
        self._noting_failure("kill_agent_processes", self._inner.kill_agent_processes)

    def upload(self, src: Path, dst: str) -> None:
        self._noting_failure("upload", lambda: self._inner.upload(src, dst))

    def _noting_failure(self, what: str, call: Callable[[], None]) -> None:
        """Run an engine-facing call; an engine error (its API went away) is a failure, not a crash."""
        try:
            call()
        except LitecoreError:
            raise
        except Exception as exc:
            self._failures.append(f"{what}: {type(exc).__name__}: {one_line(exc, 200)}")

    def __enter__(self) -> _WatchedSandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self._inner.stop()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class _WatchedBackend:
    """Opens watched sandboxes; ``failures`` collects their infrastructure errors."""

    def __init__(self, inner: SandboxBackend) -> None:
        self._inner = inner
        self.failures: list[str] = []

    def prepare(self, task: Task) -> Any:
        return self._inner.prepare(task)

    def open(self, task: Task) -> _WatchedSandbox:
        return _WatchedSandbox(self._inner.open(task), self.failures)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def export_dataset(tasks: Sequence[Task], dest: Path) -> None:
    """The Harbor dataset folder: proven tasks only, replaced atomically."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".dataset.", dir=dest.parent))
    try:
        for t in tasks:
            shutil.copytree(t.path, tmp / t.id, copy_function=_link_or_copy)
        old = dest.with_name(f".{dest.name}.old")
        if dest.exists():
            shutil.rmtree(old, ignore_errors=True)
            os.rename(dest, old)
        os.rename(tmp, dest)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _version() -> str:
    from litecore import __version__

    return __version__


def near_duplicate_rate(texts: Sequence[str], threshold: float = 0.9) -> float:
    """Share of texts whose word-trigram Jaccard similarity to an earlier one is ≥ threshold.

    Uses MinHash signatures bucketed by bands so it stays fast on thousands of texts.
    """
    import hashlib
    import re as _re

    def shingles(text: str) -> set[str]:
        words = _re.findall(r"[a-z]+|\d+", text.lower())
        return {" ".join(words[i : i + 3]) for i in range(max(1, len(words) - 2))}

    n_perm, bands = 32, 8
    rows = n_perm // bands
    sets = [shingles(t) for t in texts]
    buckets: dict[tuple[int, tuple[int, ...]], list[int]] = {}
    dups = 0
    for i, s in enumerate(sets):
        hashes = [[int.from_bytes(hashlib.blake2b(f"{k}:{x}".encode(), digest_size=8).digest(), "big")
                   for x in s] for k in range(n_perm)]
        sig = [min(h) for h in hashes]
        candidates: set[int] = set()
        for b in range(bands):
            key = (b, tuple(sig[b * rows : (b + 1) * rows]))
            candidates.update(buckets.get(key, ()))
            buckets.setdefault(key, []).append(i)
        if any(len(s & sets[j]) / max(1, len(s | sets[j])) >= threshold for j in candidates):
            dups += 1
    return dups / len(texts) if texts else 0.0


def count_by(items: Sequence[str]) -> dict[str, int]:
    return dict(sorted(Counter(items).items()))
