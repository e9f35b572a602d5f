"""Small helpers shared by the games families (wording variety, literals for tests)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")


def pick(rng: random.Random, options: Sequence[T]) -> T:
    """One option, drawn with the request's rng (never the module-global one)."""
    return options[rng.randrange(len(options))]


def shuffled(rng: random.Random, items: Sequence[T]) -> list[T]:
    """A shuffled copy, so rule order in instructions varies per instance."""
    out = list(items)
    rng.shuffle(out)
    return out


def bullets(items: Sequence[str]) -> str:
    return "\n".join(f"- {item}" for item in items)


def fmt_csv(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """CSV text without quoting surprises (values here never hold commas)."""
    lines = [",".join(header)]
    lines += [",".join(str(v) for v in row) for row in rows]
    return "\n".join(lines) + "\n"
