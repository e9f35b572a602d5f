"""The ``dmpo`` trainer: TRL's ``DPOTrainer`` with the DMPO loss.

Stock DPO 1.x scores every token after the shared prompt, observations
included, as one sequence. Here dataset preparation adds per-token weights
(phi(t, T) on the tokens of assistant turn t, end-of-turn token included; 0 on
everything else), the collator carries them, and the loss and the reference
pass use weighted sums. Everything else (fused LM head, reference handling,
LoRA with the adapter disabled as reference, precomputed reference log-probs,
accelerate) is TRL's.
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import Any

import attrs
import torch
from trl import DPOConfig, DPOTrainer
from trl.models.utils import disable_gradient_checkpointing
from trl.trainer.utils import pad, use_adapter

from litecore.train import TrainResult
from litecore_trainer_dmpo.config import DMPOTrainConfig
from litecore_trainer_dmpo.loss import dmpo_loss, tokenize_pair, weighted_logps
from litecore_trainer_sft import runtime
from litecore_trainer_sft.data import load_preferences

_NON_MODEL_KEYS = frozenset({"completion_mask", "token_weights", "ref_chosen_logps", "ref_rejected_logps",
                             "chosen_turns", "rejected_turns"})


@attrs.define
class DMPOCollator:
    """Pads a batch to ``[chosen..., rejected...]`` rows with their token weights.

    Truncates before padding (TRL requires custom collators to); ``completion_mask``
    marks the scored tokens so the fused LM head projects only those.
    """

    pad_token_id: int
    max_length: int | None = None
    truncation_mode: str = "keep_start"
    pad_to_multiple_of: int | None = None

    def __call__(self, examples: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        ids = [e["prompt_ids"] + e["chosen_ids"] for e in examples] + \
              [e["prompt_ids"] + e["rejected_ids"] for e in examples]
        weights = [e["chosen_weights"] for e in examples] + [e["rejected_weights"] for e in examples]
        if self.max_length is not None:
            sl = slice(None, self.max_length) if self.truncation_mode == "keep_start" else slice(-self.max_length, None)
            ids = [x[sl] for x in ids]
            weights = [w[sl] for w in weights]
        kw = dict(padding_side="right", pad_to_multiple_of=self.pad_to_multiple_of)
        input_ids = pad([torch.tensor(x, dtype=torch.long) for x in ids], padding_value=self.pad_token_id, **kw)
        attention = pad([torch.ones(len(x), dtype=torch.long) for x in ids], padding_value=0, **kw)
        token_weights = pad([torch.tensor(w, dtype=torch.float32) for w in weights], padding_value=0.0, **kw)
        out = {
            "input_ids": input_ids,
            "attention_mask": attention,
            "token_weights": token_weights,
            "completion_mask": (token_weights != 0).long(),
            "chosen_turns": torch.tensor([e["chosen_turns"] for e in examples]),
            "rejected_turns": torch.tensor([e["rejected_turns"] for e in examples]),
        }
        if "ref_chosen_logps" in examples[0]:
            out["ref_chosen_logps"] = torch.tensor([e["ref_chosen_logps"] for e in examples])
            out["ref_rejected_logps"] = torch.tensor([e["ref_rejected_logps"] for e in examples])
        return out


class DMPOTrainer(DPOTrainer):
    """``DPOTrainer`` whose loss is DMPO's (see :mod:`litecore_trainer_dmpo.loss`)."""

    _tag_names = ["trl", "dpo", "dmpo", "litecore"]
    _name = "DMPO"

    def __init__(self, *args: Any, gamma: float = 0.7, score_prompt_turns: bool = True, **kwargs: Any) -> None:
        # __init__ prepares the dataset, so these must exist before it runs.
        self.gamma = gamma
        self.score_prompt_turns = score_prompt_turns
        self.pairs_seen = 0
        dpo_args: DPOConfig | None = kwargs.get("args")
        if dpo_args is not None and list(dpo_args.loss_type) != ["sigmoid"]:
            raise ValueError(f"DMPOTrainer implements the DMPO loss only; loss_type={dpo_args.loss_type}")
        if kwargs.get("data_collator") is None:
            tok = kwargs.get("processing_class")
            if tok is None or dpo_args is None:
                raise ValueError("DMPOTrainer needs args and processing_class (a tokenizer)")
            if tok.pad_token is None:
                tok.pad_token = tok.eos_token
            kwargs["data_collator"] = DMPOCollator(
                pad_token_id=tok.pad_token_id, max_length=dpo_args.max_length,
                truncation_mode=dpo_args.truncation_mode, pad_to_multiple_of=dpo_args.pad_to_multiple_of,
            )
        super().__init__(*args, **kwargs)

    # -- data --------------------------------------------------------------
    def _prepare_dataset(self, dataset: Any, processing_class: Any, args: DPOConfig, dataset_name: str) -> Any:
        if "chosen_weights" in dataset.column_names:
            return dataset
        from trl.trainer.utils import global_then_local_main_first

        map_kwargs: dict[str, Any] = {"num_proc": args.dataset_num_proc, "desc": f"DMPO-tokenizing {dataset_name}"}
        with global_then_local_main_first():
            dataset = dataset.map(
                tokenize_pair,
                fn_kwargs={"tokenizer": processing_class, "gamma": self.gamma,
                           "score_prompt_turns": self.score_prompt_turns},
                remove_columns=[c for c in dataset.column_names if c not in ("id",)],
                **map_kwargs,
            )
            if args.max_length is not None and args.truncation_mode == "keep_start":
                max_len = args.max_length
                dataset = dataset.filter(lambda e: len(e["prompt_ids"]) < max_len,
                                         num_proc=args.dataset_num_proc, desc="Dropping fully truncated pairs")
        return dataset

    def _set_signature_columns_if_needed(self) -> None:
        if self._signature_columns is None:
            self._signature_columns = [
                "prompt_ids", "chosen_ids", "rejected_ids", "chosen_weights", "rejected_weights",
                "chosen_turns", "rejected_turns", "ref_chosen_logps", "ref_rejected_logps",
            ]

    # -- log-probs ---------------------------------------------------------
    def _model_kwargs(self, inputs: dict[str, Any]) -> dict[str, Any]:
        kwargs = {k: v for k, v in inputs.items() if k not in _NON_MODEL_KEYS}
        kwargs["use_cache"] = False
        return kwargs

    @staticmethod
    def _labels(inputs: dict[str, Any]) -> torch.Tensor:
        return inputs["input_ids"].masked_fill(inputs["token_weights"] == 0, -100)

    def _uses_adapter_reference(self) -> bool:
        from accelerate.utils import is_peft_model

        return self.ref_model is None and is_peft_model(self.model)

    def _reference_logps(self, inputs: dict[str, Any], model: Any) -> torch.Tensor:
        """phi-weighted reference log-prob sums, one per row (chosen rows, then rejected).

        With LoRA and no separate reference the policy runs with its adapter disabled
        (or the frozen ``ref`` adapter TRL adds when training a loaded adapter)."""
        adapter: Any = contextlib.nullcontext()
        if self._uses_adapter_reference():
            model = self.model
            unwrapped = self.accelerator.unwrap_model(self.model)
            adapter = use_adapter(unwrapped, adapter_name="ref" if "ref" in unwrapped.peft_config else None)
        with (
            torch.no_grad(),
            disable_gradient_checkpointing(self.model, self.args.gradient_checkpointing_kwargs),
            adapter,
            self.accelerator.autocast(),
        ):
            out = model(**self._model_kwargs(inputs), labels=self._labels(inputs), fused_lm_head=True)
        return weighted_logps(out.log_probs, inputs["token_weights"])

    def compute_ref_log_probs(self, model: Any, inputs: dict[str, Any]) -> tuple[torch.Tensor, torch.Tensor]:
        return self._reference_logps(inputs, model).chunk(2, dim=0)

    # -- loss --------------------------------------------------------------
    def _compute_loss(self, model: Any, inputs: dict[str, Any], return_outputs: bool) -> Any:
        mode = "train" if self.model.training else "eval"
        outputs = model(**self._model_kwargs(inputs), labels=self._labels(inputs), fused_lm_head=True)
        logps = weighted_logps(outputs.log_probs, inputs["token_weights"])
        chosen_logps, rejected_logps = logps.chunk(2, dim=0)
        if self.precompute_ref_logps:
            ref_chosen, ref_rejected = inputs["ref_chosen_logps"], inputs["ref_rejected_logps"]
        else:
            ref_chosen, ref_rejected = self._reference_logps(inputs, self.ref_model).chunk(2, dim=0)
        ref_chosen = ref_chosen.to(chosen_logps.device, chosen_logps.dtype)
        ref_rejected = ref_rejected.to(chosen_logps.device, chosen_logps.dtype)
        per_pair = dmpo_loss(chosen_logps, rejected_logps, ref_chosen, ref_rejected, self.beta)
        loss = per_pair.mean()

        if mode == "train":
            self.pairs_seen += chosen_logps.size(0)
            n_tok = self.accelerator.gather_for_metrics(inputs["attention_mask"].sum()).sum().item()
            self._total_train_tokens += n_tok // self._tp_size
        self._metrics[mode]["num_tokens"] = [self._total_train_tokens]
        with torch.no_grad():
            chosen_rewards = self.beta * (chosen_logps - ref_chosen).detach()
            rejected_rewards = self.beta * (rejected_logps - ref_rejected).detach()
            gathered = self.accelerator.gather(torch.stack([
                chosen_rewards, rejected_rewards, (chosen_rewards > rejected_rewards).float(),
                chosen_logps.detach(), rejected_logps.detach(),
                inputs["chosen_turns"].to(chosen_rewards), inputs["rejected_turns"].to(chosen_rewards),
            ], dim=1)).mean(dim=0).tolist()
        for key, value in zip(("rewards/chosen", "rewards/rejected", "rewards/accuracies", "logps/chosen",
                               "logps/rejected", "turns/chosen", "turns/rejected"), gathered, strict=True):
            self._metrics[mode][key].append(value)
        self._metrics[mode]["rewards/margins"].append(gathered[0] - gathered[1])
        return (loss, outputs) if return_outputs else loss


