"""The ray executor on a real local Ray cluster (head + a worker node on 127.0.0.1).

A worker node is SIGKILLed mid-run: Ray re-runs its jobs on the head, and the outputs
equal a local-executor run's (no item lost, none doubled). Slow: a cluster takes ~30 s
to start on two cores.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import pytest

from litecore.task import tree_digest
from litecore.testing import run_cli

ray = pytest.importorskip("ray")
RAY = Path(sys.executable).with_name("ray")
#: A throwaway cluster on loopback: no usage reports, no token (nothing outside this machine reaches it).
RAY_ENV = {"RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "disabled"}

PIPELINE = """
[run]
output = "out"
seed = 5
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

[sandbox]
root = "{root}"
"""


def _outputs(out: Path) -> dict:
    return {
        "dataset": {p.name: tree_digest(p) for p in sorted((out / "dataset").iterdir())},
        "validation": {p.name: json.loads(p.read_text())["ok"] for p in sorted((out / "validation").glob("*.json"))},
        "trajectories": {p.name: json.loads(p.read_text())["reward"]["reward"]
                         for p in sorted((out / "trajectories").glob("*.json"))},
        "sft": (out / "sft.jsonl").read_text(),
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _kill_tree(proc: subprocess.Popen) -> None:
    """SIGKILL a process we started and everything under it (a Ray node: raylet, workers, agents)."""
    try:
        victims = psutil.Process(proc.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        victims = []
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    for v in victims:
        try:
            v.kill()
        except psutil.Error:
            pass
    proc.wait(timeout=30)


def _node(*args: str, temp: str) -> subprocess.Popen:
    env = {**os.environ, **RAY_ENV}
    return subprocess.Popen([str(RAY), "start", "--block", "--node-ip-address=127.0.0.1", "--num-cpus=1",
                             "--object-store-memory=100000000", *args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True, env=env)


def _wait_nodes(address: str, n: int, timeout: float = 120) -> None:
    code = (f"import ray, time; ray.init(address={address!r}, logging_level='ERROR'); t = time.time()\n"
            f"while sum(x['Alive'] for x in ray.nodes()) < {n}:\n"
            f"    assert time.time() - t < {timeout}, 'nodes did not join'; time.sleep(0.5)\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=timeout + 60, capture_output=True,
                   env={**os.environ, **RAY_ENV})


@pytest.fixture
def cluster():
    port = _free_port()
    temp = tempfile.mkdtemp(prefix="lcray-", dir="/tmp")
    head = _node("--head", f"--port={port}", "--include-dashboard=false", "--disable-usage-stats",
                 f"--temp-dir={temp}", temp=temp)
    address = f"127.0.0.1:{port}"
    worker = None
    try:
        time.sleep(3)
        worker = _node(f"--address={address}", temp=temp)
        _wait_nodes(address, 2)
        yield address, worker
    finally:
        for p in (worker, head):
            if p is not None and p.poll() is None:
                _kill_tree(p)
        shutil.rmtree(temp, ignore_errors=True)


@pytest.mark.slow
def test_a_worker_node_killed_mid_run_loses_and_doubles_nothing(tmp_path, cluster):
    address, worker = cluster
    local_dir, ray_dir = tmp_path / "local", tmp_path / "ray"
    for d in (local_dir, ray_dir):
        d.mkdir()
        (d / "pipeline.toml").write_text(PIPELINE.format(root=d / "sandboxes"))
    assert run_cli("run", str(local_dir / "pipeline.toml")).returncode == 0
    with open(ray_dir / "pipeline.toml", "a") as fh:
        fh.write(f'\n[executor]\nname = "ray"\naddress = "{address}"\n')
    proc = subprocess.Popen([sys.executable, "-m", "litecore", "run", str(ray_dir / "pipeline.toml")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                            env={**os.environ, **RAY_ENV})
    val = ray_dir / "out" / "validation"
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None and not (val.is_dir() and any(val.glob("*.json"))):
        time.sleep(0.05)
    assert proc.poll() is None, proc.communicate()
    _kill_tree(worker)  # the whole worker node: raylet, its workers and their sandboxes
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    got, want = _outputs(ray_dir / "out"), _outputs(local_dir / "out")
    assert got == want
    assert len(got["trajectories"]) == 2 * len(got["dataset"]) > 0
    # the dead node's sandboxes left folders only (their processes died with it); clean removes them
    from litecore.builtins.sandbox_local import LocalConfig, clean_leftovers

    clean_leftovers(LocalConfig(root=str(ray_dir / "sandboxes")))
    assert list((ray_dir / "sandboxes").iterdir()) == []


def test_ray_options_are_checked_strictly(tmp_path):
    cfg = tmp_path / "pipeline.toml"
    cfg.write_text('[run]\noutput = "out"\n[executor]\nname = "ray"\nnum_cpus_per_task = "two"\n')
    res = run_cli("run", str(cfg))
    assert res.returncode == 2 and "executor.num_cpus_per_task: expected a number" in res.stderr
    assert not (tmp_path / "out").exists()
