"""Write a process supervisor: restart a crashing service with limits, backoff, logging, clean stop."""

from __future__ import annotations

from litecore.records import TaskDraft, TaskFamily, TaskRequest
from litecore.wording import bullets

from litecore_plugin_system_admin.families._util import SERVICES, one_of


def script(max_restarts: int, base: float, d: str, *, off_by_one: bool = False, double: bool = True,
           trap: bool = True) -> str:
    lines = ["#!/bin/bash", "# supervise a command: restart on failure (see the task for the policy)",
             'log=${SUPERVISE_LOG:-/app/supervise.log}', f"MAX={max_restarts}", f"BASE={base}", "child="]
    if d == "hard" and trap:
        lines.append('trap \'if [ -n "$child" ]; then kill -TERM "$child" 2>/dev/null; wait "$child"; fi; '
                     'echo stopped >> "$log"; exit 0\' TERM')
    lines += [
        "n=0",
        "while :; do",
        "  n=$((n + 1))",
        '  echo "start $n" >> "$log"',
        '  "$@" &',
        "  child=$!",
        '  wait "$child"',
        "  code=$?",
        "  child=",
        '  echo "exit $n $code" >> "$log"',
        '  [ "$code" -eq 0 ] && exit 0',
        f'  if [ "$n" -{"ge" if off_by_one else "gt"} "$MAX" ]; then',
        '    echo "giving up after $n runs" >> "$log"',
        '    exit "$code"',
        "  fi",
    ]
    if d != "easy":
        expr = "b*2^(k-1)" if double else "b"
        lines.append(f"  sleep \"$(awk -v b=\"$BASE\" -v k=\"$n\" 'BEGIN {{ print {expr} }}')\"")
    lines.append("done")
    return "\n".join(lines) + "\n"


SERVICE = """#!/bin/bash
# fake service: fails a few times, then (maybe) runs; see notes in the task
state=${1:-/tmp/flaky.state}
echo "$EPOCHREALTIME $$" >> "$state"
mapfile -t runs < "$state"
echo "flaky service run ${#runs[@]}"
if (( ${#runs[@]} >= 3 )); then exit 0; fi
exit 1
"""


