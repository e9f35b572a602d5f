"""Small helpers shared by the system-admin families (wording variety)."""

from __future__ import annotations

import random
from collections.abc import Sequence

USERS = ("alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory",
         "niaj", "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter", "yolanda")
SERVICES = ("billing", "ingest", "reports", "search", "mailer", "thumbnailer", "indexer", "webhook", "metrics",
            "exporter", "scheduler", "gateway")


def bullets(rng: random.Random, items: Sequence[str], *, shuffle: bool = True) -> str:
    """Render requirements as a bullet list, in a seeded order (the order carries no meaning)."""
    items = list(items)
    if shuffle:
        rng.shuffle(items)
    return "\n".join(f"- {i}" for i in items)


def one_of(rng: random.Random, *options: str) -> str:
    return rng.choice(list(options))