@attrs.define
class DMPORunner:
    """Implements :class:`litecore.train.Trainer` for DMPO."""

    config: DMPOTrainConfig

    def training_args(self, output_dir: Path, **overrides: Any) -> DPOConfig:
        cfg = self.config
        kwargs = runtime.common_args(cfg, output_dir)
        kwargs.update(beta=cfg.beta, precompute_ref_log_probs=cfg.precompute_ref_log_probs,
                      truncation_mode="keep_start")
        kwargs.update(overrides)
        return DPOConfig(**kwargs)

    def load_reference(self) -> Any:
        if self.config.ref_model is None:
            return None
        from transformers import AutoModelForCausalLM

        return AutoModelForCausalLM.from_pretrained(
            self.config.ref_model, dtype=torch.float32,
            attn_implementation=runtime.attention_implementation(self.config))

    def make_trainer(self, model: Any, tokenizer: Any, dataset: Any, output_dir: Path, *,
                     ref_model: Any = None, callbacks: list[Any] | None = None, **overrides: Any) -> DMPOTrainer:
        """Build the TRL trainer (``model``: a path, or an instance with ``ref_model`` given)."""
        return DMPOTrainer(
            model=model,
            ref_model=ref_model if ref_model is not None else self.load_reference(),
            args=self.training_args(output_dir, **overrides),
            train_dataset=dataset,
            processing_class=tokenizer,
            peft_config=runtime.lora_config(self.config.lora),
            callbacks=callbacks,
            gamma=self.config.gamma,
            score_prompt_turns=self.config.score_prompt_turns,
        )

    def train(self, data: Path, output_dir: Path) -> TrainResult:
        cfg = self.config
        output_dir = Path(output_dir)
        timings: dict[str, float] = {}
        t = time.perf_counter()
        dataset = load_preferences(Path(data))
        tokenizer = runtime.load_tokenizer(cfg)
        timings["load_data"] = time.perf_counter() - t

        t = time.perf_counter()
        holder: list[DMPOTrainer] = []
        meter = runtime.Throughput(lambda: holder[0].pairs_seen)
        trainer = self.make_trainer(cfg.model, tokenizer, dataset, output_dir / "trainer", callbacks=[meter])
        holder.append(trainer)
        timings["prepare"] = time.perf_counter() - t

        t = time.perf_counter()
        out = trainer.train()
        timings["train"] = time.perf_counter() - t
        rate, _, timed = meter.rate()
        timings["pairs_per_s"] = rate if timed else trainer.pairs_seen / max(timings["train"], 1e-9)

        t = time.perf_counter()
        checkpoint = runtime.save_checkpoint(trainer, tokenizer, output_dir / "checkpoint",
                                             merge_lora=cfg.lora is None or cfg.lora.merge)
        timings["save"] = time.perf_counter() - t

        metrics = runtime.final_metrics(trainer.state.log_history)
        metrics["train_loss"] = float(out.training_loss)
        metrics["pairs"] = float(len(trainer.train_dataset))
        result = TrainResult(checkpoint=checkpoint, steps=int(out.global_step), metrics=metrics,
                             timings=timings, trainer="dmpo")
        result.write(output_dir / "train_result.json")
        return result
