"""Progress bars for long stages (rich), silent when output is not a terminal."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.progress import Progress as RichProgress


class Progress:
    def __init__(self, *, enabled: bool | None = None) -> None:
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self.console = Console(stderr=True)

    @contextmanager
    def task(self, name: str, *, total: int, completed: int = 0) -> Iterator[Callable[[int], None]]:
        """A bar for one stage; yields ``advance(n)`` (safe to call from worker threads)."""
        if not self.enabled:
            yield lambda n=1: None
            return
        bar = RichProgress(
            TextColumn(f"[bold]{name:<9}"), BarColumn(), MofNCompleteColumn(),
            TimeElapsedColumn(), TimeRemainingColumn(), console=self.console, transient=False,
        )
        with bar:
            tid = bar.add_task(name, total=total, completed=completed)
            yield lambda n=1: bar.advance(tid, n)
