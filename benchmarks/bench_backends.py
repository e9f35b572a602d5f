"""Compare sandbox backends (local, docker, podman) on a one-line task, in one run.

Figures (the issue's targets, measured against Harbor 0.26 on the same dockerd):
  trial_s      start + oracle + verify + stop of a cached-image trivial task (median of N)
  exec_ms      median round trip of one command in a persistent session (and of sandbox.exec)
  c4x8_s       wall time of 8 trivial trials at concurrency 4            (Harbor: 37 s)
  c8x200       200 trials at concurrency 8: wall time, harness errors, leaked engine objects

Usage: python benchmarks/bench_backends.py [--backends local,docker,podman] [--leak-trials 200]
       [--json out.json]. Engines are started with scripts/engines/start-*.sh if needed.
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
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


def one_line_task(root: Path) -> Path:
    t = root / "one-line"
    for d in ("environment", "tests", "solution"):
        (t / d).mkdir(parents=True, exist_ok=True)
    (t / "environment" / "Dockerfile").write_text("FROM litecore/base:bookworm\nWORKDIR /app\n")
    (t / "instruction.md").write_text("Write hi to /app/out.txt.\n")
    (t / "task.toml").write_text('schema_version = "1.1"\n[environment]\nnetwork_mode = "no-network"\n'
                                 '[agent]\ntimeout_sec = 60.0\n[verifier]\ntimeout_sec = 60.0\n')
    (t / "solution" / "solve.sh").write_text("#!/bin/bash\necho hi > /app/out.txt\n")
    (t / "tests" / "test.sh").write_text(
        "#!/bin/bash\nmkdir -p /logs/verifier\n"
        '[ "$(cat /app/out.txt 2>/dev/null)" = hi ] && echo 1 > /logs/verifier/reward.txt '
        "|| echo 0 > /logs/verifier/reward.txt\n")
    return t


def make_backend(name: str) -> Any:
    if name in ("docker", "podman"):
        url = subprocess.run([str(REPO / "scripts" / "engines" / f"start-{name}.sh")], check=True,
                             capture_output=True, text=True).stdout.strip().splitlines()[-1]
        os.environ[f"LITECORE_{name.upper()}_HOST"] = url
        from litecore.containers import connect
        from litecore.images import BASE_IMAGE, ImageSpec, build_images

        build_images({name: connect(name)}, [ImageSpec(name=BASE_IMAGE)])
    from litecore.plugins import PluginManager

    return PluginManager().get("sandbox", name).factory(None)


def trial(backend: Any, task: Any) -> float | None:
    from litecore.verify import HarborVerifier, run_solution

    with backend.open(task) as sb:
        run_solution(sb, task)
        return HarborVerifier().verify(task, sb).reward


def objects(name: str, backend: Any) -> int:
    if name == "local":
        from litecore.builtins.sandbox_local import sandbox_root

        root = sandbox_root(backend.config)
        return len(list(root.iterdir())) if root.is_dir() else 0
    from litecore.containers import labelled_objects

    return sum(len(v) for v in labelled_objects(backend.client).values())


def bench(name: str, *, seq: int, session_n: int, leak_trials: int) -> dict[str, Any]:
    from litecore.task import load_task

    out: dict[str, Any] = {"backend": name}
    backend = make_backend(name)
    try:
        task = load_task(one_line_task(Path(tempfile.mkdtemp(prefix="lc-bench-"))))
        t0 = time.perf_counter()
        backend.prepare(task)
        out["prepare_first_s"] = round(time.perf_counter() - t0, 3)
        trial(backend, task)  # warm
        times, rewards = [], []
        for _ in range(seq):
            t0 = time.perf_counter()
            rewards.append(trial(backend, task))
            times.append(time.perf_counter() - t0)
        out["trial_s_median"] = round(statistics.median(times), 3)
        out["trial_s_p90"] = round(sorted(times)[int(0.9 * (len(times) - 1))], 3)
        out["trial_rewards_ok"] = all(r == 1.0 for r in rewards)
        with backend.open(task) as sb:
            s = sb.session()
            st = []
            for _ in range(session_n):
                t0 = time.perf_counter()
                s.run("echo x", timeout=10)
                st.append(time.perf_counter() - t0)
            et = []
            for _ in range(max(20, session_n // 10)):
                t0 = time.perf_counter()
                sb.exec("echo x", timeout=10)
                et.append(time.perf_counter() - t0)
        out["session_exec_ms_median"] = round(statistics.median(st) * 1000, 2)
        out["sandbox_exec_ms_median"] = round(statistics.median(et) * 1000, 2)

        def batch(n: int, workers: int) -> tuple[float, int, int]:
            before = objects(name, backend)
            errors = 0
            t0 = time.perf_counter()
            with ThreadPoolExecutor(max_workers=workers) as pool:
                futures = [pool.submit(trial, backend, task) for _ in range(n)]
                for f in futures:
                    try:
                        if f.result() != 1.0:
                            errors += 1
                    except Exception as exc:  # a harness error: counted, reported
                        errors += 1
                        print(f"  {name}: trial error: {exc}", file=sys.stderr)
            wall = time.perf_counter() - t0
            return wall, errors, objects(name, backend) - before

        wall, errors, leaked = batch(8, 4)
        out["c4x8_wall_s"] = round(wall, 2)
        out["c4x8_errors"] = errors
        if leak_trials:
            wall, errors, leaked = batch(leak_trials, 8)
            out[f"c8x{leak_trials}_wall_s"] = round(wall, 1)
            out[f"c8x{leak_trials}_errors"] = errors
            out[f"c8x{leak_trials}_leaked_objects"] = leaked
    finally:
        backend.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backends", default="local,docker,podman")
    ap.add_argument("--seq", type=int, default=15, help="sequential trials for the median")
    ap.add_argument("--session-n", type=int, default=200)
    ap.add_argument("--leak-trials", type=int, default=200, help="0 skips the concurrency-8 batch")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    results = []
    for name in args.backends.split(","):
        print(f"benchmarking {name} ...", file=sys.stderr)
        results.append(bench(name.strip(), seq=args.seq, session_n=args.session_n, leak_trials=args.leak_trials))
        print(json.dumps(results[-1]), file=sys.stderr)
    keys = sorted({k for r in results for k in r if k != "backend"})
    print("| figure | " + " | ".join(r["backend"] for r in results) + " |")
    print("|---|" + "---|" * len(results))
    for k in keys:
        print(f"| {k} | " + " | ".join(str(r.get(k, "-")) for r in results) + " |")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
