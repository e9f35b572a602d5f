"""What every litellm caller in litecore shares: a safe import, the transient-error rule,
and per-model concurrency gates. Plugins that call models (the ``litellm`` policy, the
``llm`` generator) use these, so they retry and throttle the same way."""

from __future__ import annotations

import os
import threading
from typing import Any

_gates: dict[str, threading.BoundedSemaphore] | None = None
_gates_lock = threading.Lock()


def litellm_module() -> Any:
    """Import litellm with its price table read from the wheel (no network fetch, no banner)."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm

    litellm.suppress_debug_info = True
    return litellm


def is_transient(exc: BaseException) -> bool:
    """Whether retrying could help: 5xx, 408/409/429, timeouts, dropped connections."""
    litellm = litellm_module()
    if isinstance(exc, litellm.ContextWindowExceededError):
        return False
    transient_types = (
        litellm.Timeout,
        litellm.APIConnectionError,
        litellm.RateLimitError,
        litellm.InternalServerError,
        litellm.ServiceUnavailableError,
        litellm.BadGatewayError,
    )
    if isinstance(exc, transient_types):
        return True
    status = getattr(exc, "status_code", None)
    return isinstance(status, int) and (status >= 500 or status in (408, 409, 429))


def model_gate(model: str, limit: int) -> threading.BoundedSemaphore:
    """The process-wide semaphore for one model (created on first use, not at import)."""
    global _gates
    with _gates_lock:
        if _gates is None:
            _gates = {}
        gate = _gates.get(model)
        if gate is None:
            gate = _gates[model] = threading.BoundedSemaphore(max(1, limit))
        return gate
