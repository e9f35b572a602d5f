"""The ``sft`` trainer: TRL's ``SFTTrainer`` on chat trajectories.

Loss on assistant tokens only (chat template with generation markers), packed
padding-free rows where the model's attention keeps sequences apart, no
gradient checkpointing unless asked: the last two are where the throughput
over a stock ``SFTTrainer`` comes from on trajectories of uneven length.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import attrs
from trl import SFTConfig, SFTTrainer

from litecore.train import TrainResult
from litecore_trainer_sft import runtime
from litecore_trainer_sft.config import SFTTrainConfig
from litecore_trainer_sft.data import load_sft

log = logging.getLogger(__name__)


def packing_is_safe(model_type: str, attn_implementation: str) -> bool:
    """Whether packed rows stay separate sequences for this model and attention."""
    return model_type in runtime.PACKING_SAFE_MODEL_TYPES and attn_implementation in runtime.PACKING_SAFE_ATTENTION


def _model_type(path: str) -> str:
    from transformers import AutoConfig

    return str(AutoConfig.from_pretrained(path).model_type)


@attrs.define
class PackedRowsCollator:
    """Packed rows as a ``[rows, length]`` batch with per-sequence ``position_ids`` and no
    attention mask.

    TRL's padding-free collator flattens the whole batch into one row: right for
    flash-attention (it reads cumulative lengths) but with sdpa/eager attention the
    block-diagonal mask then spans ``rows x length`` tokens and costs rows-squared
    attention. Kept as rows, transformers finds the sequence starts in each row's
    ``position_ids`` and attention costs what the unpacked sequences would.
    """

    pad_token_id: int

    def __call__(self, examples: list[dict[str, Any]]) -> dict[str, Any]:
        import torch

        width = max(len(e["input_ids"]) for e in examples)
        n = len(examples)
        input_ids = torch.full((n, width), self.pad_token_id, dtype=torch.long)
        labels = torch.full((n, width), -100, dtype=torch.long)
        position_ids = torch.zeros((n, width), dtype=torch.long)
        for row, e in enumerate(examples):
            length = len(e["input_ids"])
            input_ids[row, :length] = torch.tensor(e["input_ids"])
            labels[row, :length] = torch.tensor(e["labels"])
            lengths = list(e.get("seq_lengths") or [length])
            # the padding tail is a sequence of its own: nothing before it attends to it
            if width > length:
                lengths.append(width - length)
            position_ids[row] = torch.cat([torch.arange(k) for k in lengths])
        # a sequence's first token is not predicted from the previous sequence's last one
        labels[position_ids == 0] = -100
        real = torch.tensor([len(e["input_ids"]) for e in examples])
        return {"input_ids": input_ids, "labels": labels, "position_ids": position_ids, "real_tokens": real}


class LitecoreSFTTrainer(SFTTrainer):
    """``SFTTrainer`` with row-wise packed batches (unless flash-attention reads the
    flattened layout) and its processed-token count exposed for throughput figures."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        attn = self.model.config._attn_implementation or ""
        if self.args.packing and self.padding_free and "flash" not in attn:
            self.data_collator = PackedRowsCollator(pad_token_id=self.processing_class.pad_token_id)

    def compute_loss(self, model: Any, inputs: dict[str, Any], return_outputs: bool = False,
                     num_items_in_batch: Any = None) -> Any:
        # TRL counts a position_ids batch as one row; count the rows' real (non-padding) tokens instead
        real = inputs.pop("real_tokens", None)
        before = self._total_train_tokens
        out = super().compute_loss(model, inputs, return_outputs=return_outputs,
                                   num_items_in_batch=num_items_in_batch)
        if real is not None and self.model.training:
            n = self.accelerator.gather_for_metrics(real.sum()).sum().item()
            self._total_train_tokens = before + n // self._tp_size
            self._metrics["train"]["num_tokens"] = [self._total_train_tokens]
        return out

    def processed_tokens(self) -> int:
        """Non-padding tokens trained on so far (all processes)."""
        return int(getattr(self, "_total_train_tokens", 0))


@attrs.define
class SFTRunner:
    """Implements :class:`litecore.train.Trainer` for SFT."""

    config: SFTTrainConfig

    def use_packing(self, model_type: str | None = None) -> bool:
        cfg = self.config
        if cfg.packing != "auto":
            return cfg.packing == "on"
        attn = runtime.attention_implementation(cfg)
        model_type = model_type or _model_type(cfg.model)
        safe = packing_is_safe(model_type, attn)
        if not safe:
            log.info("packing off: %s with %s attention is not known to keep packed sequences apart",
                     model_type, attn)
        return safe

    def training_args(self, output_dir: Path, *, packing: bool, **overrides: Any) -> SFTConfig:
        kwargs = runtime.common_args(self.config, output_dir)
        kwargs.update(
            assistant_only_loss=True,
            packing=packing,
            packing_strategy="bfd",
            padding_free=packing,
            dataset_text_field="messages",
        )
        kwargs.update(overrides)
        return SFTConfig(**kwargs)

    def make_trainer(self, model: Any, tokenizer: Any, dataset: Any, output_dir: Path,
                     *, packing: bool, callbacks: list[Any] | None = None, **overrides: Any) -> LitecoreSFTTrainer:
        """Build the TRL trainer (``model``: a path or an instance)."""
        args = self.training_args(output_dir, packing=packing, **overrides)
        return LitecoreSFTTrainer(
            model=model,
            args=args,
            train_dataset=dataset,
            processing_class=tokenizer,
            peft_config=runtime.lora_config(self.config.lora),
            callbacks=callbacks,
        )

    def train(self, data: Path, output_dir: Path) -> TrainResult:
        cfg = self.config
        output_dir = Path(output_dir)
        timings: dict[str, float] = {}
        t = time.perf_counter()
        dataset = load_sft(Path(data))
        tokenizer = runtime.load_tokenizer(cfg)
        packing = self.use_packing()
        timings["load_data"] = time.perf_counter() - t

        t = time.perf_counter()
        meter_holder: list[LitecoreSFTTrainer] = []
        meter = runtime.Throughput(lambda: meter_holder[0].processed_tokens())
        trainer = self.make_trainer(cfg.model, tokenizer, dataset, output_dir / "trainer",
                                    packing=packing, callbacks=[meter])
        meter_holder.append(trainer)
        timings["prepare"] = time.perf_counter() - t

        t = time.perf_counter()
        out = trainer.train()
        timings["train"] = time.perf_counter() - t
        rate, _, timed = meter.rate()
        timings["tokens_per_s"] = rate if timed else trainer.processed_tokens() / max(timings["train"], 1e-9)
        timings["tokens"] = float(trainer.processed_tokens())

        t = time.perf_counter()
        checkpoint = runtime.save_checkpoint(trainer, tokenizer, output_dir / "checkpoint",
                                             merge_lora=cfg.lora is None or cfg.lora.merge)
        timings["save"] = time.perf_counter() - t

        metrics = runtime.final_metrics(trainer.state.log_history)
        metrics["train_loss"] = float(out.training_loss)
        metrics["examples"] = float(len(dataset))
        metrics["packing"] = float(packing)
        result = TrainResult(checkpoint=checkpoint, steps=int(out.global_step), metrics=metrics,
                             timings=timings, trainer="sft")
        result.write(output_dir / "train_result.json")
        return result
