"""Terminal-Bench 1.x -> Harbor: convert task folders without touching their content.

A Terminal-Bench 1.x task is ``task.yaml`` (instruction, metadata, timeouts),
a ``Dockerfile`` (+ ``docker-compose.yaml``), ``run-tests.sh``, ``solution.sh``
or ``solution.yaml``, and ``tests/``. The Harbor task keeps every file: the build
context goes to ``environment/``, the original ``run-tests.sh`` to ``tests/`` with
a ``tests/test.sh`` that runs it and turns its exit status into
``/logs/verifier/reward.txt`` (Terminal-Bench resolves a task when every test
passes, which is pytest's exit status 0).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import attrs

from litecore.errors import TaskFormatError, one_line
from litecore.task import FileContent, iter_files, load_task, write_task

#: Files of a TB1 task that are not part of the Docker build context.
_NOT_CONTEXT = {"task.yaml", "run-tests.sh", "solution.sh", "solution.yaml", "docker-compose.yaml",
                "docker-compose.yml"}
_NOT_CONTEXT_DIRS = {"tests"}

TEST_SH = """#!/bin/bash
# Converted from Terminal-Bench 1.x by `litecore import tb1`: run the task's own
# run-tests.sh and turn its exit status into the Harbor reward.
export TEST_DIR=/tests
mkdir -p /logs/verifier
bash /tests/run-tests.sh
status=$?
if [ "$status" -eq 0 ]; then echo 1 > /logs/verifier/reward.txt; else echo 0 > /logs/verifier/reward.txt; fi
exit "$status"
"""


@attrs.frozen(kw_only=True)
class ImportResult:
    converted: tuple[Path, ...]
    skipped: tuple[tuple[str, str], ...]  # (folder, why)


def is_tb1_task(path: Path) -> bool:
    return (path / "task.yaml").is_file()


def import_tb1(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> ImportResult:
    """Convert one TB1 task folder, or a folder of them, into Harbor task folders under ``dst``.

    A task folder that already exists in ``dst`` is left alone (re-running resumes).
    """
    src, dst = Path(src), Path(dst)
    if is_tb1_task(src):
        folders = [src]
    elif src.is_dir():
        folders = sorted(p for p in src.iterdir() if p.is_dir() and is_tb1_task(p))
        if not folders:
            raise TaskFormatError(f"{src}: no Terminal-Bench 1.x tasks found (a task folder holds task.yaml)")
    else:
        raise TaskFormatError(f"{src}: no such folder")
    converted: list[Path] = []
    skipped: list[tuple[str, str]] = []
    for folder in folders:
        try:
            converted.append(convert_tb1_task(folder, dst / folder.name))
        except TaskFormatError as exc:
            if len(folders) == 1:
                raise
            skipped.append((folder.name, str(exc)))
    return ImportResult(converted=tuple(converted), skipped=tuple(skipped))


def _read_yaml(path: Path) -> dict[str, Any]:
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise TaskFormatError(f"{path}: not valid YAML: {one_line(exc, 200)}") from None
    if not isinstance(data, dict):
        raise TaskFormatError(f"{path}: expected a mapping at the top level")
    return data


def _solution_script(folder: Path) -> str:
    sh = folder / "solution.sh"
    if sh.is_file():
        return sh.read_text(encoding="utf-8")
    yml = folder / "solution.yaml"
    if yml.is_file():
        import yaml

        steps = yaml.safe_load(yml.read_text(encoding="utf-8")) or []
        if not isinstance(steps, list):
            raise TaskFormatError(f"{yml}: expected a list of commands")
        lines = ["#!/bin/bash", "# converted from solution.yaml (one command per step)"]
        for i, step in enumerate(steps):
            cmd = step.get("command") if isinstance(step, dict) else step
            if not isinstance(cmd, str):
                raise TaskFormatError(f"{yml}: step {i + 1} has no command")
            lines.append(cmd.rstrip("\n"))
        return "\n".join(lines) + "\n"
    raise TaskFormatError(f"{folder}: neither solution.sh nor solution.yaml")


def _compose_env(folder: Path) -> dict[str, str]:
    """Literal environment variables of the compose file's ``client`` service (if any)."""
    for name in ("docker-compose.yaml", "docker-compose.yml"):
        p = folder / name
        if not p.is_file():
            continue
        try:
            data = _read_yaml(p)
        except TaskFormatError:
            return {}
        svc = (data.get("services") or {}).get("client") or {}
        env = svc.get("environment") or {}
        pairs = env.items() if isinstance(env, dict) else (str(e).partition("=")[::2] for e in env)
        return {str(k): str(v) for k, v in pairs if v is not None and "${" not in str(v)
                and str(k) not in ("TEST_DIR",)}
    return {}


def convert_tb1_task(folder: Path, dest: Path) -> Path:
    """One TB1 task folder -> one Harbor task folder (checked by loading it back)."""
    meta = _read_yaml(folder / "task.yaml")
    instruction = meta.get("instruction") or meta.get("descriptions", [{}])[0].get("description")
    if not isinstance(instruction, str) or not instruction.strip():
        raise TaskFormatError(f"{folder / 'task.yaml'}: no instruction")
    if not (folder / "Dockerfile").is_file():
        raise TaskFormatError(f"{folder}: no Dockerfile")
    if not (folder / "run-tests.sh").is_file():
        raise TaskFormatError(f"{folder}: no run-tests.sh")
    files: dict[str, FileContent] = {}
    executables: list[str] = []
    for p in iter_files(folder):
        rel = p.relative_to(folder)
        top = rel.parts[0]
        if top in _NOT_CONTEXT or top in _NOT_CONTEXT_DIRS or top.startswith("."):
            if top == ".dockerignore":
                files[f"environment/{rel.as_posix()}"] = p.read_bytes()
            continue
        files[f"environment/{rel.as_posix()}"] = p.read_bytes()
        if os.access(p, os.X_OK):
            executables.append(f"environment/{rel.as_posix()}")
    tests = folder / "tests"
    if tests.is_dir():
        for p in iter_files(tests):
            rel = p.relative_to(tests).as_posix()
            files[f"tests/{rel}"] = p.read_bytes()
    if "tests/test.sh" in files:
        raise TaskFormatError(f"{folder}: tests/test.sh would be overwritten by the converted verifier")
    files["tests/run-tests.sh"] = (folder / "run-tests.sh").read_bytes()
    files["tests/test.sh"] = TEST_SH
    files["solution/solve.sh"] = _solution_script(folder)
    config: dict[str, Any] = {
        "schema_version": "1.1",
        "task": {"name": f"terminal-bench/{folder.name}", "authors": [a for a in [meta.get("author_name")] if a]},
        "metadata": {
            k: v for k, v in {
                "author_name": meta.get("author_name"),
                "author_email": meta.get("author_email"),
                "difficulty": meta.get("difficulty"),
                "category": meta.get("category"),
                "tags": list(meta.get("tags") or []),
                "source": "terminal-bench-1",
                "parser_name": meta.get("parser_name"),
            }.items() if v is not None
        },
        "agent": {"timeout_sec": float(meta.get("max_agent_timeout_sec") or 360.0)},
        "verifier": {"timeout_sec": float(meta.get("max_test_timeout_sec") or 60.0), "env": {"TEST_DIR": "/tests"}},
        "environment": {"build_timeout_sec": 600.0},
    }
    env = _compose_env(folder)
    if env:
        config["environment"]["env"] = env
    path = write_task(dest, instruction=instruction.strip() + "\n", config=config, files=files,
                      executables=tuple(executables))
    load_task(path)
    return path

