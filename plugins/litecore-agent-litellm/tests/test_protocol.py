"""Lenient parsing of Terminus-2 replies and context fitting."""

from __future__ import annotations

import pytest

from litecore_agent_litellm.protocol import TokenCounter, fit_messages, parse_reply

GOOD = '{"analysis": "a", "plan": "p", "commands": [{"keystrokes": "ls\\n", "duration": 0.5}], "task_complete": false}'


def test_plain_json() -> None:
    p = parse_reply(GOOD)
    assert p.error is None and p.warnings == ()
    assert p.action.commands[0].keystrokes == "ls\n" and p.action.commands[0].duration == 0.5


@pytest.mark.parametrize(
    "text",
    [
        f"```json\n{GOOD}\n```",
        f"Here you go:\n```\n{GOOD}\n```\nGood luck.",
        f"Let me look around. {GOOD}",
        f"<think>the user wants {{ls}}</think>\n{GOOD}",
    ],
)
def test_lenient_forms(text: str) -> None:
    p = parse_reply(text)
    assert p.error is None, p.error
    assert p.action.commands[0].keystrokes == "ls\n"


def test_string_booleans_and_durations_are_coerced_and_capped() -> None:
    p = parse_reply('{"analysis": "", "plan": "", "commands": [{"keystrokes": "make\\n", "duration": "120"}], '
                    '"task_complete": "false"}')
    assert p.error is None and p.action.task_complete is False
    assert p.action.commands[0].duration == 60.0
    assert any("capped" in w for w in p.warnings)


def test_completion_without_commands() -> None:
    p = parse_reply('{"analysis": "done", "plan": "", "task_complete": true}')
    assert p.action.task_complete and p.action.commands == ()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("ls -la", "no JSON object"),
        ('{"analysis": "a", "plan": "p"}', "no 'commands'"),
        ('{"commands": "ls", "task_complete": false}', "must be a list"),
        ('{"commands": [{"cmd": "ls"}], "task_complete": false}', "keystrokes"),
        ('{"commands": [{"keystrokes": "ls", "duration": "soon"}]}', "duration"),
        ('{"commands": [], "task_complete": "maybe"}', "task_complete"),
    ],
)
def test_errors_say_what_is_wrong(text: str, message: str) -> None:
    p = parse_reply(text)
    assert p.action is None and message in p.error


def _counter() -> TokenCounter:
    return TokenCounter(lambda s: len(s) // 4 + 1)


def test_fit_keeps_small_conversations_untouched() -> None:
    msgs = [{"role": "user", "content": "task"}, {"role": "assistant", "content": "x"}]
    out, note = fit_messages(msgs, 1000, _counter())
    assert out == msgs and note is None


def test_fit_elides_oldest_observations_first_and_keeps_task_and_latest() -> None:
    msgs = [{"role": "user", "content": "TASK " * 10}]
    for i in range(5):
        msgs += [{"role": "assistant", "content": f"reply {i}"}, {"role": "user", "content": f"obs{i} " * 200}]
    c = _counter()
    out, note = fit_messages(msgs, 900, c)
    assert c.messages(out) <= 900
    assert out[0] == msgs[0] and out[-1] == msgs[-1]
    assert "elided" in out[2]["content"] and "elided" in out[4]["content"]
    assert "obs3" in out[-3]["content"]  # the newest old observations survive when they fit
    assert note.startswith("context: 2 earlier observation(s) elided")
    assert "obs2" in out[6]["content"]
    assert len(out) == len(msgs) and [m["role"] for m in out] == [m["role"] for m in msgs]


def test_fit_cuts_the_latest_observation_when_nothing_else_helps() -> None:
    msgs = [{"role": "user", "content": "task"}, {"role": "assistant", "content": "r"},
            {"role": "user", "content": "0123456789" * 2000}]
    c = _counter()
    out, note = fit_messages(msgs, 1000, c)
    assert c.messages(out) <= 1000 and "cut in the middle" in note
    assert out[-1]["content"].startswith("0123") and out[-1]["content"].endswith("789")
