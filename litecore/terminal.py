"""A keystroke-level terminal: tmux inside the sandbox, with completion-aware waiting.

Terminus-2 types an agent's keystrokes into a tmux pane and then sleeps the
duration the model asked for, whether the command needed it or not. Here the
pane's shell reports when it is idle again: its ``PROMPT_COMMAND`` bumps a
counter (written to a state file) and writes a line to a FIFO the shell keeps
open, but only when no typed-ahead input is pending (``read -t 0``), so a
multi-line batch counts as finished only after its last line ran. The waiter in
the sandbox blocks on that FIFO with ``read -t`` (a bash builtin: no polling, no
forks) until the counter moved or the duration ran out; the command then keeps
running, exactly as in Terminus-2. (``tmux wait-for`` is not used: a waiter
killed by a timeout stays registered in the tmux server and swallows the next
signal.)

Everything runs through ``sandbox.exec`` (one round trip per keystroke batch), so
any backend whose environment has ``tmux`` (and bash 5) works.
"""

from __future__ import annotations

import re
import secrets
import shlex
import time

from litecore.errors import SandboxUnavailable
from litecore.rollout import SessionTerminal, Terminal
from litecore.sandbox import Sandbox
from litecore.trajectory import CommandResult

#: What the agent sees per keystroke batch (Terminus-2 keeps 10 KB too).
MAX_OBSERVATION_BYTES = 10_000
#: Terminus-2 caps the duration a model may ask for.
MAX_DURATION_S = 60.0

#: Keystrokes that are one tmux key name (``C-c``, ``Enter``, ``Up``...) are sent as that key.
_KEY_NAME = re.compile(
    r"^(?:(?:C|M|S)-)*(?:[A-Za-z0-9\[\]\\^_@?]|Enter|Escape|Tab|BTab|BSpace|Space|Up|Down|Left|Right|Home|End|"
    r"PageUp|PageDown|PgUp|PgDn|PPage|NPage|IC|DC|Insert|Delete|F[1-9]|F1[0-2])$"
)

_SEP = "\x1eLITECORE-TMUX\x1e"


def is_key_name(keystrokes: str) -> bool:
    """True for a single special key (``C-c``, ``Escape``); plain text like ``ls`` is typed."""
    if not keystrokes or keystrokes != keystrokes.strip():
        return False
    if len(keystrokes) == 1:
        return False  # one character is literal text
    return bool(_KEY_NAME.match(keystrokes))


def limit_output(text: str, limit: int = MAX_OBSERVATION_BYTES) -> str:
    """Keep the head and the tail of ``text`` within ``limit`` bytes, saying how much was cut."""
    data = text.encode("utf-8", "replace")
    if len(data) <= limit:
        return text
    half = limit // 2
    cut = len(data) - 2 * half
    return (
        data[:half].decode("utf-8", "ignore")
        + f"\n[... {cut} bytes of output not shown: the output was longer than {limit} bytes ...]\n"
        + data[-half:].decode("utf-8", "ignore")
    )


