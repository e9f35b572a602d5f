"""LLM synthesis engine overhead for docs/benchmarks.md, against the scripted loopback server.

    python benchmarks/bench_gen_llm.py [--count 6] [--out bench-out/gen_llm.json]

Runs the ``llm`` generator through `litecore run` (generate + validate) with a scripted
OpenAI-compatible server that answers every stage at once, then reads the engine's accounting:
per accepted environment, wall time split into model calls (HTTP round trips through litellm),
sandbox work (build, oracle, noop, attacks) and the engine's own overhead (everything else:
prompt assembly, parsing, materialising candidates, caching, bookkeeping). A second run of the
same pipeline measures the resume path, where every call is a cache hit.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "plugins" / "litecore-gen-llm" / "tests"))

from test_engine import Script, pipeline  # noqa: E402  (the scripted stages the tests use)

from litecore.config import load_config  # noqa: E402
from litecore.llmserver import ScriptedLLM  # noqa: E402
from litecore.pipeline import Pipeline  # noqa: E402
from litecore.plugins import PluginManager  # noqa: E402


class VariedScript(Script):
    """Each candidate gets its own instruction so de-duplication keeps them all."""

    def __call__(self, body, index):
        reply = super().__call__(body, index)
        if "litecore-stage: instruction" in body["messages"][0]["content"]:
            n = index
            reply = (f"Add up the integers in /app/numbers.txt (one per line), batch {n} of the "
                     f"{['north', 'south', 'east', 'west', 'central', 'harbour', 'delta', 'ridge'][n % 8]} "
                     f"ledger number {n * 7919 % 1000}, and write the total to /app/total.txt.")
        return reply


def run_once(cfg_path: Path) -> float:
    cfg = load_config(cfg_path)
    t0 = time.perf_counter()
    Pipeline(cfg, PluginManager().load(warn=False)).run(["generate"])
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=6)
    ap.add_argument("--out", type=Path, default=Path("bench-out/gen_llm.json"))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp, ScriptedLLM(VariedScript()) as llm:
        cfg = pipeline(Path(tmp), llm.url, count=args.count, dedup_threshold=1.01)  # measure, not dedup
        first = run_once(cfg)
        records = [json.loads(p.read_text()) for p in (Path(tmp) / "out" / "generation" / "accounting").glob("*.json")]
        rejected = [r["reason"] for r in records if not r["accepted"]]
        calls_first = len(llm.requests)
        for p in (Path(tmp) / "out" / "tasks").iterdir():  # force regeneration: everything from the cache
            import shutil

            shutil.rmtree(p)
        second = run_once(cfg)
        calls_second = len(llm.requests) - calls_first
    accepted = [r for r in records if r["accepted"]]
    over = [r["engine_overhead_s"] * 1000 for r in accepted]
    result = {
        "candidates": len(records),
        "rejected": rejected,
        "accepted": len(accepted),
        "llm_calls_per_env": round(calls_first / max(1, len(accepted)), 2),
        "tokens_per_env": round(sum(sum(s["prompt_tokens"] + s["completion_tokens"] for s in r["stages"].values())
                                    for r in accepted) / max(1, len(accepted))),
        "engine_overhead_ms_median": round(statistics.median(over), 1) if over else None,
        "engine_overhead_ms_max": round(max(over), 1) if over else None,
        "model_s_per_env": round(statistics.mean(r["model_s"] for r in accepted), 3) if accepted else None,
        "sandbox_s_per_env": round(statistics.mean(r["sandbox_s"] for r in accepted), 3) if accepted else None,
        "first_run_s": round(first, 2),
        "resume_run_s": round(second, 2),
        "resume_calls_reaching_the_server": calls_second,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
