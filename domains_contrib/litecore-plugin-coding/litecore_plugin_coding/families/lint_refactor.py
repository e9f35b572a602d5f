"""Refactor a module until the team's linter is clean, without changing what the functions return.

easy: debugging prints and missing docstrings.
medium: plus bare excepts and a wildcard import whose names must become explicit.
hard: plus mutable default arguments, where the fix is also a behaviour fix (calls must not share state).
"""

from __future__ import annotations

import inspect
import json
import random
from typing import Any

from litecore.records import TaskDraft, TaskFamily, TaskRequest
from litecore.wording import pick
from litecore_plugin_coding.common import ident, py_literal

LINT = r'''#!/usr/bin/env python3
"""Team linter: python3 lint.py FILE... ; prints findings as path:line: CODE message; exit 1 if any."""
import ast
import sys
RULES = {rules}
def check(path):
    tree = ast.parse(open(path, encoding="utf-8").read(), path)
    out = []
    for node in ast.walk(tree):
        if "L001" in RULES and isinstance(node, ast.ExceptHandler) and node.type is None:
            out.append((node.lineno, "L001", "bare except: name the exceptions"))
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            defaults = node.args.defaults + [d for d in node.args.kw_defaults if d is not None]
            if "L002" in RULES and any(isinstance(d, (ast.List, ast.Dict, ast.Set, ast.ListComp, ast.DictComp))
                                       or (isinstance(d, ast.Call) and getattr(d.func, "id", "") in ("list", "dict", "set"))
                                       for d in defaults):
                out.append((node.lineno, "L002", f"mutable default argument in {node.name}()"))
            if "L004" in RULES and not node.name.startswith("_") and ast.get_docstring(node) is None:
                out.append((node.lineno, "L004", f"public function {node.name}() has no docstring"))
        if "L003" in RULES and isinstance(node, ast.Call) and getattr(node.func, "id", "") == "print":
            out.append((node.lineno, "L003", "print() call: use the logging module"))
        if "L005" in RULES and isinstance(node, ast.ImportFrom) and any(a.name == "*" for a in node.names):
            out.append((node.lineno, "L005", "wildcard import"))
    return sorted(out)
def main(paths):
    bad = 0
    for p in paths:
        for line, code, msg in check(p):
            print(f"{p}:{line}: {code} {msg}")
            bad += 1
    if not bad:
        print("clean")
    return 1 if bad else 0
if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
'''
RULE_TEXT = {
    "L001": "L001: no bare `except:`",
    "L002": "L002: no mutable default arguments",
    "L003": "L003: no `print()` calls (use `logging`)",
    "L004": "L004: every public function has a docstring",
    "L005": "L005: no wildcard imports",
}


def _templates(rng: random.Random, rule: str) -> tuple[str, str, str, list[list[Any]]]:
    """(name, original source, fixed source, argument lists to probe)."""
    name = ident(rng, rng.choice(["compute_", "load_", "score_", "build_", "merge_"]))
    k = rng.randint(2, 9)
    if rule == "L003":
        orig = (f"def {name}(values):\n    \"\"\"Weighted total of values.\"\"\"\n    total = 0\n    for v in values:\n"
                f"        print(\"adding\", v)\n        total += v * {k}\n    print(\"total\", total)\n    return total\n")
        fixed = orig.replace("        print(\"adding\", v)\n", "        log.debug(\"adding %s\", v)\n").replace(
            "    print(\"total\", total)\n", "    log.info(\"total %s\", total)\n")
        return name, orig, fixed, [[[rng.randint(0, 50) for _ in range(rng.randint(0, 6))]] for _ in range(3)]
    if rule == "L004":
        orig = f"def {name}(a, b):\n    if a > b:\n        return (a + b) * {k}\n    return a - b\n"
        fixed = orig.replace(":\n    if a > b", f":\n    \"\"\"Combine a and b ({k}x their sum when a > b).\"\"\"\n    if a > b", 1)
        return name, orig, fixed, [[rng.randint(-20, 20), rng.randint(-20, 20)] for _ in range(4)]
    if rule == "L001":
        dflt = rng.randint(-9, 0)
        orig = (f"def {name}(text):\n    \"\"\"Parse an integer; anything unparsable gives {dflt}.\"\"\"\n    try:\n"
                f"        return int(text)\n    except:\n        return {dflt}\n")
        fixed = orig.replace("    except:\n", "    except (TypeError, ValueError):\n")
        return name, orig, fixed, [[str(rng.randint(0, 999))], ["x" + ident(rng)], [None], ["3.5"], [" 42 "]]
    if rule == "L005":
        orig = f"def {name}(x):\n    \"\"\"Floor of the square root plus {k}.\"\"\"\n    return floor(sqrt(x)) + {k}\n"
        return name, orig, orig, [[rng.randint(0, 10_000)] for _ in range(4)]
    # L002
    if rng.random() < 0.5:
        orig = (f"def {name}(item, bucket=[]):\n    \"\"\"Append item to bucket (a new list by default) and return it.\"\"\"\n"
                f"    bucket.append(item)\n    return bucket\n")
        fixed = orig.replace("bucket=[]", "bucket=None").replace(
            "    bucket.append(item)\n", "    if bucket is None:\n        bucket = []\n    bucket.append(item)\n")
        return name, orig, fixed, [[1], [2], [3, [0]], [4]]
    orig = (f"def {name}(key, value, table={{}}):\n    \"\"\"Set key in table (a new dict by default) and return a copy.\"\"\"\n"
            f"    table[key] = value\n    return dict(table)\n")
    fixed = orig.replace("table={}", "table=None").replace(
        "    table[key] = value\n", "    if table is None:\n        table = {}\n    table[key] = value\n")
    return name, orig, fixed, [["a", 1], ["b", 2], ["c", 3, {"z": 0}]]


