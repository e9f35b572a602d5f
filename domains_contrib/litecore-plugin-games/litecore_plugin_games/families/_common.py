"""CSV text for the input files of the games families."""

from __future__ import annotations

from collections.abc import Sequence


def fmt_csv(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """CSV text without quoting surprises (values here never hold commas)."""
    lines = [",".join(header)]
    lines += [",".join(str(v) for v in row) for row in rows]
    return "\n".join(lines) + "\n"
