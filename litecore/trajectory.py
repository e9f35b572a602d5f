"""Trajectories: what an agent did in a task, step by step, and their exports.

An agent speaks the Terminus-2 protocol: each turn it answers a JSON object with
``analysis``, ``plan``, ``commands`` (``keystrokes`` + ``duration``) and
``task_complete``; it then sees the terminal output. A :class:`Trajectory`
records every step with its timing and token counts and the verifier's reward;
it exports as chat ``messages`` (what TRL's SFTTrainer reads), ShareGPT
``conversations`` (the paper's release format) and Harbor's ATIF.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import cattrs

from litecore.sandbox import SANDBOX_FAILED

PROTOCOL = "terminus-2"

PROMPT_TEMPLATE = """\
You are operating a Linux terminal to complete a task. You see the task and the \
current terminal screen; you reply with shell keystrokes to send, and then see \
what the terminal printed.

Answer every turn with one JSON object and nothing else:
{{
  "analysis": "what the current output tells you and what remains to be done",
  "plan": "what the next commands will do and why",
  "commands": [{{"keystrokes": "ls -la\\n", "duration": 0.1}}],
  "task_complete": false
}}
- "keystrokes" are typed verbatim into the terminal; end a command with "\\n".
- "duration" is how many seconds to wait for the command (short for quick commands).
- Set "task_complete" to true, with no commands, once the task is done.

Task:
{instruction}
Current terminal state:
{screen}"""


@attrs.frozen(kw_only=True)
class Command:
    keystrokes: str
    duration: float = 1.0


@attrs.frozen(kw_only=True)
class Action:
    """One Terminus-2 reply."""

    analysis: str = ""
    plan: str = ""
    commands: tuple[Command, ...] = ()
    task_complete: bool = False

    def to_json(self) -> str:
        return json.dumps(
            {
                "analysis": self.analysis,
                "plan": self.plan,
                "commands": [{"keystrokes": c.keystrokes, "duration": c.duration} for c in self.commands],
                "task_complete": self.task_complete,
            },
            ensure_ascii=False,
            indent=2,
        )


@attrs.frozen(kw_only=True)
class CommandResult:
    exit_code: int | None
    timed_out: bool
    duration_s: float


@attrs.frozen(kw_only=True)
class Step:
    """One agent turn: what it said, what ran, what it saw next."""

    index: int
    #: The assistant message exactly as produced (the JSON action, or a malformed reply).
    reply: str
    action: Action | None
    observation: str
    started_at: float
    duration_s: float
    model_s: float = 0.0
    results: tuple[CommandResult, ...] = ()
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    #: Set when the reply could not be parsed, or context was truncated, etc.
    note: str | None = None


@attrs.frozen(kw_only=True)
class RewardRecord:
    reward: float | None
    rewards: Mapping[str, float] = attrs.field(factory=dict)
    error: str | None = None

    @property
    def partial(self) -> float:
        return float(self.rewards.get("fraction_passed", self.reward or 0.0))


@attrs.frozen(kw_only=True)
class Trajectory:
    id: str
    task_id: str
    task_name: str
    policy: str
    model: str = ""
    attempt: int = 0
    instruction: str
    prompt: str
    steps: tuple[Step, ...]
    reward: RewardRecord
    category: str = ""
    difficulty: str = ""
    started_at: float = 0.0
    duration_s: float = 0.0
    error: str | None = None
    protocol: str = PROTOCOL

    @property
    def passed(self) -> bool:
        return self.reward.reward is not None and self.reward.reward >= 1.0

    @property
    def sandbox_failed(self) -> bool:
        """Its sandbox failed on every try: what it shows is the infrastructure, not the agent."""
        return self.error is not None and self.error.startswith(SANDBOX_FAILED)

    # -- exports -----------------------------------------------------------
    def to_messages(self) -> list[dict[str, str]]:
        """Chat messages: the prompt, then assistant replies and terminal observations."""
        messages = [{"role": "user", "content": self.prompt}]
        for step in self.steps:
            messages.append({"role": "assistant", "content": step.reply})
            if step.observation:
                messages.append({"role": "user", "content": step.observation})
        if messages[-1]["role"] == "user" and len(messages) > 1:
            messages.pop()  # a dangling observation teaches nothing
        return messages

    def to_sft_row(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "task_id": self.task_id,
            "messages": self.to_messages(),
            "reward": self.reward.reward,
            "policy": self.policy,
            "category": self.category,
            "difficulty": self.difficulty,
        }

    def to_sharegpt(self) -> dict[str, Any]:
        role = {"user": "human", "assistant": "gpt", "system": "system"}
        return {
            "id": self.id,
            "conversations": [{"from": role[m["role"]], "value": m["content"]} for m in self.to_messages()],
        }

    def to_atif(self) -> dict[str, Any]:
        """Harbor's ATIF document for this trajectory (see :func:`to_atif`)."""
        return to_atif(self)


