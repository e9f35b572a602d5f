"""Running many independent jobs: bounded concurrency, results as they finish.

The one place litecore fans work out (validation, rollouts, evaluation), so a
distributed executor can replace it without touching the stages.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def map_unordered(
    fn: Callable[[T], R],
    items: Sequence[T] | Iterable[T],
    *,
    concurrency: int,
    progress: Callable[[int], None] | None = None,
) -> Iterator[R]:
    """Yield ``fn(item)`` as each finishes, at most ``concurrency`` at a time.

    On an exception or Ctrl-C, pending jobs are cancelled and running ones are
    waited for (their ``with`` blocks clean up their sandboxes) before re-raising.
    """
    items = list(items)
    if concurrency <= 1:
        for item in items:
            result = fn(item)
            if progress:
                progress(1)
            yield result
        return
    pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="litecore")
    it = iter(items)
    running: set[Future[R]] = set()
    try:
        for item in it:
            running.add(pool.submit(fn, item))
            if len(running) >= concurrency:
                break
        while running:
            done, running = wait(running, return_when=FIRST_COMPLETED)
            for fut in done:
                result = fut.result()
                if progress:
                    progress(1)
                yield result
                nxt = next(it, None)
                if nxt is not None:
                    running.add(pool.submit(fn, nxt))
    finally:
        for fut in running:
            fut.cancel()
        pool.shutdown(wait=True, cancel_futures=True)