class TmuxTerminal:
    """A tmux pane (``160x40`` by default) running an interactive bash in the sandbox.

    ``wait="complete"`` (default) returns when the shell is idle or the duration ran
    out; ``wait="sleep"`` sleeps out every duration like Terminus-2 (the baseline).
    """

    def __init__(
        self,
        sandbox: Sandbox,
        *,
        width: int = 160,
        height: int = 40,
        wait: str = "complete",
        max_duration: float = MAX_DURATION_S,
        max_output_bytes: int = MAX_OBSERVATION_BYTES,
        history_limit: int = 50_000,
    ) -> None:
        if wait not in ("complete", "sleep"):
            raise ValueError(f"wait must be 'complete' or 'sleep', not {wait!r}")
        self.sandbox = sandbox
        self.wait = wait
        self.max_duration = max_duration
        self.max_output_bytes = max_output_bytes
        self._dir = f"/tmp/.litecore-tmux-{secrets.token_hex(4)}"
        self._tmux = f"tmux -S {self._dir}/sock"
        self._closed = False
        self._start(width, height, history_limit)

    # -- setup -------------------------------------------------------------
    def _start(self, width: int, height: int, history_limit: int) -> None:
        d = self._dir
        rc = "\n".join(
            [
                "[ -f /etc/bash.bashrc ] && . /etc/bash.bashrc",
                "[ -f ~/.bashrc ] && . ~/.bashrc",
                # keystrokes are typed, so history expansion ('!') and tab completion would garble scripts
                "set +H",
                "bind 'set disable-completion on' 2>/dev/null",
                "bind 'set enable-bracketed-paste off' 2>/dev/null",
                r"PS1='\u@sandbox:\w\$ '",
                # the wake-up FIFO stays open in this shell, so lines wait there for the next reader
                f"exec 9<>{d}/wake",
                "__lc_prompt() {",
                "  local rc=$?",
                "  if ! read -t 0 2>/dev/null; then",
                "    __lc_n=$((__lc_n+1))",
                # the prompt about to be drawn (its last line), so a capture can wait until it shows
                "    local p=\"${PS1@P}\"",
                f"    printf '%s' \"${{p##*$'\\n'}}\" > {d}/prompt",
                f"    printf '%s %s\\n' \"$__lc_n\" \"$rc\" > {d}/state",
                "    printf '%s\\n' \"$__lc_n\" >&9",
                "  fi",
                "  return $rc",
                "}",
                'PROMPT_COMMAND="__lc_prompt${PROMPT_COMMAND:+;$PROMPT_COMMAND}"',
                "",
            ]
        )
        conf = f"set -g history-limit {history_limit}\nset -g status off\nset -g default-terminal xterm-256color\n"
        workdir = shlex.quote(self.sandbox.workdir)
        script = "\n".join(
            [
                "command -v tmux >/dev/null 2>&1 || { echo 'litecore: tmux is not installed'; exit 3; }",
                f"mkdir -p {d} && cd {workdir} && mkfifo {d}/wake || exit 4",
                f"printf '%s' {shlex.quote(rc)} > {d}/rc",
                f"printf '%s' {shlex.quote(conf)} > {d}/tmux.conf",
                f"{self._tmux} -f {d}/tmux.conf new-session -d -s lc -x {width} -y {height} -c {workdir} "
                f"\"bash --noprofile --rcfile {d}/rc -i\" || exit 5",
                # the first prompt marks the shell ready
                f"timeout 10 bash -c 'until [ -s {d}/state ]; do sleep 0.005; done' || exit 6",
            ]
        )
        res = self.sandbox.exec(script, timeout=20)
        if res.exit_code == 3:
            raise SandboxUnavailable(
                "the tmux terminal needs tmux in the task's environment (apt-get install -y tmux); "
                "use the line-mode SessionTerminal otherwise"
            )
        if not res.ok:
            raise RuntimeError(f"could not start tmux in the sandbox (exit {res.exit_code}): {res.output[-300:]}")

    # -- the Terminal protocol ---------------------------------------------
    def screen(self) -> str:
        """The visible pane, trailing blank lines dropped."""
        res = self.sandbox.exec(f"{self._tmux} capture-pane -p -J -t lc", timeout=10)
        return _trim(res.output)

    def _waiting(self, wait_s: float) -> str:
        """Shell that sets ``w`` to 0 once the counter passed ``n0``, or 124 when ``wait_s`` ran out."""
        if self.wait == "sleep":
            return f"sleep {wait_s:.3f}; w=124"
        d = self._dir
        return "\n".join(
            [
                f"exec 8<>{d}/wake; w=124",
                f"end=$(( ${{EPOCHREALTIME/[.,]/}} + {int(wait_s * 1_000_000)} ))",
                "while :; do",
                f"  read -r n rc < {d}/state",
                '  if [ "${n:-0}" -gt "$n0" ]; then w=0; break; fi',
                "  rem=$(( end - ${EPOCHREALTIME/[.,]/} ))",
                "  [ $rem -gt 0 ] || break",
                "  printf -v t '%d.%06d' $((rem / 1000000)) $((rem % 1000000))",
                '  read -r -t "$t" -u 8 _',
                "done",
                "exec 8<&-",
            ]
        )

    def send(self, keystrokes: str, duration: float, budget: float) -> tuple[str, CommandResult]:
        """Type ``keystrokes``; wait until the shell is idle or ``duration`` (capped) ran out."""
        if self._closed:
            return "", CommandResult(exit_code=None, timed_out=False, duration_s=0.0)
        wait_s = max(0.0, min(float(duration or 0.0), self.max_duration, budget))
        t = self._tmux
        d = self._dir
        # one tmux client call: where the prompt is now, then the keystrokes
        where = f"{t} display -p -t lc '#{{history_size}} #{{cursor_y}}'"
        if is_key_name(keystrokes):
            typing = f"pos=$({where} \\; send-keys -t lc {shlex.quote(keystrokes)})"
        elif keystrokes:
            typing = (
                f"pos=$(printf '%s' {shlex.quote(keystrokes)} | {where} \\; load-buffer -b lcin - \\; "
                f"paste-buffer -d -b lcin -t lc)"
            )
        else:
            typing = f"pos=$({where})"
        script = "\n".join(
            [
                f"read -r n0 rc0 < {d}/state; n0=${{n0:-0}}",
                typing,
                self._waiting(wait_s),
                f"read -r n1 rc1 < {d}/state",
                # the prompt is drawn just after PROMPT_COMMAND ran: wait (up to about 2 s) until the
                # cursor's line ends with it, so what is captured never depends on timing
                f"IFS= read -r pr < {d}/prompt 2>/dev/null; pr=\"${{pr%\"${{pr##*[![:space:]]}}\"}}\"",
                # a prompt with escapes (colours) never matches the captured text: do not wait for it
                "case \"$pr\" in *$'\\001'*|*$'\\e'*) pr= ;; esac",
                "for i in $(seq 200); do",
                # the prompt sits on the last non-blank line of the pane (wrapped lines joined)
                f"  mapfile -t L < <({t} display -p -t lc '#{{history_size}}' \\; capture-pane -p -J -t lc)",
                '  now=${L[0]}',
                '  [ "$w" != 0 ] || [ -z "$pr" ] && break',
                '  line=; for ((j = ${#L[@]} - 1; j > 0; j--)); do [ -n "${L[j]//[[:space:]]/}" ] && { line=${L[j]}; break; }; done',
                '  line="${line%"${line##*[![:space:]]}"}"',
                '  case "$line" in *"$pr") break ;; esac',
                "  sleep 0.005",
                "done",
                "set -- $pos; start=$(( $1 + $2 - now ))",
                "[ $start -lt -$now ] && start=-$now",
                f"printf '%s %s %s\\n{_SEP}' \"$w\" \"${{n1:-0}}\" \"${{rc1:-}}\"",
                f"{t} capture-pane -p -J -t lc -S $start -E -",
            ]
        )
        t0 = time.monotonic()
        res = self.sandbox.exec(script, timeout=wait_s + 15.0)
        elapsed = time.monotonic() - t0
        head, sep, body = res.output.partition(_SEP)
        if not sep:  # the sandbox did not answer as expected (stopped, wedged)
            return limit_output(res.output, self.max_output_bytes), CommandResult(
                exit_code=None, timed_out=True, duration_s=elapsed
            )
        fields = head.split()
        finished = self.wait == "sleep" or (bool(fields) and fields[0] == "0")
        code: int | None = None
        if finished and len(fields) >= 3 and fields[2].lstrip("-").isdigit():
            code = int(fields[2])
        text = limit_output(_trim(body), self.max_output_bytes)
        return text, CommandResult(exit_code=code, timed_out=not finished, duration_s=elapsed)

    def current_command(self) -> str:
        """The pane's foreground program (``bash`` when idle), for tests and diagnostics."""
        res = self.sandbox.exec(f"{self._tmux} display -p -t lc '#{{pane_current_command}}'", timeout=10)
        return res.output.strip()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.sandbox.exec(f"{self._tmux} kill-server >/dev/null 2>&1; rm -rf {self._dir}", timeout=10)


def _trim(text: str) -> str:
    lines = [ln.rstrip() for ln in text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines) + ("\n" if lines else "")


def tmux_terminal(sandbox: Sandbox) -> TmuxTerminal:
    """A :data:`litecore.rollout.TerminalFactory` giving completion-aware tmux terminals."""
    return TmuxTerminal(sandbox)


def sleeping_tmux_terminal(sandbox: Sandbox) -> TmuxTerminal:
    """The Terminus-2 baseline: every duration is slept out."""
    return TmuxTerminal(sandbox, wait="sleep")


def auto_terminal(sandbox: Sandbox) -> Terminal:
    """tmux when the environment has it, else the line-mode session terminal (never fails on tmux)."""
    try:
        return TmuxTerminal(sandbox)
    except SandboxUnavailable:
        return SessionTerminal(sandbox)


#: Terminal factories by the name the CLI and pipeline.toml use.
TERMINALS = {"auto": auto_terminal, "tmux": tmux_terminal, "tmux-sleep": sleeping_tmux_terminal,
             "line": SessionTerminal}
