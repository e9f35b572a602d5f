"""Build a small log-summary command-line tool with exact flags, output format and exit codes.

easy: level counts over several files, with a minimum-level filter.
medium: plus malformed lines, a component filter and a top-N messages mode with a tie rule.
hard: plus JSON output, a time filter, reading stdin for "-", and exit code 2 for unreadable files.
"""

from __future__ import annotations

import json
import random
from typing import Any

from litecore.records import TaskDraft, TaskFamily, TaskRequest
from litecore.wording import pick
from litecore_plugin_coding.common import ident, py_literal

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
COMPONENTS = ("db", "api", "auth", "cache", "worker", "mailer", "billing", "search")
MESSAGES = ("connection slow", "retrying request", "cache miss", "user login", "token expired",
            "queue full", "job finished", "job started", "disk almost full", "config reloaded",
            "payment declined", "timeout talking to upstream", "rate limit hit")


def _logs(rng: random.Random, n: int, malformed: bool, day: int) -> tuple[str, list[dict[str, Any]]]:
    comps = rng.sample(COMPONENTS, 4)
    msgs = rng.sample(MESSAGES, 7)
    weights = [rng.randint(1, 6) for _ in msgs]
    t = rng.randint(0, 3600)
    lines, recs = [], []
    for _ in range(n):
        t += rng.randint(1, 400)
        ts = f"2024-05-{day:02d}T{t // 3600 % 24:02d}:{t // 60 % 60:02d}:{t % 60:02d}"
        lvl = rng.choices(LEVELS, weights=[3, 6, 3, 2, 1])[0]
        rec = {"ts": ts, "level": lvl, "comp": rng.choice(comps), "msg": rng.choices(msgs, weights=weights)[0]}
        recs.append(rec)
        lines.append(f"{ts} {lvl} [{rec['comp']}] {rec['msg']}")
        if malformed and rng.random() < 0.08:
            lines.append(rng.choice(["", "---- rotated ----", f"{ts} NOTICE [x] odd level",
                                     f"garbage {ident(rng)}", f"{ts} INFO missing component"]))
    if malformed:
        # at least one line that a loose parser would count
        lines.insert(rng.randrange(len(lines) + 1), f"2024-05-{day:02d}T23:59:59 INFO missing component")
    return "\n".join(lines) + "\n", recs


def _run(recs: list[dict[str, Any]], opts: dict[str, Any]) -> str:
    sel = [r for r in recs if LEVELS.index(r["level"]) >= LEVELS.index(opts.get("min", "DEBUG"))]
    if opts.get("comp"):
        sel = [r for r in sel if r["comp"] == opts["comp"]]
    if opts.get("since"):
        sel = [r for r in sel if r["ts"] >= opts["since"]]
    if opts.get("top"):
        counts: dict[str, int] = {}
        for r in sel:
            counts[r["msg"]] = counts.get(r["msg"], 0) + 1
        top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[: opts["top"]]
        if opts.get("json"):
            return json.dumps({"top": [[m, c] for m, c in top]})
        return "".join(f"{c} {m}\n" for m, c in top)
    lv = {l: sum(r["level"] == l for r in sel) for l in LEVELS}
    lv = {l: c for l, c in lv.items() if c}
    if opts.get("json"):
        return json.dumps({"levels": lv})
    return "".join(f"{l} {c}\n" for l, c in lv.items())


REFERENCE = r'''#!/usr/bin/env python3
"""logstat: summarise log files (see the task for the exact contract)."""
import argparse, json, re, sys
LEVELS = ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
LINE = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d) (DEBUG|INFO|WARNING|ERROR|CRITICAL) \[([^\]]+)\] (.+)$")
def main(argv=None):
    p = argparse.ArgumentParser(prog="logstat")
    p.add_argument("files", nargs="+")
    p.add_argument("--min-level", default="DEBUG", choices=LEVELS)
    p.add_argument("--component")
    p.add_argument("--top", type=int)
    p.add_argument("--json", action="store_true")
    p.add_argument("--since")
    a = p.parse_args(argv)
    recs = []
    for name in a.files:
        try:
            text = sys.stdin.read() if name == "-" else open(name, encoding="utf-8").read()
        except OSError:
            print(f"logstat: cannot read {name}", file=sys.stderr)
            return 2
        for line in text.splitlines():
            m = LINE.match(line)
            if m:
                recs.append(m.groups())
    sel = [r for r in recs if LEVELS.index(r[1]) >= LEVELS.index(a.min_level)
           and (a.component is None or r[2] == a.component) and (a.since is None or r[0] >= a.since)]
    if a.top:
        counts = {}
        for r in sel:
            counts[r[3]] = counts.get(r[3], 0) + 1
        top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[: a.top]
        if a.json:
            print(json.dumps({"top": [[m, c] for m, c in top]}))
        else:
            for m, c in top:
                print(c, m)
        return 0
    levels = {l: sum(r[1] == l for r in sel) for l in LEVELS}
    levels = {l: c for l, c in levels.items() if c}
    if a.json:
        print(json.dumps({"levels": levels}))
    else:
        for l, c in levels.items():
            print(l, c)
    return 0
if __name__ == "__main__":
    sys.exit(main())
'''


