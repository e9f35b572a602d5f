"""What a trainer plugin returns, and the shape the ``train`` stage calls.

Kept tiny on purpose: no torch, transformers or TRL at import time. A trainer
plugin (``litecore_trainers`` hook) has a ``factory(config)`` that returns an
object satisfying :class:`Trainer`; the pipeline calls ``train(data, output_dir)``
and records the :class:`TrainResult` it gets back.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import attrs


def _float_map(value: Mapping[str, Any]) -> dict[str, float]:
    return {str(k): float(v) for k, v in value.items()}


@attrs.frozen(kw_only=True)
class TrainResult:
    """One finished training run.

    ``checkpoint`` is a folder ``AutoModelForCausalLM.from_pretrained`` (and the
    tokenizer) can load; ``metrics`` are final scalar figures (train loss, ...);
    ``timings`` are wall-clock seconds by phase (``load``, ``prepare``, ``train``,
    ``save``) plus throughput figures the trainer measured.
    """

    checkpoint: Path = attrs.field(converter=Path)
    steps: int
    metrics: Mapping[str, float] = attrs.field(factory=dict, converter=_float_map)
    timings: Mapping[str, float] = attrs.field(factory=dict, converter=_float_map)
    trainer: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "trainer": self.trainer,
            "checkpoint": str(self.checkpoint),
            "steps": self.steps,
            "metrics": dict(self.metrics),
            "timings": dict(self.timings),
        }

    def write(self, path: Path) -> Path:
        """Write the record as JSON (the ``train`` stage keeps it beside the checkpoint)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n")
        tmp.replace(path)
        return path

    @classmethod
    def read(cls, path: Path) -> TrainResult:
        data = json.loads(Path(path).read_text())
        return cls(**data)


@runtime_checkable
class Trainer(Protocol):
    """What a trainer plugin's factory returns."""

    def train(self, data: Path, output_dir: Path) -> TrainResult:
        """Train on ``data`` (a JSONL file, a folder holding one, or a ``save_to_disk``
        dataset folder) and write the checkpoint under ``output_dir``."""
        ...
