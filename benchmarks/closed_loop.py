"""Closed learning loop on a CPU: does litecore's data teach a model built from scratch?

Runs ``examples/closed_loop/run_loop.py`` (its ``full`` preset unless told
otherwise): toy environments → oracle trajectories → SFT of a sub-million
parameter model with a tokenizer trained on that data → greedy pass@1 on
held-out environments (untrained vs SFT) → the SFT model's own sampled rollouts
→ preference pairs → DMPO → pass@1 again. Writes ``results.json`` and
``results.md`` to ``--out`` and prints whether the targets were met: the
untrained model at 0%, SFT at 50% or more on held-out instances.

    python benchmarks/closed_loop.py --out bench-out/closed_loop
    python benchmarks/closed_loop.py --preset short --out /tmp/cl        # the slow test's loop

Needs the toy domain plugin installed
(``pip install -e examples/closed_loop/litecore-plugin-toy``), the SFT and DMPO
trainer plugins, the hf policy plugin, torch, transformers, trl, datasets, and
bubblewrap for the local sandboxes. A rerun with the same ``--out`` resumes.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]


def load_loop() -> ModuleType:
    spec = importlib.util.spec_from_file_location("closed_loop_run_loop", ROOT / "examples/closed_loop/run_loop.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def main(argv: list[str] | None = None) -> int:
    loop = load_loop()
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=ROOT / "bench-out" / "closed_loop")
    ap.add_argument("--preset", choices=sorted(loop.PRESETS), default="full")
    ap.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = ap.parse_args(argv)

    results = loop.run_loop(args.out, loop.PRESETS[args.preset])
    ev = results["eval"]
    targets = {
        "untrained_at_0": ev["untrained"]["pass_at_1"] == 0.0,
        "sft_at_least_50pct": ev["sft"]["pass_at_1"] >= 0.5,
    }
    results["targets"] = targets
    (args.out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    print((args.out / "results.md").read_text())
    print(f"targets: {json.dumps(targets)}; DMPO change in held-out pass@1: "
          f"{100 * (ev['dmpo']['pass_at_1'] - ev['sft']['pass_at_1']):+.1f} points")
    return 0 if all(targets.values()) or not args.check else 1


if __name__ == "__main__":
    sys.exit(main())
