"""The tmux terminal inside a local sandbox: completion-aware waiting and Terminus-2 keystroke semantics."""

from __future__ import annotations

import time

import pytest

from litecore.task import Task
from litecore.terminal import MAX_OBSERVATION_BYTES, TmuxTerminal, auto_terminal, is_key_name, limit_output


@pytest.fixture
def term(ds_tasks: list[Task], local_backend):
    with local_backend.open(ds_tasks[0]) as sandbox:
        t = TmuxTerminal(sandbox)
        yield t
        t.close()


def test_returns_as_soon_as_a_short_command_finishes(term: TmuxTerminal) -> None:
    t0 = time.monotonic()
    out, res = term.send("sleep 0.2\n", 5.0, 100.0)
    elapsed = time.monotonic() - t0
    assert 0.2 <= elapsed < 1.5, elapsed
    assert res.exit_code == 0 and not res.timed_out
    assert "sleep 0.2" in out and out.rstrip().endswith(("$", "#"))


def test_the_observation_ends_with_the_new_prompt_whatever_the_timing(term: TmuxTerminal) -> None:
    """Output with and without a final newline, a changed prompt, a cd: each observation ends with
    the prompt the shell drew next (the capture waits for it), so the same commands give the same text."""
    for keys, prompt in [("printf '}'\n", "}root@sandbox:/app#"), ("echo done\n", "done\nroot@sandbox:/app#"),
                         ("cd /tmp\n", "root@sandbox:/tmp#"), ("PS1='ready> '\n", "ready>"),
                         ("printf 'x'\n", "xready>"), ("printf '%0158d' 0\n", "0ready>")]:  # wraps
        for _ in range(5):
            t0 = time.monotonic()
            out, res = term.send(keys, 5.0, 30.0)
            assert res.exit_code == 0 and out.rstrip().endswith(prompt), (keys, out)
            assert time.monotonic() - t0 < 1.0  # the prompt was recognised, not waited out


def test_long_command_returns_after_the_duration_and_keeps_running(term: TmuxTerminal) -> None:
    t0 = time.monotonic()
    out, res = term.send("sleep 10\n", 0.5, 100.0)
    elapsed = time.monotonic() - t0
    assert 0.45 <= elapsed < 1.5, elapsed
    assert res.timed_out and res.exit_code is None
    assert term.current_command() == "sleep"  # still running, as in Terminus-2
    # Ctrl-C interrupts it; the shell reports 130 and is idle again
    out, res = term.send("C-c", 2.0, 100.0)
    assert res.exit_code == 130 and not res.timed_out
    assert term.current_command() == "bash"


def test_a_multi_line_batch_finishes_after_its_last_line(term: TmuxTerminal) -> None:
    t0 = time.monotonic()
    out, res = term.send("echo one\nsleep 0.4\necho two\n", 5.0, 100.0)
    assert 0.4 <= time.monotonic() - t0 < 2.0
    assert "one" in out and "\ntwo\n" in out and res.exit_code == 0


def test_typed_text_is_literal_and_state_persists(term: TmuxTerminal) -> None:
    # '!' (history expansion), tabs and a heredoc survive typing; cd persists between batches
    out, res = term.send("mkdir -p /tmp/w && cd /tmp/w\nprintf 'a!b\\tc\\n' > f; cat <<'EOF' >> f\n\tx y\nEOF\n", 5, 100)
    out, res = term.send("pwd; cat -A f; false\n", 5, 100)
    assert "/tmp/w" in out and "a!b^Ic$" in out and "^Ix y$" in out
    assert res.exit_code == 1


def test_observation_is_the_new_output_and_limited_to_10kb(term: TmuxTerminal) -> None:
    term.send("echo first-marker\n", 5, 100)
    out, _ = term.send("echo second-marker\n", 5, 100)
    assert "second-marker" in out and "first-marker" not in out
    out, _ = term.send("seq 1 20000\n", 5, 100)
    assert len(out.encode()) <= MAX_OBSERVATION_BYTES + 200
    assert "bytes of output not shown" in out and "20000" in out


def test_budget_caps_the_wait(term: TmuxTerminal) -> None:
    t0 = time.monotonic()
    _, res = term.send("sleep 5\n", 30.0, 0.3)
    assert time.monotonic() - t0 < 1.5 and res.timed_out


def test_sleep_mode_sleeps_out_every_duration(ds_tasks: list[Task], local_backend) -> None:
    with local_backend.open(ds_tasks[0]) as sandbox:
        t = TmuxTerminal(sandbox, wait="sleep")
        t0 = time.monotonic()
        out, _ = t.send("echo hi\n", 0.8, 100.0)
        assert time.monotonic() - t0 >= 0.8 and "hi" in out
        t.close()


def test_key_names_and_limits() -> None:
    assert is_key_name("C-c") and is_key_name("Enter") and is_key_name("Escape") and is_key_name("M-x")
    assert not is_key_name("ls") and not is_key_name("q") and not is_key_name("C-c\n") and not is_key_name("")
    text = "x" * 30000
    cut = limit_output(text, 1000)
    assert len(cut) < 1200 and "29000 bytes" in cut


def test_auto_terminal_uses_tmux_here(ds_tasks: list[Task], local_backend) -> None:
    with local_backend.open(ds_tasks[0]) as sandbox:
        t = auto_terminal(sandbox)
        assert isinstance(t, TmuxTerminal)
        t.close()
