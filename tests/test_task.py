"""The Harbor task model: round trip and clear errors for malformed tasks."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from litecore.errors import TaskFormatError
from litecore.task import load_dataset, load_task, save_task, tree_digest
from litecore.testing import make_task


def test_round_trip_keeps_unknown_keys_and_files(tmp_path):
    task = make_task(tmp_path, toml_extra={"metadata": {"custom": {"nested": [1, 2]}}, "future_table": {"x": 1}})
    copy = load_task(save_task(task, tmp_path / "copy"))
    assert copy.config == task.config
    assert copy.instruction == task.instruction
    assert tree_digest(copy.path) == tree_digest(task.path)
    assert copy.config["future_table"] == {"x": 1}


def test_typed_fields_and_defaults(tmp_path):
    task = make_task(tmp_path, toml_extra={"metadata": {"difficulty": "hard", "category": "games"}})
    assert task.agent_timeout_sec == 60.0 and task.verifier_timeout_sec == 60.0
    assert task.difficulty == "hard" and task.category == "games"
    assert task.network_mode == "no-network" and not task.allows_network


def test_legacy_allow_internet_and_canary(tmp_path):
    task = make_task(tmp_path, toml_extra={"environment": {"allow_internet": True}})
    cfg = (task.path / "task.toml").read_text().replace('network_mode = "no-network"\n', "")
    (task.path / "task.toml").write_text(cfg)
    (task.path / "instruction.md").write_text("# BENCHMARK DATA canary GUID 1234\nDo the thing.\n")
    t = load_task(task.path)
    assert t.allows_network and t.instruction == "Do the thing.\n"


def _broken(tmp_path: Path, mutate) -> Path:
    task = make_task(tmp_path)
    mutate(task.path)
    return task.path


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda p: (p / "instruction.md").unlink(), "instruction.md: missing"),
        (lambda p: (p / "task.toml").unlink(), "task.toml: missing"),
        (lambda p: (p / "task.toml").write_text("[agent\ntimeout_sec = 1"), "task.toml: invalid TOML"),
        (lambda p: (p / "task.toml").write_text('[agent]\ntimeout_sec = "slow"\n'),
         "agent.timeout_sec must be int or float, got str"),
        (lambda p: (p / "task.toml").write_text("[verifier]\ntimeout_sec = -5\n"), "must be positive"),
        (lambda p: (p / "task.toml").write_text('schema_version = "9.0"\n'), "schema_version '9.0' is not supported"),
        (lambda p: (p / "task.toml").write_text('[environment]\nnetwork_mode = "sometimes"\n'), "network_mode"),
        (lambda p: (p / "task.toml").write_text("environment = 3\n"), "[environment] must be a table"),
        (lambda p: (p / "instruction.md").write_text("   \n"), "empty instruction"),
        (lambda p: (p / "tests" / "test.sh").unlink(), "tests/test.sh: missing"),
        (lambda p: (p / "environment" / "Dockerfile").unlink(), "sets no environment.docker_image"),
        (lambda p: (p / "instruction.md").write_bytes(b"\xff\xfe bad"), "instruction.md: not UTF-8"),
    ],
)
def test_malformed_tasks_name_the_file_and_problem(tmp_path, mutate, message):
    path = _broken(tmp_path, mutate)
    with pytest.raises(TaskFormatError) as err:
        load_task(path)
    assert message in str(err.value) and str(path) in str(err.value)
    assert "\n" not in str(err.value)


def test_dataset_is_a_folder_of_task_folders(tmp_path):
    for name in ("b", "a"):
        make_task(tmp_path / "ds", name)
    (tmp_path / "ds" / "notes").mkdir()
    assert [t.id for t in load_dataset(tmp_path / "ds")] == ["a", "b"]
    assert [t.id for t in load_dataset(tmp_path / "ds" / "a")] == ["a"]
    with pytest.raises(TaskFormatError, match="no task folders"):
        load_dataset(tmp_path / "ds" / "notes")
    shutil.rmtree(tmp_path / "ds" / "a")
    with pytest.raises(TaskFormatError, match="no such task or dataset"):
        load_dataset(tmp_path / "missing")


def test_write_is_atomic_and_never_overwrites(tmp_path):
    from litecore.task import write_task

    dest = tmp_path / "t"
    with pytest.raises(TaskFormatError):
        write_task(dest, instruction="x", config={}, files={"../escape.txt": "no"})
    assert not dest.exists() and list(tmp_path.iterdir()) == []
    write_task(dest, instruction="first", config={}, files={})
    write_task(dest, instruction="second", config={}, files={})
    assert (dest / "instruction.md").read_text() == "first\n"
