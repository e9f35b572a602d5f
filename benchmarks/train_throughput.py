"""Training throughput: litecore SFT vs stock TRL SFTTrainer, litecore DMPO vs stock TRL DPOTrainer.

Qwen3-shaped random-weight models (configs written out below; random weights run
as fast as trained ones) on synthetic Terminus-2-shaped trajectories whose
lengths spread like agent runs (a few turns to many, truncated at the context).
Every pair of runs uses the same model shape, data, batch size and precision in
the same process. Reports useful (non-padding) tokens/s, MFU, pairs/s and peak
memory; writes ``train_throughput.json`` and ``train_throughput.md`` to ``--out``
after every run, so a run cut short still leaves its figures.

GPU:   python benchmarks/train_throughput.py --out OUT
CPU:   python benchmarks/train_throughput.py --tiny --out OUT   (prepares / smoke-tests it)

Needs litecore, its two trainer plugins (found from this checkout, no install
needed), torch, transformers, accelerate, trl, datasets (+ attrs, pluggy).
"""

from __future__ import annotations

import argparse
import copy
import gc
import json
import math
import os
import platform
import random
import sys
import time
import traceback
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for sub in ("", "plugins/litecore-trainer-sft", "plugins/litecore-trainer-dmpo"):
    p = str(ROOT / sub)
    if p not in sys.path:
        sys.path.insert(0, p)
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

#: Qwen3 dense shapes (from the published model configs), written out so no hub is needed.
SHAPES: dict[str, dict[str, Any]] = {
    "qwen3-0.6b": dict(hidden_size=1024, intermediate_size=3072, num_hidden_layers=28, num_attention_heads=16,
                       num_key_value_heads=8, head_dim=128, vocab_size=151936, tie_word_embeddings=True,
                       rope_theta=1_000_000.0, rms_norm_eps=1e-6, max_position_embeddings=40960),
    "qwen3-1.7b": dict(hidden_size=2048, intermediate_size=6144, num_hidden_layers=28, num_attention_heads=16,
                       num_key_value_heads=8, head_dim=128, vocab_size=151936, tie_word_embeddings=True,
                       rope_theta=1_000_000.0, rms_norm_eps=1e-6, max_position_embeddings=40960),
    "tiny": dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                 num_key_value_heads=2, head_dim=16, vocab_size=512, tie_word_embeddings=True,
                 rope_theta=1_000_000.0, rms_norm_eps=1e-6, max_position_embeddings=4096),
}
#: litecore SFT rows per device step (packed rows of seq tokens, no gradient checkpointing)
SFT_ROWS = {"qwen3-0.6b": 4, "qwen3-1.7b": 2, "tiny": 2}

WORDS = ("ls", "cat", "grep", "-n", "awk", "sed", "python3", "data.csv", "/app", "error", "total", "root",
         "file", "the", "output", "json", "count", "rows", "column", "value", "import", "print", "for", "in",
         "echo", "wc", "-l", "sort", "uniq", "head", "tail", "|", ">", "0", "1", "42", "done", "run", "test")


# ---------------------------------------------------------------------------
# data
# ---------------------------------------------------------------------------
def _text(rng: random.Random, n_words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n_words))


