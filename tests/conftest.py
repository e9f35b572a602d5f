"""Shared fixtures for the core tests (the litecore.testing plugin adds more)."""

from __future__ import annotations

from pathlib import Path

import pytest

from litecore.task import Task
from litecore.testing import make_task


@pytest.fixture
def answer_task(tmp_path: Path) -> Task:
    return make_task(tmp_path)
