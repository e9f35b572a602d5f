"""The Terminus-2 protocol on the model side: lenient reply parsing and context fitting.

Shared by every model-backed policy (litellm here, the local Hugging Face policy
too); it imports no model library.

Models wrap their JSON in code fences, put a sentence before it, think aloud in
``<think>`` tags or write ``"task_complete": "true"``. :func:`parse_reply` accepts
all of that and says precisely what was wrong otherwise, so the episode loop can
show the model an error observation and let it answer again.

:func:`fit_messages` keeps a growing conversation inside a model's context
window by eliding old terminal observations (oldest first), then cutting the
middle of the newest one; it returns a note for the trajectory saying what it did.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs

from litecore.trajectory import Action, Command

MAX_DURATION_S = 60.0
_THINK = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)
_FENCE = re.compile(r"```(?:json|JSON)?\s*\n?(.*?)```", re.DOTALL)
_KEYS = ("analysis", "plan", "commands", "task_complete")


@attrs.frozen
class Parsed:
    """A parsed reply: the action, or why there is none; ``warnings`` for tolerated oddities."""

    action: Action | None
    error: str | None = None
    warnings: tuple[str, ...] = ()


def _candidates(text: str) -> list[tuple[dict[str, Any], bool]]:
    """JSON objects in ``text``, each with whether text surrounded it."""
    found: list[tuple[dict[str, Any], bool]] = []
    stripped = text.strip()
    try:
        whole = json.loads(stripped)
        if isinstance(whole, dict):
            return [(whole, False)]
    except json.JSONDecodeError:
        pass
    for block in _FENCE.findall(text):
        try:
            obj = json.loads(block.strip())
        except json.JSONDecodeError:
            continue
        if isinstance(obj, dict):
            found.append((obj, True))
    if found:
        return found
    decoder = json.JSONDecoder()
    for m in re.finditer(r"\{", text):
        try:
            obj, end = decoder.raw_decode(text, m.start())
        except json.JSONDecodeError:
            continue
        if isinstance(obj, dict):
            found.append((obj, bool(text[: m.start()].strip() or text[end:].strip())))
    return found


def _as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "yes", "no"):
        return value.strip().lower() in ("true", "yes")
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    return None


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def parse_reply(text: str, *, max_duration: float = MAX_DURATION_S) -> Parsed:
    """Turn a model's reply into an :class:`~litecore.trajectory.Action`, leniently."""
    warnings: list[str] = []
    body = _THINK.sub("", text or "")
    if body != (text or ""):
        warnings.append("reasoning in <think> tags was ignored")
    objs = [(o, s) for o, s in _candidates(body) if any(k in o for k in _KEYS)]
    if not objs:
        if not body.strip():
            return Parsed(None, "the reply was empty; answer with one JSON object")
        return Parsed(
            None,
            "no JSON object with the keys analysis, plan, commands and task_complete was found in the reply",
        )
    obj, surrounded = objs[0]
    if surrounded:
        warnings.append("text around the JSON object was ignored")
    if len(objs) > 1:
        warnings.append(f"{len(objs)} JSON objects found; the first was used")
    complete = _as_bool(obj.get("task_complete", False))
    if complete is None:
        return Parsed(None, f"'task_complete' must be true or false, not {obj.get('task_complete')!r}")
    raw_cmds = obj.get("commands", [])
    if raw_cmds is None:
        raw_cmds = []
    if not isinstance(raw_cmds, list):
        return Parsed(None, f"'commands' must be a list of objects, not {type(raw_cmds).__name__}")
    if "commands" not in obj and not complete:
        return Parsed(None, "the reply has no 'commands' list and does not set 'task_complete' to true")
    commands: list[Command] = []
    for i, c in enumerate(raw_cmds):
        if isinstance(c, str):  # a bare string: tolerate, it is clearly keystrokes
            c = {"keystrokes": c}
            warnings.append(f"commands[{i}] was a string; taken as keystrokes")
        if not isinstance(c, Mapping) or not isinstance(c.get("keystrokes"), str):
            return Parsed(None, f"commands[{i}] must be an object with a string 'keystrokes'")
        duration = c.get("duration", 1.0)
        if isinstance(duration, str):
            try:
                duration = float(duration)
            except ValueError:
                return Parsed(None, f"commands[{i}].duration must be a number of seconds, not {duration!r}")
        if isinstance(duration, bool) or not isinstance(duration, (int, float)) or duration != duration:
            return Parsed(None, f"commands[{i}].duration must be a number of seconds")
        if duration > max_duration:
            warnings.append(f"commands[{i}].duration {duration:g}s capped at {max_duration:g}s")
        commands.append(Command(keystrokes=c["keystrokes"], duration=float(min(max(duration, 0.0), max_duration))))
    action = Action(
        analysis=_as_text(obj.get("analysis")),
        plan=_as_text(obj.get("plan")),
        commands=tuple(commands),
        task_complete=complete,
    )
    return Parsed(action, None, tuple(warnings))


