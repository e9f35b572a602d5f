"""Small helpers shared by the networking families (phrasing choice, bullet lists)."""

from __future__ import annotations

import random
from collections.abc import Sequence


def pick(rng: random.Random, options: Sequence[str]) -> str:
    """One phrasing among several, chosen by the instance's rng (never by global state)."""
    return options[rng.randrange(len(options))]


def bullets(rng: random.Random, items: Sequence[str], *, shuffle: bool = True) -> str:
    """A markdown bullet list; order varied per instance where order carries no meaning."""
    lst = list(items)
    if shuffle:
        rng.shuffle(lst)
    return "\n".join(f"- {x}" for x in lst)


def swap(text: str, old: str, new: str) -> str:
    """Replace exactly one occurrence (used to derive wrong solutions from reference ones)."""
    if text.count(old) != 1:
        raise ValueError(f"expected exactly one {old!r} in the reference text")
    return text.replace(old, new)
