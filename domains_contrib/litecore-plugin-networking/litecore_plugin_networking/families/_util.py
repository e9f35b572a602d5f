"""Small helpers shared by the networking families (phrasing choice, bullet lists)."""

from __future__ import annotations


def swap(text: str, old: str, new: str) -> str:
    """Replace exactly one occurrence (used to derive wrong solutions from reference ones)."""
    if text.count(old) != 1:
        raise ValueError(f"expected exactly one {old!r} in the reference text")
    return text.replace(old, new)
