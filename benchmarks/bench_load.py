"""Load benchmark (docs/reliability.md): thousands of trials through one executor and backend.

Generates ``--tasks`` data-science tasks, proves them (oracle 1, noop 0), then runs
``--attempts`` oracle and ``--attempts`` noop episodes per task through the pipeline's
rollout stage: tasks x attempts x 2 trials (100 x 10 x 2 = 2,000 by default). Reports
trials, throughput, harness errors (a trial whose reward is missing or wrong: oracle must
earn 1, noop 0), leaked engine objects after the run (local: sandbox processes, folders,
cgroups; docker/podman: containers), and the orchestrating process's peak memory.

    python benchmarks/bench_load.py --backend local --concurrency 16
    python benchmarks/bench_load.py --backend local --executor ray --ray-cpus 2
    python benchmarks/bench_load.py --backend docker --concurrency 16     # engine started by scripts/engines
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import threading
import time
from pathlib import Path

import psutil


def pipeline_toml(out: Path, args: argparse.Namespace, policy: str, stages: list[str]) -> str:
    lines = [
        "[run]", f'output = "{out}"', "seed = 1", f"concurrency = {args.concurrency}", f"stages = {json.dumps(stages)}",
        "[generate]", f"count = {args.tasks}", 'difficulties = ["easy", "medium", "hard"]',
        "[generate.domains]", '"data-science" = 1.0',
        "[validate]", "repeats = 1",
        "[rollout]", f'policy = "{policy}"', f"attempts = {args.attempts}", 'terminal = "line"',
        "[sandbox]", f'backend = "{args.backend}"',
    ]
    if args.backend == "local":
        lines.append(f'root = "{out.parent / "sandboxes"}"')
    lines += ["[executor]", f'name = "{args.executor}"']
    if args.executor == "ray":
        lines.append(f'address = "{args.ray_address}"' if args.ray_address else f"num_cpus = {args.ray_cpus}")
        # a trial mostly waits on its sandbox: pack `concurrency` of them onto the workers' CPUs
        lines.append(f"num_cpus_per_task = {args.ray_cpus / args.concurrency:.4f}")
    return "\n".join(lines) + "\n"


class PeakRSS:
    """Samples this process's resident memory every 0.2 s (the orchestrator, not the sandboxes)."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        me = psutil.Process()
        while not self._stop.wait(0.2):
            self.peak = max(self.peak, me.memory_info().rss)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak


def engine_objects(backend: str, sandbox_root: Path) -> int:
    if backend == "local":
        # every bwrap on the machine under this run's sandbox root (Ray workers' sandboxes included)
        found = 0
        for p in psutil.process_iter(["name", "cmdline"]):
            if p.info["name"] == "bwrap" and any(str(sandbox_root) in a for a in p.info["cmdline"] or ()):
                found += 1
        return found
    import docker

    host = os.environ.get(f"LITECORE_{backend.upper()}_HOST")
    client = docker.DockerClient(base_url=host) if host else docker.from_env()
    return len(client.containers.list(all=True, filters={"label": "litecore"}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--backend", default="local")
    ap.add_argument("--executor", default="local", choices=["local", "ray"])
    ap.add_argument("--ray-address", default="")
    ap.add_argument("--ray-cpus", type=int, default=2, help="CPUs of the Ray instance (private, or the cluster at --ray-address): jobs get ray_cpus/concurrency each")
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--tasks", type=int, default=100)
    ap.add_argument("--attempts", type=int, default=10)
    ap.add_argument("--workdir", type=Path)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()

    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    from litecore.config import load_config
    from litecore.pipeline import Pipeline
    from litecore.plugins import PluginManager

    work = args.workdir or Path(tempfile.mkdtemp(prefix="lc-load-"))
    work.mkdir(parents=True, exist_ok=True)
    out = work / "run"
    before = engine_objects(args.backend, work / "sandboxes")
    rss = PeakRSS()
    timings: dict[str, float] = {}
    pm = PluginManager().load()
    for policy, stages in (("oracle", ["generate", "validate", "rollout"]), ("noop", ["rollout"])):
        cfg_path = work / f"{policy}.toml"
        cfg_path.write_text(pipeline_toml(out, args, policy, stages))
        t0 = time.monotonic()
        Pipeline(load_config(cfg_path), pm).run()
        timings[policy] = time.monotonic() - t0
    peak = rss.stop()
    time.sleep(1.0)
    leaked = engine_objects(args.backend, work / "sandboxes") - before
    if args.backend == "local":
        leaked += len(list((work / "sandboxes").iterdir())) if (work / "sandboxes").is_dir() else 0
    validations = [json.loads(p.read_text()) for p in (out / "validation").glob("*.json")]
    proven = sum(v["ok"] for v in validations)
    trials = errors = 0
    for p in (out / "trajectories").glob("*.json"):
        t = json.loads(p.read_text())
        trials += 1
        want = 1.0 if t["policy"] == "oracle" else 0.0
        if t["reward"]["reward"] != want:
            errors += 1
    rollout_s = timings["noop"] + timings["oracle"]
    result = {
        "backend": args.backend, "executor": args.executor, "concurrency": args.concurrency,
        "ray": (f"cluster at {args.ray_address}" if args.ray_address else f"private, {args.ray_cpus} CPUs") if args.executor == "ray" else None,
        "tasks_generated": len(validations), "tasks_proven": proven, "trials": trials,
        "validation_trials": 2 * len(validations), "harness_errors": errors, "leaked_engine_objects": leaked,
        "orchestrator_peak_rss_mb": round(peak / 2**20, 1), "seconds": round(rollout_s, 1),
        "trials_per_s": round((trials + 2 * len(validations)) / rollout_s, 2),
        "cpus": os.cpu_count(),
    }
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
