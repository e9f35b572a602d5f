"""Local (bubblewrap) backend and quickstart pipeline figures for docs/benchmarks.md.

    python benchmarks/bench_local.py [--count 30] [--out bench-out/local.json]

Measures, in one run:
- sandbox start (open) and stop, against the baseline of one bare `bwrap ... true` process;
- exec round trip (fresh shell) and session round trip, against the baseline of a fresh bwrap
  per command (what a naive backend does);
- the quickstart pipeline (generate, validate x2, oracle rollouts, export) for --count
  environments at the default concurrency, against the same run at concurrency 1.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import attrs

from litecore.builtins.sandbox_local import LocalBackend
from litecore.config import PipelineConfig, RunConfig
from litecore.pipeline import Pipeline
from litecore.plugins import PluginManager
from litecore.testing import make_task

BARE = ["bwrap", "--ro-bind", "/usr", "/usr", "--symlink", "usr/bin", "/bin", "--symlink", "usr/lib", "/lib",
        "--symlink", "usr/lib64", "/lib64", "--dev", "/dev", "--proc", "/proc", "--unshare-all",
        "--die-with-parent"]


def med_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 3)


def timed(fn, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def bench_sandbox(root: Path, n: int) -> dict:
    task = make_task(root)
    backend = LocalBackend()
    backend.prepare(task)
    opens, stops = [], []
    for _ in range(n):
        t0 = time.perf_counter()
        sb = backend.open(task)
        t1 = time.perf_counter()
        sb.stop()
        opens.append(t1 - t0)
        stops.append(time.perf_counter() - t1)
    bare_start = timed(lambda: subprocess.run(BARE + ["true"], check=True), n)
    with backend.open(task) as sb:
        execs = timed(lambda: sb.exec("true", timeout=10), n * 4)
        session = sb.session()
        runs = timed(lambda: session.run("true", timeout=10), n * 4)
    naive = timed(lambda: subprocess.run(BARE + ["bash", "-c", "true"], check=True), n * 2)
    return {
        "sandbox_start_ms": med_ms(opens),
        "sandbox_stop_ms": med_ms(stops),
        "bare_bwrap_true_ms": med_ms(bare_start),
        "exec_round_trip_ms": med_ms(execs),
        "session_round_trip_ms": med_ms(runs),
        "naive_fresh_bwrap_per_command_ms": med_ms(naive),
        "session_speedup_vs_naive": round(statistics.median(naive) / statistics.median(runs), 1),
        "exec_speedup_vs_naive": round(statistics.median(naive) / statistics.median(execs), 1),
    }


def bench_pipeline(root: Path, count: int, concurrency: int) -> dict:
    cfg = PipelineConfig(base_dir=str(root))
    cfg = attrs.evolve(cfg, run=attrs.evolve(cfg.run, output=str(root / f"run-c{concurrency}"),
                                             concurrency=concurrency),
                       generate=attrs.evolve(cfg.generate, count=count))
    pipe = Pipeline(cfg, PluginManager().load(warn=False))
    t0 = time.perf_counter()
    timings = pipe.run()
    wall = time.perf_counter() - t0
    manifest = json.loads((pipe.out / "manifest.json").read_text())
    return {"wall_s": round(wall, 2), "stages_s": timings, "generated": manifest["tasks_generated"],
            "proven": manifest["tasks_proven"], "sft_rows": manifest["sft_rows"],
            "envs_per_s": round(manifest["tasks_generated"] / (timings["generate"] + timings["validate"]), 2)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=30)
    ap.add_argument("--n", type=int, default=50)
    ap.add_argument("--skip-baseline-pipeline", action="store_true")
    ap.add_argument("--out", type=Path, default=Path("bench-out/local.json"))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("LITECORE_CACHE_DIR", str(Path(tmp) / "cache"))
        result = {"machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]}}
        result["sandbox"] = bench_sandbox(Path(tmp) / "sbx", args.n)
        result["quickstart"] = bench_pipeline(Path(tmp), args.count, RunConfig().concurrency)
        if not args.skip_baseline_pipeline:
            result["quickstart_concurrency_1"] = bench_pipeline(Path(tmp), args.count, 1)
            result["quickstart_speedup_vs_serial"] = round(
                result["quickstart_concurrency_1"]["wall_s"] / result["quickstart"]["wall_s"], 2)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
