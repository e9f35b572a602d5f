"""The closed learning loop on a CPU: environments → expert data → SFT → eval → DMPO → eval.

Every step but one is a ``litecore run`` of a pipeline file in this folder (read
here, with the run folders, sizes and model paths filled in):

1. ``envs.toml``     generate + validate the training environments (toy domain), roll the
                     oracle out once per environment, export ``sft.jsonl``.
2. ``heldout.toml``  generate + validate environments from another planning seed (the
                     held-out set every evaluation uses).
3. (here)            train a byte-level BPE tokenizer on the SFT data and build a random
                     Qwen3-shaped model from it (``save_random_model``).
4. ``eval.toml``     greedy pass@1 of the untrained model on the held-out set.
5. ``sft.toml``      SFT on the oracle trajectories, then eval of the checkpoint.
6. ``dmpo.toml``     the SFT model acts twice per training environment with sampling, the
                     rollouts become preference pairs, DMPO trains from the SFT checkpoint,
                     eval of the result.

Reruns resume (every stage skips finished work). Figures go to ``results.json`` and
``results.md`` in the output folder.

    python examples/closed_loop/run_loop.py                 # the full loop (about half an hour on 2 cores)
    python examples/closed_loop/run_loop.py --preset short  # a few minutes: the slow test's loop
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import time
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

HERE = Path(__file__).resolve().parent


@attrs.frozen(kw_only=True)
class LoopSettings:
    """Sizes and hyper-parameters of one loop (everything else is in the pipeline files)."""

    train_envs: int = 1000
    heldout_envs: int = 40
    #: Tiny model shape: hidden size, layers, heads, key/value heads, MLP width.
    hidden_size: int = 128
    num_layers: int = 4
    num_heads: int = 4
    num_kv_heads: int = 2
    intermediate_size: int = 256
    vocab_size: int = 1024
    #: SFT: enough distinct instances that copying the values beats memorizing them.
    sft_epochs: float = 14.0
    sft_learning_rate: float = 1e-3
    sft_batch_size: int = 8
    #: Sampled attempts per training environment for the preference pairs, and their temperature.
    attempts: int = 2
    #: Training environments the SFT model acts on for the pairs (0: all of them).
    dmpo_envs: int = 200
    temperature: float = 1.0
    dmpo_epochs: float = 2.0
    dmpo_learning_rate: float = 5e-5
    dmpo_beta: float = 0.1
    dmpo_gamma: float = 0.7
    #: Sampled attempts per held-out environment for the SFT and DMPO models (0: skip).
    sampled_eval_attempts: int = 4
    seed: int = 0


PRESETS: Mapping[str, LoopSettings] = {
    "full": LoopSettings(),
    # the slow test: proves the plumbing and that SFT beats the untrained model, in a few minutes
    "short": LoopSettings(train_envs=300, heldout_envs=16, sft_epochs=14.0, dmpo_envs=60, dmpo_epochs=1.0,
                          sampled_eval_attempts=0),
}


# ---------------------------------------------------------------------------
# Pipelines
# ---------------------------------------------------------------------------


def merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``over`` laid on top, tables merged key by key."""
    out = dict(base)
    for key, value in over.items():
        out[key] = merge(out[key], value) if isinstance(value, Mapping) and isinstance(out.get(key), Mapping) \
            else value
    return out


def pipeline_config(name: str, overrides: Mapping[str, Any]) -> Any:
    """The pipeline file ``name`` of this folder with ``overrides`` applied, checked strictly."""
    from litecore.config import parse_config

    path = HERE / name
    raw = merge(tomllib.loads(path.read_text()), overrides)
    return parse_config(raw, source=str(path), base_dir=str(HERE))


def run_pipeline(name: str, overrides: Mapping[str, Any], pm: Any) -> dict[str, float]:
    from litecore.pipeline import Pipeline

    cfg = pipeline_config(name, overrides)
    print(f"closed-loop: {name}: {', '.join(cfg.run.stages)} -> {cfg.output_dir}", flush=True)
    return Pipeline(cfg, pm).run()


