"""The run report (``report.md``): counts, failures and where the time went."""

from __future__ import annotations

import json
from collections import Counter
from typing import TYPE_CHECKING

from litecore.rollout import load_trajectories, write_json_atomic

if TYPE_CHECKING:
    from litecore.pipeline import Pipeline


def write_report(p: Pipeline) -> None:
    from litecore.pipeline import near_duplicate_rate

    tasks = p.generated_tasks()
    vals = p.validations()
    proven = [t for t in tasks if vals.get(t.id, {}).get("ok")]
    failed = [(t.id, vals[t.id]["reason"]) for t in tasks if t.id in vals and not vals[t.id]["ok"]]
    trajs = load_trajectories(p.trajectories_dir)
    manifest = json.loads((p.out / "manifest.json").read_text())
    timings = json.loads((p.out / "timings.json").read_text()) if (p.out / "timings.json").is_file() else {}
    plan = json.loads((p.out / "plan.json").read_text()) if (p.out / "plan.json").is_file() else {}

    def fam(t):  # domain/family of a task
        md = t.metadata
        return f"{md.get('domain', t.category)}/{md.get('family', '?')}"

    lines = [
        "# litecore run report",
        "",
        f"Config: `{p.cfg.source}`  ",
        f"Output: `{p.out}`",
        "",
        "## Counts",
        "",
        "| stage | count |",
        "|---|---|",
        f"| planned | {len(plan.get('tasks', [])) or p.cfg.generate.count} |",
        f"| generated | {len(tasks)} |",
        f"| generation errors | {len(plan.get('errors', {}))} |",
        f"| validated | {len(vals)} |",
        f"| proven (oracle 1, noop 0, x{p.cfg.validate.repeats}) | {len(proven)} |",
        f"| trajectories | {len(trajs)} |",
        f"| passing trajectories | {sum(t.passed for t in trajs)} |",
        f"| SFT rows | {manifest.get('sft_rows', 0)} |",
        "",
        f"Near-duplicate instructions (word-trigram Jaccard ≥ 0.9): "
        f"{near_duplicate_rate([t.instruction for t in tasks]):.1%}",
        "",
        "## Per family",
        "",
        "| domain/family | generated | proven |",
        "|---|---|---|",
    ]
    gen_count = Counter(fam(t) for t in tasks)
    ok_count = Counter(fam(t) for t in proven)
    for key in sorted(gen_count):
        lines.append(f"| {key} | {gen_count[key]} | {ok_count[key]} |")
    lines += ["", "## Time per stage", "", "| stage | seconds |", "|---|---|"]
    for stage, secs in timings.items():
        lines.append(f"| {stage} | {secs:.2f} |")
    if trajs:
        steps = [len(t.steps) for t in trajs]
        lines += ["", f"Mean turns per trajectory: {sum(steps) / len(steps):.1f}; "
                      f"mean episode time: {sum(t.duration_s for t in trajs) / len(trajs):.2f}s"]
    if manifest.get("sft_dropped"):
        lines += ["", "SFT rejection sampling dropped: " + ", ".join(
            f"{k}: {v}" for k, v in sorted(manifest["sft_dropped"].items()))]
    section = getattr(p.plugins.generator, "report_section", None)
    extra = section() if callable(section) else ""
    if extra:
        lines += ["", extra.rstrip()]
    if failed or plan.get("errors"):
        lines += ["", "## Not emitted", "", "| task | reason |", "|---|---|"]
        for tid, reason in failed:
            lines.append(f"| {tid} | {reason} |")
        for tid, err in plan.get("errors", {}).items():
            lines.append(f"| {tid} | generation failed: {err} |")
    write_json_atomic(p.out / "report.md", "\n".join(lines) + "\n")
