"""Evaluation: run a policy ``n`` times on every task of a dataset and report pass@k.

pass@k uses the unbiased estimator of Chen et al. (2021): with ``n`` attempts of
which ``c`` passed, ``pass@k = 1 - C(n-c, k) / C(n, k)``, averaged over tasks.
The report breaks it down by category and difficulty (from ``task.toml``
metadata; any Harbor dataset works, missing metadata reads as
``uncategorized`` / ``unknown``), with mean turns, time, tokens and cost, and is
written as ``report.json``, ``report.md`` and PNG plots.

Trajectories are stored under ``out/trajectories`` as the rollout engine writes
them, so an interrupted evaluation resumes where it stopped.
"""

from __future__ import annotations

import json
import math
import os
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from litecore.rollout import Policy, TerminalFactory, rollout, write_json_atomic
from litecore.sandbox import SandboxBackend
from litecore.task import Task, load_dataset
from litecore.trajectory import Trajectory
from litecore.verify import HarborVerifier, Verifier


def pass_at_k(n: int, c: int, k: int) -> float:
    """Probability that at least one of ``k`` attempts drawn from ``n`` (``c`` correct) passes."""
    if not 0 <= c <= n:
        raise ValueError(f"need 0 <= c <= n, got n={n}, c={c}")
    if k < 1 or k > n:
        raise ValueError(f"need 1 <= k <= n, got k={k}, n={n}")
    if n - c < k:
        return 1.0
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


def _mean(xs: Sequence[float]) -> float | None:
    return sum(xs) / len(xs) if xs else None


def summarize(trajectories: Sequence[Trajectory], ks: Sequence[int]) -> dict[str, Any]:
    """Per-task counts and pass@k overall, by category and by difficulty."""
    by_task: dict[str, list[Trajectory]] = defaultdict(list)
    for t in trajectories:
        # an attempt whose sandbox failed on every try still counts (a policy could break its own
        # sandbox to leave the denominator); sandbox_failures says how many there were
        by_task[t.task_id].append(t)
    tasks: dict[str, dict[str, Any]] = {}
    for task_id in sorted(by_task):
        group = by_task[task_id]
        n = len(group)
        c = sum(t.passed for t in group)
        tasks[task_id] = {
            "category": group[0].category or "uncategorized",
            "difficulty": group[0].difficulty or "unknown",
            "n": n,
            "c": c,
            "pass_at": {str(k): pass_at_k(n, c, k) for k in ks if k <= n},
            "mean_partial": _mean([t.reward.partial if t.reward.reward is not None else 0.0 for t in group]),
            "mean_turns": _mean([len(t.steps) for t in group]),
            "mean_time_s": _mean([t.duration_s for t in group]),
            "verifier_errors": sum(t.reward.reward is None for t in group),
            "episode_errors": sum(t.error is not None for t in group),
        }

    def aggregate(ids: Sequence[str]) -> dict[str, Any]:
        rows = [tasks[i] for i in ids]
        group = [t for i in ids for t in by_task[i]]
        return {
            "tasks": len(rows),
            "attempts": len(group),
            "pass_at": {
                str(k): _mean([r["pass_at"][str(k)] for r in rows if str(k) in r["pass_at"]]) for k in ks
            },
            "mean_partial": _mean([r["mean_partial"] for r in rows]),
            "mean_turns": _mean([len(t.steps) for t in group]),
            "mean_time_s": _mean([t.duration_s for t in group]),
            "prompt_tokens": sum(s.prompt_tokens for t in group for s in t.steps),
            "completion_tokens": sum(s.completion_tokens for t in group for s in t.steps),
            "cost_usd": sum(s.cost_usd for t in group for s in t.steps),
            "verifier_errors": sum(r["verifier_errors"] for r in rows),
            "episode_errors": sum(r["episode_errors"] for r in rows),
        }

    def breakdown(field: str) -> dict[str, Any]:
        keys: dict[str, list[str]] = defaultdict(list)
        for tid, r in tasks.items():
            keys[r[field]].append(tid)
        return {k: aggregate(v) for k, v in sorted(keys.items())}

    return {
        "ks": list(ks),
        "sandbox_failures": sum(t.sandbox_failed for t in trajectories),
        "overall": aggregate(list(tasks)),
        "by_category": breakdown("category"),
        "by_difficulty": breakdown("difficulty"),
        "tasks": tasks,
    }


def evaluate(
    dataset: str | os.PathLike[str] | Sequence[Task],
    backend: SandboxBackend,
    policy: Policy,
    *,
    k: int | Sequence[int] = 1,
    attempts: int | None = None,
    out_dir: str | os.PathLike[str],
    verifier: Verifier | None = None,
    concurrency: int = 4,
    max_turns: int = 50,
    terminal_factory: TerminalFactory | None = None,
    progress: Callable[[int], None] | None = None,
    plots: bool = True,
) -> dict[str, Any]:
    """Roll ``policy`` out ``attempts`` times per task (default: the largest k) and report pass@k."""
    ks = sorted({1, *([k] if isinstance(k, int) else k)})
    n = attempts or max(ks)
    if max(ks) > n:
        raise ValueError(f"pass@{max(ks)} needs at least {max(ks)} attempts per task, got {n}")
    tasks = load_dataset(dataset) if isinstance(dataset, (str, os.PathLike)) else list(dataset)
    out = Path(out_dir)
    kwargs: dict[str, Any] = {}
    if terminal_factory is not None:
        kwargs["terminal_factory"] = terminal_factory
    trajs = rollout(tasks, backend, policy, verifier or HarborVerifier(), out / "trajectories", attempts=n,
                    concurrency=concurrency, max_turns=max_turns, progress=progress, **kwargs)
    report = summarize(trajs, ks)
    report["attempts"] = n
    report["policy"] = policy.name
    report["model"] = policy.model
    report["backend"] = getattr(backend, "name", type(backend).__name__)
    report["dataset"] = str(dataset) if isinstance(dataset, (str, os.PathLike)) else f"{len(tasks)} tasks"
    write_report(report, out, plots=plots)
    return report