def model_folder(run_dir: Path, trainer: str) -> Path:
    """Where the train stage left the model: the folder with ``config.json``."""
    base = run_dir / "checkpoints" / trainer
    for cand in (base, base / "checkpoint"):
        if (cand / "config.json").is_file():
            return cand
    raise FileNotFoundError(f"{base}: no trained model found")


def train_then_eval(name: str, overrides: Mapping[str, Any], before: list[str], pm: Any) -> Path:
    """Run the file's stages up to ``train``, then ``eval`` on the model folder the trainer wrote.

    The eval's model is named explicitly rather than through ``"@train"``: the train stage
    records ``checkpoints/<trainer>`` while the trainers save the model one level down
    (``checkpoints/<trainer>/checkpoint``), so ``"@train"`` does not load yet.
    """
    run_pipeline(name, merge(overrides, {"run": {"stages": before}}), pm)
    trainer = pipeline_config(name, overrides).train.trainer
    model = model_folder(pipeline_config(name, overrides).output_dir, trainer)
    run_pipeline(name, merge(overrides, {"run": {"stages": ["eval"]}, "eval": {"model": str(model)}}), pm)
    return model


# ---------------------------------------------------------------------------
# Figures
# ---------------------------------------------------------------------------


def read_json(path: Path) -> Any:
    return json.loads(path.read_text())


def instructions(dataset: Path) -> dict[str, str]:
    """Task id → instruction text for a Harbor dataset folder."""
    return {p.name: (p / "instruction.md").read_text().strip() for p in sorted(dataset.iterdir())
            if (p / "instruction.md").is_file()}


def eval_figures(run_dir: Path, novel: set[str]) -> dict[str, Any]:
    """pass@1 overall and on held-out tasks whose instruction no training task has, plus reply health."""
    from litecore.rollout import load_trajectories

    report = read_json(run_dir / "eval" / "report.json")
    tasks = report["tasks"]
    trajs = load_trajectories(run_dir / "eval" / "trajectories")
    steps = [s for t in trajs for s in t.steps]
    novel_rows = [r for tid, r in tasks.items() if tid in novel]
    return {
        "pass_at_1": report["overall"]["pass_at"]["1"],
        "passed": sum(r["c"] for r in tasks.values()),
        "episodes": sum(r["n"] for r in tasks.values()),
        "tasks": len(tasks),
        "novel_tasks": len(novel_rows),
        "novel_pass_at_1": (sum(r["c"] / r["n"] for r in novel_rows) / len(novel_rows)) if novel_rows else None,
        "mean_partial": report["overall"]["mean_partial"],
        "mean_turns": report["overall"]["mean_turns"],
        "valid_reply_rate": (sum(s.action is not None for s in steps) / len(steps)) if steps else None,
        "by_family": {fam: sum(r["c"] for tid, r in tasks.items() if f"__{fam}__" in tid) /
                      max(1, sum(r["n"] for tid, r in tasks.items() if f"__{fam}__" in tid))
                      for fam in sorted({tid.split("__")[1] for tid in tasks})},
        "attempts": report["attempts"],
    }


def train_figures(run_dir: Path, trainer: str) -> dict[str, Any]:
    res = read_json(run_dir / "checkpoints" / trainer / "train_result.json")
    m, t = res["metrics"], res["timings"]
    keep = ("first_loss", "loss", "train_loss", "rewards/accuracies", "first_rewards/margins", "rewards/margins",
            "examples", "pairs")
    return {"steps": res["steps"], **{k: m[k] for k in keep if k in m},
            "train_s": t.get("train"), **{k: t[k] for k in ("tokens_per_s", "pairs_per_s") if k in t}}


