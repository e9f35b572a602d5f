"""The ``[train]`` section for the DMPO trainer (defaults from the DMPO/LiteCoder recipe)."""

from __future__ import annotations

import attrs
from attrs import validators as v

from litecore_trainer_sft.config import CommonTrainConfig, fraction, positive


def _gamma(_inst: object, attr: attrs.Attribute, value: float) -> None:
    if not 0.0 < value <= 1.0:
        raise ValueError(f"{attr.name} must be in (0, 1], got {value!r}")


@attrs.frozen(kw_only=True)
class DMPOTrainConfig(CommonTrainConfig):
    """DMPO on preference pairs; ``model`` is the SFT checkpoint and, by default, the reference."""

    #: Inverse temperature of the preference loss.
    beta: float = attrs.field(default=0.1, validator=[v.instance_of(float), positive])
    #: Turn discount: phi(t, T) = gamma^t (1 - gamma^(T-t)) / (1 - gamma^T); 1.0 gives (T - t) / T.
    gamma: float = attrs.field(default=0.7, validator=[v.instance_of(float), _gamma])
    #: Reference model folder; None: the starting model itself (the SFT checkpoint), or the
    #: adapter disabled when training LoRA.
    ref_model: str | None = attrs.field(default=None, validator=v.optional(v.instance_of(str)))
    #: Score assistant turns inside the shared prompt too (the loss as written sums over every
    #: turn of each trajectory); False scores only the chosen/rejected continuations. Turn
    #: indices and T always count from the start of the trajectory.
    score_prompt_turns: bool = attrs.field(default=True, validator=v.instance_of(bool))
    #: Compute reference log-probs once before training and free the reference model.
    precompute_ref_log_probs: bool = attrs.field(default=False, validator=v.instance_of(bool))
    learning_rate: float = attrs.field(default=1e-6, validator=[v.instance_of(float), positive])
    lr_scheduler: str = attrs.field(default="constant_with_warmup", validator=v.instance_of(str))
    warmup_ratio: float = attrs.field(default=0.1, validator=[v.instance_of(float), fraction])
    per_device_batch_size: int = attrs.field(default=2, validator=[v.instance_of(int), positive])
