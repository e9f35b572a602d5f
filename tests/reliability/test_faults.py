"""Fault injection: SIGKILL the pipeline at several points, kill sandboxes mid-episode.

After each fault the same command is rerun; the final outputs must equal an
uninterrupted run's (task and dataset content hashes, SFT rows, validation verdicts,
trajectory ids and rewards), with no duplicate and no temporary file left.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from litecore.pipeline import SANDBOX_RETRIES
from litecore.task import tree_digest
from litecore.testing import run_cli

from .conftest import record

PIPELINE = """
[run]
output = "out"
seed = 11
concurrency = 2

[generate]
count = 6
difficulties = ["easy", "medium"]

[generate.domains]
data-science = 1.0

[generate.families]
data-science = ["csv-groupby"]

[validate]
repeats = 1

[rollout]
attempts = 2
"""


def _write(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    cfg = folder / "pipeline.toml"
    cfg.write_text(PIPELINE)
    return cfg


def outputs(out: Path) -> dict[str, object]:
    """What must not change whatever happened on the way: contents, verdicts, ids, rewards, errors."""
    trajs = {}
    for p in sorted((out / "trajectories").glob("*.json")):
        t = json.loads(p.read_text())
        trajs[p.name] = (t["reward"]["reward"], len(t["steps"]), t["error"])
    return {
        "tasks": {p.name: tree_digest(p) for p in sorted((out / "tasks").iterdir())},
        "dataset": {p.name: tree_digest(p) for p in sorted((out / "dataset").iterdir())},
        "validation": {p.name: (v["ok"], v["reason"], [c["reward"] for c in v["checks"]])
                       for p in sorted((out / "validation").glob("*.json")) for v in [json.loads(p.read_text())]},
        "trajectories": trajs,
        "sft": (out / "sft.jsonl").read_text(),
        "manifest_tasks": json.loads((out / "manifest.json").read_text())["tasks"],
    }


def leftovers(out: Path) -> list[str]:
    """Temporary names (``.x.tmp``) anywhere in the run folder, except the lock."""
    return [str(p.relative_to(out)) for p in out.rglob(".*") if p.name != ".lock"]


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    folder = tmp_path_factory.mktemp("clean")
    res = run_cli("run", str(_write(folder)))
    assert res.returncode == 0, res.stderr
    ref = outputs(folder / "out")
    assert len(ref["trajectories"]) == 2 * len(ref["dataset"]) > 0
    return ref


def _count(folder: Path, pattern: str) -> int:
    return len(list(folder.glob(pattern))) if folder.is_dir() else 0


#: Kill points: a condition on the run folder, then a random extra delay.
KILL_POINTS = {
    "generate": lambda out: _count(out / "tasks", "*__*") >= 2,
    "validate": lambda out: _count(out / "validation", "*.json") >= 1,
    "validate-late": lambda out: _count(out / "validation", "*.json") >= 4,
    "rollout": lambda out: _count(out / "trajectories", "*.json") >= 1,
    "rollout-late": lambda out: _count(out / "trajectories", "*.json") >= 6,
    "export": lambda out: (out / "dataset").is_dir() or _count(out, ".dataset.*") > 0,
}


@pytest.mark.slow
@pytest.mark.parametrize("point", list(KILL_POINTS))
def test_sigkill_then_rerun_equals_an_uninterrupted_run(tmp_path, reference, point):
    cfg = _write(tmp_path)
    out = tmp_path / "out"
    rng = random.Random(point)
    proc = subprocess.Popen([sys.executable, "-m", "litecore", "run", str(cfg)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 180
    if point == "export":
        # export takes milliseconds: kill the moment the last trajectory is on disk, as export begins
        def ready(out: Path) -> bool:
            return _count(out / "trajectories", "*.json") >= len(reference["trajectories"])
    else:
        ready = KILL_POINTS[point]
    while time.time() < deadline and proc.poll() is None and not ready(out):
        time.sleep(0.005)
    if point != "export":
        time.sleep(rng.uniform(0, 0.3))
    killed = proc.poll() is None
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:  # it finished first; `killed` says so and the test fails below
        pass
    proc.wait()
    res = run_cli("run", str(cfg))
    assert res.returncode == 0, res.stderr
    got = outputs(out)
    record("faults", fault=f"SIGKILL during {point}", injected=killed, survived=got == reference,
           trajectories=len(got["trajectories"]))
    assert killed, f"the run finished before the kill point {point}"
    assert got == reference
    assert leftovers(out) == []


def _sandbox_namespaces(pid: int) -> list[psutil.Process]:
    try:
        return [p for p in psutil.Process(pid).children(recursive=True)
                if p.name() == "bwrap" and p.parent() is not None and p.parent().name() != "bwrap"]
    except psutil.Error:
        return []


def _kill_sandboxes(proc: subprocess.Popen, *, most: int, pause_s: float, age_s: float = 0.3) -> int:
    """SIGKILL the sandboxes (whole namespaces) of a running ``litecore run``, one at a time,
    each ``age_s`` into its life (0.3 s: well inside an episode); how many were killed."""
    kills = 0
    deadline = time.time() + 120
    while proc.poll() is None and time.time() < deadline and kills < most:
        victims = _sandbox_namespaces(proc.pid)
        if victims:
            time.sleep(age_s)
            try:
                victims[0].kill()
                kills += 1
            except psutil.Error:
                pass
            time.sleep(pause_s)
        else:
            time.sleep(0.02)
    return kills


@pytest.mark.slow
def test_sandboxes_killed_mid_episode_are_rerun(tmp_path, reference):
    """Kill running sandboxes during rollout: the run tries those episodes again itself, same outputs.

    At most SANDBOX_RETRIES kills, so even if every one hits the same episode its last try is clean.
    """
    cfg = _write(tmp_path)
    out = tmp_path / "out"
    assert run_cli("run", str(cfg), "--stages", "generate,validate").returncode == 0
    proc = subprocess.Popen([sys.executable, "-m", "litecore", "run", str(cfg), "--stages", "rollout,export"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
    kills = _kill_sandboxes(proc, most=SANDBOX_RETRIES, pause_s=1.5)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    got = outputs(out)
    record("faults", fault=f"{kills} sandboxes killed mid-episode", injected=kills > 0, survived=got == reference,
           trajectories=len(got["trajectories"]))
    assert kills == SANDBOX_RETRIES
    assert got == reference


@pytest.mark.parametrize("stage", ["validate", "rollout"])
def test_work_whose_sandbox_always_dies_is_no_data_and_is_redone_on_resume(tmp_path, stage):
    """Every try's sandbox killed: the verdict or trajectory is marked and exported nowhere;
    the next run does it again."""
    cfg = tmp_path / "pipeline.toml"
    cfg.write_text(PIPELINE.replace("count = 6", "count = 1").replace("concurrency = 2", "concurrency = 1")
                   .replace("attempts = 2", "attempts = 1"))
    out = tmp_path / "out"
    before = "generate" if stage == "validate" else "generate,validate"
    assert run_cli("run", str(cfg), "--stages", before).returncode == 0
    proc = subprocess.Popen([sys.executable, "-m", "litecore", "run", str(cfg), "--stages",
                             "validate,rollout,export" if stage == "validate" else "rollout,export"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
    kills = _kill_sandboxes(proc, most=1000, pause_s=0.0, age_s=0.0)  # every namespace, until the run ends
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert kills >= SANDBOX_RETRIES + 1
    [verdict] = (out / "validation").glob("*.json")
    trajectories = list((out / "trajectories").glob("*.json"))
    if stage == "validate":
        assert json.loads(verdict.read_text())["reason"].startswith("sandbox failed on every try (3 tries)")
        assert trajectories == [] and list((out / "dataset").iterdir()) == []
    else:
        [path] = trajectories
        assert json.loads(path.read_text())["error"].startswith("sandbox failed on every try (3 tries)")
        assert json.loads((out / "manifest.json").read_text())["sft_dropped"] == {"sandbox failed": 1}
    assert (out / "sft.jsonl").read_text() == ""

    res = run_cli("run", str(cfg))  # the resumed run does it again, and this time nothing interferes
    assert res.returncode == 0, res.stderr
    assert json.loads(verdict.read_text())["ok"]
    [path] = (out / "trajectories").glob("*.json")
    traj = json.loads(path.read_text())
    assert traj["error"] is None and traj["reward"]["reward"] == 1.0
    assert len((out / "sft.jsonl").read_text().splitlines()) == 1


def _restart_engine(name: str) -> None:
    scripts = Path(__file__).resolve().parents[2] / "scripts" / "engines"
    subprocess.run([str(scripts / f"stop-{name}.sh")], check=True, capture_output=True, timeout=120)
    subprocess.run([str(scripts / f"start-{name}.sh")], check=True, capture_output=True, timeout=300)


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["docker", "podman"])
def test_container_engine_restarted_mid_run(tmp_path, engine):
    """The engine stopped and started again during rollout: the run finishes by itself, outputs unchanged."""
    from litecore.containers import connect, labelled_objects
    from litecore.images import build_images, default_specs

    from .conftest import container_backend

    container_backend(engine).close()  # starts (or reuses) the engine and points LITECORE_<ENGINE>_HOST at it
    build_images({engine: connect(engine)}, default_specs())
    before = labelled_objects(connect(engine))["containers"]
    ref_cfg = _write(tmp_path / "reference")
    res = run_cli("run", str(ref_cfg), "--backend", engine)
    assert res.returncode == 0, res.stderr
    reference = outputs(tmp_path / "reference" / "out")

    cfg = _write(tmp_path / "faulted")
    out = tmp_path / "faulted" / "out"
    proc = subprocess.Popen([sys.executable, "-m", "litecore", "run", str(cfg), "--backend", engine],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None and _count(out / "trajectories", "*.json") < 2:
        time.sleep(0.02)
    restarted = proc.poll() is None
    if restarted:
        _restart_engine(engine)
    _, err = proc.communicate(timeout=600)
    got = outputs(out) if proc.returncode == 0 else {}
    record("faults", fault=f"{engine} engine restarted during rollout", injected=restarted,
           survived=proc.returncode == 0 and got == reference, trajectories=len(got.get("trajectories", {})))
    assert restarted, "the run finished before the engine could be restarted"
    assert proc.returncode == 0, err
    assert got == reference
    assert leftovers(out) == []
    assert labelled_objects(connect(engine))["containers"] == before
