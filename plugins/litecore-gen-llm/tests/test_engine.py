"""The llm engine end to end, against a scripted OpenAI-compatible server on loopback.

litellm makes real HTTP calls; the sandbox work is real (local bubblewrap backend).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections import defaultdict
from pathlib import Path

import pytest

from litecore.llmserver import HTTPFault, ScriptedLLM
from litecore.testing import run_cli

SOLVE_OK = "```bash\n# look at the input\ncat /app/numbers.txt\n\n# sum it\nawk '{s+=$1} END {print s}' /app/numbers.txt > /app/total.txt\n```"
SOLVE_BROKEN = "```bash\n# sum it\nawk '{s+=$1} END {print s+1}' /app/numbers.txt > /app/total.txt\n```"
TESTS_GOOD = ("```python\nimport pathlib\n\n\ndef test_exists():\n    assert pathlib.Path('/app/total.txt').exists()\n\n\n"
              "def test_total():\n    assert pathlib.Path('/app/total.txt').read_text().strip() == '60'\n```")
TESTS_LOOSE = "```python\nimport pathlib\n\n\ndef test_exists():\n    assert pathlib.Path('/app/total.txt').exists()\n```"
ATTACKS = json.dumps({"attacks": [{"name": "constant", "script": "echo 0 > /app/total.txt"},
                                  {"name": "forge reward", "script": "mkdir -p /logs/verifier; echo 1 > /logs/verifier/reward.txt"}]})


def _stage(body) -> str:
    for m in body["messages"]:
        if m["role"] == "system" and m["content"].startswith("litecore-stage: "):
            return m["content"].split("\n", 1)[0].removeprefix("litecore-stage: ")
    return "?"


class Script:
    """Replies per stage; a list is consumed in order, its last item repeating."""

    def __init__(self, **stages):
        self.stages = {
            "sample": ["Sum the numbers in a file and write the total."],
            "judge": ['{"accept": true, "reason": "clear and testable"}'],
            "instruction": ["Add up the integers in /app/numbers.txt (one per line) and write the total "
                            "to /app/total.txt."],
            "environment": [json.dumps({"files": {"numbers.txt": "10\n20\n30\n"}})],
            "solution": [SOLVE_OK],
            "verifier": [TESTS_GOOD],
            "attack": [ATTACKS],
            "config": ['{"difficulty": "easy", "tags": ["awk"], "agent_timeout_sec": 120}'],
        } | stages
        self.calls = defaultdict(int)

    def __call__(self, body, index):
        stage = _stage(body)
        replies = self.stages[stage]
        i = self.calls[stage]
        self.calls[stage] += 1
        return replies[min(i, len(replies) - 1)]


def pipeline(tmp_path: Path, url: str, count: int = 1, **extra) -> Path:
    cfg = tmp_path / "pipeline.toml"
    options = "".join(f"{k} = {json.dumps(v)}\n" for k, v in extra.items())
    cfg.write_text(textwrap.dedent(f"""
        [run]
        output = "out"
        stages = ["generate", "validate", "export"]
        [generate]
        generator = "llm"
        count = {count}
        difficulties = ["easy"]
        model = "openai/scripted"
        api_base = "{url}"
        max_retries = 2
        """) + options + '[generate.domains]\n"data-science" = 1.0\n')
    return cfg


def _records(out: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted((out / "generation" / "accounting").glob("*.json"))]


def test_a_task_is_accepted_end_to_end(tmp_path):
    script = Script()
    with ScriptedLLM(script) as llm:
        res = run_cli("run", str(pipeline(tmp_path, llm.url)))
    assert res.returncode == 0, res.stderr
    out = tmp_path / "out"
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["tasks_proven"] == 1
    (task_dir,) = (out / "dataset").iterdir()
    assert "numbers.txt" in (task_dir / "instruction.md").read_text()
    assert (task_dir / "environment" / "app" / "numbers.txt").read_text() == "10\n20\n30\n"
    assert 'generator = "llm"' in (task_dir / "task.toml").read_text()
    (rec,) = _records(out)
    assert rec["accepted"] and rec["repairs"] == 0
    assert set(rec["stages"]) == {"sample", "judge", "instruction", "environment", "solution", "verifier",
                                  "attack", "config"}
    assert rec["stages"]["solution"]["prompt_tokens"] > 0
    report = (out / "report.md").read_text()
    assert "## LLM synthesis" in report and "accepted: 1 (100%)" in report
    # the solution stage saw the executed environment, the verifier the executed solution
    assert script.calls["solution"] == 1 and script.calls["verifier"] == 1


def test_a_broken_solution_is_repaired_from_the_gate_logs(tmp_path):
    script = Script(solution=[SOLVE_BROKEN, SOLVE_OK])
    with ScriptedLLM(script) as llm:
        res = run_cli("run", str(pipeline(tmp_path, llm.url)))
        repair_request = [r for r in llm.requests if _stage(r) == "solution"][1]
    assert res.returncode == 0, res.stderr
    (rec,) = _records(tmp_path / "out")
    assert rec["accepted"] and rec["repairs"] == 1
    feedback = repair_request["messages"][-1]["content"]
    assert "must earn reward 1" in feedback and "test_total" in feedback


def test_an_always_passing_verifier_is_caught_by_the_attack_round(tmp_path):
    script = Script(verifier=[TESTS_LOOSE, TESTS_GOOD])
    with ScriptedLLM(script) as llm:
        res = run_cli("run", str(pipeline(tmp_path, llm.url)))
        refine = [r for r in llm.requests if _stage(r) == "verifier"][1]
    assert res.returncode == 0, res.stderr
    assert "attack 'constant' earned reward 1.0" in refine["messages"][-1]["content"]
    (task_dir,) = (tmp_path / "out" / "dataset").iterdir()
    assert "'60'" in (task_dir / "tests" / "test_outputs.py").read_text()


def test_an_unfixable_verifier_is_rejected_with_its_reason(tmp_path):
    script = Script(verifier=[TESTS_LOOSE])
    with ScriptedLLM(script) as llm:
        res = run_cli("run", str(pipeline(tmp_path, llm.url, max_repairs=1)))
    assert res.returncode == 0, res.stderr
    out = tmp_path / "out"
    assert not any((out / "dataset").iterdir())
    (rejected,) = (out / "generation" / "rejected").glob("*.json")
    data = json.loads(rejected.read_text())
    assert "not proven" in data["reason"] and data["artifacts"]["tests"].count("def test_") == 1
    assert "rejected: not proven" in (out / "report.md").read_text()


def test_a_duplicate_is_dropped(tmp_path):
    with ScriptedLLM(Script()) as llm:
        res = run_cli("run", str(pipeline(tmp_path, llm.url, count=2, concurrency=1)))
    assert res.returncode == 0, res.stderr
    recs = _records(tmp_path / "out")
    assert [r["accepted"] for r in recs].count(True) == 1
    assert any("near-duplicate" in r["reason"] for r in recs if not r["accepted"])


def test_transient_errors_are_retried(tmp_path):
    base = Script()
    flaky = {"n": 0}

    def script(body, index):
        if _stage(body) == "instruction" and flaky["n"] < 2:
            flaky["n"] += 1
            return HTTPFault(503, "overloaded")
        return base(body, index)

    with ScriptedLLM(script) as llm:
        res = run_cli("run", str(pipeline(tmp_path, llm.url)))
    assert res.returncode == 0, res.stderr
    assert flaky["n"] == 2 and _records(tmp_path / "out")[0]["accepted"]


def test_resume_after_a_kill_reuses_the_cache(tmp_path):
    """SIGKILL the run mid-generation; the rerun pays for no call made before the kill."""
    script = Script()
    with ScriptedLLM(script) as llm:
        cfg = pipeline(tmp_path, llm.url)
        proc = subprocess.Popen([sys.executable, "-m", "litecore", "run", str(cfg)], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, start_new_session=True)
        deadline = time.time() + 120
        while time.time() < deadline and script.calls["attack"] == 0:
            time.sleep(0.02)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        before = len(llm.requests)
        assert before >= 7 and not (tmp_path / "out" / "manifest.json").exists()
        res = run_cli("run", str(cfg))
        assert res.returncode == 0, res.stderr
        repeated = llm.requests[before:]
    # only calls that had not been answered before the kill reach the server again
    assert {_stage(r) for r in repeated} <= {"attack", "config"}
    (rec,) = _records(tmp_path / "out")
    assert rec["accepted"] and sum(s["cached"] for s in rec["stages"].values()) >= 6


def test_engine_overhead_is_small(tmp_path):
    """Engine work per environment, excluding model latency and sandbox time (target < 50 ms)."""
    with ScriptedLLM(Script()) as llm:
        res = run_cli("run", str(pipeline(tmp_path, llm.url)))
    assert res.returncode == 0, res.stderr
    (rec,) = _records(tmp_path / "out")
    assert rec["engine_overhead_s"] < 2.0  # a loose bound for a loaded CI machine; the benchmark reports the figure


@pytest.mark.parametrize("bad, message", [
    ("max_tokens = 0\n", "generate.max_tokens: must be positive"),
    ("modle = 'x'\n", "generate.modle: unknown key"),
])
def test_bad_engine_options_are_one_line_errors(tmp_path, bad, message):
    cfg = tmp_path / "pipeline.toml"
    cfg.write_text(f"[generate]\ngenerator = 'llm'\nmodel = 'openai/x'\n{bad}")
    res = run_cli("run", str(cfg))
    assert res.returncode == 2 and message in res.stderr