_converter = cattrs.Converter(forbid_extra_keys=True)


def trajectory_to_dict(t: Trajectory) -> dict[str, Any]:
    return _converter.unstructure(t)


def trajectory_from_dict(d: Mapping[str, Any]) -> Trajectory:
    return _converter.structure(dict(d), Trajectory)


def dumps(t: Trajectory) -> str:
    return json.dumps(trajectory_to_dict(t), ensure_ascii=False)


def loads(text: str) -> Trajectory:
    return trajectory_from_dict(json.loads(text))


def loads_many(lines: Sequence[str]) -> list[Trajectory]:
    return [loads(line) for line in lines if line.strip()]


def observation_text(outputs: Sequence[str]) -> str:
    """What the agent sees after its commands ran (Terminus-2's wording, in our words)."""
    body = "".join(outputs)
    return "New terminal output:\n" + (body if body.strip() else "(no output)\n")


# ---------------------------------------------------------------------------
# ATIF: Harbor's Agent Trajectory Interchange Format.
# ---------------------------------------------------------------------------

ATIF_VERSION = "ATIF-v1.4"


def _iso(ts: float) -> str:
    from datetime import datetime, timezone

    return datetime.fromtimestamp(ts, tz=timezone.utc).isoformat().replace("+00:00", "Z")


def to_atif(t: Trajectory) -> dict[str, Any]:
    """The trajectory as an ATIF document (validated by ``litecore/data/atif.schema.json``).

    The task prompt is step 1 (source ``user``); each agent turn is one ``agent``
    step whose keystroke batches are ``send_keystrokes`` tool calls and whose
    terminal output is the observation; a malformed reply has no tool calls and
    the error shown to the model as its observation. litecore's own fields
    (timings, notes, reward) go under ``extra``.
    """
    import litecore

    steps: list[dict[str, Any]] = [
        {"step_id": 1, "timestamp": _iso(t.started_at), "source": "user", "message": t.prompt}
    ]
    for s in t.steps:
        calls: list[dict[str, Any]] = []
        if s.action is not None:
            for j, c in enumerate(s.action.commands):
                calls.append({
                    "tool_call_id": f"call_{s.index}_{j}",
                    "function_name": "send_keystrokes",
                    "arguments": {"keystrokes": c.keystrokes, "duration": c.duration},
                })
            if s.action.task_complete:
                calls.append({"tool_call_id": f"call_{s.index}_done", "function_name": "mark_task_complete",
                              "arguments": {}})
        step: dict[str, Any] = {
            "step_id": len(steps) + 1,
            "timestamp": _iso(s.started_at),
            "source": "agent",
            "model_name": t.model or None,
            "message": s.reply,
            "metrics": {"prompt_tokens": s.prompt_tokens, "completion_tokens": s.completion_tokens,
                        "cost_usd": s.cost_usd},
            "extra": {
                "duration_s": s.duration_s,
                "model_s": s.model_s,
                "command_results": [attrs.asdict(r) for r in s.results],
                "note": s.note,
            },
        }
        if s.action is not None and s.action.analysis:
            step["reasoning_content"] = s.action.analysis
        if step["model_name"] is None:
            del step["model_name"]
        if calls:
            step["tool_calls"] = calls
        if s.observation:
            source = calls[-1]["tool_call_id"] if calls and s.action and s.action.commands else None
            step["observation"] = {"results": [{"source_call_id": source, "content": s.observation}]}
        steps.append(step)
    return {
        "schema_version": ATIF_VERSION,
        "session_id": t.id,
        "agent": {"name": t.policy, "version": litecore.__version__, "model_name": t.model or t.policy,
                  "extra": {"protocol": t.protocol, "harness": "litecore"}},
        "steps": steps,
        "final_metrics": {
            "total_prompt_tokens": sum(s.prompt_tokens for s in t.steps),
            "total_completion_tokens": sum(s.completion_tokens for s in t.steps),
            "total_cost_usd": sum(s.cost_usd for s in t.steps),
            "total_steps": len(steps),
            "extra": {"reward": t.reward.reward, "rewards": dict(t.reward.rewards),
                      "verifier_error": t.reward.error, "passed": t.passed},
        },
        "extra": {"task_id": t.task_id, "task_name": t.task_name, "attempt": t.attempt,
                  "category": t.category, "difficulty": t.difficulty, "duration_s": t.duration_s,
                  "error": t.error},
    }


def atif_schema() -> dict[str, Any]:
    """The JSON schema :func:`to_atif` output follows."""
    from importlib.resources import files

    return json.loads(files("litecore").joinpath("data/atif.schema.json").read_text())
