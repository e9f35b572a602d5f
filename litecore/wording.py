"""Seeded wording helpers for procedural task families.

Every choice is drawn from the instance's own ``random.Random`` (never the module-global
one), so the same seed writes the same instruction and a domain plugin never repeats these.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")


def pick(rng: random.Random, options: Sequence[T]) -> T:
    """One of ``options`` (a phrasing, a name, a value)."""
    return options[rng.randrange(len(options))]


def shuffled(rng: random.Random, items: Sequence[T]) -> list[T]:
    """A shuffled copy, so the order of rules varies per instance."""
    out = list(items)
    rng.shuffle(out)
    return out


def bullets(items: Sequence[str], rng: random.Random | None = None) -> str:
    """A Markdown bullet list; in an order drawn from ``rng`` when one is given (for lists whose
    order carries no meaning), else in the order given."""
    return "\n".join(f"- {item}" for item in (shuffled(rng, items) if rng is not None else items))
