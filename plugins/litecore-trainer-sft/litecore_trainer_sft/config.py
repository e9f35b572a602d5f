"""The ``[train]`` section for the SFT trainer, as a strict attrs record.

Every field has a type and a validator: the pipeline structures ``[train]`` into
:class:`SFTTrainConfig` (misspelled keys are errors), and :func:`structure`
does the same for callers that hold a plain mapping (tests, the benchmark).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

import attrs
from attrs import validators as v


C = TypeVar("C")

DEFAULT_LORA_TARGETS: tuple[str, ...] = (
    "q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj",
)


def positive(_inst: object, attr: attrs.Attribute, value: float) -> None:
    if not value > 0:
        raise ValueError(f"{attr.name} must be > 0, got {value!r}")


def non_negative(_inst: object, attr: attrs.Attribute, value: float) -> None:
    if value < 0:
        raise ValueError(f"{attr.name} must be >= 0, got {value!r}")


def fraction(_inst: object, attr: attrs.Attribute, value: float) -> None:
    if not 0.0 <= value < 1.0:
        raise ValueError(f"{attr.name} must be in [0, 1), got {value!r}")


@attrs.frozen(kw_only=True)
class LoraOptions:
    """LoRA adapters (peft) instead of full fine-tuning.

    ``merge``: write the merged full model as the checkpoint, so every later stage
    (DMPO, the HF policy, eval) loads one plain folder.
    """

    r: int = attrs.field(default=16, validator=[v.instance_of(int), positive])
    alpha: int = attrs.field(default=32, validator=[v.instance_of(int), positive])
    dropout: float = attrs.field(default=0.05, validator=[v.instance_of(float), fraction])
    target_modules: tuple[str, ...] = attrs.field(
        default=DEFAULT_LORA_TARGETS, converter=tuple,
        validator=v.deep_iterable(v.instance_of(str)),
    )
    merge: bool = attrs.field(default=True, validator=v.instance_of(bool))


PRECISIONS = ("auto", "bf16", "fp16", "fp32")
ATTENTION = ("auto", "sdpa", "eager", "flash_attention_2", "flash_attention_3", "flex_attention")


@attrs.frozen(kw_only=True)
class CommonTrainConfig:
    """Fields every litecore trainer shares (SFT and DMPO)."""

    #: Folder of the model to start from (``save_pretrained`` layout, tokenizer included).
    model: str = attrs.field(validator=[v.instance_of(str), v.min_len(1)])
    #: A shipped training template name (``chatml``, ``qwen3-nothink``) or a .jinja path;
    #: by default the model's own template if it has generation markers, else TRL's
    #: training variant for known families, else ``chatml`` for ChatML tokenizers.
    chat_template: str | None = attrs.field(default=None, validator=v.optional(v.instance_of(str)))
    epochs: float = attrs.field(default=3.0, validator=[v.instance_of(float), positive])
    #: Stop after this many optimizer steps (0: run ``epochs``).
    max_steps: int = attrs.field(default=0, validator=[v.instance_of(int), non_negative])
    learning_rate: float = attrs.field(default=2e-5, validator=[v.instance_of(float), positive])
    lr_scheduler: str = attrs.field(default="cosine", validator=v.instance_of(str))
    warmup_ratio: float = attrs.field(default=0.03, validator=[v.instance_of(float), fraction])
    weight_decay: float = attrs.field(default=0.0, validator=[v.instance_of(float), non_negative])
    max_grad_norm: float = attrs.field(default=1.0, validator=[v.instance_of(float), non_negative])
    #: Global batch (sequences per optimizer step, all devices together); reached
    #: through gradient accumulation over ``per_device_batch_size``.
    batch_size: int = attrs.field(default=64, validator=[v.instance_of(int), positive])
    per_device_batch_size: int = attrs.field(default=4, validator=[v.instance_of(int), positive])
    #: Tokens per sequence; longer trajectories are truncated (their end is dropped).
    max_length: int = attrs.field(default=4096, validator=[v.instance_of(int), positive])
    precision: str = attrs.field(default="auto", validator=v.in_(PRECISIONS))
    attn_implementation: str = attrs.field(default="auto", validator=v.in_(ATTENTION))
    gradient_checkpointing: bool = attrs.field(default=False, validator=v.instance_of(bool))
    lora: LoraOptions | None = attrs.field(default=None, validator=v.optional(v.instance_of(LoraOptions)))
    seed: int = attrs.field(default=42, validator=v.instance_of(int))
    logging_steps: int = attrs.field(default=10, validator=[v.instance_of(int), positive])
    #: Worker processes for tokenization (None: in-process).
    dataset_num_proc: int | None = attrs.field(default=None, validator=v.optional(v.instance_of(int)))


@attrs.frozen(kw_only=True)
class SFTTrainConfig(CommonTrainConfig):
    """SFT on chat trajectories with the loss on assistant tokens only."""

    #: Pack trajectories into full rows, padding-free ("auto": where the model's
    #: attention keeps packed sequences apart, see :func:`litecore_trainer_sft.trainer.packing_is_safe`).
    packing: str = attrs.field(default="auto", validator=v.in_(("auto", "on", "off")))


def structure(cls: type[C], data: Mapping[str, Any], *, where: str = "[train]") -> C:
    """Structure ``data`` into ``cls`` with litecore's strict converter (one way to read config)."""
    from litecore.config import structure_strict

    return structure_strict(data, cls, source=where, prefix="train")
