"""pass@k arithmetic, the report, and ``litecore eval`` end to end on generated tasks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from litecore.commands_eval import eval_command, parse_options
from litecore.evaluate import evaluate, pass_at_k, summarize
from litecore.rollout import OraclePolicy


@pytest.mark.parametrize(
    ("n", "c", "k", "expected"),
    [
        (1, 1, 1, 1.0),
        (1, 0, 1, 0.0),
        (5, 2, 1, 2 / 5),            # pass@1 is the fraction correct
        (5, 2, 2, 1 - 3 / 10),       # 1 - C(3,2)/C(5,2)
        (5, 2, 3, 1 - 1 / 10),       # 1 - C(3,3)/C(5,3)
        (5, 2, 4, 1.0),              # fewer than 4 wrong ones: any 4 contain a pass
        (10, 3, 5, 1 - 21 / 252),    # 1 - C(7,5)/C(10,5)
        (4, 0, 4, 0.0),
    ],
)
def test_pass_at_k_matches_hand_computed_values(n: int, c: int, k: int, expected: float) -> None:
    assert pass_at_k(n, c, k) == pytest.approx(expected)


def test_pass_at_k_rejects_impossible_inputs() -> None:
    with pytest.raises(ValueError):
        pass_at_k(3, 4, 1)
    with pytest.raises(ValueError):
        pass_at_k(3, 1, 4)


def test_summary_by_category_and_difficulty(make_traj) -> None:
    trajs = [
        # task a (easy, cat X): 1 of 2 passed; task b (hard, cat Y): 0 of 2; task c (easy, cat X): 2 of 2
        make_traj("a", 0, reward=1.0, category="X", difficulty="easy"),
        make_traj("a", 1, reward=0.0, fraction=0.5, category="X", difficulty="easy"),
        make_traj("b", 0, reward=0.0, category="Y", difficulty="hard"),
        make_traj("b", 1, reward=None, category="Y", difficulty="hard"),
        make_traj("c", 0, reward=1.0, category="X", difficulty="easy", duration=4.0),
        make_traj("c", 1, reward=1.0, category="X", difficulty="easy", duration=6.0),
    ]
    s = summarize(trajs, [1, 2])
    assert s["tasks"]["a"]["pass_at"] == {"1": 0.5, "2": 1.0}
    assert s["overall"]["pass_at"]["1"] == pytest.approx((0.5 + 0 + 1) / 3)
    assert s["overall"]["pass_at"]["2"] == pytest.approx((1 + 0 + 1) / 3)
    assert s["by_category"]["X"]["pass_at"]["1"] == pytest.approx(0.75)
    assert s["by_difficulty"]["hard"]["pass_at"]["2"] == 0.0
    assert s["overall"]["verifier_errors"] == 1
    assert s["tasks"]["a"]["mean_partial"] == pytest.approx(0.75)
    assert s["by_category"]["X"]["mean_time_s"] == pytest.approx((2 + 2 + 4 + 6) / 4)
    assert s["overall"]["mean_turns"] == 3.0


def test_evaluate_oracle_writes_report_and_plots(ds_tasks, local_backend, tmp_path: Path) -> None:
    report = evaluate(ds_tasks, local_backend, OraclePolicy(), k=2, out_dir=tmp_path, concurrency=2)
    assert report["attempts"] == 2 and report["overall"]["pass_at"] == {"1": 1.0, "2": 1.0}
    assert report["overall"]["attempts"] == 4
    saved = json.loads((tmp_path / "report.json").read_text())
    assert saved["overall"]["tasks"] == 2 and saved["plots"]
    for rel in saved["plots"]:
        assert (tmp_path / rel).read_bytes()[:4] == b"\x89PNG"
    md = (tmp_path / "report.md").read_text()
    assert "pass@2" in md and "data-processing" in md and "![" in md
    assert len(list((tmp_path / "trajectories").glob("*.json"))) == 4


def test_eval_command_on_a_harbor_folder(ds_tasks, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dataset = ds_tasks[0].path.parent
    monkeypatch.setenv("LITECORE_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "out"
    result = CliRunner().invoke(eval_command, [str(dataset), "--policy", "noop", "-k", "1", "--out", str(out),
                                               "--terminal", "line", "--no-plots"])
    assert result.exit_code == 0, result.output
    assert "pass@1 0.0%" in result.output
    assert json.loads((out / "report.json").read_text())["overall"]["tasks"] == 2
    bad = CliRunner().invoke(eval_command, [str(dataset), "--policy", "nosuch", "--out", str(out)])
    assert bad.exit_code != 0 and "unknown policy 'nosuch'" in bad.output


def test_policy_options_are_toml_literals() -> None:
    assert parse_options(("temperature=0.2", "model=openai/gpt-4o", "n=3", "flag=true")) == {
        "temperature": 0.2, "model": "openai/gpt-4o", "n": 3, "flag": True}


def test_an_attempt_whose_sandbox_failed_still_counts(make_traj) -> None:
    """Breaking the sandbox must not take an attempt out of pass@k's denominator."""
    broken = "sandbox failed on every try (3 tries); last try: the sandbox's processes were killed"
    s = summarize([make_traj("a", 0, reward=1.0), make_traj("a", 1, reward=0.0, error=broken)], [1])
    assert s["tasks"]["a"]["n"] == 2 and s["overall"]["pass_at"]["1"] == 0.5
    assert s["sandbox_failures"] == 1
