"""Shared helpers for coding task families: names and wording."""

from __future__ import annotations

import json
import random
from typing import Any

PACKAGES = ("toolbox", "ledger", "waypoint", "kestrel", "marmot", "quill", "lattice", "ember", "orchid",
            "pylon", "sprocket", "tundra", "vellum", "zephyr")


def ident(rng: random.Random, prefix: str = "") -> str:
    syll = ("ka", "lo", "mi", "ne", "ru", "ta", "vo", "zi", "pe", "sa", "do", "fu", "gri", "bel")
    return prefix + "".join(rng.choice(syll) for _ in range(rng.randint(2, 3)))


def py_literal(value: Any) -> str:
    """A Python expression that evaluates to ``value`` (JSON data, safe to embed in test files)."""
    return f"json.loads({json.dumps(json.dumps(value))})"