def _action(rng: random.Random, n_words: int, done: bool) -> str:
    return json.dumps({"analysis": _text(rng, n_words // 3), "plan": _text(rng, n_words // 3),
                       "commands": [{"keystrokes": _text(rng, max(1, n_words // 3)) + "\n", "duration": 0.1}],
                       "task_complete": done})


def _turns(rng: random.Random, turns: int, scale: float) -> list[dict[str, str]]:
    msgs = []
    for k in range(turns):
        msgs.append({"role": "assistant", "content": _action(rng, int(rng.uniform(20, 120) * scale), k == turns - 1)})
        if k < turns - 1:
            # terminal output: mostly short, sometimes a long listing or traceback
            n = int((rng.uniform(5, 60) if rng.random() < 0.8 else rng.uniform(100, 400)) * scale)
            msgs.append({"role": "user", "content": "New Terminal Output:\n" + _text(rng, n)})
    return msgs


def _n_turns(rng: random.Random, max_turns: int) -> int:
    """Log-uniform turn counts: many short runs, a long tail (the paper's runs go to hundreds)."""
    return max(1, int(math.exp(rng.uniform(0.0, math.log(max_turns)))))


def _prompt(rng: random.Random, scale: float) -> list[dict[str, str]]:
    return [{"role": "system", "content": "You are a terminal agent. " + _text(rng, int(150 * scale))},
            {"role": "user", "content": "Task: " + _text(rng, int(rng.uniform(30, 200) * scale))}]


def sft_rows(n: int, seed: int, scale: float, max_turns: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [{"messages": _prompt(rng, scale) + _turns(rng, _n_turns(rng, max_turns), scale)} for _ in range(n)]


def pair_rows(n: int, seed: int, scale: float, max_turns: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [{"prompt": _prompt(rng, scale), "chosen": _turns(rng, _n_turns(rng, max_turns), scale),
             "rejected": _turns(rng, _n_turns(rng, max_turns), scale)} for _ in range(n)]


def length_stats(lengths: list[int], seq: int) -> dict[str, float]:
    s = sorted(lengths)
    cut = [min(x, seq) for x in s]

    def q(p: float) -> int:
        return s[min(len(s) - 1, int(p * len(s)))]

    return {"n": len(s), "p10": q(0.1), "p50": q(0.5), "p90": q(0.9), "max": s[-1],
            "truncated_frac": sum(x > seq for x in s) / len(s), "mean_after_truncation": sum(cut) / len(cut),
            # token-weighted mean sequence length: the attention term of the FLOP count
            "attn_seq": sum(x * x for x in cut) / sum(cut)}


# ---------------------------------------------------------------------------
# models and measurement
# ---------------------------------------------------------------------------
def make_tokenizer() -> Any:
    from litecore_trainer_sft.tiny import train_tokenizer

    rng = random.Random(0)
    corpus = [" ".join(WORDS)] + [_action(rng, 60, False) for _ in range(50)] + [_text(rng, 200) for _ in range(50)]
    return train_tokenizer(corpus, vocab_size=512)


def make_model(shape: str, tok: Any, device: str) -> Any:
    import torch
    from transformers import AutoModelForCausalLM, Qwen3Config

    cfg = Qwen3Config(**SHAPES[shape], pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id,
                      bos_token_id=tok.pad_token_id)
    cfg._attn_implementation = "sdpa"
    torch.manual_seed(0)
    with torch.device(device):
        model = AutoModelForCausalLM.from_config(cfg, dtype=torch.float32, attn_implementation="sdpa")
    return model


def n_params(model: Any) -> int:
    return sum(p.numel() for p in model.parameters())


def flops_per_token(shape: str, params: int, attn_seq: float, *, train: bool = True, ref: bool = False) -> float:
    """6N + 12 L H d s for a training token (the notes' convention); a reference forward adds 2N + 4 L H d s."""
    c = SHAPES[shape]
    attn = c["num_hidden_layers"] * c["num_attention_heads"] * c["head_dim"] * attn_seq
    f = 6 * params + 12 * attn if train else 0.0
    if ref:
        f += 2 * params + 4 * attn
    return f


class Meter:
    """Steady-state rate over the steps after ``warmup`` (counts read from the trainer)."""

    def __init__(self, warmup: int) -> None:
        from transformers import TrainerCallback

        meter = self

        class _CB(TrainerCallback):
            def on_step_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
                meter.step()

        self.callback = _CB()
        self.warmup = warmup
        self.trainer: Any = None
        self.count = lambda: 0
        self.steps = 0
        self.t0 = self.t1 = 0.0
        self.n0 = self.n1 = 0

    def _sync(self) -> None:
        import torch

        if torch.cuda.is_available():
            torch.cuda.synchronize()

    def step(self) -> None:
        self.steps += 1
        if self.steps == self.warmup:
            self._sync()
            self.t0, self.n0 = time.perf_counter(), self.count()
        elif self.steps > self.warmup:
            self._sync()
            self.t1, self.n1 = time.perf_counter(), self.count()

    def result(self) -> tuple[float, float, int]:
        dt = self.t1 - self.t0
        return (self.n1 - self.n0), dt, self.steps - self.warmup


def _free() -> None:
    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()


def _peak_gb() -> float:
    import torch

    return torch.cuda.max_memory_allocated() / 2**30 if torch.cuda.is_available() else 0.0


def run_one(kind: str, shape: str, tok: Any, data: Any, args: argparse.Namespace, device: str,
            out_dir: Path) -> dict[str, Any]:
    """Build one trainer, train warmup + timed steps, return the figures."""
    import torch
    from datasets import Dataset

    _free()
    bf16 = device == "cuda" and torch.cuda.is_bf16_supported()
    model = make_model(shape, tok, device)
    params = n_params(model)
    steps = args.warmup + args.steps
    meter = Meter(args.warmup)
    common = dict(output_dir=str(out_dir / kind), max_steps=steps, learning_rate=1e-5, report_to="none",
                  save_strategy="no", logging_steps=10_000, disable_tqdm=True, bf16=bf16,
                  use_cpu=device == "cpu", max_length=args.seq, seed=0, dataloader_num_workers=0)
    rows_per_step = 0
    t_build = time.perf_counter()
    if kind == "stock_sft":
        from trl import SFTConfig, SFTTrainer

        rows_per_step = args.sft_batch
        trainer = SFTTrainer(model=model, args=SFTConfig(per_device_train_batch_size=rows_per_step,
                                                         assistant_only_loss=True, **common),
                             train_dataset=Dataset.from_list(data), processing_class=tok,
                             callbacks=[meter.callback])
        meter.count = lambda: trainer._total_train_tokens
    elif kind == "litecore_sft":
        from litecore_trainer_sft.config import SFTTrainConfig
        from litecore_trainer_sft.trainer import SFTRunner

        rows_per_step = SFT_ROWS[shape]
        cfg = SFTTrainConfig(model="<in-memory>", max_steps=steps, per_device_batch_size=rows_per_step,
                             batch_size=rows_per_step, max_length=args.seq, packing="on", seed=0,
                             learning_rate=1e-5, logging_steps=10_000, gradient_checkpointing=False,
                             precision="bf16" if bf16 else "fp32", attn_implementation="sdpa")
        trainer = SFTRunner(cfg).make_trainer(model, tok, Dataset.from_list(data), out_dir / kind, packing=True,
                                              callbacks=[meter.callback])
        meter.count = lambda: trainer.processed_tokens()
    elif kind == "stock_dpo":
        from trl import DPOConfig, DPOTrainer

        rows_per_step = args.dpo_batch
        trainer = DPOTrainer(model=model, ref_model=copy.deepcopy(model),
                             args=DPOConfig(per_device_train_batch_size=rows_per_step, **common),
                             train_dataset=Dataset.from_list(data), processing_class=tok,
                             callbacks=[meter.callback])
        meter.count = lambda: trainer._total_train_tokens
    elif kind == "litecore_dmpo":
        from litecore_trainer_dmpo.config import DMPOTrainConfig
        from litecore_trainer_dmpo.trainer import DMPORunner

        rows_per_step = args.dpo_batch
        # same settings as the stock run (gradient checkpointing on, TRL's default) to isolate the loss's cost
        cfg = DMPOTrainConfig(model="<in-memory>", max_steps=steps, per_device_batch_size=rows_per_step,
                              batch_size=rows_per_step, max_length=args.seq, seed=0, learning_rate=1e-5,
                              logging_steps=10_000, gradient_checkpointing=True,
                              precision="bf16" if bf16 else "fp32", attn_implementation="sdpa")
        trainer = DMPORunner(cfg).make_trainer(model, tok, Dataset.from_list(data), out_dir / kind,
                                               ref_model=copy.deepcopy(model), callbacks=[meter.callback])
        meter.count = lambda: trainer._total_train_tokens
    else:
        raise ValueError(kind)
    build_s = time.perf_counter() - t_build
    trainer.train()
    tokens, dt, timed = meter.result()
    res: dict[str, Any] = {
        "kind": kind, "shape": shape, "params": params, "rows_per_step": rows_per_step,
        "gradient_checkpointing": bool(trainer.args.gradient_checkpointing), "bf16": bf16,
        "timed_steps": timed, "seconds": dt, "tokens": tokens, "tokens_per_s": tokens / dt if dt > 0 else 0.0,
        "build_s": build_s, "peak_mem_gb": _peak_gb(),
    }
    if kind.endswith(("dpo", "dmpo")):
        res["pairs_per_s"] = timed * rows_per_step / dt if dt > 0 else 0.0
    del trainer, model
    _free()
    return res


def add_mfu(res: dict[str, Any], attn_seq: float, peak_tflops: float) -> None:
    is_pref = res["kind"].endswith(("dpo", "dmpo"))
    # preference runs: the tokens counted are policy tokens; the reference forward adds its FLOPs
    f = flops_per_token(res["shape"], res["params"], attn_seq, ref=is_pref)
    res["flops_per_token"] = f
    res["mfu"] = res["tokens_per_s"] * f / (peak_tflops * 1e12)


def render_md(report: dict[str, Any]) -> str:
    lines = ["# Training throughput", "",
             f"Device: {report['device']}; torch {report['versions'].get('torch')}, transformers "
             f"{report['versions'].get('transformers')}, trl {report['versions'].get('trl')}; "
             f"context {report['seq']}; MFU against {report['peak_tflops']} TFLOP/s.", "",
             "| shape | run | rows/step | grad ckpt | useful tok/s | MFU | pairs/s | peak GB |",
             "|---|---|---|---|---|---|---|---|"]
    for r in report["runs"]:
        if "error" in r:
            lines.append(f"| {r['shape']} | {r['kind']} | | | error: {r['error'][:80]} | | | |")
            continue
        pairs = f"{r['pairs_per_s']:.2f}" if "pairs_per_s" in r else ""
        lines.append(f"| {r['shape']} | {r['kind']} | {r['rows_per_step']} | {r['gradient_checkpointing']} | "
                     f"{r['tokens_per_s']:,.0f} | {100 * r['mfu']:.1f}% | {pairs} | {r['peak_mem_gb']:.1f} |")
    lines += ["", "| shape | SFT speed-up (target >= 1.5x) | DMPO / DPO pairs/s (target >= 0.95x) |", "|---|---|---|"]
    for shape, ratio in report["ratios"].items():
        lines.append(f"| {shape} | {ratio.get('sft', float('nan')):.2f}x | {ratio.get('dmpo', float('nan')):.2f}x |")
    lines += ["", "Data (tokens per trajectory before truncation):", "",
              "```", json.dumps(report["data"], indent=1), "```", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, required=True, help="folder for train_throughput.{json,md}")
    ap.add_argument("--tiny", action="store_true", help="CPU smoke mode: tiny shape, short context, few steps")
    ap.add_argument("--shapes", default=None, help="comma list of shapes (default: qwen3-0.6b,qwen3-1.7b)")
    ap.add_argument("--runs", default="stock_sft,litecore_sft,stock_dpo,litecore_dmpo")
    ap.add_argument("--seq", type=int, default=None, help="context length (default 4096; 512 with --tiny)")
    ap.add_argument("--steps", type=int, default=None, help="timed optimizer steps per run (default 8; 3 tiny)")
    ap.add_argument("--warmup", type=int, default=None, help="untimed first steps (default 2; 1 tiny)")
    ap.add_argument("--sft-batch", type=int, default=4, help="stock SFT sequences per step")
    ap.add_argument("--dpo-batch", type=int, default=2, help="pairs per step (both preference trainers)")
    ap.add_argument("--peak-tflops", type=float, default=790.0,
                    help="dense bf16 peak for MFU (790: measured on an H200; H100 SXM spec is 989)")
    args = ap.parse_args(argv)
    args.seq = args.seq or (512 if args.tiny else 4096)
    args.warmup = args.warmup or (1 if args.tiny else 2)
    args.steps = args.steps or (2 if args.tiny else 8)
    shapes = (args.shapes or ("tiny" if args.tiny else "qwen3-0.6b,qwen3-1.7b")).split(",")
    runs = args.runs.split(",")
    args.out.mkdir(parents=True, exist_ok=True)

    import torch
    import transformers

    try:
        import datasets
        import trl
    except ImportError as exc:
        print(f"missing {exc.name}: install the trl and datasets wheels (see the module docstring)", file=sys.stderr)
        return 2
    device = "cuda" if torch.cuda.is_available() and not args.tiny else "cpu"
    if device == "cpu":
        torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))
    tok = make_tokenizer()

    scale = args.seq / 4096 * 4  # words per budget unit; the tiny tokenizer spends ~1-3 tokens a word
    n_sft = max(64, (args.warmup + args.steps) * max(args.sft_batch, 4) * 3)
    n_pairs = max(16, (args.warmup + args.steps) * args.dpo_batch * 2)
    sft = sft_rows(n_sft, 1, scale / 4, max_turns=40)
    pairs = pair_rows(n_pairs, 2, scale / 4, max_turns=20)

    def n_tok(msgs: list[dict[str, str]]) -> int:
        return len(tok.apply_chat_template(msgs, tokenize=True, return_dict=True)["input_ids"])

    sft_len = [n_tok(r["messages"]) for r in sft]
    pair_len = [n_tok(r["prompt"] + r[s]) for r in pairs for s in ("chosen", "rejected")]
    data_stats = {"sft": length_stats(sft_len, args.seq), "pairs": length_stats(pair_len, args.seq)}

    report: dict[str, Any] = {
        "device": torch.cuda.get_device_name(0) if device == "cuda" else f"cpu ({platform.processor() or 'cpu'})",
        "seq": args.seq, "peak_tflops": args.peak_tflops, "warmup": args.warmup, "steps": args.steps,
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__, "trl": trl.__version__,
                     "datasets": datasets.__version__, "python": platform.python_version()},
        "data": data_stats, "runs": [], "ratios": {},
    }

    def save() -> None:
        (args.out / "train_throughput.json").write_text(json.dumps(report, indent=2) + "\n")
        (args.out / "train_throughput.md").write_text(render_md(report))

    import tempfile

    work = Path(tempfile.mkdtemp(prefix="litecore-throughput-"))  # trainer output dirs stay out of --out
    for shape in shapes:
        for kind in runs:
            data = sft if kind.endswith("sft") else pairs
            attn_seq = data_stats["sft" if kind.endswith("sft") else "pairs"]["attn_seq"]
            t = time.perf_counter()
            try:
                res = run_one(kind, shape, tok, data, args, device, work)
                add_mfu(res, attn_seq, args.peak_tflops)
            except Exception as exc:  # an OOM in one run must not lose the others
                traceback.print_exc()
                res = {"kind": kind, "shape": shape, "error": f"{type(exc).__name__}: {exc}"}
                _free()
            res["wall_s"] = time.perf_counter() - t
            report["runs"].append(res)
            by = {r["kind"]: r for r in report["runs"] if r["shape"] == shape and "error" not in r}
            ratio: dict[str, float] = {}
            if "stock_sft" in by and "litecore_sft" in by:
                ratio["sft"] = by["litecore_sft"]["tokens_per_s"] / by["stock_sft"]["tokens_per_s"]
            if "stock_dpo" in by and "litecore_dmpo" in by:
                ratio["dmpo"] = by["litecore_dmpo"]["pairs_per_s"] / by["stock_dpo"]["pairs_per_s"]
            report["ratios"][shape] = ratio
            save()
            print(json.dumps({k: v for k, v in res.items() if k != "flops_per_token"}), flush=True)
    print(render_md(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
