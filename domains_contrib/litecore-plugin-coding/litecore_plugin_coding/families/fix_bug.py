"""Fix the bugs behind a failing test suite (hidden tests check the behaviour, not the test files).

easy: one buggy function, its failing test shows the problem.
medium: two bugs in different modules.
hard: three bugs, and one of them has no visible test at all: only its docstring says what is right.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from typing import Any

import attrs

from litecore.records import TaskDraft, TaskFamily, TaskRequest
from litecore.wording import pick
from litecore_plugin_coding.common import PACKAGES, ident, py_literal

Cases = list[tuple[list[Any], Any]]


@attrs.frozen
class Bug:
    module: str
    func: str
    good: str
    bad: str
    cases: Callable[[random.Random], Cases]


def _words(rng: random.Random) -> Cases:
    vocab = ["apple", "river", "stone", "cloud", "amber", "delta", "ember"]
    out = []
    for _ in range(3):
        ws = [rng.choice(vocab) for _ in range(rng.randint(5, 9))]
        ws = [w.capitalize() if rng.random() < 0.4 else w.upper() if rng.random() < 0.1 else w for w in ws]
        ws[0] = ws[0].capitalize()
        text = rng.choice([" ", ", ", ". "]).join(ws) + "."
        counts: dict[str, int] = {}
        for w in re.findall(r"[a-z']+", text.lower()):
            counts[w] = counts.get(w, 0) + 1
        out.append(([text], counts))
    return out


def _leap(rng: random.Random) -> Cases:
    years = [400 * rng.randint(3, 6), 100 * rng.choice([17, 18, 19, 21]), 4 * rng.randint(400, 520) + 1,
             4 * rng.randint(400, 520), 400 * rng.randint(3, 6)]
    return [([y], y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)) for y in years]


def _rolling(rng: random.Random) -> Cases:
    out = []
    for _ in range(3):
        k = rng.randint(2, 4)
        xs = [rng.randint(0, 40) for _ in range(rng.randint(k + 1, k + 6))]
        out.append(([xs, k], [sum(xs[i:i + k]) / k for i in range(len(xs) - k + 1)]))
    k = rng.randint(2, 3)
    xs = [rng.randint(0, 9) for _ in range(k)]
    out.append(([xs, k], [sum(xs) / k]))
    return out


def _dedupe(rng: random.Random) -> Cases:
    out = []
    for _ in range(3):
        xs = [rng.randint(0, 30) for _ in range(rng.randint(6, 12))]
        xs = xs + [xs[0], xs[1]]
        if xs[:2] == sorted(xs[:2]):
            xs[0], xs[1] = max(xs[0], xs[1]) + 1, min(xs[0], xs[1])
        seen: list[int] = []
        for x in xs:
            if x not in seen:
                seen.append(x)
        out.append(([xs], seen))
    return out


def _kv(rng: random.Random) -> Cases:
    out = []
    for _ in range(3):
        parts = {ident(rng): rng.choice([str(rng.randint(0, 99)), f"{ident(rng)}={rng.randint(0, 9)}", ident(rng)])
                 for _ in range(rng.randint(2, 4))}
        text = ";".join(f" {k} = {v}" if rng.random() < 0.3 else f"{k}={v}" for k, v in parts.items())
        if rng.random() < 0.5:
            text += ";"
        out.append(([text], {k: v for k, v in parts.items()}))
    k = ident(rng)
    out.append(([f"{k}=a=b=c"], {k: "a=b=c"}))
    return out


def _intervals(rng: random.Random) -> Cases:
    out = []
    for _ in range(3):
        iv = []
        for _ in range(rng.randint(3, 6)):
            a = rng.randint(0, 50)
            iv.append([a, a + rng.randint(0, 8)])
        rng.shuffle(iv)
        if iv == sorted(iv):
            iv.reverse()
        merged: list[list[int]] = []
        for a, b in sorted(iv):
            if merged and a <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], b)
            else:
                merged.append([a, b])
        out.append(([iv], merged))
    return out


def _bsearch(rng: random.Random) -> Cases:
    out = []
    for _ in range(2):
        xs = sorted(rng.sample(range(0, 200), rng.randint(5, 12)))
        out.append(([xs, xs[-1]], len(xs) - 1))
        x = rng.choice(xs[:-1])
        out.append(([xs, x], xs.index(x)))
        out.append(([xs, 201], -1))
    v = rng.randint(0, 9)
    out.append(([[v], v], 0))
    return out


BUGS = (
    Bug("textstats", "word_count",
        "def word_count(text):\n    \"\"\"Count words case-insensitively: {'the': 2, ...} with lower-case keys.\"\"\"\n    counts = {}\n    for word in re.findall(r\"[a-z']+\", text.lower()):\n        counts[word] = counts.get(word, 0) + 1\n    return counts\n",
        "def word_count(text):\n    \"\"\"Count words case-insensitively: {'the': 2, ...} with lower-case keys.\"\"\"\n    counts = {}\n    for word in re.findall(r\"[A-Za-z']+\", text):\n        counts[word] = counts.get(word, 0) + 1\n    return counts\n",
        _words),
    Bug("calendar_utils", "is_leap",
        "def is_leap(year):\n    \"\"\"Gregorian leap year: divisible by 4, except centuries not divisible by 400.\"\"\"\n    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)\n",
        "def is_leap(year):\n    \"\"\"Gregorian leap year: divisible by 4, except centuries not divisible by 400.\"\"\"\n    return year % 4 == 0 and year % 100 != 0\n",
        _leap),
    Bug("series", "rolling_mean",
        "def rolling_mean(values, k):\n    \"\"\"Mean of every window of k consecutive values (len(values) - k + 1 results).\"\"\"\n    return [sum(values[i:i + k]) / k for i in range(len(values) - k + 1)]\n",
        "def rolling_mean(values, k):\n    \"\"\"Mean of every window of k consecutive values (len(values) - k + 1 results).\"\"\"\n    return [sum(values[i:i + k]) / k for i in range(len(values) - k)]\n",
        _rolling),
    Bug("collections_extra", "dedupe",
        "def dedupe(items):\n    \"\"\"Drop repeated items, keeping the first occurrence of each in its original order.\"\"\"\n    seen = set()\n    out = []\n    for item in items:\n        if item not in seen:\n            seen.add(item)\n            out.append(item)\n    return out\n",
        "def dedupe(items):\n    \"\"\"Drop repeated items, keeping the first occurrence of each in its original order.\"\"\"\n    return sorted(set(items))\n",
        _dedupe),
    Bug("kvparse", "parse_kv",
        "def parse_kv(text):\n    \"\"\"'a=1;b=2' -> {'a': '1', 'b': '2'}; whitespace around keys/values is dropped, empty parts\n    are skipped, and a value may itself contain '='.\"\"\"\n    out = {}\n    for part in text.split(\";\"):\n        if part.strip():\n            key, value = part.split(\"=\", 1)\n            out[key.strip()] = value.strip()\n    return out\n",
        "def parse_kv(text):\n    \"\"\"'a=1;b=2' -> {'a': '1', 'b': '2'}; whitespace around keys/values is dropped, empty parts\n    are skipped, and a value may itself contain '='.\"\"\"\n    out = {}\n    for part in text.split(\";\"):\n        if part.strip():\n            key, value = part.split(\"=\")[:2]\n            out[key.strip()] = value.strip()\n    return out\n",
        _kv),
    Bug("ranges", "merge_intervals",
        "def merge_intervals(intervals):\n    \"\"\"Merge overlapping [start, end] pairs (touching ones too); result sorted by start.\"\"\"\n    merged = []\n    for start, end in sorted(intervals):\n        if merged and start <= merged[-1][1]:\n            merged[-1][1] = max(merged[-1][1], end)\n        else:\n            merged.append([start, end])\n    return merged\n",
        "def merge_intervals(intervals):\n    \"\"\"Merge overlapping [start, end] pairs (touching ones too); result sorted by start.\"\"\"\n    merged = []\n    for start, end in intervals:\n        if merged and start <= merged[-1][1]:\n            merged[-1][1] = max(merged[-1][1], end)\n        else:\n            merged.append([start, end])\n    return merged\n",
        _intervals),
    Bug("search", "binary_search",
        "def binary_search(items, target):\n    \"\"\"Index of target in the sorted list items, or -1 if absent.\"\"\"\n    lo, hi = 0, len(items) - 1\n    while lo <= hi:\n        mid = (lo + hi) // 2\n        if items[mid] == target:\n            return mid\n        if items[mid] < target:\n            lo = mid + 1\n        else:\n            hi = mid - 1\n    return -1\n",
        "def binary_search(items, target):\n    \"\"\"Index of target in the sorted list items, or -1 if absent.\"\"\"\n    lo, hi = 0, len(items) - 1\n    while lo < hi:\n        mid = (lo + hi) // 2\n        if items[mid] == target:\n            return mid\n        if items[mid] < target:\n            lo = mid + 1\n        else:\n            hi = mid - 1\n    return -1\n",
        _bsearch),
)


def _fails(bug: Bug, args: list[Any], want: Any) -> bool:
    ns: dict[str, Any] = {"re": re}
    exec(bug.bad, ns)
    try:
        return ns[bug.func](*json.loads(json.dumps(args))) != want
    except Exception:
        return True


def generate(req: TaskRequest) -> TaskDraft:
    rng = req.rng
    d = req.difficulty
    pkg = rng.choice(PACKAGES)
    n = {"easy": 1, "medium": 2, "hard": 3}[d]
    bugs = rng.sample(BUGS, n)
    files: dict[str, str | bytes] = {f"{pkg}/__init__.py": f"\"\"\"{pkg}: small utilities.\"\"\"\n"}
    hidden: dict[str, Cases] = {}
    fixes = []
    for i, bug in enumerate(bugs):
        cases = bug.cases(rng)
        hidden[bug.func] = cases
        extra = ident(rng)
        files[f"{pkg}/{bug.module}.py"] = (f"\"\"\"{bug.module.replace('_', ' ')} helpers.\"\"\"\n\nimport re\n\n\n"
                                           f"{bug.bad}\n\ndef {extra}(value):\n    \"\"\"Identity helper kept for "
                                           f"compatibility.\"\"\"\n    return value\n")
        fixes.append([f"{pkg}/{bug.module}.py", bug.bad, bug.good])
        if d == "hard" and i == n - 1:
            continue  # documented only by its docstring
        failing = next((c for c in cases if _fails(bug, *c)), cases[0])
        passing = next((c for c in cases if not _fails(bug, *c)), None)
        visible = [failing] + ([passing] if passing else [])
        body = "".join(f"\n\ndef test_{bug.func}_{k}():\n    assert {bug.func}(*{args!r}) == {want!r}\n"
                       for k, (args, want) in enumerate(visible))
        files[f"tests/test_{bug.module}.py"] = f"from {pkg}.{bug.module} import {bug.func}\n" + body
    files["pytest.ini"] = "[pytest]\ntestpaths = tests\npythonpath = .\n"
    intro = pick(rng, [
        f"The test suite of the Python package in /app (`{pkg}`) is failing.",
        f"`python3 -m pytest` in /app fails: the `{pkg}` package has bugs.",
        f"CI is red for /app: the unit tests of `{pkg}` do not pass.",
    ])
    body = ("Find and fix the bugs in the package's code so that `python3 -m pytest` passes in /app. Do not "
            "change the tests; fix the code. Each function's docstring is its specification, and the "
            "functions will also be checked on inputs beyond the ones in the tests.")
    if d == "hard":
        body += (" The visible tests are not complete: at least one buggy function has no test at all, so "
                 "check every function in the package against its docstring.")
    instruction = intro + "\n\n" + body + "\n"
    solve = f"""# Look at the package and its tests