def rollout_figures(run_dir: Path) -> dict[str, Any]:
    from litecore.rollout import load_trajectories

    trajs = load_trajectories(run_dir / "trajectories")
    by_task: dict[str, list[bool]] = {}
    for t in trajs:
        by_task.setdefault(t.task_id, []).append(t.passed)
    return {
        "episodes": len(trajs),
        "environments": len(by_task),
        "sampled_pass_rate": sum(t.passed for t in trajs) / len(trajs) if trajs else None,
        "environments_mixed": sum(1 for v in by_task.values() if any(v) and not all(v)),
        "pairs": read_json(run_dir / "pairs_stats.json"),
    }


def sequence_tokens(model_dir: Path, sft: Path) -> dict[str, float]:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model_dir)
    rows = [json.loads(line) for line in sft.read_text().splitlines() if line.strip()]
    lens, assistant = [], []
    for r in rows:
        enc = tok.apply_chat_template(r["messages"], tokenize=True, return_dict=True, return_assistant_tokens_mask=True)
        lens.append(len(enc["input_ids"]))
        assistant.append(sum(enc["assistant_masks"]))
    return {"rows": len(rows), "mean_tokens": sum(lens) / len(lens), "max_tokens": max(lens),
            "mean_assistant_tokens": sum(assistant) / len(assistant)}


# ---------------------------------------------------------------------------
# The loop
# ---------------------------------------------------------------------------


def train_loop_tokenizer(conversations: list[list[dict[str, str]]], vocab_size: int, min_share: float = 0.2) -> Any:
    """A byte-level BPE trained on the conversations, plus every line that recurs verbatim as one token.

    Most of a trajectory is text that never changes (the Terminus-2 prompt, the
    JSON scaffolding of every reply): as whole-line tokens it costs a token a
    line instead of ten, which cuts the sequences to about a third and puts the
    values the model must copy a few dozen positions from where they are used.
    Lines carrying instance values are rare, so they stay word-level BPE, where
    a value is the same token in the instruction and in the command. A line
    becomes a token when at least ``min_share`` of the conversations contain it.
    """
    from collections import Counter

    from litecore_trainer_sft.tiny import train_tokenizer
    from tokenizers import AddedToken

    texts = [m["content"] for conv in conversations for m in conv]
    per_conv = Counter(line for conv in conversations
                       for line in {ln for m in conv for ln in m["content"].splitlines(keepends=True)})
    threshold = max(2.0, min_share * len(conversations))
    # longest first (a line wins over its own prefixes), ties in text order: the same ids in every process
    lines = sorted((ln for ln, c in per_conv.items() if c >= threshold and ln.strip()), key=lambda ln: (-len(ln), ln))
    roles = [f"{r}\n" for r in ("system", "user", "assistant")]
    tok = train_tokenizer(texts + roles, vocab_size=vocab_size)
    tok.add_tokens([AddedToken(t, normalized=False, special=False) for t in lines + roles])
    return tok


