"""``[generate]`` options of the ``llm`` engine."""

from __future__ import annotations

import attrs


def _positive(inst, attr, value):
    if value <= 0:
        from litecore.config import FieldError

        raise FieldError(attr.name, f"must be positive, got {value!r}")


@attrs.frozen(kw_only=True)
class LLMGenConfig:
    """Model, limits and the gate's budget."""

    #: litellm model name, e.g. "openai/Qwen3-32B" for a vLLM server, or "anthropic/claude-...".
    model: str
    #: Base URL of an OpenAI-compatible server (vLLM, SGLang ...); empty for the provider's default.
    api_base: str = ""
    #: Environment variable holding the API key.
    api_key_env: str = "OPENAI_API_KEY"
    temperature: float = 0.7
    #: Temperature of task sampling (high, as Magpie-style sampling wants diversity).
    sample_temperature: float = 1.0
    max_tokens: int = attrs.field(default=4096, validator=_positive)
    #: Complete an empty user turn after the domain's system prompt (needs raw completion).
    magpie: bool = False
    #: Repairs after a failed gate (logs go back to the stage at fault).
    max_repairs: int = 3
    #: Attack solutions the model is asked to write against its own verifier.
    attacks: int = 3
    #: Attack rounds (attack -> refine verifier) before giving up.
    max_attack_rounds: int = 2
    #: LLM calls in flight at once for this model.
    concurrency: int = attrs.field(default=4, validator=_positive)
    #: Requests per minute (0: no limit).
    requests_per_minute: int = 0
    #: Retries of transient API errors (5xx, timeouts, rate limits), with exponential backoff.
    max_retries: int = 4
    request_timeout_sec: float = 120.0
    #: Word-trigram Jaccard similarity above which an instruction is a duplicate.
    dedup_threshold: float = 0.8
    #: Folder of the content-addressed LLM call cache ("" = <run>/generation/llm-cache).
    cache_dir: str = ""
