"""Small helpers shared by the families: seeded phrasing and rule lists.

Kept here (not in the core) because only instruction wording needs them; every
choice goes through the request's own ``random.Random`` so drafts stay pure.
"""

from __future__ import annotations

import random
from collections.abc import Sequence


def pick(rng: random.Random, options: Sequence[str]) -> str:
    """One phrasing out of several, chosen by the instance's rng."""
    return options[rng.randrange(len(options))]


def bullets(rng: random.Random, rules: Sequence[str], *, shuffle: bool = True) -> str:
    """Render rules as a Markdown list, in a seeded order when ``shuffle``."""
    items = list(rules)
    if shuffle:
        rng.shuffle(items)
    return "\n".join(f"- {r}" for r in items)