def generate(req: TaskRequest) -> TaskDraft:
    rng = req.rng
    d = req.difficulty
    rules = {"easy": ["L003", "L004"], "medium": ["L001", "L003", "L004", "L005"],
             "hard": ["L001", "L002", "L003", "L004", "L005"]}[d]
    module = pick(rng, ["report.py", "pipeline.py", "metrics.py", "inventory.py"])
    funcs = []
    for rule in rules:
        for _ in range(rng.randint(1, 2) if rule in ("L003", "L004", "L001") else 1):
            made = _templates(rng, rule)
            while made[0] in {f[1] for f in funcs}:
                made = _templates(rng, rule)
            funcs.append((rule, *made))
    rng.shuffle(funcs)
    helper = ident(rng, "_")
    clean = f"def {helper}(x):\n    return x\n"
    head_o = f"\"\"\"{module[:-3]} helpers.\"\"\"\n\n" + ("from math import *\n" if "L005" in rules else "")
    head_f = (f"\"\"\"{module[:-3]} helpers.\"\"\"\n\nimport logging\n" + ("from math import floor, sqrt\n" if "L005" in rules else "")
              + "\nlog = logging.getLogger(__name__)\n")
    orig = head_o + "".join(f"\n\n{src}" for _, _, src, _, _ in funcs) + f"\n\n{clean}"
    fixed = head_f + "".join(f"\n\n{src}" for _, _, _, src, _ in funcs) + f"\n\n{clean}"
    # expected behaviour comes from the fixed source, evaluated now
    ns: dict[str, Any] = {"__name__": module[:-3]}
    exec(compile(fixed, module, "exec"), ns)
    calls = []
    for rule, name, _, _, probes in funcs:
        for args in probes:
            calls.append([name, args, ns[name](*json.loads(json.dumps(args)))])
    lint_src = LINT.replace("{rules}", "{" + ", ".join(f'"{r}"' for r in sorted(rules)) + "}")
    files = {module: orig, "tools/lint.py": lint_src}
    instruction = pick(rng, [
        f"`python3 tools/lint.py {module}` (run in /app) reports problems in /app/{module}.",
        f"The team linter in /app/tools/lint.py fails on /app/{module}.",
        f"Clean up /app/{module} so that it passes the project's linter (/app/tools/lint.py).",
    ]) + ("\n\nRefactor the module until the linter prints `clean` and exits 0. Its rules:\n\n"
          + "\n".join(f"- {RULE_TEXT[r]}" for r in rules)
          + "\n\nKeep every function's name and signature (argument names and order), and keep what each "
          "function returns for the same inputs — except that, as the docstrings say, a call that does not pass "
          "an optional container argument must start from a fresh, empty container every time. Do not modify "
          "the linter (the checks run their own copy).\n")
    fixes = []
    for _, _, o, f, _ in funcs:
        if o != f:
            fixes.append([o, f])
    fixes.append([head_o, head_f])
    solve = f"""# Run the linter to see every finding
cd /app && python3 tools/lint.py {module}; sed -n 1,200p {module}

# Fix each finding in place: logging instead of print, docstrings, explicit excepts/imports, None defaults
cd /app && python3 - <<'EOF'
import json
src = open("{module}").read()
for old, new in json.loads(r'''{json.dumps(fixes)}'''):
    assert old in src, old[:40]
    src = src.replace(old, new, 1)
open("{module}", "w").write(src)
EOF

# Lint again and smoke-test that the module still imports
cd /app && python3 tools/lint.py {module} && python3 -c 'import {module[:-3]}'
"""
    if d == "easy":
        wrong_fixes = [[o, f.replace('    """Combine a and b', '    # Combine a and b').replace('sum when a > b)."""', "sum when a > b).")]
                       for o, f in fixes]
    elif d == "medium":
        wrong_fixes = [[o, f.replace("from math import floor, sqrt\n", "import math\n")] for o, f in fixes]
    else:
        # silence the mutable-default findings instead of fixing them
        wrong_fixes = [[o, f] for o, f in fixes if "=None" not in f] + [
            [o, o.replace("):\n", "):  # noqa: L002\n", 1)] for o, f in fixes if "=None" in f]
    wrong = solve.replace(json.dumps(fixes), json.dumps(wrong_fixes))
    assert wrong != solve
    tests = f"""import importlib.util
import json
import subprocess
import sys

CALLS = {py_literal(calls)}


def load():
    spec = importlib.util.spec_from_file_location("{module[:-3]}", "/app/{module}")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_linter_clean():
    r = subprocess.run([sys.executable, "/tests/lint.py", "/app/{module}"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout[-800:]


def test_behaviour_kept():
    mod = load()
    for name, args, want in CALLS:
        assert getattr(mod, name)(*args) == want, (name, args)


def test_signatures_kept():
    import inspect
    mod = load()
    for name, params in {json.dumps({n: list(inspect.signature(ns[n]).parameters) for _, n, _, _, _ in funcs})}.items():
        got = list(inspect.signature(getattr(mod, name)).parameters)
        assert got == params, name
"""
    return TaskDraft(instruction=instruction, app_files=files, solve=solve, wrong_solve=wrong, tests=tests,
                     test_files={"lint.py": lint_src}, tags=("python", "refactoring", "lint"),
                     requires=("python3",))


FAMILY = TaskFamily(
    name="lint-refactor",
    description="refactor a module until an AST linter is clean while keeping behaviour (prints, excepts, defaults)",
    generate=generate,
    requires=("python3",),
)
