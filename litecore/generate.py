"""From a domain's task family to a Harbor task folder.

``plan_tasks`` decides *what* to generate (domain by weight, family, difficulty,
seed) deterministically from the run's seed; a generator engine turns each plan
into a :class:`GeneratedTask`; :func:`render_draft` is the one place that turns
a procedural :class:`~litecore.records.TaskDraft` into Harbor files (Dockerfile
on litecore's base image, the standard verifier, task.toml).
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

import attrs

from litecore.records import DIFFICULTIES, Domain, TaskDraft, TaskRequest

#: The paper's share of SFT trajectories per domain: the default mix.
PAPER_DOMAIN_WEIGHTS: Mapping[str, float] = {
    "build-tools": 12.0,
    "networking": 11.6,
    "system-admin": 11.6,
    "security": 10.6,
    "data-science": 10.4,
    "version-control": 10.4,
    "ai-ml": 9.7,
    "coding": 8.2,
    "games": 8.2,
    "scientific-computing": 7.3,
}

#: The image generated tasks build on (made by ``litecore images build``).
BASE_IMAGE = "litecore/dev:bookworm"
SCHEMA_VERSION = "1.1"


@attrs.frozen(kw_only=True)
class TaskPlan:
    """One task to generate: everything that determines it."""

    index: int
    domain: str
    family: str
    difficulty: str
    seed: int

    @property
    def task_id(self) -> str:
        return task_id(self.domain, self.family, self.difficulty, self.seed)


@attrs.frozen(kw_only=True)
class GeneratedTask:
    """A task's files in memory, ready for :func:`litecore.task.write_task`."""

    task_id: str
    instruction: str
    config: Mapping[str, Any]
    files: Mapping[str, str | bytes]
    executables: tuple[str, ...] = ()
    #: A plausible but wrong solve.sh (kept for quality checks; never written).
    wrong_solve: str = ""


class TaskRejected(Exception):
    """A generator could not produce a proven task for this plan item (the reason says why)."""


@attrs.frozen(kw_only=True)
class GenerationContext:
    """What a generator engine may use besides its config and the domains."""

    #: Creates the run's sandbox backend (engines that execute candidates, like ``llm``).
    backend: Callable[[], Any]
    verifier: Any
    #: A folder for the engine's own state in this run (caches, rejected candidates, accounting).
    work_dir: Path
    #: Where accepted tasks are written (for de-duplication against earlier work).
    tasks_dir: Path


class Generator(Protocol):
    """What a generator engine's factory (``factory(config, domains, context)``) returns."""

    def families(self, domain: Domain) -> list[str]:
        """The plan's second axis for this domain (task families, or topics for the LLM engine)."""
        ...

    def generate(self, plan: TaskPlan) -> GeneratedTask:
        """One task for the plan item; raise :class:`TaskRejected` if none can be proven."""
        ...


def task_id(domain: str, family: str, difficulty: str, seed: int) -> str:
    return f"{domain}__{family}__{difficulty}__{seed}"


def plan_tasks(
    domains: Mapping[str, Domain],
    weights: Mapping[str, float],
    *,
    count: int,
    seed: int,
    difficulties: Sequence[str] = DIFFICULTIES,
    families: Mapping[str, Sequence[str]] | None = None,
) -> list[TaskPlan]:
    """Deterministic plan: same arguments, same list.

    Domains are drawn by weight; within a domain, families (or whatever the engine plans
    by) cycle, then difficulties cycle, so a small run still covers them evenly.
    """
    rng = random.Random(f"litecore-plan:{seed}")
    names = sorted(weights)
    w = [weights[n] for n in names]
    used: dict[str, int] = {}
    plans = []
    seen: set[str] = set()
    for index in range(count):
        dom_name = rng.choices(names, weights=w)[0]
        dom = domains[dom_name]
        fams = list((families or {}).get(dom_name) or [f.name for f in dom.families])
        k = used.get(dom_name, 0)
        used[dom_name] = k + 1
        fam = fams[k % len(fams)]
        difficulty = difficulties[(k // len(fams)) % len(difficulties)]
        while True:
            task_seed = int.from_bytes(
                hashlib.sha256(f"{seed}:{index}:{dom_name}:{fam}:{rng.random()}".encode()).digest()[:4], "big"
            )
            tid = task_id(dom_name, fam, difficulty, task_seed)
            if tid not in seen:
                seen.add(tid)
                break
        plans.append(TaskPlan(index=index, domain=dom_name, family=fam, difficulty=difficulty, seed=task_seed))
    return plans


def verifier_files() -> dict[str, str]:
    """The standard verifier: tests/test.sh and the reward-writing conftest.py."""
    from litecore.verify import standard_test_sh

    return {
        "tests/test.sh": standard_test_sh(),
        "tests/conftest.py": (resources.files("litecore") / "data" / "conftest.py").read_text(),
    }


def dockerfile_for(has_app_files: bool, base_image: str = BASE_IMAGE) -> str:
    lines = [f"FROM {base_image}", "WORKDIR /app"]
    if has_app_files:
        lines.append("COPY app/ /app/")
    return "\n".join(lines) + "\n"


def render_draft(domain: Domain, family_name: str, request: TaskRequest, draft: TaskDraft,
                 *, generator: str = "procedural", description: str | None = None) -> GeneratedTask:
    """Turn a draft into Harbor task files (the one place the standard task layout is written).

    ``family_name`` is a family of ``domain``; engines that plan by something else (the
    LLM engine plans by topic) pass their own ``description`` instead.
    """
    family_requires: tuple[str, ...] = ()
    if description is None:
        family = domain.family(family_name)
        description = family.description
        family_requires = family.requires
    tid = task_id(domain.name, family_name, request.difficulty, request.seed)
    files: dict[str, str | bytes] = {"environment/Dockerfile": dockerfile_for(bool(draft.app_files))}
    for rel, content in draft.app_files.items():
        files[f"environment/app/{rel}"] = content
    files["solution/solve.sh"] = _script(draft.solve)
    for rel, content in draft.solution_files.items():
        files[f"solution/{rel}"] = content
    files["tests/test_outputs.py"] = draft.tests
    for rel, content in draft.test_files.items():
        files[f"tests/{rel}"] = content
    files.update(verifier_files())
    requires = sorted(set(family_requires) | set(draft.requires) | {"python3", "bash"})
    config: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "task": {
            "name": f"litecore/{tid}",
            "description": description,
            "authors": [{"name": "litecore"}],
            "keywords": [domain.name, family_name, request.difficulty],
        },
        "metadata": {
            "author_name": "litecore",
            "difficulty": request.difficulty,
            "category": domain.category,
            "tags": sorted(set(draft.tags) | {domain.name, family_name}),
            "domain": domain.name,
            "family": family_name,
            "seed": request.seed,
            "generator": generator,
            "requires": requires,
        },
        "agent": {"timeout_sec": float(draft.agent_timeout_sec)},
        "verifier": {"timeout_sec": float(draft.verifier_timeout_sec)},
        "environment": {
            "build_timeout_sec": 600.0,
            "cpus": 1,
            "memory_mb": 2048,
            "network_mode": "no-network",
            "workdir": "/app",
        },
    }
    return GeneratedTask(
        task_id=tid,
        instruction=draft.instruction.strip() + "\n",
        config=config,
        files=files,
        executables=tuple(f"environment/app/{p}" for p in draft.executables),
        wrong_solve=_script(draft.wrong_solve),
    )


def _script(body: str) -> str:
    body = body.strip("\n") + "\n"
    return body if body.startswith("#!") else "#!/bin/bash\n" + body