def build_model(out_dir: Path, sft: Path, s: LoopSettings) -> Path:
    """Tokenizer trained on the SFT conversations, random Qwen3-shaped model on top (saved like a checkpoint)."""
    from litecore_trainer_sft.tiny import TinyShape, save_random_model

    if (out_dir / "config.json").is_file():
        return out_dir
    rows = [json.loads(line) for line in sft.read_text().splitlines() if line.strip()]
    tokenizer = train_loop_tokenizer([r["messages"] for r in rows], s.vocab_size)
    shape = TinyShape(hidden_size=s.hidden_size, num_hidden_layers=s.num_layers, num_attention_heads=s.num_heads,
                      num_key_value_heads=s.num_kv_heads, intermediate_size=s.intermediate_size,
                      max_position_embeddings=1024)
    tmp = out_dir.with_name(out_dir.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    save_random_model(tmp, tokenizer, shape=shape, seed=s.seed)
    tmp.rename(out_dir)
    return out_dir


def hf_options(model: Path | str, name: str, s: LoopSettings, **extra: Any) -> dict[str, Any]:
    return {"model": str(model), "name": name, "seed": s.seed, **extra}


def run_loop(out: Path, s: LoopSettings, *, log: Any = print) -> dict[str, Any]:
    """Run (or resume) the whole loop under ``out``; returns the figures also written to results.json."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from litecore.plugins import PluginManager

    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    pm = PluginManager().load()
    runs = {k: out / k for k in ("envs", "heldout", "eval-untrained", "sft", "dmpo")}
    timings: dict[str, float] = {}
    common: dict[str, Any] = {}

    def step(name: str, fn: Any) -> Any:
        t0 = time.monotonic()
        value = fn()
        timings[name] = round(time.monotonic() - t0, 1)
        log(f"closed-loop: {name} done in {timings[name]:.1f}s")
        return value

    t_start = time.monotonic()
    step("envs", lambda: run_pipeline("envs.toml", merge(common, {
        "run": {"output": str(runs["envs"]), "seed": 1}, "generate": {"count": s.train_envs}}), pm))
    step("heldout", lambda: run_pipeline("heldout.toml", merge(common, {
        "run": {"output": str(runs["heldout"]), "seed": 2}, "generate": {"count": s.heldout_envs}}), pm))
    sft_data = runs["envs"] / "sft.jsonl"
    heldout = runs["heldout"] / "dataset"
    train_texts = set(instructions(runs["envs"] / "dataset").values())
    novel = {tid for tid, text in instructions(heldout).items() if text not in train_texts}

    untrained = step("model", lambda: build_model(out / "models" / "untrained", sft_data, s))
    eval_common = {"dataset": str(heldout)}
    step("eval-untrained", lambda: run_pipeline("eval.toml", merge(common, {
        "run": {"output": str(runs["eval-untrained"])},
        "eval": eval_common | hf_options(untrained, "untrained", s)}), pm))

    sft_over = merge(common, {
        "run": {"output": str(runs["sft"])},
        "train": {"data": str(sft_data), "model": str(untrained), "epochs": s.sft_epochs,
                  "learning_rate": s.sft_learning_rate, "batch_size": s.sft_batch_size,
                  "per_device_batch_size": s.sft_batch_size, "seed": s.seed},
        "eval": eval_common | {"seed": s.seed}})
    sft_model = step("sft", lambda: train_then_eval("sft.toml", sft_over, ["train"], pm))

    # the DMPO run acts on (the first dmpo_envs of) the training environments: give it their tasks and validations
    if not (runs["dmpo"] / "validation").exists():
        chosen = sorted(p.name for p in (runs["envs"] / "tasks").iterdir())[: s.dmpo_envs or None]
        for name in chosen:
            shutil.copytree(runs["envs"] / "tasks" / name, runs["dmpo"] / "tasks" / name)
        tmp = runs["dmpo"] / ".validation"
        tmp.mkdir(parents=True, exist_ok=True)
        for name in chosen:
            shutil.copy2(runs["envs"] / "validation" / f"{name}.json", tmp / f"{name}.json")
        tmp.rename(runs["dmpo"] / "validation")
    dmpo_over = merge(common, {
        "run": {"output": str(runs["dmpo"])},
        "rollout": hf_options(sft_model, "sft-sampled", s, temperature=s.temperature) | {"attempts": s.attempts},
        "train": {"data": str(runs["dmpo"] / "pairs.jsonl"), "model": str(sft_model), "epochs": s.dmpo_epochs,
                  "learning_rate": s.dmpo_learning_rate, "beta": s.dmpo_beta, "gamma": s.dmpo_gamma,
                  "seed": s.seed},
        "eval": eval_common | {"seed": s.seed}})
    dmpo_model = step("dmpo", lambda: train_then_eval("dmpo.toml", dmpo_over, ["rollout", "export", "train"], pm))

    sampled: dict[str, Any] = {}
    if s.sampled_eval_attempts:
        for label, model in (("sft", sft_model), ("dmpo", dmpo_model)):
            run_dir = out / f"eval-{label}-sampled"
            step(f"eval-{label}-sampled", lambda run_dir=run_dir, label=label, model=model: run_pipeline(
                "eval.toml", merge(common, {
                    "run": {"output": str(run_dir)},
                    "eval": eval_common | {"attempts": s.sampled_eval_attempts}
                    | hf_options(model, f"{label}-sampled", s, temperature=s.temperature)}), pm))
            sampled[label] = eval_figures(run_dir, novel)
    total = round(time.monotonic() - t_start, 1)

    from transformers import AutoModelForCausalLM

    params = sum(p.numel() for p in AutoModelForCausalLM.from_pretrained(untrained).parameters())
    envs_manifest = read_json(runs["envs"] / "manifest.json")
    held_manifest = read_json(runs["heldout"] / "manifest.json")
    results = {
        "settings": attrs.asdict(s),
        "machine": machine(),
        "data": {
            "train_envs_generated": envs_manifest["tasks_generated"],
            "train_envs_proven": envs_manifest["tasks_proven"],
            "sft_rows": envs_manifest["sft_rows"],
            "sft_dropped": envs_manifest["sft_dropped"],
            "heldout_envs_generated": held_manifest["tasks_generated"],
            "heldout_envs_proven": held_manifest["tasks_proven"],
            "heldout_novel": len(novel),
            "sequences": sequence_tokens(untrained, sft_data),
        },
        "model": {"parameters": params, "vocab": s.vocab_size, "hidden_size": s.hidden_size,
                  "layers": s.num_layers},
        "eval": {
            "untrained": eval_figures(runs["eval-untrained"], novel),
            "sft": eval_figures(runs["sft"], novel),
            "dmpo": eval_figures(runs["dmpo"], novel),
        },
        "eval_sampled": sampled,
        "sft_train": train_figures(runs["sft"], "sft"),
        "dmpo_rollouts": rollout_figures(runs["dmpo"]),
        "dmpo_train": train_figures(runs["dmpo"], "dmpo"),
        "timings_s": timings | {"total": total},
    }
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    (out / "results.md").write_text(render(results))
    return results


def machine() -> dict[str, Any]:
    import torch
    import transformers
    import trl

    return {"python": platform.python_version(), "torch": torch.__version__, "transformers": transformers.__version__,
            "trl": trl.__version__, "cpus": os.cpu_count(), "torch_threads": torch.get_num_threads(),
            "load_average_1m": round(os.getloadavg()[0], 1), "device": "cpu"}


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f}%"


def _f(x: Any, fmt: str = "{:.3f}") -> str:
    return "–" if x is None else fmt.format(x)


def render(r: Mapping[str, Any]) -> str:
    """results.md: the figures as tables."""
    d, ev, st, dt, ro = r["data"], r["eval"], r["sft_train"], r["dmpo_train"], r["dmpo_rollouts"]
    pairs = ro["pairs"]
    lines = [
        "# Closed learning loop (CPU)\n",
        f"Model: {r['model']['parameters']:,} parameters (Qwen3 shape, hidden {r['model']['hidden_size']}, "
        f"{r['model']['layers']} layers), byte-level BPE of {r['model']['vocab']} trained on the SFT data. "
        f"Machine: {r['machine']['cpus']} CPUs, load {r['machine']['load_average_1m']} at the end; "
        f"torch {r['machine']['torch']}, transformers {r['machine']['transformers']}, trl {r['machine']['trl']}.\n",
        f"Training environments: {d['train_envs_proven']}/{d['train_envs_generated']} proven, {d['sft_rows']} SFT rows "
        f"(mean {d['sequences']['mean_tokens']:.0f} tokens, {d['sequences']['mean_assistant_tokens']:.0f} of them "
        f"assistant). Held-out: {d['heldout_envs_proven']}/{d['heldout_envs_generated']} proven, "
        f"{d['heldout_novel']} with an instruction no training task has.\n",
        "## Held-out pass@1 (greedy)\n",
        "| model | pass@1 | passed | novel-only pass@1 | mean partial | valid replies | per family |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in ("untrained", "sft", "dmpo"):
        e = ev[name]
        fams = ", ".join(f"{k} {_pct(v)}" for k, v in e["by_family"].items())
        lines.append(f"| {name} | {_pct(e['pass_at_1'])} | {e['passed']}/{e['episodes']} | "
                     f"{_pct(e['novel_pass_at_1'])} | {_pct(e['mean_partial'])} | {_pct(e['valid_reply_rate'])} | "
                     f"{fams} |")
    if r["eval_sampled"]:
        lines += ["", f"## Held-out pass@1 with sampling (temperature {r['settings']['temperature']}, "
                      f"{r['settings']['sampled_eval_attempts']} attempts per task)\n",
                  "| model | pass@1 | passed | mean partial |", "|---|---|---|---|"]
        for name, e in r["eval_sampled"].items():
            lines.append(f"| {name} | {_pct(e['pass_at_1'])} | {e['passed']}/{e['episodes']} | "
                         f"{_pct(e['mean_partial'])} |")
    lines += [
        "", "## Training\n",
        "| run | steps | first loss | last loss | mean loss | train time (s) | throughput |",
        "|---|---|---|---|---|---|---|",
        f"| SFT ({st.get('examples', 0):.0f} rows) | {st['steps']} | {_f(st.get('first_loss'))} | {_f(st.get('loss'))} "
        f"| {_f(st.get('train_loss'))} | {_f(st['train_s'], '{:.0f}')} | {_f(st.get('tokens_per_s'), '{:.0f}')} tok/s |",
        f"| DMPO ({dt.get('pairs', 0):.0f} pairs) | {dt['steps']} | {_f(dt.get('first_loss'))} | {_f(dt.get('loss'))} "
        f"| {_f(dt.get('train_loss'))} | {_f(dt['train_s'], '{:.0f}')} | {_f(dt.get('pairs_per_s'), '{:.2f}')} pairs/s |",
        "",
        f"DMPO rollouts: {ro['episodes']} sampled episodes of the SFT model on {ro['environments']} training "
        f"environments ({r['settings']['attempts']} each, temperature {r['settings']['temperature']}), "
        f"{_pct(ro['sampled_pass_rate'])} passed; {pairs.get('pairs', 0)} pairs "
        f"({pairs.get('environments where all rollouts passed', 0)} environments all passed, "
        f"{pairs.get('environments where all rollouts failed', 0)} all failed, "
        f"{pairs.get('environments with equal scores', 0)} with equal scores). "
        f"DMPO reward accuracy at the end: {_f(dt.get('rewards/accuracies'), '{:.2f}')}, "
        f"margin {_f(dt.get('rewards/margins'))}.\n",
        "## Wall time (s)\n",
        "| " + " | ".join(r["timings_s"]) + " |",
        "|" + "---|" * len(r["timings_s"]),
        "| " + " | ".join(f"{v:.0f}" for v in r["timings_s"].values()) + " |",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--preset", choices=sorted(PRESETS), default="full")
    ap.add_argument("--out", type=Path, default=None, help="output folder (default: runs/closed-loop-<preset>)")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="override a setting, e.g. --set sft_epochs=20 (repeatable)")
    args = ap.parse_args(argv)
    s = PRESETS[args.preset]
    fields = {f.name: f.type for f in attrs.fields(LoopSettings)}
    for item in args.set:
        key, _, value = item.partition("=")
        if key not in fields:
            ap.error(f"unknown setting {key!r}; available: {', '.join(fields)}")
        kind = {"int": int, "float": float}[str(fields[key])]
        s = attrs.evolve(s, **{key: kind(value)})
    out = args.out or HERE / "runs" / f"closed-loop-{args.preset}"
    results = run_loop(out, s)
    print((Path(out) / "results.md").read_text())
    ev = results["eval"]
    print(f"closed-loop: held-out pass@1 untrained {_pct(ev['untrained']['pass_at_1'])}, "
          f"SFT {_pct(ev['sft']['pass_at_1'])}, DMPO {_pct(ev['dmpo']['pass_at_1'])}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
