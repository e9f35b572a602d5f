"""Domain quality and throughput for docs/benchmarks.md.

    python benchmarks/bench_domains.py [--per-domain 18] [--concurrency 4] [--out bench-out/domains.json]

For every installed paper domain: generate N instances (families and difficulties cycled, fresh
seeds) and validate each ONCE (oracle must earn 1, noop 0) on the local backend, so the pass rate
is the "first try" rate. The same instances are validated twice in this run:

- baseline: every verification runs ``bash /tests/test.sh`` (pytest started afresh each time),
  which is what litecore did before its pytest fork server and what Harbor does;
- litecore: the default (``[sandbox.local] prewarmed_pytest = true``).

Reports, for both: environments per second (generation + validation), CPU seconds per
environment (the whole machine's busy time from /proc/stat, so run it on an idle machine), where
the wall time goes (generate, sandbox start/stop, solution, verifications), and the costliest
families.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from litecore.builtins.sandbox_local import LocalBackend, LocalConfig
from litecore.executor import map_unordered
from litecore.generate import PAPER_DOMAIN_WEIGHTS, plan_tasks
from litecore.plugins import PluginManager
from litecore.task import Task, load_task, write_task
from litecore.verify import HarborVerifier, validate_task

#: Where a validation's wall time goes (per environment, summed over its checks).
STAGES = ("sandbox start/stop", "reference solution", "verifier (oracle)", "verifier (noop)")


def busy_cpu_s() -> float:
    """Seconds of CPU the whole machine has spent busy (user, nice, system, irq, softirq)."""
    with open("/proc/stat") as fh:
        fields = [int(x) for x in fh.readline().split()[1:8]]
    return (fields[0] + fields[1] + fields[2] + fields[5] + fields[6]) / os.sysconf("SC_CLK_TCK")


def generate_tasks(per_domain: int, seed: int, root: Path) -> tuple[list[tuple[str, str, Task]], float]:
    pm = PluginManager().load(warn=False)
    domains = {k: v for k, v in pm.records("domain").items() if k in PAPER_DOMAIN_WEIGHTS}
    gen = pm.get("generator", "procedural").factory(None, domains, None)
    tasks = []
    t0 = time.perf_counter()
    for name, dom in sorted(domains.items()):
        plans = plan_tasks({name: dom}, {name: 1.0}, count=per_domain, seed=seed,
                           families={name: [f.name for f in dom.families]})
        for plan in plans:
            g = gen.generate(plan)
            path = write_task(root / g.task_id, instruction=g.instruction, config=g.config,
                              files=g.files, executables=g.executables)
            tasks.append((name, plan.family, load_task(path)))
    return tasks, time.perf_counter() - t0


def validate_all(tasks: list[tuple[str, str, Task]], config: LocalConfig, concurrency: int) -> dict:
    backend = LocalBackend(config)
    verifier = HarborVerifier()

    def one(item):
        name, family, task = item
        s = time.perf_counter()
        v = validate_task(task, backend, verifier, repeats=1)
        return name, family, task.id, v, time.perf_counter() - s

    cpu0 = busy_cpu_s()
    t0 = time.perf_counter()
    try:
        outcomes = list(map_unordered(one, tasks, concurrency=concurrency))
    finally:
        backend.close()
    wall = time.perf_counter() - t0
    cpu = busy_cpu_s() - cpu0
    per = defaultdict(lambda: {"n": 0, "passed": 0, "failures": [], "validate_s": 0.0,
                               "stages_s": dict.fromkeys(STAGES, 0.0)})
    families: dict[str, list[float]] = defaultdict(list)
    for name, family, tid, v, secs in outcomes:
        d = per[name]
        d["n"] += 1
        d["passed"] += v.ok
        d["validate_s"] += secs
        families[f"{name}/{family}"].append(secs)
        for c in v.checks:
            d["stages_s"]["sandbox start/stop"] += c.duration_s - c.solution_s - c.verify_s
            d["stages_s"]["reference solution"] += c.solution_s
            d["stages_s"]["verifier (oracle)" if c.name.startswith("oracle") else "verifier (noop)"] += c.verify_s
        if not v.ok:
            d["failures"].append(f"{tid}: {v.reason}")
    result: dict = {"per_domain": {}}
    for name, d in sorted(per.items()):
        d["pass_rate"] = round(d["passed"] / d["n"], 4)
        d["validate_s_per_env"] = round(d["validate_s"] / d["n"], 3)
        d["stages_s_per_env"] = {k: round(v / d["n"], 3) for k, v in d.pop("stages_s").items()}
        result["per_domain"][name] = d
    n = len(outcomes)
    result["stages_s_per_env"] = {
        k: round(sum(d["stages_s_per_env"][k] * d["n"] for d in per.values()) / n, 3) for k in STAGES
    }
    result["costliest_families_s"] = dict(sorted(
        ((f, round(sum(v) / len(v), 2)) for f, v in families.items()), key=lambda kv: -kv[1])[:10])
    result["envs"] = n
    result["passed"] = sum(d["passed"] for d in per.values())
    result["validate_s"] = round(wall, 2)
    result["cpu_s_per_env"] = round(cpu / n, 3)
    return result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--per-domain", type=int, default=18)
    ap.add_argument("--concurrency", type=int, default=4, help="sandboxes at once (the pipeline default)")
    ap.add_argument("--seed", type=int, default=1000)
    ap.add_argument("--skip-baseline", action="store_true", help="measure litecore's default only")
    ap.add_argument("--out", type=Path, default=Path("bench-out/domains.json"))
    args = ap.parse_args()
    result: dict = {"backend": "local", "concurrency": args.concurrency, "load_before": os.getloadavg()[0]}
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("LITECORE_CACHE_DIR", str(Path(tmp) / "cache"))
        tasks, generate_s = generate_tasks(args.per_domain, args.seed, Path(tmp) / "tasks")
        result["generate_s"] = round(generate_s, 2)
        result["generate_per_env_ms"] = round(1000 * generate_s / len(tasks), 2)
        runs = [("litecore", LocalConfig())]
        if not args.skip_baseline:
            runs.insert(0, ("baseline (bash tests/test.sh)", LocalConfig(prewarmed_pytest=False)))
        for label, config in runs:
            r = validate_all(tasks, config, args.concurrency)
            r["envs_per_s_generate_and_validate"] = round(r["envs"] / (generate_s + r["validate_s"]), 2)
            result[label] = r
            print(f"{label}: {r['passed']}/{r['envs']} proven, {r['envs_per_s_generate_and_validate']} env/s, "
                  f"{r['cpu_s_per_env']} CPU s/env", flush=True)
    if len(runs) == 2:
        base, ours = (result[label] for label, _ in runs)
        result["speedup"] = round(ours["envs_per_s_generate_and_validate"] / base["envs_per_s_generate_and_validate"], 2)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
