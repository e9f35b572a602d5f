"""Rejection-sampled SFT data and preference pairs, and their files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from litecore.datasets import (
    PairOptions,
    SFTFilters,
    build_pairs,
    build_sft,
    loop_length,
    split_shared_prefix,
    write_pairs,
    write_sft,
)


def test_sft_keeps_only_good_passing_trajectories(make_traj) -> None:
    trajs = [
        make_traj("a", 0),
        make_traj("a", 1, keys=("ls\n", "cat x\n")),               # same messages as a/0: duplicate
        make_traj("b", 0, reward=0.0),
        make_traj("c", 0, reward=None),
        make_traj("d", 0, keys=("ls\n", None, "cat x\n")),          # malformed reply inside
        make_traj("e", 0, keys=("make\n", "make\n", "make\n")),     # loop
        make_traj("f", 0, keys=("ls\n",), complete=False),          # never declared complete
        make_traj("g", 0, keys=()),                                 # passed without running anything
        make_traj("h", 0, keys=("ls\n", "pwd\n", "ls\n")),
    ]
    ds = build_sft(trajs)
    assert [r["task_id"] for r in ds.rows] == ["a", "h"]
    assert dict(ds.dropped) == {
        "duplicate": 1, "did not pass": 1, "verifier error": 1, "malformed reply": 1,
        "repeated command loop": 1, "not declared complete": 1, "no commands run": 1,
    }
    assert ds.considered == len(trajs)
    row = ds.rows[0]
    assert row["messages"][0] == {"role": "user", "content": "TASK a"}
    assert [m["role"] for m in row["messages"]] == ["user", "assistant", "user", "assistant", "user", "assistant"]
    lenient = build_sft(trajs, SFTFilters(loop_threshold=4, require_completion=False, drop_malformed=False))
    assert {r["task_id"] for r in lenient.rows} == {"a", "d", "e", "f", "h"}


def test_loop_length(make_traj) -> None:
    assert loop_length(make_traj(keys=("a\n", "a\n", "b\n", "a\n"))) == 2
    assert loop_length(make_traj(keys=(None, None, None))) == 3


def test_pairs_follow_the_paper(make_traj) -> None:
    trajs = [
        # env 1: scores 1.0 and 0.5 -> one pair, the passing one chosen
        make_traj("e1", 0, keys=("ls\n", "fix\n"), reward=1.0),
        make_traj("e1", 1, keys=("ls\n", "oops\n"), reward=0.0, fraction=0.5),
        # env 2: both failed with the same score -> no pair, counted as all-failed and equal
        make_traj("e2", 0, reward=0.0, fraction=0.0),
        make_traj("e2", 1, keys=("pwd\n",), reward=0.0, fraction=0.0),
        # env 3: both failed, different partial credit -> a pair anyway
        make_traj("e3", 0, keys=("a\n",), reward=0.0, fraction=0.25),
        make_traj("e3", 1, keys=("b\n",), reward=0.0, fraction=0.75),
        # env 4: only one rollout
        make_traj("e4", 0),
        # env 5: one rollout's verification failed -> too few scored rollouts
        make_traj("e5", 0), make_traj("e5", 1, reward=None),
    ]
    ds = build_pairs(trajs)
    assert [(r["task_id"], r["score_chosen"], r["score_rejected"]) for r in ds.rows] == [
        ("e1", 1.0, 0.5), ("e3", 0.75, 0.25)]
    e1 = ds.rows[0]
    # the shared prefix (task prompt, the identical first reply and its observation) is the prompt
    assert [m["role"] for m in e1["prompt"]] == ["user", "assistant", "user"]
    assert e1["prompt"][0]["content"] == "TASK e1"
    assert e1["chosen"][0]["role"] == "assistant" and e1["rejected"][0]["role"] == "assistant"
    assert "fix" in e1["chosen"][0]["content"] and "oops" in e1["rejected"][0]["content"]
    assert ds.stats["environments"] == 5
    assert ds.stats["environments where all rollouts failed"] == 2
    assert ds.stats["environments with equal scores"] == 1
    assert ds.stats["environments with too few scored rollouts"] == 2
    assert ds.stats["rollouts with verifier errors"] == 1
    assert ds.stats["pairs"] == 2


def test_pairs_modes_and_margin(make_traj) -> None:
    trajs = [make_traj("e", i, keys=(f"c{i}\n",), reward=0.0, fraction=f) for i, f in enumerate((0.0, 0.5, 1.0))]
    assert len(build_pairs(trajs).rows) == 1
    assert len(build_pairs(trajs, PairOptions(mode="all")).rows) == 3
    assert len(build_pairs(trajs, PairOptions(mode="all", min_margin=0.5)).rows) == 1
    best = build_pairs(trajs).rows[0]
    assert (best["score_chosen"], best["score_rejected"]) == (1.0, 0.0)
    with pytest.raises(ValueError):
        PairOptions(mode="random")


def test_shared_prefix_ends_on_a_user_turn() -> None:
    a = [{"role": "user", "content": "t"}, {"role": "assistant", "content": "x"}, {"role": "user", "content": "o1"}]
    b = [{"role": "user", "content": "t"}, {"role": "assistant", "content": "x"}, {"role": "user", "content": "o2"}]
    assert split_shared_prefix(a, b) == 1
    assert split_shared_prefix(a, a[:2] + [{"role": "user", "content": "o1"}, {"role": "assistant", "content": "y"}]) == 3


def test_files_jsonl_and_hugging_face(make_traj, tmp_path: Path) -> None:
    datasets = pytest.importorskip("datasets")
    sft = build_sft([make_traj("a", 0), make_traj("b", 0, reward=0.0)])
    paths = write_sft(sft, tmp_path, formats=("messages", "sharegpt", "hf"))
    assert [json.loads(x)["task_id"] for x in paths["messages"].read_text().splitlines()] == ["a"]
    assert json.loads(paths["sharegpt"].read_text())["conversations"][0]["from"] == "human"
    loaded = datasets.load_from_disk(str(paths["hf"]))
    assert loaded[0]["messages"][0]["content"] == "TASK a"
    card = (paths["hf"] / "README.md").read_text()
    assert card.startswith("---\n") and "did not pass | 1" in card
    assert json.loads((tmp_path / "sft_stats.json").read_text())["dropped"] == {"did not pass": 1}

    pairs = build_pairs([make_traj("e", 0, reward=1.0), make_traj("e", 1, keys=("x\n",), reward=0.0)])
    ppaths = write_pairs(pairs, tmp_path)
    row = datasets.load_from_disk(str(ppaths["hf"]))[0]
    assert row["prompt"][0]["role"] == "user" and row["chosen"][0]["role"] == "assistant"
    assert "environments with pairs" in (ppaths["hf"] / "README.md").read_text()
    with pytest.raises(ValueError, match="unknown SFT format"):
        write_sft(sft, tmp_path, formats=("parquet",))


def test_a_trajectory_whose_sandbox_failed_is_neither_sft_nor_preference_data(make_traj) -> None:
    """Its sandbox failed on every try: its reward and text show the infrastructure, not the agent."""
    broken = "sandbox failed on every try (3 tries); last try: the sandbox's processes were killed"
    trajs = [make_traj("t", 0, reward=1.0, error=broken), make_traj("t", 1, keys=("x\n",), reward=0.0)]
    sft = build_sft(trajs)
    assert [r["id"] for r in sft.rows] == [] and sft.dropped["sandbox failed"] == 1
    pairs = build_pairs([*trajs, make_traj("t", 2, keys=("y\n",), reward=0.0)])
    assert pairs.rows == []  # without it only two failed rollouts remain: no pair
    assert pairs.stats["rollouts whose sandbox failed"] == 1
