"""CPU seconds each task family's validation costs, exactly: where generate + validate time goes.

    python benchmarks/family_cost.py [--per-difficulty 1] [--domain D ...] [--out bench-out/family-cost.json]

Validates (oracle 1, noop 0, once) instances of every family of the paper domains, one at a
time on the local backend, inside a cpuacct cgroup of its own, so the CPU of everything the
checks start (sandboxes, solutions, verifiers, the pytest server) is counted whatever else runs
on the machine. Needs root and a cgroup-v1 ``cpuacct`` hierarchy (as on the reference machine).
The mean over families is what bounds throughput: two cores give at most 2 / mean
environments per second.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

CPUACCT = Path("/sys/fs/cgroup/cpuacct")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--per-difficulty", type=int, default=1)
    ap.add_argument("--domain", action="append", help="only these domains (repeatable)")
    ap.add_argument("--seed", type=int, default=1000)
    ap.add_argument("--out", type=Path, default=Path("bench-out/family-cost.json"))
    args = ap.parse_args()
    cgroup = CPUACCT / f"litecore-family-cost-{os.getpid()}"
    try:
        cgroup.mkdir()
        (cgroup / "cgroup.procs").write_text(str(os.getpid()))
    except OSError as exc:
        sys.exit(f"family_cost: needs a writable cgroup-v1 cpuacct hierarchy at {CPUACCT} (root): {exc}")
    try:
        result = measure(cgroup, args)
    finally:
        (CPUACCT / "cgroup.procs").write_text(str(os.getpid()))
        cgroup.rmdir()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    for family, cost in result["cpu_s_per_env"].items():
        print(f"{family:45s} {cost:.3f}")
    print(f"mean over {len(result['cpu_s_per_env'])} families: {result['mean_cpu_s_per_env']:.3f} CPU s per "
          f"environment; {result['proven']}/{result['envs']} proven")


def measure(cgroup: Path, args: argparse.Namespace) -> dict:
    from litecore.generate import PAPER_DOMAIN_WEIGHTS
    from litecore.plugins import PluginManager
    from litecore.testing import generate, materialize
    from litecore.verify import HarborVerifier, validate_task

    def cpu_s() -> float:
        return int((cgroup / "cpuacct.usage").read_text()) / 1e9

    pm = PluginManager().load(warn=False)
    backend = pm.get("sandbox", "local").factory(None)
    verifier = HarborVerifier()
    costs: dict[str, float] = {}
    envs = proven = 0
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, dom in sorted(pm.records("domain").items()):
            if name not in PAPER_DOMAIN_WEIGHTS or (args.domain and name not in args.domain):
                continue
            for fam in dom.families:
                start, n = cpu_s(), 0
                for difficulty in fam.difficulties:
                    for i in range(args.per_difficulty):
                        task = materialize(generate(dom, fam.name, args.seed + 7919 * i, difficulty), Path(tmp))
                        v = validate_task(task, backend, verifier, repeats=1)
                        n += 1
                        proven += v.ok
                        if not v.ok:
                            failures.append(f"{task.id}: {v.reason}")
                costs[f"{name}/{fam.name}"] = round((cpu_s() - start) / n, 3)
                envs += n
    backend.close()
    ranked = dict(sorted(costs.items(), key=lambda kv: -kv[1]))
    return {"cpu_s_per_env": ranked, "mean_cpu_s_per_env": round(sum(costs.values()) / len(costs), 3),
            "envs": envs, "proven": proven, "failures": failures}


if __name__ == "__main__":
    main()
