"""The DMPO objective, in pieces small enough to test one by one.

    L = -log sigmoid(beta * [ sum_t phi(t, T_w) (log pi(a_t^w|s_t^w) - log ref(a_t^w|s_t^w))
                            - sum_t phi(t, T_l) (log pi(a_t^l|s_t^l) - log ref(a_t^l|s_t^l)) ])

A turn's log-prob is the sum of its token log-probs, so the weighted sum over
turns equals a sum over tokens with every token of turn t weighted phi(t, T)
and every non-assistant token weighted 0. The trainer works with those token
weights; :func:`per_turn_logps` keeps the per-turn view for checks.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F


def phi(t: int, T: int, gamma: float) -> float:
    """Weight of turn ``t`` (0-based) in a trajectory of ``T`` assistant turns."""
    if not 0 <= t < T:
        raise ValueError(f"turn {t} outside a trajectory of {T} turns")
    if gamma == 1.0:
        return (T - t) / T
    return gamma**t * (1.0 - gamma ** (T - t)) / (1.0 - gamma**T)


def turn_weights(T: int, gamma: float) -> list[float]:
    return [phi(t, T, gamma) for t in range(T)]


def assistant_runs(mask: Sequence[int]) -> list[tuple[int, int]]:
    """``[start, end)`` of each run of 1s: one run per assistant turn."""
    runs, start = [], None
    for i, m in enumerate(mask):
        if m and start is None:
            start = i
        elif not m and start is not None:
            runs.append((start, i))
            start = None
    if start is not None:
        runs.append((start, len(mask)))
    return runs


def token_weights(mask: Sequence[int], gamma: float, *, scored_from: int = 0) -> tuple[list[float], int]:
    """Per-token weights for one trajectory, and its turn count ``T``.

    Turns are counted over the whole sequence; turns that end at or before
    ``scored_from`` (the shared prompt, when it is not scored) get weight 0.
    """
    runs = assistant_runs(mask)
    T = len(runs)
    weights = [0.0] * len(mask)
    for t, (start, end) in enumerate(runs):
        if end <= scored_from:
            continue
        w = phi(t, T, gamma)
        for i in range(max(start, scored_from), end):
            weights[i] = w
    return weights, T


def common_prefix_length(a: Sequence[int], b: Sequence[int]) -> int:
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


def _chat_ids(tokenizer: Any, messages: list[dict[str, str]], **kwargs: Any) -> dict[str, list[int]]:
    out = tokenizer.apply_chat_template(messages, tokenize=True, return_dict=True, **kwargs)
    return {k: list(v) for k, v in out.items()}


def tokenize_pair(example: dict[str, Any], tokenizer: Any, gamma: float, score_prompt_turns: bool) -> dict[str, Any]:
    """One preference pair to ``prompt_ids``, ``chosen_ids``, ``rejected_ids`` (as TRL's DPO
    expects) plus full-sequence ``chosen_weights`` / ``rejected_weights`` and turn counts."""
    prompt = _chat_ids(tokenizer, example["prompt"], add_generation_prompt=True)["input_ids"]
    sides = {}
    for side in ("chosen", "rejected"):
        full = _chat_ids(tokenizer, example["prompt"] + example[side], return_assistant_tokens_mask=True)
        sides[side] = (full["input_ids"], full["assistant_masks"])
    prompt_len = min(common_prefix_length(prompt, sides["chosen"][0]),
                     common_prefix_length(prompt, sides["rejected"][0]))
    out: dict[str, Any] = {"prompt_ids": sides["chosen"][0][:prompt_len]}
    for side, (ids, mask) in sides.items():
        weights, T = token_weights(mask, gamma, scored_from=0 if score_prompt_turns else prompt_len)
        out[f"{side}_ids"] = ids[prompt_len:]
        out[f"{side}_weights"] = weights
        out[f"{side}_turns"] = T
    return out


def weighted_logps(per_token_logps: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """sum_i w_i log p_i per row; ``per_token_logps[:, j]`` scores token ``j + 1``, so the
    weights (aligned with ``input_ids``) are shifted by one."""
    shifted = weights[:, 1:].to(per_token_logps.dtype)
    return (per_token_logps[:, -shifted.size(1):] * shifted).sum(dim=1)


def per_turn_logps(token_logps: Sequence[float], mask: Sequence[int]) -> list[float]:
    """Sum of token log-probs per assistant turn (token-aligned, no shift)."""
    return [float(sum(token_logps[s:e])) for s, e in assistant_runs(mask)]


def dmpo_loss(policy_chosen: torch.Tensor, policy_rejected: torch.Tensor,
              ref_chosen: torch.Tensor, ref_rejected: torch.Tensor, beta: float) -> torch.Tensor:
    """Per-pair loss from phi-weighted log-prob sums."""
    margin = (policy_chosen - ref_chosen) - (policy_rejected - ref_rejected)
    return -F.logsigmoid(beta * margin)
