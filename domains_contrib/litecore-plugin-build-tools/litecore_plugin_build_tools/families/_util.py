"""Small helpers shared by the build-tools families (wording variety, C names)."""

from __future__ import annotations

import random

PROJECT_NAMES = ("tally", "ledger", "quill", "beacon", "orbit", "harbor", "sprout", "relay", "vertex",
                 "cobalt", "summit", "pebble", "lumen", "anvil", "meadow", "falcon", "cinder", "drift")
MODULE_NAMES = ("parse", "scale", "mix", "shift", "fold", "clamp", "blend", "count", "score", "weigh",
                "tally", "rank", "merge", "split", "hash", "table", "grid", "route")


def one_of(rng: random.Random, *options: str) -> str:
    return rng.choice(list(options))
