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


_converter = cattrs.Converter(forbid_extra_keys=True)


def trajectory_to_dict(t: Trajectory) -> dict[str, Any]:
    return _converter.unstructure(t)


def trajectory_from_dict(d: Mapping[str, Any]) -> Trajectory:
    return _converter.structure(dict(d), Trajectory)


def dumps(t: Trajectory) -> str:
    return json.dumps(trajectory_to_dict(t), ensure_ascii=False)


def loads_many(lines: Sequence[str]) -> list[Trajectory]:
    return [trajectory_from_dict(json.loads(line)) for line in lines if line.strip()]


def observation_text(outputs: Sequence[str]) -> str:
    """What the agent sees after its commands ran (Terminus-2's wording, in our words)."""
    body = "".join(outputs)
    return "New terminal output:\n" + (body if body.strip() else "(no output)\n")
