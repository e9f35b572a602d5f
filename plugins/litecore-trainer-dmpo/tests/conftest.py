"""Fixtures for the DMPO trainer tests: an offline tiny model (built once)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from litecore_trainer_sft.samples import corpus
    from litecore_trainer_sft.tiny import build_tiny_model, default_corpus

    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "model", default_corpus() + corpus(), vocab_size=400)


@pytest.fixture
def one_thread() -> Iterator[None]:
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
