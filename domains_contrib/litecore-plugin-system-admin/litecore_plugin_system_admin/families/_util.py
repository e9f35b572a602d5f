"""Small helpers shared by the system-admin families (wording variety)."""

from __future__ import annotations

import random

USERS = ("alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory",
         "niaj", "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter", "yolanda")
SERVICES = ("billing", "ingest", "reports", "search", "mailer", "thumbnailer", "indexer", "webhook", "metrics",
            "exporter", "scheduler", "gateway")


def one_of(rng: random.Random, *options: str) -> str:
    return rng.choice(list(options))
