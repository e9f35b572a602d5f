"""Domain quality and throughput for docs/benchmarks.md.

    python benchmarks/bench_domains.py [--per-domain 60] [--backend local] [--out bench-out/domains.json]

For every installed paper domain: generate N instances (families and difficulties cycled, fresh
seeds) and validate each ONCE (oracle must earn 1, noop 0) on the chosen backend, so the pass
rate is the "first try" rate. Reports the rate per domain, generation and validation throughput,
and where the time goes (generate, sandbox start/stop, solution, verification), at concurrency 2.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from litecore.executor import map_unordered
from litecore.generate import PAPER_DOMAIN_WEIGHTS, plan_tasks
from litecore.plugins import PluginManager
from litecore.task import load_task, write_task
from litecore.verify import HarborVerifier, validate_task


#: Where a validation's wall time goes (per environment, summed over its checks).
STAGES = ("sandbox start/stop", "reference solution", "verifier (oracle)", "verifier (noop)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--per-domain", type=int, default=60)
    ap.add_argument("--backend", default="local")
    ap.add_argument("--concurrency", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1000)
    ap.add_argument("--out", type=Path, default=Path("bench-out/domains.json"))
    args = ap.parse_args()
    pm = PluginManager().load(warn=False)
    domains = {k: v for k, v in pm.records("domain").items() if k in PAPER_DOMAIN_WEIGHTS}
    gen = pm.get("generator", "procedural").factory(None, domains, None)
    backend = pm.get("sandbox", args.backend).factory(None)
    verifier = HarborVerifier()
    result: dict = {"backend": args.backend, "per_domain": {}, "concurrency": args.concurrency}
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("LITECORE_CACHE_DIR", str(Path(tmp) / "cache"))
        all_tasks = []
        t0 = time.perf_counter()
        for name, dom in sorted(domains.items()):
            plans = plan_tasks({name: dom}, {name: 1.0}, count=args.per_domain, seed=args.seed,
                               families={name: [f.name for f in dom.families]})
            for plan in plans:
                g = gen.generate(plan)
                path = write_task(Path(tmp) / "tasks" / g.task_id, instruction=g.instruction, config=g.config,
                                  files=g.files, executables=g.executables)
                all_tasks.append((name, load_task(path)))
        generate_s = time.perf_counter() - t0

        def one(item):
            name, task = item
            s = time.perf_counter()
            v = validate_task(task, backend, verifier, repeats=1)
            return name, task.id, v, time.perf_counter() - s

        t1 = time.perf_counter()
        outcomes = list(map_unordered(one, all_tasks, concurrency=args.concurrency))
        validate_s = time.perf_counter() - t1
    backend.close()
    per = defaultdict(lambda: {"n": 0, "passed": 0, "failures": [], "validate_s": 0.0,
                               "stages_s": dict.fromkeys(STAGES, 0.0)})
    for name, tid, v, secs in outcomes:
        d = per[name]
        d["n"] += 1
        d["passed"] += v.ok
        d["validate_s"] += secs
        for c in v.checks:
            d["stages_s"]["sandbox start/stop"] += c.duration_s - c.solution_s - c.verify_s
            d["stages_s"]["reference solution"] += c.solution_s
            d["stages_s"]["verifier (oracle)" if c.name.startswith("oracle") else "verifier (noop)"] += c.verify_s
        if not v.ok:
            d["failures"].append(f"{tid}: {v.reason}")
    for name, d in sorted(per.items()):
        d["pass_rate"] = round(d["passed"] / d["n"], 4)
        d["validate_s_per_env"] = round(d["validate_s"] / d["n"], 3)
        d["stages_s_per_env"] = {k: round(v / d["n"], 3) for k, v in d.pop("stages_s").items()}
        result["per_domain"][name] = d
    n = len(outcomes)
    per_env = {k: round(sum(d["stages_s_per_env"][k] * d["n"] for d in per.values()) / n, 3) for k in STAGES}
    result["where_the_time_goes_s_per_env"] = {"generate": round(generate_s / n, 4), **per_env}
    result["total"] = {"envs": n, "passed": sum(d["passed"] for d in per.values()),
                       "generate_s": round(generate_s, 2), "validate_s": round(validate_s, 2),
                       "generate_per_env_ms": round(1000 * generate_s / n, 2),
                       "envs_per_s_generate_and_validate": round(n / (generate_s + validate_s), 2)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