# ---------------------------------------------------------------------------
# Context fitting
# ---------------------------------------------------------------------------

Message = dict[str, str]
ELIDED = "[terminal output of an earlier turn elided to fit the context window ({n} characters)]"


class TokenCounter:
    """Counts tokens per message with a cache (conversations re-send the same messages)."""

    def __init__(self, count_text: Callable[[str], int], per_message: int = 4) -> None:
        self._count = count_text
        self._cache: dict[str, int] = {}
        self.per_message = per_message

    def text(self, text: str) -> int:
        n = self._cache.get(text)
        if n is None:
            n = self._count(text)
            if len(self._cache) > 4096:
                self._cache.clear()
            self._cache[text] = n
        return n

    def messages(self, messages: Sequence[Mapping[str, str]]) -> int:
        return sum(self.per_message + self.text(m.get("content") or "") for m in messages)


def _cut_middle(text: str, keep_chars: int) -> str:
    if len(text) <= keep_chars:
        return text
    half = max(0, keep_chars // 2)
    return text[:half] + f"\n[... {len(text) - 2 * half} characters cut to fit the context window ...]\n" + text[-half:]


def fit_messages(
    messages: Sequence[Mapping[str, str]], budget: int, counter: TokenCounter
) -> tuple[list[Message], str | None]:
    """Messages that fit ``budget`` tokens, and a note when something had to go.

    The first message (the task) and the latest one are kept; observations in
    between are elided oldest first, then old assistant replies are shortened,
    and finally the latest observation's middle is cut.
    """
    msgs = [dict(m) for m in messages]
    before = counter.messages(msgs)
    if before <= budget:
        return msgs, None
    total = before
    elided = 0
    for i in range(1, len(msgs) - 1):
        if total <= budget:
            break
        m = msgs[i]
        if m["role"] == "user" and not m["content"].startswith("[terminal output of an earlier turn elided"):
            old = counter.text(m["content"])
            m["content"] = ELIDED.format(n=len(m["content"]))
            total += counter.text(m["content"]) - old
            elided += 1
    shortened = 0
    for i in range(1, len(msgs) - 1):
        if total <= budget:
            break
        m = msgs[i]
        if m["role"] == "assistant" and len(m["content"]) > 400:
            old = counter.text(m["content"])
            m["content"] = _cut_middle(m["content"], 300)
            total += counter.text(m["content"]) - old
            shortened += 1
    cut = False
    if total > budget and len(msgs) > 1:
        last = msgs[-1]
        for _ in range(12):
            if total <= budget:
                break
            old = counter.text(last["content"])
            over = total - budget
            keep = max(200, int(len(last["content"]) * max(0.0, 1 - (over + 16) / max(old, 1))) - 64)
            if keep >= len(last["content"]):
                keep = len(last["content"]) // 2
            last["content"] = _cut_middle(last["content"], keep)
            total += counter.text(last["content"]) - old
            cut = True
            if keep <= 200:
                break
    parts = []
    if elided:
        parts.append(f"{elided} earlier observation(s) elided")
    if shortened:
        parts.append(f"{shortened} earlier repl(ies) shortened")
    if cut:
        parts.append("the latest observation cut in the middle")
    note = f"context: {', '.join(parts) or 'nothing could be removed'} to fit {budget} tokens ({before} -> {total})"
    return msgs, note
