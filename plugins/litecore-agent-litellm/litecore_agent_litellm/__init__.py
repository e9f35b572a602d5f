"""litecore policy ``litellm``: any chat model behind litellm, speaking Terminus-2.

One :class:`LiteLLMPolicy` serves many concurrent episodes. Each episode's
:class:`LiteLLMAgent` keeps the conversation (task prompt, its JSON replies,
terminal observations), fits it into the model's context window before every
call (recording what it elided as the step's note), retries transient API
errors (5xx, timeouts, rate limits, dropped connections) with exponential
backoff, and reports tokens and cost per step. Calls to one model share a
semaphore, so ``concurrency`` bounds in-flight requests across all policies and
episodes of this process that use that model.
"""

from __future__ import annotations

import os
import random
import re
import threading
import time
from collections.abc import Mapping
from typing import Any

import attrs

import litecore
from litecore.llm import is_transient, litellm_module, model_gate
from litecore.records import PolicyPlugin
from litecore.sandbox import Sandbox
from litecore.task import Task

from litecore_agent_litellm.protocol import Message, TokenCounter, fit_messages, parse_reply

__all__ = ["LiteLLMConfig", "LiteLLMPolicy", "LiteLLMAgent", "PolicyError", "litecore_policies"]


@attrs.frozen(kw_only=True)
class LiteLLMConfig:
    """Options of ``[rollout.litellm]`` (or ``--policy-option`` on the CLI)."""

    #: litellm model name: ``openai/gpt-4o-mini``, ``anthropic/claude-...``, ``hosted_vllm/Qwen/...``.
    model: str
    #: An OpenAI-compatible server (vLLM, SGLang, a proxy); None for the provider's own endpoint.
    api_base: str | None = None
    #: Name of the environment variable that holds the API key (never the key itself).
    api_key_env: str | None = None
    temperature: float = 0.7
    top_p: float | None = None
    #: Completion tokens per reply.
    max_tokens: int = 4096
    #: Prompt + completion tokens the model accepts; None: litellm's model table, else 32768.
    context_window: int | None = None
    #: Retries of one call on transient errors (5xx, timeouts, rate limits, connection errors).
    max_retries: int = 6
    backoff_s: float = 1.0
    backoff_max_s: float = 60.0
    #: Seconds before one HTTP request counts as timed out (and is retried).
    request_timeout_s: float = 600.0
    #: In-flight requests per model, shared by every policy of this process using that model.
    concurrency: int = 8
    #: USD per million prompt / completion tokens, overriding litellm's table (self-hosted: 0).
    input_cost_per_mtok: float | None = None
    output_cost_per_mtok: float | None = None
    #: Name used in trajectory ids (default ``litellm``).
    name: str = "litellm"
    seed: int | None = None


class PolicyError(RuntimeError):
    """A model call failed for good (non-transient error, or retries exhausted)."""


def _reported_limit(message: str) -> int | None:
    """The window a server states in its error ("maximum context length is 8192 tokens")."""
    m = re.search(r"(?:context length|context window|maximum context)[^0-9]{0,40}?([0-9][0-9,]{2,})", message, re.I)
    return int(m.group(1).replace(",", "")) if m else None


@attrs.frozen
class Completion:
    text: str
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    retries: int
    context_note: str | None


