"""The records that litecore's hooks yield (see :mod:`litecore.hookspecs`).

Every registration record carries a ``name`` (what pipeline.toml refers to), a
``factory`` (called with the plugin's parsed config), an optional attrs ``config``
class (the plugin's own section of pipeline.toml, structured strictly), and a
one-line ``description``. The plugin manager fills ``distribution`` so every
record can say which installed package provided it.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from typing import Any

import attrs

DIFFICULTIES: tuple[str, ...] = ("easy", "medium", "hard")


@attrs.frozen(kw_only=True)
class Registration:
    """Fields shared by every registration record."""

    name: str
    factory: Callable[..., Any]
    description: str
    config: type | None = None
    distribution: str = ""


@attrs.frozen(kw_only=True)
class SandboxBackendPlugin(Registration):
    """A sandbox backend: ``factory(config) -> litecore.sandbox.SandboxBackend``."""


@attrs.frozen(kw_only=True)
class VerifierPlugin(Registration):
    """A verifier: ``factory(config) -> litecore.verify.Verifier``."""


@attrs.frozen(kw_only=True)
class PolicyPlugin(Registration):
    """An agent policy: ``factory(config) -> litecore.rollout.Policy``."""


@attrs.frozen(kw_only=True)
class TrainerPlugin(Registration):
    """A trainer: ``factory(config) -> object with train(dataset_dir, output_dir)``."""


@attrs.frozen(kw_only=True)
class ExecutorPlugin(Registration):
    """Where a stage's jobs run: ``factory(config, concurrency=N) -> litecore.executor.Executor``.

    ``local`` (threads in this process) is the default; ``ray`` comes with litecore-executor-ray.
    """


@attrs.frozen(kw_only=True)
class GeneratorEngine(Registration):
    """A generator engine (``procedural``, ``llm``): turns domains into task drafts.

    ``factory(config, domains) -> litecore.generate.Generator``.
    """


# ---------------------------------------------------------------------------
# Domains: the specification an LLM consumes and the procedural task families.
# ---------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class DomainSpec:
    """What a domain is about, written for people and for the LLM synthesis engine."""

    description: str
    skills: tuple[str, ...]
    topics: tuple[str, ...]
    tools: tuple[str, ...]
    #: Debian packages an environment of this domain needs (baked into litecore's
    #: ``dev`` base image; the local backend checks the matching commands exist).
    packages: tuple[str, ...] = ()


@attrs.frozen(kw_only=True)
class TaskRequest:
    """What a task family is asked to generate: one seeded instance."""

    seed: int
    difficulty: str

    @property
    def rng(self) -> random.Random:
        """A fresh generator for this request: same request, same numbers."""
        return random.Random(f"{self.seed}:{self.difficulty}")


@attrs.frozen(kw_only=True)
class TaskDraft:
    """One generated task instance, before it becomes a Harbor task folder.

    Paths in ``app_files`` are relative to ``/app`` (the agent's working folder);
    ``solution_files`` land in ``/solution`` beside ``solve.sh`` and ``test_files``
    in ``/tests`` beside ``test_outputs.py``. ``solve`` is a bash script: each
    blank-line separated block becomes one turn of the oracle's expert
    trajectory, and ``#`` comment lines at the top of a block become its plan.
    ``wrong_solve`` is a plausible but wrong solution (never emitted; the quality
    gate checks it earns 0). It runs like an agent would, so ``/solution`` is not
    there: it must be self-contained.
    """

    instruction: str
    app_files: Mapping[str, str | bytes]
    solve: str
    tests: str
    wrong_solve: str
    solution_files: Mapping[str, str | bytes] = attrs.field(factory=dict)
    test_files: Mapping[str, str | bytes] = attrs.field(factory=dict)
    #: Executable bits: paths (relative to /app) that must be chmod +x.
    executables: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    agent_timeout_sec: float = 600.0
    verifier_timeout_sec: float = 120.0
    #: Commands the environment needs beyond the domain's (e.g. ``("git",)``).
    requires: tuple[str, ...] = ()


@attrs.frozen(kw_only=True)
class TaskFamily:
    """A kind of work in a domain; ``generate`` must be a pure function of the request."""

    name: str
    description: str
    generate: Callable[[TaskRequest], TaskDraft]
    #: Commands the family's environments need (checked on the local backend).
    requires: tuple[str, ...] = ()
    difficulties: tuple[str, ...] = DIFFICULTIES


@attrs.frozen(kw_only=True)
class Domain:
    """A domain: its specification and its procedural task families."""

    name: str
    spec: DomainSpec
    families: tuple[TaskFamily, ...]
    #: Harbor/Terminal-Bench category written into task.toml.
    category: str
    description: str = ""
    distribution: str = ""

    def family(self, name: str) -> TaskFamily:
        for fam in self.families:
            if fam.name == name:
                return fam
        from litecore.errors import PluginError

        raise PluginError(
            f"domain '{self.name}' has no task family '{name}'; "
            f"available: {', '.join(f.name for f in self.families)}"
        )


#: The record types each registration hook yields, by hook kind.
KIND_OF_RECORD: Mapping[str, type] = {
    "domain": Domain,
    "generator": GeneratorEngine,
    "sandbox": SandboxBackendPlugin,
    "verifier": VerifierPlugin,
    "policy": PolicyPlugin,
    "trainer": TrainerPlugin,
    "executor": ExecutorPlugin,
}