def generate(req: TaskRequest) -> TaskDraft:
    rng = req.rng
    d = req.difficulty
    max_restarts = rng.randint(2, 4) if d == "easy" else rng.randint(2, 3)
    base = rng.choice([0.25, 0.3, 0.35])
    svc = rng.choice(SERVICES)
    fail_code = rng.choice([1, 2, 3, 7, 42])
    reqs = [
        "usage: `/app/supervise.sh COMMAND [ARGS...]`: run the command in the foreground of the supervisor",
        "if the command exits with status 0, the supervisor exits with status 0 (no restart)",
        f"if it exits with a non-zero status, start it again; at most {max_restarts} restarts "
        f"(so at most {max_restarts + 1} runs in total). When the restarts are used up, exit with the "
        "command's last exit status",
        "log to the file named by the environment variable `SUPERVISE_LOG` (default `/app/supervise.log`), "
        "appending exactly these lines: `start N` before run N (N counts from 1), `exit N STATUS` after it, "
        "and `giving up after N runs` when the restarts are used up",
    ]
    if d != "easy":
        reqs.append(f"before restart number k (k = 1, 2, ...) wait {base} * 2^(k-1) seconds "
                    f"(exponential backoff: {base}s, {base * 2:g}s, {base * 4:g}s, ...)")
    if d == "hard":
        reqs.append("when the supervisor receives SIGTERM it sends SIGTERM to the running command, waits for it "
                    "to end, appends `stopped` to the log, does not restart it, and exits with status 0")
    intro = one_of(rng, f"The `{svc}` service crashes now and then, and there is no systemd in this container.",
                   f"We need a tiny supervisor for `{svc}`, which sometimes dies on startup.",
                   f"Write a process supervisor for the flaky `{svc}` worker.")
    instruction = (f"{intro} Write an executable bash script `/app/supervise.sh`:\n\n{bullets(reqs)}\n\n"
                   "`/app/flaky.sh STATEFILE` is a fake service to try it with (it fails twice, then succeeds).\n")
    good = script(max_restarts, base, d)
    solve = f"""# Look at the fake service to know how it behaves
cat /app/flaky.sh; ls -la /app

# Write the supervisor: loop, log start/exit lines, stop on success or after the restart budget,
# back off exponentially, and forward SIGTERM to the child
cat > /app/supervise.sh <<'SH'
{good.rstrip()}
SH
chmod +x /app/supervise.sh

# Try it against the fake service with a private log
rm -f /tmp/st /tmp/sv.log && SUPERVISE_LOG=/tmp/sv.log /app/supervise.sh /app/flaky.sh /tmp/st; echo "rc=$?"; cat /tmp/sv.log
"""
    if d == "easy":
        bad = script(max_restarts, base, d, off_by_one=True)
    elif d == "medium":
        bad = script(max_restarts, base, d, double=False)
    else:
        bad = script(max_restarts, base, d, trap=False)
    wrong = f"cat > /app/supervise.sh <<'SH'\n{bad.rstrip()}\nSH\nchmod +x /app/supervise.sh\n"
    tests = f"""import os
import pathlib
import signal
import subprocess
import time

import pytest

MAX = {max_restarts}
BASE = {base}
BACKOFF = {d != "easy"!r}
HARD = {d == "hard"!r}
FAIL = {fail_code}

# the supervised test service (bash: no interpreter start-up per run): SVC STATE CODES; run n appends
# "<start time> <pid>" to STATE, exits with the n-th of the comma-separated CODES (the last one repeats)
# and appends its exit time to STATE.exit; a negative code hangs (the pid becomes a sleep) until killed
SERVICE = '''export LC_ALL=C
IFS=, read -r -a codes <<< "$2"
echo "$EPOCHREALTIME $$" >> "$1"
mapfile -t runs < "$1"
n=${{#runs[@]}}
code=${{codes[-1]}}
(( n <= ${{#codes[@]}} )) && code=${{codes[n - 1]}}
(( code < 0 )) && exec sleep 30
echo "$EPOCHREALTIME" >> "$1.exit"
exit "$code"
'''


def launch(tmp_path, codes):
    if not os.access("/app/supervise.sh", os.X_OK):
        pytest.fail("/app/supervise.sh is missing or not executable", pytrace=False)
    svc = tmp_path / "svc.sh"
    svc.write_text(SERVICE)
    log = tmp_path / "sup.log"
    state = tmp_path / "state"
    env = dict(os.environ, SUPERVISE_LOG=str(log))
    proc = subprocess.Popen(["/app/supervise.sh", "bash", str(svc), str(state), codes], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return proc, log, state


def starts(state):
    return [tuple(map(float, l.split())) for l in state.read_text().splitlines()] if state.exists() else []


def test_success_after_failures(tmp_path):
    proc, log, state = launch(tmp_path, f"{{FAIL}},{{FAIL}},0")
    assert proc.wait(timeout=30) == 0
    assert log.read_text().splitlines() == ["start 1", f"exit 1 {{FAIL}}", "start 2", f"exit 2 {{FAIL}}",
                                            "start 3", "exit 3 0"]


@pytest.fixture(scope="module")
def always_failing(tmp_path_factory):
    # one supervised run of a command that always fails, shared by the budget and backoff tests
    proc, log, state = launch(tmp_path_factory.mktemp("fail"), str(FAIL))
    return proc.wait(timeout=60), log, state


def test_gives_up_after_budget(always_failing):
    code, log, state = always_failing
    assert code == FAIL
    want = []
    for n in range(1, MAX + 2):
        want += [f"start {{n}}", f"exit {{n}} {{FAIL}}"]
    want.append(f"giving up after {{MAX + 1}} runs")
    assert log.read_text().splitlines() == want
    assert len(starts(state)) == MAX + 1


def test_immediate_success(tmp_path):
    proc, log, state = launch(tmp_path, "0")
    assert proc.wait(timeout=30) == 0
    assert log.read_text().splitlines() == ["start 1", "exit 1 0"]
"""
    if d != "easy":
        tests += """

def test_exponential_backoff(always_failing):
    _code, _log, state = always_failing
    begun = [t for t, _pid in starts(state)]
    ended = [float(x) for x in pathlib.Path(str(state) + ".exit").read_text().split()]
    gaps = [begun[k] - ended[k - 1] for k in range(1, len(begun))]
    assert len(gaps) == MAX
    for k, gap in enumerate(gaps, start=1):
        want = BASE * 2 ** (k - 1)
        assert want * 0.95 <= gap <= want + 1.5, (k, gap, want)
    # the growth itself, independent of process start-up overhead
    assert gaps[-1] - gaps[0] >= 0.75 * BASE * (2 ** (MAX - 1) - 1), gaps
"""
    if d == "hard":
        tests += """

def test_sigterm_stops_child(tmp_path):
    proc, log, state = launch(tmp_path, f"{FAIL},-1")
    deadline = time.time() + 20
    while len(starts(state)) < 2 and time.time() < deadline:
        time.sleep(0.05)
    assert len(starts(state)) == 2
    time.sleep(0.3)
    child = int(starts(state)[1][1])
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 0
    time.sleep(0.3)
    try:
        os.kill(child, 0)
        alive = pathlib.Path(f"/proc/{child}/stat").read_text().split()[2] != "Z"
    except ProcessLookupError:
        alive = False
    if alive:
        os.kill(child, signal.SIGKILL)
    assert not alive
    lines = log.read_text().splitlines()
    assert lines[-1] == "stopped" and "start 3" not in lines
"""
    return TaskDraft(
        instruction=instruction,
        app_files={"flaky.sh": SERVICE},
        executables=("flaky.sh",),
        solve=solve,
        wrong_solve=wrong,
        tests=tests,
        tags=("processes", "signals", "bash", "supervision"),
    )


FAMILY = TaskFamily(
    name="process-supervisor",
    description="write a supervisor that restarts a crashing service with limits, backoff and clean stop",
    generate=generate,
    requires=("bash", "python3", "awk"),
)
