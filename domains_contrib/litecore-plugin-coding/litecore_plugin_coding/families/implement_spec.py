"""Implement functions to a written specification; hidden tests probe many generated inputs.

easy: the main function of a spec.
medium: both functions of the spec (e.g. encode and decode), round trips included.
hard: plus strict input validation (ValueError on malformed input) that the tests probe.
"""

from __future__ import annotations

import random
import re
import string
from collections.abc import Callable
from typing import Any

import attrs

from litecore.records import TaskDraft, TaskFamily, TaskRequest
from litecore.wording import pick
from litecore_plugin_coding.common import ident, py_literal

Case = tuple[list[Any], Any]  # (args, expected) ; expected "!ValueError" means raise


@attrs.frozen
class Spec:
    key: str
    funcs: tuple[str, str]
    text: Callable[[dict[str, Any], str], str]
    cases: Callable[[random.Random, dict[str, Any], str], dict[str, list[Case]]]
    reference: Callable[[dict[str, Any]], str]
    flaw: tuple[str, str]  # text replaced in the reference to make the wrong solution
    params: Callable[[random.Random], dict[str, Any]]


# -- run-length encoding ------------------------------------------------------------------------
def _rle_enc(s: str, ones: bool) -> str:
    out = []
    for m in re.finditer(r"(.)\1*", s):
        n = len(m.group(0))
        out.append((str(n) if n > 1 or ones else "") + m.group(1))
    return "".join(out)


def _rle_text(p: dict[str, Any], d: str) -> str:
    t = ("`encode(text)` compresses a string of letters by replacing each run of the same letter with the "
         "run length followed by the letter" + (", writing the count even when it is 1 (`\"abb\"` -> "
                                                 "`\"1a2b\"`)" if p["ones"] else ", omitting the count when it "
                                                 "is 1 (`\"abb\"` -> `\"a2b\"`)") + ". Runs can be longer than 9.")
    if d != "easy":
        t += " `decode(text)` is its exact inverse."
    if d == "hard":
        t += (" `decode` must raise `ValueError` for malformed input: a count of 0, a count with a leading "
              "zero, a trailing count with no letter, or any character that is not a digit or ASCII letter"
              + ("" if not p["ones"] else ", or a letter without a count") + ".")
    return t


def _rle_cases(rng: random.Random, p: dict[str, Any], d: str) -> dict[str, list[Case]]:
    texts = []
    for _ in range(14):
        s = ""
        for _ in range(rng.randint(1, 6)):
            s += rng.choice(string.ascii_letters) * rng.choice([1, 1, 2, 3, 5, 9, 10, 12, 27])
        texts.append(s)
    texts.append("")
    enc = [([t], _rle_enc(t, p["ones"])) for t in texts]
    out = {"encode": enc}
    if d != "easy":
        out["decode"] = [([e], t[0]) for t, e in enc]
    if d == "hard":
        bad = ["0a", "3", "a2b4", "2a-", "03b", "ab 2c"] if p["ones"] else ["0a", "3", "2a-", "03b", "a b"]
        if p["ones"]:
            bad.append("2ab")
        out["decode"] += [([b], "!ValueError") for b in bad]
    return out


def _rle_ref(p: dict[str, Any]) -> str:

    return f"""import re
ONES = {p['ones']}
def encode(text):
    out = []
    for m in re.finditer(r"(.)\\1*", text):
        n = len(m.group(0))
        out.append((str(n) if n > 1 or ONES else "") + m.group(1))
    return "".join(out)
def decode(text):
    pattern = r"([1-9][0-9]*)([A-Za-z])" if ONES else r"([1-9][0-9]*)?([A-Za-z])"
    pos, out = 0, []
    for m in re.finditer(pattern, text):
        if m.start() != pos:
            raise ValueError(f"bad input at {{pos}}")
        out.append(m.group(2) * int(m.group(1) or 1))
        pos = m.end()
    if pos != len(text):
        raise ValueError(f"bad input at {{pos}}")
    return "".join(out)
"""


