"""litecore trainer plugin: DMPO (Direct Multi-turn Preference Optimization) on TRL.

Importing this package is cheap: torch and TRL load only when a trainer is built.
"""

from __future__ import annotations

from typing import Any

import litecore
from litecore.records import TrainerPlugin

from litecore_trainer_dmpo.config import DMPOTrainConfig

__all__ = ["DMPOTrainConfig", "make_trainer", "litecore_trainers"]


def make_trainer(config: DMPOTrainConfig) -> Any:
    """The ``factory`` of the ``dmpo`` trainer: ``make_trainer(config).train(data, output_dir)``."""
    from litecore_trainer_dmpo.trainer import DMPORunner

    return DMPORunner(config)


@litecore.hookimpl
def litecore_trainers() -> list[TrainerPlugin]:
    return [
        TrainerPlugin(
            name="dmpo",
            factory=make_trainer,
            config=DMPOTrainConfig,
            description="DMPO on trajectory preference pairs (turn-discounted DPO; reference = the SFT model)",
        )
    ]