class LiteLLMPolicy:
    """Starts one :class:`LiteLLMAgent` per episode."""

    def __init__(self, config: LiteLLMConfig) -> None:
        self.config = config
        self.name = config.name
        self.model = config.model
        self._rng = random.Random(config.seed)
        self._window: int | None = None
        self._counter: TokenCounter | None = None
        self._init_lock = threading.Lock()

    # -- model facts -------------------------------------------------------
    @property
    def context_window(self) -> int:
        if self._window is None:
            window = self.config.context_window
            if window is None:
                try:
                    info = litellm_module().get_model_info(self.config.model)
                    window = int(info.get("max_input_tokens") or info.get("max_tokens") or 0) or None
                except Exception:  # unknown model: litellm raises
                    window = None
            self._window = window or 32768
        return self._window

    @property
    def counter(self) -> TokenCounter:
        with self._init_lock:
            if self._counter is None:
                litellm = litellm_module()
                model = self.config.model

                def count(text: str) -> int:
                    try:
                        return int(litellm.token_counter(model=model, text=text))
                    except Exception:
                        return len(text) // 3 + 1

                self._counter = TokenCounter(count)
            return self._counter

    def prompt_budget(self) -> int:
        """Prompt tokens allowed: the window minus the reply, with a small safety margin."""
        return max(256, int((self.context_window - self.config.max_tokens) * 0.95) - 16)

    def start(self, task: Task, sandbox: Sandbox) -> LiteLLMAgent:
        return LiteLLMAgent(self)

    # -- one completion, with context fitting and retries -------------------
    def complete(self, messages: list[Message]) -> Completion:
        litellm = litellm_module()
        cfg = self.config
        budget = self.prompt_budget()
        view, note = fit_messages(messages, budget, self.counter)
        kwargs: dict[str, Any] = {
            "model": cfg.model,
            "temperature": cfg.temperature,
            "max_tokens": cfg.max_tokens,
            "timeout": cfg.request_timeout_s,
            "max_retries": 0,  # the SDK's own retries would hide attempts from us
            "num_retries": 0,
        }
        if cfg.top_p is not None:
            kwargs["top_p"] = cfg.top_p
        if cfg.seed is not None:
            kwargs["seed"] = cfg.seed
        if cfg.api_base:
            kwargs["api_base"] = cfg.api_base
        if cfg.api_key_env:
            key = os.environ.get(cfg.api_key_env)
            if not key:
                raise PolicyError(f"the environment variable {cfg.api_key_env} (api_key_env) is not set")
            kwargs["api_key"] = key
        gate = model_gate(cfg.model, cfg.concurrency)
        retries = 0
        shrinks = 0
        while True:
            try:
                with gate:
                    resp = litellm.completion(messages=view, **kwargs)
                break
            except litellm.ContextWindowExceededError as exc:
                # our estimate of the window or of token counts was off: shrink and try again
                shrinks += 1
                if shrinks > 4:
                    raise PolicyError(f"the prompt does not fit the model's context window: {exc}") from exc
                limit = _reported_limit(str(exc))
                if limit is not None and limit < self.context_window:
                    self._window = limit  # remember the real window for later turns
                    budget = min(int(budget * 0.9), self.prompt_budget())
                else:
                    budget = int(min(budget, self.counter.messages(view)) * 0.7)
                view, fit_note = fit_messages(messages, budget, self.counter)
                note = f"{fit_note} after the server rejected the prompt as too long"
            except Exception as exc:
                if not is_transient(exc) or retries >= cfg.max_retries:
                    kind = "transient" if is_transient(exc) else "non-transient"
                    raise PolicyError(
                        f"{kind} API error after {retries} retr{'y' if retries == 1 else 'ies'}: "
                        f"{type(exc).__name__}: {str(exc)[:300]}"
                    ) from exc
                delay = min(cfg.backoff_max_s, cfg.backoff_s * (2**retries)) * (0.5 + self._rng.random() / 2)
                retries += 1
                time.sleep(delay)
        text = resp.choices[0].message.content or ""
        usage = getattr(resp, "usage", None)
        p_tok = int(getattr(usage, "prompt_tokens", 0) or 0) or self.counter.messages(view)
        c_tok = int(getattr(usage, "completion_tokens", 0) or 0) or self.counter.text(text)
        return Completion(text, p_tok, c_tok, self._cost(resp, p_tok, c_tok), retries, note)

    def _cost(self, resp: Any, p_tok: int, c_tok: int) -> float:
        cfg = self.config
        if cfg.input_cost_per_mtok is not None or cfg.output_cost_per_mtok is not None:
            return (p_tok * (cfg.input_cost_per_mtok or 0.0) + c_tok * (cfg.output_cost_per_mtok or 0.0)) / 1e6
        try:
            return float(litellm_module().completion_cost(completion_response=resp) or 0.0)
        except Exception:  # a model litellm has no price for
            return 0.0


class LiteLLMAgent:
    """One episode's conversation with the model."""

    def __init__(self, policy: LiteLLMPolicy) -> None:
        self.policy = policy
        self.messages: list[Message] = []

    def act(self, observation: str) -> Any:
        from litecore.rollout import AgentReply

        self.messages.append({"role": "user", "content": observation})
        done = self.policy.complete(self.messages)
        self.messages.append({"role": "assistant", "content": done.text})
        parsed = parse_reply(done.text)
        notes = []
        if parsed.error:
            notes.append(parsed.error)
        if done.context_note:
            notes.append(done.context_note)
        if done.retries:
            notes.append(f"{done.retries} transient API error(s) retried")
        notes.extend(parsed.warnings)
        return AgentReply(
            reply=done.text,
            action=parsed.action,
            prompt_tokens=done.prompt_tokens,
            completion_tokens=done.completion_tokens,
            cost_usd=done.cost_usd,
            note="; ".join(notes) or None,
        )


def _factory(config: LiteLLMConfig | Mapping[str, Any] | None = None) -> LiteLLMPolicy:
    if config is None:
        raise PolicyError("the litellm policy needs a model: set [rollout.litellm] model = \"provider/name\"")
    if isinstance(config, Mapping):
        config = LiteLLMConfig(**config)
    return LiteLLMPolicy(config)


@litecore.hookimpl
def litecore_policies() -> list[PolicyPlugin]:
    return [
        PolicyPlugin(
            name="litellm",
            factory=_factory,
            config=LiteLLMConfig,
            description="any chat model through litellm (providers, vLLM, OpenAI-compatible servers), Terminus-2 JSON",
        )
    ]