# -- roman numerals -----------------------------------------------------------------------------
ROMAN = [(1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"), (50, "L"), (40, "XL"),
         (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")]


def _to_roman(n: int) -> str:
    out = ""
    for v, s in ROMAN:
        while n >= v:
            out += s
            n -= v
    return out


def _roman_text(p: dict[str, Any], d: str) -> str:
    t = ("`to_roman(n)` returns the standard Roman numeral for an integer 1..3999 using subtractive notation "
         "(`4` -> `\"IV\"`, `1994` -> `\"MCMXCIV\"`)" + (", in lower case" if p["lower"] else "") + ".")
    if d != "easy":
        t += (" `from_roman(s)` converts a numeral back to an integer and accepts upper or lower case.")
    if d == "hard":
        t += (" `to_roman` raises `ValueError` outside 1..3999; `from_roman` raises `ValueError` for anything "
              "that is not the canonical form of some number (e.g. `IIII`, `VX`, `IC`, `MMMM`, empty string).")
    return t


def _roman_cases(rng: random.Random, p: dict[str, Any], d: str) -> dict[str, list[Case]]:
    nums = [rng.randint(1, 3999) for _ in range(14)] + [rng.choice([400, 900, 1400, 1900, 2400, 3900]), 3999, 1, 944]
    conv = (lambda s: s.lower()) if p["lower"] else (lambda s: s)
    out: dict[str, list[Case]] = {"to_roman": [([n], conv(_to_roman(n))) for n in nums]}
    if d != "easy":
        out["from_roman"] = [([rng.choice([_to_roman(n), _to_roman(n).lower()])], n) for n in nums]
    if d == "hard":
        out["to_roman"] += [([0], "!ValueError"), ([4000], "!ValueError"), ([-rng.randint(1, 9)], "!ValueError")]
        out["from_roman"] += [([b], "!ValueError") for b in ["IIII", "VX", "IC", "MMMM", "", "XM", "VV", "ABC"]]
    return out


def _roman_ref(p: dict[str, Any]) -> str:
    return f"""PAIRS = [(1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"), (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")]
LOWER = {p['lower']}
def to_roman(n):
    if not isinstance(n, int) or not 1 <= n <= 3999:
        raise ValueError(n)
    out = ""
    for value, sym in PAIRS:
        while n >= value:
            out += sym
            n -= value
    return out.lower() if LOWER else out
def from_roman(s):
    s = s.upper()
    total, i = 0, 0
    for value, sym in PAIRS:
        while s.startswith(sym, i):
            total += value
            i += len(sym)
    if i != len(s) or not 1 <= total <= 3999 or to_roman(total).upper() != s:
        raise ValueError(s)
    return total
"""


# -- semantic version sort ----------------------------------------------------------------------
def _sv_key(v: str) -> tuple:
    core, _, _build = v.partition("+")
    main, _, pre = core.partition("-")
    nums = tuple(int(x) for x in main.split("."))
    if not pre:
        return (nums, 1, ())
    ids = tuple((0, int(x), "") if x.isdigit() else (1, 0, x) for x in pre.split("."))
    return (nums, 0, ids)


def _sv_text(p: dict[str, Any], d: str) -> str:
    t = ("`sort_versions(versions)` returns a new list of semantic version strings (`MAJOR.MINOR.PATCH`, "
         "optionally followed by `-prerelease`) sorted by precedence, "
         + ("lowest first" if not p["desc"] else "highest first")
         + ": numeric fields compare as numbers; a pre-release version is lower than the same version "
         "without one; pre-release identifiers (dot-separated) compare left to right, numeric ones as numbers, "
         "alphanumeric ones as ASCII strings, numeric lower than alphanumeric, and a shorter list of "
         "identifiers is lower when all earlier ones are equal (`1.0.0-alpha < 1.0.0-alpha.1 < 1.0.0-beta.2 "
         "< 1.0.0-beta.11 < 1.0.0-rc.1 < 1.0.0`).")
    if d != "easy":
        t += (" `compare(a, b)` returns -1, 0 or 1 by the same precedence; versions may carry `+build` "
              "metadata, which is ignored for precedence (so `compare('1.0.0+a', '1.0.0+b') == 0`).")
    if d == "hard":
        t += (" Both functions raise `ValueError` for an invalid version: not exactly three numeric fields, "
              "leading zeros in a numeric field (`01.2.3`), or an empty identifier (`1.2.3-`, `1.2.3-a..b`).")
    return t


def _sv_cases(rng: random.Random, p: dict[str, Any], d: str) -> dict[str, list[Case]]:
    def ver(pre: bool) -> str:
        v = f"{rng.randint(0, 3)}.{rng.choice([0, 1, 2, 9, 10, 11])}.{rng.randint(0, 12)}"
        if pre and rng.random() < 0.6:
            v += "-" + ".".join(rng.choice(["alpha", "beta", "rc", str(rng.randint(0, 12)), "x7"])
                                for _ in range(rng.randint(1, 3)))
        return v
    out: dict[str, list[Case]] = {"sort_versions": []}
    for _ in range(8):
        vs = list(dict.fromkeys(ver(True) for _ in range(rng.randint(4, 9))))
        vs.append(vs[0].split("-")[0] + "-rc.10")
        vs.append(vs[0].split("-")[0] + "-rc.9")
        vs = list(dict.fromkeys(vs))
        rng.shuffle(vs)
        out["sort_versions"].append(([vs], sorted(vs, key=_sv_key, reverse=p["desc"])))
    if d != "easy":
        cmp = []
        for _ in range(16):
            a, b = ver(True), ver(True)
            if rng.random() < 0.25:
                b = a
            a2 = a + (f"+{ident(rng)}" if rng.random() < 0.3 else "")
            b2 = b + (f"+build.{rng.randint(1, 9)}" if rng.random() < 0.3 else "")
            ka, kb = _sv_key(a), _sv_key(b)
            cmp.append(([a2, b2], (ka > kb) - (ka < kb)))
        out["compare"] = cmp
    if d == "hard":
        for bad in ["1.2", "01.2.3", "1.2.3-", "1.2.3-a..b", "1.2.x", "1.2.3.4"]:
            out["compare"].append(([bad, "1.0.0"], "!ValueError"))
        out["sort_versions"].append(([["1.0.0", "1.02.0"]], "!ValueError"))
    return out


def _sv_ref(p: dict[str, Any]) -> str:
    return f"""import re
DESC = {p['desc']}
NUM = r"(0|[1-9][0-9]*)"
PAT = re.compile(rf"{{NUM}}\\.{{NUM}}\\.{{NUM}}(?:-([0-9A-Za-z-]+(?:\\.[0-9A-Za-z-]+)*))?(?:\\+[0-9A-Za-z.-]+)?")
def key(v):
    m = PAT.fullmatch(v)
    if not m:
        raise ValueError(v)
    nums = tuple(int(m.group(i)) for i in (1, 2, 3))
    pre = m.group(4)
    if pre is None:
        return (nums, 1, ())
    return (nums, 0, tuple((0, int(x), "") if x.isdigit() else (1, 0, x) for x in pre.split(".")))
def sort_versions(versions):
    return sorted(versions, key=key, reverse=DESC)
def compare(a, b):
    ka, kb = key(a), key(b)
    return (ka > kb) - (ka < kb)
"""


# -- luhn ---------------------------------------------------------------------------------------
def _luhn_sum(digits: str) -> int:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2 == 1:
            n = n * 2 - 9 if n * 2 > 9 else n * 2
        total += n
    return total


def _luhn_text(p: dict[str, Any], d: str) -> str:
    t = ("`is_valid(number)` tells whether a string of digits passes the Luhn checksum (from the rightmost "
         "digit, double every second digit, subtract 9 from doubled values above 9, and the sum must be a "
         "multiple of 10). Spaces" + (" and dashes" if p["dash"] else "") + " inside the string are ignored; a "
         "string with fewer than 2 digits is not valid.")
    if d != "easy":
        t += (" `check_digit(partial)` returns the single digit (as a string) that makes `partial + digit` "
              "valid.")
    if d == "hard":
        t += (" `is_valid` returns False (it must not raise) for strings with any other character; "
              "`check_digit` raises `ValueError` for such strings or for an empty one.")
    return t


def _luhn_cases(rng: random.Random, p: dict[str, Any], d: str) -> dict[str, list[Case]]:
    sep = [" ", "-"] if p["dash"] else [" "]
    valid: list[Case] = []
    partials = []
    for _ in range(16):
        base = "".join(rng.choice(string.digits) for _ in range(rng.randint(5, 16)))
        partials.append(base)
        cd = str((10 - _luhn_sum(base + "0") % 10) % 10)
        num = base + cd
        if rng.random() < 0.5:
            num = num[:-1] + str((int(num[-1]) + rng.randint(1, 9)) % 10)
        pretty = "".join(ch + (rng.choice(sep) if i % 4 == 3 else "") for i, ch in enumerate(num)).strip(" -")
        valid.append(([pretty], _luhn_sum(num) % 10 == 0))
    valid += [(["0"], False), (["00"], True), (["59"], True)]
    out: dict[str, list[Case]] = {"is_valid": valid}
    if d != "easy":
        out["check_digit"] = [([b], str((10 - _luhn_sum(b + "0") % 10) % 10)) for b in partials]
    if d == "hard":
        out["is_valid"] += [(["4539 x148"], False), (["12a4"], False), (["+79927398713"], False)]
        out["check_digit"] += [(["12a"], "!ValueError"), ([""], "!ValueError")]
    return out


def _luhn_ref(p: dict[str, Any]) -> str:
    strip = "number.replace(' ', '').replace('-', '')" if p["dash"] else "number.replace(' ', '')"
    return f"""def _total(digits):
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2 == 1:
            n = n * 2 - 9 if n * 2 > 9 else n * 2
        total += n
    return total
def _clean(number):
    s = {strip}
    if not s or not all(c in "0123456789" for c in s):
        raise ValueError(number)
    return s
def is_valid(number):
    try:
        s = _clean(number)
    except ValueError:
        return False
    return len(s) >= 2 and _total(s) % 10 == 0
def check_digit(partial):
    s = _clean(partial)
    return str((10 - _total(s + "0") % 10) % 10)
"""


SPECS = (
    Spec("rle", ("encode", "decode"), _rle_text, _rle_cases, _rle_ref, ('str(n) if', 'str(n)[-1] if'),
         lambda rng: {"ones": rng.random() < 0.5}),
    Spec("roman", ("to_roman", "from_roman"), _roman_text, _roman_cases, _roman_ref,
         ('(900, "CM"), (500, "D"), (400, "CD"), ', '(500, "D"), '), lambda rng: {"lower": rng.random() < 0.3}),
    Spec("semver", ("sort_versions", "compare"), _sv_text, _sv_cases, _sv_ref,
         ('(0, int(x), "") if x.isdigit() else (1, 0, x)', '(1, 0, x)'), lambda rng: {"desc": rng.random() < 0.4}),
    Spec("luhn", ("is_valid", "check_digit"), _luhn_text, _luhn_cases, _luhn_ref,
         ("enumerate(reversed(digits))", "enumerate(digits)"), lambda rng: {"dash": rng.random() < 0.5}),
)


def generate(req: TaskRequest) -> TaskDraft:
    rng = req.rng
    d = req.difficulty
    spec = rng.choice(SPECS)
    params = spec.params(rng)
    module = pick(rng, [spec.key + "lib", spec.key + "_tools", "my" + spec.key, spec.key])
    cases = spec.cases(rng, params, d)
    funcs = [f for f in spec.funcs if f in cases]
    stub = "".join(f"def {f}(*args):\n    raise NotImplementedError\n\n\n" for f in funcs).rstrip() + "\n"
    files = {f"{module}.py": f"\"\"\"{spec.key}: implement the functions below (see the task).\"\"\"\n\n\n" + stub}
    examples = []
    for f in funcs:
        for args, want in cases[f][:2]:
            if want != "!ValueError":
                examples.append(f"{f}({', '.join(repr(a) for a in args)}) == {want!r}")
    instruction = (pick(rng, [f"Implement the functions in /app/{module}.py.",
                              f"Fill in /app/{module}.py (currently stubs) so that it meets this specification.",
                              f"Write the Python module /app/{module}.py to the following spec."])
                   + "\n\n" + spec.text(params, d) + "\n\nExamples:\n\n"
                   + "\n".join(f"    {e}" for e in examples)
                   + "\n\nOnly the Python standard library is available. Hidden tests call the functions on "
                   "many other inputs.\n")
    ref = spec.reference(params).strip("\n")
    checks = "\n".join(f"assert {e}" for e in examples)
    solve = f"""# Look at the stub we must fill in
cd /app && cat {module}.py

# Write the implementation
cat > /app/{module}.py <<'EOF'
{ref}
EOF

# Try the examples from the task
cd /app && python3 - <<'EOF'
from {module} import *
{checks}
print("examples ok")
EOF
"""
    old, new = spec.flaw
    assert old in ref, spec.key
    wrong = solve.replace(old, new)
    tests = f"""import importlib.util
import json

import pytest

CASES = {py_literal(cases)}


def load():
    spec = importlib.util.spec_from_file_location("{module}", "/app/{module}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def run(func):
    mod = load()
    for args, want in CASES[func]:
        if want == "!ValueError":
            with pytest.raises(ValueError):
                getattr(mod, func)(*args)
        else:
            assert getattr(mod, func)(*args) == want, (func, args)
"""
    for f in funcs:
        tests += f"\n\ndef test_{f}():\n    run({f!r})\n"
    return TaskDraft(instruction=instruction, app_files=files, solve=solve, wrong_solve=wrong, tests=tests,
                     tags=("python", "spec", spec.key), requires=("python3",))


FAMILY = TaskFamily(
    name="implement-spec",
    description="implement functions (RLE, roman numerals, semver ordering, Luhn) to a written spec with hidden tests",
    generate=generate,
    requires=("python3",),
)