cd /app && ls {pkg} tests && cat tests/*.py

# Read every module: the docstrings are the spec
cd /app && for f in {pkg}/*.py; do echo "== $f"; cat "$f"; done

# Apply the fixes (each buggy function replaced by a version that matches its docstring)
cd /app && python3 - <<'EOF'
import json
for path, bad, good in json.loads(r'''{json.dumps(fixes)}'''):
    src = open(path).read()
    assert bad in src, path
    open(path, "w").write(src.replace(bad, good))
EOF

# Confirm the suite is green
cd /app && python3 -m pytest -q 2>&1 | tail -3
"""
    if d == "easy":
        wrong = "cd /app && rm -f tests/test_*.py && touch tests/test_ok.py\n"
    else:
        wrong = solve.replace(json.dumps(fixes), json.dumps(fixes[:-1]))
    tests = f"""import json
import sys

import pytest

sys.path.insert(0, "/app")
HIDDEN = {py_literal(hidden)}


def check(module, func):
    mod = __import__("{pkg}." + module, fromlist=[func])
    for args, want in HIDDEN[func]:
        got = getattr(mod, func)(*args)
        assert got == want, (func, args, got, want)
"""
    for bug in bugs:
        tests += f"\n\ndef test_{bug.func}():\n    check({bug.module!r}, {bug.func!r})\n"
    tests += """

def test_visible_suite_passes():
    # run in this process (pytest is already imported); importlib mode keeps /app's modules apart from ours
    class Passed:
        n = 0

        def pytest_runtest_logreport(self, report):
            if report.when == "call" and report.passed:
                Passed.n += 1

    code = pytest.main(["-q", "-p", "no:cacheprovider", "--import-mode=importlib", "--rootdir=/app", "/app/tests"],
                       plugins=[Passed()])
    assert int(code) == 0 and Passed.n > 0, (int(code), Passed.n)
"""
    return TaskDraft(instruction=instruction, app_files=files, solve=solve, wrong_solve=wrong, tests=tests,
                     tags=("python", "debugging", "pytest"), requires=("python3",))


FAMILY = TaskFamily(
    name="fix-bug",
    description="fix buggy functions behind a failing pytest suite; hidden tests check the documented behaviour",
    generate=generate,
    requires=("python3",),
)