def generate(req: TaskRequest) -> TaskDraft:
    rng = req.rng
    d = req.difficulty
    malformed = d != "easy"
    n_files = 2 if d == "easy" else 3
    logs = [_logs(rng, rng.randint(40, 90), malformed, day=10 + i) for i in range(n_files)]
    sample, _ = _logs(rng, 25, malformed, day=1)
    names: list[str] = []
    while len(names) < len(logs):
        name = f"logs/{ident(rng)}.log"
        if name not in names and name != "logs/does-not-exist.log":
            names.append(name)
    allrecs = [r for _, recs in logs for r in recs]
    comps = sorted({r["comp"] for r in allrecs})
    cases: list[dict[str, Any]] = []

    def case(files: list[int], opts: dict[str, Any], stdin: int | None = None) -> None:
        recs = [r for i in files for r in logs[i][1]] + (logs[stdin][1] if stdin is not None else [])
        args = []
        if "min" in opts:
            args += ["--min-level", opts["min"]]
        if "comp" in opts:
            args += ["--component", opts["comp"]]
        if "top" in opts:
            args += ["--top", str(opts["top"])]
        if opts.get("json"):
            args += ["--json"]
        if "since" in opts:
            args += ["--since", opts["since"]]
        rng.shuffle(pairs := [args[i:i + 2] if args[i] != "--json" else [args[i]] for i in
                              [j for j in range(len(args)) if args[j].startswith("--")]])
        flat = [x for p in pairs for x in p]
        paths = [f"/tests/{names[i]}" for i in files] + (["-"] if stdin is not None else [])
        cases.append({"args": flat + paths, "stdin": names[stdin] if stdin is not None else None,
                      "out": _run(recs, opts), "code": 0})

    case([0], {})
    case([0, 1], {})
    case([1], {"min": "WARNING"})
    case([0, 1], {"min": rng.choice(["INFO", "ERROR"])})
    if d != "easy":
        case([2], {"comp": rng.choice(comps)})
        case([0, 1, 2], {"top": rng.randint(2, 4)})
        case([0, 2], {"top": rng.randint(3, 6), "comp": rng.choice(comps), "min": "INFO"})
        case([1], {"top": 50})
    if d == "hard":
        case([0, 1], {"json": True})
        case([2], {"json": True, "top": 3, "min": "WARNING"})
        mid = sorted(r["ts"] for r in logs[1][1])[len(logs[1][1]) // 2]
        case([0, 1, 2], {"since": mid})
        case([0], {"since": mid, "json": True}, stdin=1)
        cases.append({"args": [f"/tests/{names[0]}", "/tests/logs/does-not-exist.log"], "stdin": None,
                      "out": "", "code": 2})
    contract = [
        "`python3 /app/logstat.py [options] FILE [FILE ...]` reads the log files (format: "
        "`<YYYY-MM-DDTHH:MM:SS> <LEVEL> [<component>] <message>`, levels DEBUG < INFO < WARNING < ERROR < CRITICAL).",
        "Default output: one line `<LEVEL> <count>` per level that occurs, in severity order (lowest first); "
        "levels with no lines are not printed.",
        "`--min-level LEVEL`: ignore lines below LEVEL.",
    ]
    if d != "easy":
        contract += [
            "Lines that do not match the format (blank, rotated markers, unknown levels, missing component) are "
            "ignored.",
            "`--component NAME`: only lines of that component.",
            "`--top N`: instead of level counts, print the N most frequent messages as `<count> <message>`, most "
            "frequent first; ties are broken alphabetically by message. Filters apply before counting.",
        ]
    if d == "hard":
        contract += [
            "`--json`: print a single JSON object instead: `{\"levels\": {LEVEL: count, ...}}` or, with "
            "`--top`, `{\"top\": [[message, count], ...]}` (same order as the text output).",
            "`--since TIMESTAMP`: only lines whose timestamp is at or after TIMESTAMP (same format).",
            "A FILE of `-` means standard input.",
            "If any file cannot be read, print an error to stderr, print nothing on stdout and exit with "
            "status 2. Otherwise exit 0.",
        ]
    instruction = pick(rng, [
        "Write a command-line tool `/app/logstat.py` that summarises application logs.",
        "Our on-call engineers need `/app/logstat.py`, a small log summariser. Implement it.",
        "Implement the log summary CLI `/app/logstat.py` described below.",
    ]) + (" Sample input is in /app/sample.log. Flags may appear in any order before or after the files. "
          "Use only the Python standard library.\n\n" + "\n".join(f"- {c}" for c in contract) + "\n")
    solve = f"""# Look at the sample input to confirm the line format
cd /app && head -20 sample.log && awk '{{print $2}}' sample.log | sort | uniq -c

# Write the tool: argparse for flags, one regex for valid lines, filters, then counts
cat > /app/logstat.py <<'EOF'
{REFERENCE.strip()}
EOF
chmod +x /app/logstat.py

# Try it on the sample with a few flag combinations
cd /app && python3 logstat.py sample.log && python3 logstat.py --min-level WARNING sample.log
"""
    if d != "easy":
        solve += "\n# Top messages\ncd /app && python3 logstat.py sample.log --top 3\n"
    if d == "easy":
        wrong = solve.replace("LEVELS.index(r[1]) >= LEVELS.index(a.min_level)", "(a.min_level == 'DEBUG' or r[1] == a.min_level)")
    elif d == "medium":
        wrong = solve.replace(r"\[([^\]]+)\] (.+)$", r"\[?([^\] ]+)\]? (.+)$")
        assert wrong != solve
    else:
        wrong = solve.replace("            return 2\n", "            return 1\n")
    test_files = {names[i]: text for i, (text, _) in enumerate(logs)}
    tests = f"""import json
import os
import subprocess
import sys

import pytest

CASES = {py_literal(cases)}

# One interpreter compiles /app/logstat.py once and forks a child per case; each child runs it as
# `python3 /app/logstat.py ARGS < STDIN` would (argv, sys.path[0], a fresh __main__, stdin, stdout and
# stderr on fds 0-2, a 30 s alarm, SystemExit handling) without paying an interpreter start per case.
RUNNER = '''
import atexit, gc, json, os, signal, sys, traceback, types
import argparse, collections, re, shutil  # loaded once: what such tools (and argparse's help formatter) import
TOOL = "/app/logstat.py"
with open(TOOL, "rb") as f:
    code = compile(f.read(), TOOL, "exec")
jobs, out = json.loads(sys.argv[1]), sys.argv[2]
status = []
gc.freeze()  # a child's garbage collections then leave (and do not copy) the runner's own objects
for i, job in enumerate(jobs):
    pid = os.fork()
    if pid == 0:
        for fd, path, flags in ((0, job["stdin"] or os.devnull, os.O_RDONLY),
                                (1, f"{{out}}/{{i}}.out", os.O_WRONLY | os.O_CREAT | os.O_TRUNC),
                                (2, f"{{out}}/{{i}}.err", os.O_WRONLY | os.O_CREAT | os.O_TRUNC)):
            f = os.open(path, flags, 0o644)
            os.dup2(f, fd)
            os.close(f)
        signal.alarm(30)
        main = types.ModuleType("__main__")
        main.__file__, main.__cached__ = TOOL, None
        sys.modules["__main__"] = main
        sys.argv, sys.path[0], rc = [TOOL, *job["args"]], "/app", 0
        try:
            exec(code, main.__dict__)
        except SystemExit as e:
            if isinstance(e.code, int) or e.code is None:
                rc = e.code or 0
            else:
                print(e.code, file=sys.stderr)
                rc = 1
        except BaseException:
            traceback.print_exc()
            rc = 1
        atexit._run_exitfuncs()
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass
        os._exit(rc & 255)
    status.append(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
print(json.dumps(status))
'''


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    # (exit status, stdout, stderr) of every case
    if not os.path.isfile("/app/logstat.py"):
        pytest.fail("/app/logstat.py does not exist", pytrace=False)
    out = tmp_path_factory.mktemp("runs")
    jobs = [{{"args": c["args"], "stdin": c["stdin"] and "/tests/" + c["stdin"]}} for c in CASES]
    p = subprocess.run([sys.executable, "-c", RUNNER, json.dumps(jobs), str(out)],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30 * len(CASES) + 30)
    assert p.returncode == 0, p.stderr[-1000:]
    return [(rc, (out / f"{{i}}.out").read_text(), (out / f"{{i}}.err").read_text())
            for i, rc in enumerate(json.loads(p.stdout))]


@pytest.mark.parametrize("i", range(len(CASES)), ids=[" ".join(c["args"])[-60:] for c in CASES])
def test_cli(i, runs):
    case = CASES[i]
    returncode, stdout, stderr = runs[i]
    assert returncode == case["code"], stderr[-300:]
    if case["code"]:
        assert stdout == "" and stderr.strip()
    elif case["out"].startswith("{{"):
        assert json.loads(stdout) == json.loads(case["out"])
        assert list(json.loads(stdout).get("levels", {{}})) == list(json.loads(case["out"]).get("levels", {{}}))
    else:
        assert stdout.split("\\n") == case["out"].split("\\n")
"""
    return TaskDraft(instruction=instruction, app_files={"sample.log": sample}, solve=solve, wrong_solve=wrong,
                     tests=tests, test_files=test_files, tags=("python", "cli", "argparse", "logs"),
                     requires=("python3",))


FAMILY = TaskFamily(
    name="cli-tool",
    description="implement a log-summary CLI with exact flags, ordering rules, JSON output and exit codes",
    generate=generate,
    requires=("python3",),
)
