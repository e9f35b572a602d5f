"""litecore trainer plugin: SFT on agent trajectories with TRL's ``SFTTrainer``.

Importing this package is cheap: torch, transformers and TRL load only when a
trainer is built (``factory``) or the tiny-model builder runs.
"""

from __future__ import annotations

from typing import Any

import litecore
from litecore.records import TrainerPlugin

from litecore_trainer_sft.config import LoraOptions, SFTTrainConfig

__all__ = ["LoraOptions", "SFTTrainConfig", "make_trainer", "litecore_trainers"]


def make_trainer(config: SFTTrainConfig) -> Any:
    """The ``factory`` of the ``sft`` trainer: ``make_trainer(config).train(data, output_dir)``."""
    from litecore_trainer_sft.trainer import SFTRunner

    return SFTRunner(config)


@litecore.hookimpl
def litecore_trainers() -> list[TrainerPlugin]:
    return [
        TrainerPlugin(
            name="sft",
            factory=make_trainer,
            config=SFTTrainConfig,
            description="supervised fine-tuning on passing trajectories (assistant-only loss, packing, LoRA)",
        )
    ]
