"""Runtime pieces both litecore trainers share: device and precision choice,
TRL argument building, LoRA, throughput measurement and checkpoint writing.

Imported only when a trainer is built, so it may import torch and friends.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from transformers import AutoTokenizer, TrainerCallback

from litecore_trainer_sft.config import CommonTrainConfig, LoraOptions
from litecore_trainer_sft.templates import training_template

#: Model families whose transformers attention keeps packed sequences apart
#: (masking_utils detects the restarts in ``position_ids`` for sdpa/eager/flex,
#: flash-attention reads the cumulative lengths the collator builds).
PACKING_SAFE_MODEL_TYPES = frozenset({
    "qwen2", "qwen3", "qwen2_moe", "qwen3_moe", "llama", "mistral", "gemma", "gemma2", "phi3", "olmo2",
})
PACKING_SAFE_ATTENTION = frozenset({"sdpa", "eager", "flash_attention_2", "flash_attention_3", "flex_attention"})


def world_size() -> int:
    return max(1, int(os.environ.get("WORLD_SIZE", "1")))


def has_cuda() -> bool:
    return torch.cuda.is_available()


def precision_flags(cfg: CommonTrainConfig) -> dict[str, bool]:
    """Mixed precision: bf16 autocast on a GPU that has it, fp32 elsewhere."""
    choice = cfg.precision
    if choice == "auto":
        choice = "bf16" if has_cuda() and torch.cuda.is_bf16_supported() else "fp32"
    return {"bf16": choice == "bf16", "fp16": choice == "fp16"}


def attention_implementation(cfg: CommonTrainConfig) -> str:
    if cfg.attn_implementation != "auto":
        return cfg.attn_implementation
    if has_cuda():
        try:
            import flash_attn  # noqa: F401
        except ImportError:
            return "sdpa"
        return "flash_attention_2"
    return "sdpa"


def gradient_accumulation(cfg: CommonTrainConfig) -> int:
    per_step = cfg.per_device_batch_size * world_size()
    return max(1, cfg.batch_size // per_step)


def common_args(cfg: CommonTrainConfig, output_dir: Path) -> dict[str, Any]:
    """Keyword arguments shared by ``SFTConfig`` and ``DPOConfig``."""
    attn = attention_implementation(cfg)
    return dict(
        output_dir=str(output_dir),
        num_train_epochs=cfg.epochs,
        max_steps=cfg.max_steps if cfg.max_steps > 0 else -1,
        learning_rate=cfg.learning_rate,
        lr_scheduler_type=cfg.lr_scheduler,
        warmup_steps=cfg.warmup_ratio,
        weight_decay=cfg.weight_decay,
        max_grad_norm=cfg.max_grad_norm,
        per_device_train_batch_size=cfg.per_device_batch_size,
        gradient_accumulation_steps=gradient_accumulation(cfg),
        gradient_checkpointing=cfg.gradient_checkpointing,
        max_length=cfg.max_length,
        seed=cfg.seed,
        data_seed=cfg.seed,
        logging_steps=cfg.logging_steps,
        logging_first_step=True,
        save_strategy="no",
        report_to="none",
        disable_tqdm=True,
        use_cpu=not has_cuda(),
        dataset_num_proc=cfg.dataset_num_proc,
        model_init_kwargs={"dtype": torch.float32, "attn_implementation": attn},
        **precision_flags(cfg),
    )


def lora_config(options: LoraOptions | None) -> Any:
    if options is None:
        return None
    from peft import LoraConfig

    return LoraConfig(
        r=options.r, lora_alpha=options.alpha, lora_dropout=options.dropout,
        target_modules=list(options.target_modules), task_type="CAUSAL_LM",
    )


def load_tokenizer(cfg: CommonTrainConfig) -> Any:
    """The model's tokenizer with a training chat template (generation markers) set."""
    tok = AutoTokenizer.from_pretrained(cfg.model)
    tok.chat_template = training_template(tok, cfg.chat_template)
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    return tok


class Throughput(TrainerCallback):
    """Wall time and processed tokens after the first ``skip`` optimizer steps.

    The first steps pay for allocator warm-up and kernel selection, so the
    steady-state rate starts after them. ``count()`` reads the trainer's running
    token total (TRL counts non-padding tokens only).
    """

    def __init__(self, count: Any, *, skip: int = 1) -> None:
        self.count = count
        self.skip = skip
        self.t0: float | None = None
        self.n0 = 0
        self.t1: float | None = None
        self.n1 = 0
        self.steps = 0

    def _sync(self) -> None:
        if has_cuda():
            torch.cuda.synchronize()

    def on_step_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
        self.steps += 1
        if self.steps == self.skip:
            self._sync()
            self.t0, self.n0 = time.perf_counter(), self.count()
        elif self.steps > self.skip:
            self._sync()
            self.t1, self.n1 = time.perf_counter(), self.count()

    def rate(self) -> tuple[float, float, int]:
        """(tokens/s, seconds, timed steps) over the steps after warm-up (0s if too few)."""
        if self.t0 is None or self.t1 is None:
            return 0.0, 0.0, 0
        dt = self.t1 - self.t0
        return (self.n1 - self.n0) / dt if dt > 0 else 0.0, dt, self.steps - self.skip


def final_metrics(log_history: list[Mapping[str, Any]]) -> dict[str, float]:
    """First and last logged values of every scalar, plus the run summary."""
    out: dict[str, float] = {}
    for entry in log_history:
        for key, value in entry.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                out.setdefault(f"first_{key}", float(value))
                out[key] = float(value)
    return {k: v for k, v in out.items() if k not in ("epoch", "step", "first_epoch", "first_step")}


def save_checkpoint(trainer: Any, tokenizer: Any, path: Path, *, merge_lora: bool) -> Path:
    """Write the final model (LoRA merged unless asked otherwise) and the tokenizer."""
    model = trainer.accelerator.unwrap_model(trainer.model)
    path.mkdir(parents=True, exist_ok=True)
    if merge_lora and hasattr(model, "merge_and_unload"):
        model = model.merge_and_unload()
    if trainer.accelerator.is_main_process:
        model.save_pretrained(path)
        tokenizer.save_pretrained(path)
    trainer.accelerator.wait_for_everyone()
    return path