# ---------------------------------------------------------------------------
# Report files
# ---------------------------------------------------------------------------


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f}%"


def _num(x: float | None, fmt: str = "{:.1f}") -> str:
    return "–" if x is None else fmt.format(x)


def render_markdown(report: dict[str, Any], plot_files: Sequence[str] = ()) -> str:
    ks = report["ks"]
    o = report["overall"]
    head = "| | tasks | " + " | ".join(f"pass@{k}" for k in ks) + " | partial | turns | time (s) |\n"
    sep = "|---" * (6 + len(ks)) + "|\n"

    def row(name: str, a: dict[str, Any]) -> str:
        return (f"| {name} | {a['tasks']} | " + " | ".join(_pct(a["pass_at"][str(k)]) for k in ks)
                + f" | {_pct(a['mean_partial'])} | {_num(a['mean_turns'])} | {_num(a['mean_time_s'])} |\n")

    lines = [
        f"# Evaluation: {report.get('policy', '?')} ({report.get('model', '')})\n\n",
        f"Dataset `{report.get('dataset', '?')}`, backend `{report.get('backend', '?')}`, "
        f"{report.get('attempts', '?')} attempts per task; pass@k is the unbiased estimator "
        "1 - C(n-c, k) / C(n, k) averaged over tasks.\n\n",
        "## Overall\n\n", head, sep, row("all", o),
        f"\nTokens: {o['prompt_tokens']} prompt, {o['completion_tokens']} completion; cost ${o['cost_usd']:.4f}. "
        f"Verifier errors: {o['verifier_errors']}; episodes ended by an error or limit: {o['episode_errors']}; "
        f"attempts whose sandbox failed on every try: {report.get('sandbox_failures', 0)}.\n",
        "\n## By category\n\n", head, sep,
        *[row(name, a) for name, a in report["by_category"].items()],
        "\n## By difficulty\n\n", head, sep,
        *[row(name, a) for name, a in report["by_difficulty"].items()],
        "\n## Tasks\n\n| task | category | difficulty | passed / attempts | turns |\n|---|---|---|---|---|\n",
        *[f"| {tid} | {r['category']} | {r['difficulty']} | {r['c']} / {r['n']} | {_num(r['mean_turns'])} |\n"
          for tid, r in report["tasks"].items()],
    ]
    if plot_files:
        lines.append("\n## Plots\n\n")
        lines += [f"![{Path(p).stem}]({p})\n\n" for p in plot_files]
    return "".join(lines)


def write_report(report: dict[str, Any], out_dir: Path, *, plots: bool = True) -> dict[str, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    files: list[str] = []
    if plots:
        files = write_plots(report, out_dir)
    paths = {"json": out_dir / "report.json", "markdown": out_dir / "report.md"}
    write_json_atomic(paths["json"], json.dumps(report | {"plots": files}, indent=2) + "\n")
    write_json_atomic(paths["markdown"], render_markdown(report, files))
    return paths


def write_plots(report: dict[str, Any], out_dir: Path) -> list[str]:
    """PNG bar charts (pass@k by category and by difficulty) and a turns histogram; [] without matplotlib."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        return []
    made: list[str] = []
    ks = report["ks"]
    for field, title in (("by_category", "category"), ("by_difficulty", "difficulty")):
        groups = report[field]
        if not groups:
            continue
        names = list(groups)
        fig = Figure(figsize=(max(5.0, 1.2 * len(names) + 2), 3.6))
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        width = 0.8 / len(ks)
        for i, k in enumerate(ks):
            vals = [100 * (groups[n]["pass_at"][str(k)] or 0.0) for n in names]
            ax.bar([x + i * width for x in range(len(names))], vals, width, label=f"pass@{k}")
        ax.set_xticks([x + width * (len(ks) - 1) / 2 for x in range(len(names))], names, rotation=20, ha="right")
        ax.set_ylim(0, 100)
        ax.set_ylabel("%")
        ax.set_title(f"pass@k by {title}")
        ax.legend()
        fig.tight_layout()
        rel = f"plots/pass_at_k_by_{title}.png"
        (out_dir / "plots").mkdir(parents=True, exist_ok=True)
        fig.savefig(out_dir / rel, dpi=100)
        made.append(rel)
    turns = [r["mean_turns"] for r in report["tasks"].values() if r["mean_turns"] is not None]
    if turns:
        fig = Figure(figsize=(5, 3.4))
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        ax.hist(turns, bins=min(20, max(1, len(set(turns)))))
        ax.set_xlabel("mean turns per task")
        ax.set_ylabel("tasks")
        ax.set_title("Turns")
        fig.tight_layout()
        rel = "plots/turns.png"
        (out_dir / "plots").mkdir(parents=True, exist_ok=True)
        fig.savefig(out_dir / rel, dpi=100)
        made.append(rel)
    return made
