"""litecore generator engine ``llm``: from a domain specification to a proven environment.

The paper's LiteCoder-Terminal-Gen stages (task sampling, feasibility judge, instruction,
environment, reference solution, verifier hardened by attacks, configuration), each seeing the
execution logs of those before, behind an execution-grounded gate with repair: nothing is
emitted unless the reference solution earns 1, doing nothing earns 0 and every attack earns 0.
"""

from __future__ import annotations

import litecore
from litecore.records import GeneratorEngine

from litecore_gen_llm.config import LLMGenConfig
from litecore_gen_llm.engine import LLMGenerator


@litecore.hookimpl
def litecore_generators():
    return [
        GeneratorEngine(
            name="llm",
            factory=LLMGenerator,
            config=LLMGenConfig,
            description="LLM synthesis from domain specs (litellm), proven by execution with repair",
        )
    ]
