"""Fixtures for the agent, evaluation and dataset tests: synthetic trajectories and a generated task."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from litecore.task import Task
from litecore.trajectory import Action, Command, RewardRecord, Step, Trajectory


def _step(i: int, keys: str | None, *, complete: bool = False, obs: str = "out\n") -> Step:
    if keys is None:
        return Step(index=i, reply="not json", action=None, observation="Your previous reply could not be used",
                    started_at=1000.0 + i, duration_s=0.1, note="no JSON object")
    action = Action(analysis=f"a{i}", plan=f"p{i}",
                    commands=(Command(keystrokes=keys, duration=1.0),) if keys else (), task_complete=complete)
    return Step(index=i, reply=action.to_json(), action=action, observation=obs if keys else "",
                started_at=1000.0 + i, duration_s=0.1, prompt_tokens=10 * (i + 1), completion_tokens=5,
                cost_usd=0.001)


def build_traj(task_id: str = "t1", attempt: int = 0, *, keys: Sequence[str | None] = ("ls\n", "cat x\n"),
               complete: bool = True, reward: float | None = 1.0, fraction: float | None = None,
               category: str = "data-processing", difficulty: str = "easy", policy: str = "p",
               duration: float = 2.0, error: str | None = None) -> Trajectory:
    steps = [_step(i, k) for i, k in enumerate(keys)]
    if complete:
        steps.append(_step(len(steps), "", complete=True))
    rewards = {} if reward is None else {"reward": reward, "fraction_passed": reward if fraction is None else fraction}
    return Trajectory(
        id=f"{task_id}__{policy}__{attempt}", task_id=task_id, task_name=f"org/{task_id}", policy=policy,
        model="m", attempt=attempt, instruction="do it", prompt=f"TASK {task_id}", steps=tuple(steps),
        reward=RewardRecord(reward=reward, rewards=rewards, error=None if reward is not None else "no reward"),
        category=category, difficulty=difficulty, started_at=1000.0, duration_s=duration, error=error,
    )


@pytest.fixture
def make_traj() -> Callable[..., Trajectory]:
    return build_traj


@pytest.fixture(scope="module")
def ds_tasks(tmp_path_factory: pytest.TempPathFactory) -> list[Task]:
    """Two generated data-science tasks (easy), materialized once per module."""
    from litecore.testing import generate, materialize
    from litecore_plugin_data_science import domain

    root: Path = tmp_path_factory.mktemp("ds")
    return [materialize(generate(domain(), fam, 3, "easy"), root) for fam in ("csv-groupby", "jsonl-normalize")]
