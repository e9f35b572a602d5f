"""LLM calls through litellm: cached by content, retried, rate-limited, accounted.

The cache is what makes an interrupted run cheap to resume: a call with the same model,
messages and sampling parameters returns the stored reply without contacting the model.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import attrs

from litecore.llm import is_transient, litellm_module, model_gate

from litecore_gen_llm.config import LLMGenConfig


class LLMError(Exception):
    """A call failed for good (after retries, or a non-transient error)."""


@attrs.frozen(kw_only=True)
class Reply:
    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    wall_s: float = 0.0
    cached: bool = False


class LLMClient:
    def __init__(self, config: LLMGenConfig, cache_dir: Path) -> None:
        self.config = config
        self.cache_dir = cache_dir
        self._rate_lock = threading.Lock()
        self._next_start = 0.0
        self.calls = 0
        self.cache_hits = 0

    # -- cache ---------------------------------------------------------------
    def _key(self, kind: str, payload: Any, temperature: float) -> str:
        blob = json.dumps({"kind": kind, "model": self.config.model, "payload": payload,
                           "temperature": temperature, "max_tokens": self.config.max_tokens}, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()

    def _cache_path(self, key: str) -> Path:
        return self.cache_dir / key[:2] / f"{key}.json"

    def _load(self, key: str) -> Reply | None:
        try:
            data = json.loads(self._cache_path(key).read_text())
        except (OSError, json.JSONDecodeError):
            return None
        return Reply(text=data["text"], prompt_tokens=data["prompt_tokens"],
                     completion_tokens=data["completion_tokens"], cost_usd=data["cost_usd"], cached=True)

    def _store(self, key: str, reply: Reply) -> None:
        path = self._cache_path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        with os.fdopen(fd, "w") as fh:
            json.dump(attrs.asdict(reply), fh)
        os.replace(tmp, path)

    # -- calls ---------------------------------------------------------------
    def chat(self, messages: list[dict[str, str]], *, temperature: float | None = None) -> Reply:
        t = self.config.temperature if temperature is None else temperature
        return self._call("chat", messages, t)

    def complete_raw(self, prompt: str, *, temperature: float | None = None, stop: list[str] | None = None) -> Reply:
        """Raw text completion (Magpie-style sampling needs it)."""
        t = self.config.sample_temperature if temperature is None else temperature
        return self._call("text", {"prompt": prompt, "stop": stop or []}, t)

    def _call(self, kind: str, payload: Any, temperature: float) -> Reply:
        key = self._key(kind, payload, temperature)
        cached = self._load(key)
        if cached is not None:
            self.cache_hits += 1
            return cached
        reply = self._with_retries(kind, payload, temperature)
        self._store(key, reply)
        return reply

    def _pace(self) -> None:
        rpm = self.config.requests_per_minute
        if rpm <= 0:
            return
        with self._rate_lock:
            now = time.monotonic()
            wait = self._next_start - now
            self._next_start = max(now, self._next_start) + 60.0 / rpm
        if wait > 0:
            time.sleep(wait)

    def _with_retries(self, kind: str, payload: Any, temperature: float) -> Reply:
        litellm = litellm_module()

        common = {
            "model": self.config.model,
            "temperature": temperature,
            "max_tokens": self.config.max_tokens,
            "timeout": self.config.request_timeout_sec,
            "num_retries": 0,
            "api_key": os.environ.get(self.config.api_key_env) or "none",
        }
        if self.config.api_base:
            common["api_base"] = self.config.api_base
        last: BaseException | None = None
        for attempt in range(self.config.max_retries + 1):
            self._pace()
            with model_gate(self.config.model, self.config.concurrency):
                t0 = time.monotonic()
                try:
                    if kind == "chat":
                        resp = litellm.completion(messages=payload, **common)
                        text = resp.choices[0].message.content or ""
                    else:
                        resp = litellm.text_completion(prompt=payload["prompt"], stop=payload["stop"] or None,
                                                       **common)
                        text = resp.choices[0].text or ""
                    wall = time.monotonic() - t0
                except Exception as exc:
                    last = exc
                    if not is_transient(exc) or attempt == self.config.max_retries:
                        raise LLMError(f"{type(exc).__name__}: {str(exc)[:300]}") from None
                    time.sleep(min(8.0, 0.25 * 2**attempt) * (0.5 + random.random()))
                    continue
            self.calls += 1
            usage = getattr(resp, "usage", None)
            try:
                cost = float(litellm.completion_cost(completion_response=resp) or 0.0)
            except Exception:
                cost = 0.0  # unknown model pricing (a local server)
            return Reply(text=text, prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
                         completion_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
                         cost_usd=cost, wall_s=wall)
        raise LLMError(f"{type(last).__name__}: {last}")
