"""`litecore run` end to end on the local backend: outputs, resume, crash safety."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path


from litecore.rollout import split_solution
from litecore.task import load_dataset, tree_digest
from litecore.testing import run_cli

PIPELINE = """
[run]
output = "out"
seed = 3
concurrency = 2

[generate]
count = {count}
difficulties = ["easy", "medium"]

[generate.domains]
data-science = 1.0

[generate.families]
data-science = ["csv-groupby"]

[validate]
repeats = 2
"""


def _write(tmp_path: Path, count: int = 4) -> Path:
    cfg = tmp_path / "pipeline.toml"
    cfg.write_text(PIPELINE.format(count=count))
    return cfg


def _snapshot(out: Path) -> dict[str, str]:
    return {str(p.relative_to(out)): tree_digest(p) if p.is_dir() else p.read_text()
            for p in sorted((out / "dataset").iterdir())} | {"sft": (out / "sft.jsonl").read_text()}


def test_run_emits_proven_dataset_and_sft(tmp_path):
    cfg = _write(tmp_path)
    res = run_cli("run", str(cfg))
    assert res.returncode == 0, res.stderr
    out = tmp_path / "out"
    tasks = load_dataset(out / "dataset")
    assert len(tasks) == 4
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["tasks_proven"] == 4 and manifest["sft_rows"] == 4
    assert set(manifest["tasks"]) == {t.id for t in tasks}
    rows = [json.loads(line) for line in (out / "sft.jsonl").read_text().splitlines()]
    for row in rows:
        roles = [m["role"] for m in row["messages"]]
        assert roles[0] == "user" and roles[-1] == "assistant"
        assert all(a != b for a, b in zip(roles, roles[1:]))  # strictly alternating
        last = json.loads(row["messages"][-1]["content"])
        assert last["task_complete"] is True
        first = json.loads(row["messages"][1]["content"])
        assert set(first) == {"analysis", "plan", "commands", "task_complete"}
        assert first["commands"][0]["keystrokes"].endswith("\n")
    share = [json.loads(line) for line in (out / "sft_sharegpt.jsonl").read_text().splitlines()]
    assert {s["conversations"][0]["from"] for s in share} == {"human"}
    assert {c["from"] for s in share for c in s["conversations"]} == {"human", "gpt"}
    report = (out / "report.md").read_text()
    assert "| proven (oracle 1, noop 0, x2) | 4 |" in report and "data-science/csv-groupby" in report
    # Harbor's task schema wants authors as tables (checked by hand against Harbor 0.26, docs/interop.md)
    assert all(isinstance(a, dict) and a["name"] for t in tasks for a in t.config["task"]["authors"])


def test_rerun_resumes_without_redoing_work(tmp_path):
    cfg = _write(tmp_path, count=3)
    assert run_cli("run", str(cfg)).returncode == 0
    out = tmp_path / "out"
    before = _snapshot(out)
    mtimes = {p: p.stat().st_mtime_ns for p in (out / "validation").iterdir()}
    res = run_cli("run", str(cfg))
    assert res.returncode == 0, res.stderr
    assert _snapshot(out) == before
    assert {p: p.stat().st_mtime_ns for p in (out / "validation").iterdir()} == mtimes
    timings = json.loads((out / "timings.json").read_text())
    assert timings["validate"] < 1.0 and timings["rollout"] < 1.0


def test_sigkill_mid_run_loses_nothing(tmp_path):
    """Kill the run during validation; the rerun's outputs equal an uninterrupted run's."""
    clean_dir = tmp_path / "clean"
    clean_dir.mkdir()
    assert run_cli("run", str(_write(clean_dir, count=5))).returncode == 0
    crash_dir = tmp_path / "crash"
    crash_dir.mkdir()
    cfg = _write(crash_dir, count=5)
    proc = subprocess.Popen([sys.executable, "-m", "litecore", "run", str(cfg)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)
    val = crash_dir / "out" / "validation"
    deadline = time.time() + 120
    while time.time() < deadline and not (val.is_dir() and any(val.glob("*.json"))):
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (crash_dir / "out" / "manifest.json").exists()
    # no half-written item anywhere
    assert all(json.loads(p.read_text())["task_id"] for p in val.glob("*.json"))
    res = run_cli("run", str(cfg))
    assert res.returncode == 0, res.stderr
    assert _snapshot(crash_dir / "out") == _snapshot(clean_dir / "out")


def test_two_runs_cannot_share_an_output_folder(tmp_path):
    import fcntl

    cfg = _write(tmp_path, count=1)
    (tmp_path / "out").mkdir()
    with open(tmp_path / "out" / ".lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        res = run_cli("run", str(cfg))
    assert res.returncode == 2 and "another litecore run is using this output folder" in res.stderr


def test_quickstart_example_is_the_embedded_default():
    from litecore.config import PipelineConfig, load_config

    example = Path(__file__).resolve().parents[1] / "examples" / "quickstart" / "pipeline.toml"
    cfg = load_config(example)
    default = PipelineConfig()
    for section in ("run", "generate", "sandbox", "validate", "rollout", "export"):
        assert getattr(cfg, section) == getattr(default, section), section


def test_solution_blocks_become_turns():
    script = "\n".join([
        "#!/bin/bash",
        "set -euo pipefail",
        "",
        "# Look around",
        "ls /app",
        "cat /app/a.txt",
        "",
        "# Write the answer",
        "cat > /app/out.txt <<'END'",
        "line one",
        "END",
        "",
        "if true; then",
        "  echo yes",
        "",
        "  echo still inside the if",
        "fi",
    ])
    blocks = split_solution(script)
    assert [b.plan for b in blocks] == ["Look around", "Write the answer", ""]
    assert blocks[0].code == "ls /app\ncat /app/a.txt"
    assert blocks[2].code.startswith("if true") and blocks[2].code.endswith("fi")
