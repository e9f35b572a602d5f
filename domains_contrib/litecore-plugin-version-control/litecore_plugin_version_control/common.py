"""Shared vocabulary for version-control task families (names, people, wording)."""

from __future__ import annotations

import random
from collections.abc import Sequence

from litecore_plugin_version_control.gitrepo import Person

PEOPLE = (
    ("Ana Lima", "ana.lima"), ("Bo Chen", "bo.chen"), ("Carla Ruiz", "carla"), ("Dev Patel", "dpatel"),
    ("Eli Novak", "eli"), ("Fatma Yilmaz", "fatma.y"), ("Gus Berg", "gberg"), ("Hana Sato", "hana"),
    ("Ivo Kral", "ivo.kral"), ("Jo Okafor", "jokafor"), ("Kai Lund", "kai"), ("Lea Morel", "lmorel"),
)
DOMAINS = ("example.org", "corp.test", "dev.invalid", "acme.test")
PROJECTS = (
    "ledgerly", "tidepool", "quartzlib", "hopscotch", "nimbus", "pebble", "foxglove", "saltmarsh",
    "windvane", "bramble", "copperline", "driftwood", "emberkit", "fjordsync", "gravelpath", "harborview",
)
NOUNS = (
    "parser", "cache", "logger", "retry policy", "config loader", "scheduler", "exporter", "validator",
    "formatter", "index", "session store", "rate limiter", "report", "CLI", "importer", "metrics",
)
VERBS = ("Add", "Improve", "Tidy", "Document", "Extend", "Polish", "Rework", "Clarify", "Speed up", "Harden")


def person(rng: random.Random) -> Person:
    name, user = rng.choice(PEOPLE)
    return Person(name, f"{user}@{rng.choice(DOMAINS)}")


def people(rng: random.Random, k: int) -> list[Person]:
    chosen = rng.sample(PEOPLE, k)
    dom = rng.choice(DOMAINS)
    return [Person(n, f"{u}@{dom}") for n, u in chosen]


def filler_subject(rng: random.Random) -> str:
    return f"{rng.choice(VERBS)} {rng.choice(NOUNS)}"


def ident(rng: random.Random, prefix: str = "") -> str:
    """A random identifier-ish word."""
    syll = ("ka", "lo", "mi", "ne", "ru", "ta", "vo", "zi", "pe", "sa", "do", "fu", "gri", "bel")
    return prefix + "".join(rng.choice(syll) for _ in range(rng.randint(2, 3)))


def bullet(items: Sequence[str]) -> str:
    return "\n".join(f"- {i}" for i in items)
