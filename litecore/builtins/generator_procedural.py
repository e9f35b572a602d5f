"""The ``procedural`` generator engine: seeded task families, no LLM."""

from __future__ import annotations

from collections.abc import Mapping

import attrs

import litecore
from litecore.generate import GeneratedTask, GenerationContext, TaskPlan, render_draft
from litecore.records import Domain, GeneratorEngine, TaskRequest


@attrs.frozen(kw_only=True)
class ProceduralConfig:
    """``[generate.procedural]``: no options yet."""


class ProceduralGenerator:
    def __init__(self, config: ProceduralConfig | None, domains: Mapping[str, Domain],
                 context: GenerationContext | None = None) -> None:
        self.domains = domains

    def families(self, domain: Domain) -> list[str]:
        return [f.name for f in domain.families]

    def generate(self, plan: TaskPlan) -> GeneratedTask:
        domain = self.domains[plan.domain]
        family = domain.family(plan.family)
        request = TaskRequest(seed=plan.seed, difficulty=plan.difficulty)
        return render_draft(domain, plan.family, request, family.generate(request))


@litecore.hookimpl
def litecore_generators():
    return [
        GeneratorEngine(
            name="procedural",
            factory=ProceduralGenerator,
            config=ProceduralConfig,
            description="seeded task families from installed domain plugins (offline, no LLM)",
        )
    ]
