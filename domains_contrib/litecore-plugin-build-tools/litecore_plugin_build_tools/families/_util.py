"""Small helpers shared by the build-tools families (wording variety, C names)."""

from __future__ import annotations

import random
from collections.abc import Sequence

PROJECT_NAMES = ("tally", "ledger", "quill", "beacon", "orbit", "harbor", "sprout", "relay", "vertex",
                 "cobalt", "summit", "pebble", "lumen", "anvil", "meadow", "falcon", "cinder", "drift")
MODULE_NAMES = ("parse", "scale", "mix", "shift", "fold", "clamp", "blend", "count", "score", "weigh",
                "tally", "rank", "merge", "split", "hash", "table", "grid", "route")


def bullets(rng: random.Random, items: Sequence[str], *, shuffle: bool = True) -> str:
    """Render requirements as a bullet list, in a seeded order (the order carries no meaning)."""
    items = list(items)
    if shuffle:
        rng.shuffle(items)
    return "\n".join(f"- {i}" for i in items)


def one_of(rng: random.Random, *options: str) -> str:
    return rng.choice(list(options))
