"""Write a parser for a stated INI-like configuration format that prints typed JSON.

easy: sections, comments, typed scalars (int, float, bool, quoted and bare strings).
medium: plus case-insensitive section names, escapes in quoted strings, inline comments, duplicate keys
(last wins) and repeated sections (merged).
hard: plus lists, line continuations, ${section.key} interpolation, and exit status 1 on invalid lines.
"""

from __future__ import annotations

import json
import random
from typing import Any

from litecore.records import TaskDraft, TaskFamily, TaskRequest
from litecore.wording import pick
from litecore_plugin_coding.common import ident, py_literal

WORDS = ("alpha", "beta", "gamma", "delta", "orbit", "harbor", "maple", "cobalt", "falcon", "prairie")


def _bare(rng: random.Random) -> str:
    kind = rng.randrange(4)
    if kind == 0:
        return f"{rng.choice(WORDS)} {rng.choice(WORDS)}"
    if kind == 1:
        return f"/srv/{rng.choice(WORDS)}/{ident(rng)}"
    if kind == 2:
        return f"{rng.choice(['eu', 'us', 'ap'])}-{rng.choice(WORDS)}-{rng.randint(1, 9)}"
    return f"{ident(rng)}.{rng.choice(['example', 'internal'])}:{rng.randint(1000, 9999)}"


def _quote(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _scalar(rng: random.Random, d: str) -> tuple[Any, str]:
    """A value and one way to write it."""
    kind = rng.choice(["int", "float", "bool", "bare", "quoted"] + (["list"] if d == "hard" else []))
    if kind == "int":
        v = rng.randint(-500, 100000)
        return v, str(v)
    if kind == "float":
        v = rng.randint(-999, 99999) / rng.choice([4, 8, 100])
        return v, repr(v)
    if kind == "bool":
        word = rng.choice(["true", "false", "yes", "no", "on", "off"])
        return word in ("true", "yes", "on"), rng.choice([word, word.upper(), word.capitalize()])
    if kind == "bare":
        v = _bare(rng)
        return v, v
    if kind == "quoted":
        v = f"{rng.choice(WORDS)} {ident(rng)}"
        if d != "easy":
            v += rng.choice([' "quoted" part', " # not a comment", " ; still text", " back\\slash", "\nsecond line",
                             " = sign"])
        else:
            v += rng.choice([" # not a comment", " = sign", ""])
        return v, _quote(v)
    items: list[Any] = []
    parts = []
    for _ in range(rng.randint(0, 4)):
        v, text = _scalar(random.Random(rng.random()), "medium")
        while isinstance(v, list):
            v, text = _scalar(random.Random(rng.random()), "medium")
        if isinstance(v, str) and not text.startswith('"'):
            v, text = v.replace(",", ""), text.replace(",", "")
        items.append(v)
        parts.append(text)
    return items, "[" + ", ".join(parts) + "]"


def _canon(x: Any) -> str:
    if isinstance(x, bool):
        return "true" if x else "false"
    return str(x)


def _document(rng: random.Random, d: str, with_error: bool = False) -> tuple[str, dict[str, dict[str, Any]]]:
    result: dict[str, dict[str, Any]] = {}
    lines: list[str] = []
    names = rng.sample(["server", "database", "cache", "paths", "features", "limits", "logging", "mail"], rng.randint(3, 5))
    if rng.random() < 0.5:
        names.insert(0, "global")
    refs: list[tuple[str, str, Any]] = []
    semicolon_done = dup_done = ref_done = False
    for si, name in enumerate(names):
        if name != "global" or si != 0:
            shown = name if d == "easy" else rng.choice([name, name.upper(), name.capitalize()])
            lines.append(rng.choice([f"[{shown}]", f"  [{shown}]  "]))
        sec = result.setdefault(name, {})
        for _ in range(rng.randint(3, 6)):
            key = rng.choice([ident(rng), f"{ident(rng)}_{rng.choice(['port', 'path', 'mode', 'size'])}"])
            value, text = _scalar(rng, d)
            if d != "easy" and key in sec:
                continue
            if d != "easy" and (rng.random() < 0.15 or not dup_done):
                dup_done = True
                old, old_text = _scalar(rng, d)
                lines.append(f"{key} = {old_text}")  # overwritten later: last wins
            if d == "hard" and not isinstance(value, list) and (rng.random() < 0.15 or not ref_done) and refs:
                ref_done = True
                rs, rk, rv = rng.choice(refs)
                pre = rng.choice(WORDS)
                value, text = f"{pre}-{_canon(rv)}", f"{pre}-${{{rs}.{rk}}}"
            elif not isinstance(value, list) and not (isinstance(value, str) and "$" in value):
                refs.append((name, key, value))
            if d == "hard" and isinstance(value, str) and not text.startswith('"') and " " in text and rng.random() < 0.5:
                a, b = text.split(" ", 1)
                text = f"{a} \\\n    {b}"
            sep = rng.choice(["=", " = ", "  =  ", "= "]) if d != "easy" else rng.choice([" = ", "="])
            comment = ""
            if d != "easy" and rng.random() < 0.25:
                comment = rng.choice(["  # tuned", " ; legacy", "\t# see docs"])
            lines.append(f"{rng.choice(['', '', '  '])}{key}{sep}{text}{comment}")
            sec[key] = value
            if rng.random() < 0.2:
                lines.append(rng.choice(["", "# note", "   ; old setting", "#"]))
        if not semicolon_done:
            lines.append("; reviewed")
            semicolon_done = True
    if d != "easy" and len(names) > 1:
        again = rng.choice(names[1:])
        lines.append(f"[{again.upper()}]")
        key = ident(rng, "extra_")
        while key in result[again]:
            key += "x"
        value, text = _scalar(rng, "medium")
        lines.append(f"{key} = {text}")
        result[again][key] = value
    if with_error:
        lines.insert(rng.randint(1, len(lines)), rng.choice(["this line is not valid", "[unclosed", "= no key"]))
    return "\n".join(lines) + "\n", result


REFERENCE = r'''#!/usr/bin/env python3
"""cfg2json: parse the team's config format and print it as JSON."""
import json, re, sys
BOOLS = {"true": True, "yes": True, "on": True, "false": False, "no": False, "off": False}
def split_items(text):
    items, cur, quoted, esc = [], "", False, False
    for ch in text:
        if esc:
            cur += ch; esc = False
        elif ch == "\\" and quoted:
            cur += ch; esc = True
        elif ch == '"':
            cur += ch; quoted = not quoted
        elif ch == "," and not quoted:
            items.append(cur.strip()); cur = ""
        else:
            cur += ch
    if cur.strip():
        items.append(cur.strip())
    return items
def unquote(text, lineno):
    out, i = "", 1
    while i < len(text) - 1:
        ch = text[i]
        if ch == "\\":
            nxt = text[i + 1]
            out += {"n": "\n", '"': '"', "\\": "\\"}.get(nxt, "\\" + nxt)
            i += 2
        else:
            out += ch
            i += 1
    return out
def scalar(text, lineno):
    if text.startswith('"'):
        return unquote(text, lineno)
    if re.fullmatch(r"[+-]?\d+", text):
        return int(text)
    if re.fullmatch(r"[+-]?\d+\.\d*(e[+-]?\d+)?", text, re.I):
        return float(text)
    if text.lower() in BOOLS:
        return BOOLS[text.lower()]
    return text
def strip_comment(text):
    if text.startswith('"'):
        m = re.match(r'"(?:[^"\\]|\\.)*"', text)
        return m.group(0) if m else text
    if text.startswith("["):
        m = re.match(r'\[(?:[^\]"]|"(?:[^"\\]|\\.)*")*\]', text)
        return m.group(0) if m else text
    return re.split(r"\s+[#;]", text, maxsplit=1)[0].strip()
def parse(path):
    raw = open(path, encoding="utf-8").read().split("\n")
    logical, i = [], 0
    while i < len(raw):
        line, start = raw[i], i + 1
        while line.rstrip().endswith("\\") and i + 1 < len(raw):
            i += 1
            line = line.rstrip()[:-1].rstrip() + " " + raw[i].strip()
        logical.append((start, line))
        i += 1
    data, section = {}, "global"
    for lineno, line in logical:
        s = line.strip()
        if not s or s[0] in "#;":
            continue
        m = re.fullmatch(r"\[([^\]]+)\]", s)
        if m:
            section = m.group(1).strip().lower()
            data.setdefault(section, {})
            continue
        key, eq, value = s.partition("=")
        if not eq or not key.strip():
            raise SystemExit(f"line {lineno}: cannot parse: {s}")
        value = strip_comment(value.strip())
        if value.startswith("["):
            parsed = [scalar(x, lineno) for x in split_items(value[1:-1])]
        else:
            parsed = scalar(value, lineno)
        data.setdefault(section, {})[key.strip()] = parsed
    def canon(v):
        return ("true" if v else "false") if isinstance(v, bool) else str(v)
    for sec in data.values():
        for k, v in sec.items():
            if isinstance(v, str) and "${" in v:
                sec[k] = re.sub(r"\$\{([^}.]+)\.([^}]+)\}", lambda m: canon(data[m.group(1).lower()][m.group(2)]), v)
    return data
if __name__ == "__main__":
    try:
        print(json.dumps(parse(sys.argv[1]), indent=2))
    except SystemExit as e:
        print(e, file=sys.stderr)
        sys.exit(1)
'''


def generate(req: TaskRequest) -> TaskDraft:
    rng = req.rng
    d = req.difficulty
    sample, sample_expected = _document(rng, d)
    docs = [_document(rng, d) for _ in range(3)]
    bad = _document(rng, d, with_error=True)[0] if d == "hard" else ""
    rules = [
        "Blank lines are ignored; lines whose first non-blank character is `#` or `;` are comments.",
        "`[name]` starts a section; `key = value` sets a key in the current section (spaces around the key, "
        "the `=` and the value do not matter). Keys before any section header belong to section `global`.",
        "Values are typed: integers (`-12`), floats (`3.25`), booleans (`true/false/yes/no/on/off`, any "
        "case), double-quoted strings (quotes removed, everything inside kept, including `#`, `;` and `=`), "
        "and otherwise bare strings (kept as written, trimmed).",
    ]
    if d != "easy":
        rules += [
            "Section names are case-insensitive: output them in lower case. A section that appears again "
            "continues (merges into) the earlier one; when a key is set twice, the last value wins.",
            "Inside double-quoted strings, `\\\"` is a quote, `\\\\` a backslash and `\\n` a newline.",
            "After a value, whitespace followed by `#` or `;` starts a comment that is not part of the value.",
        ]
    if d == "hard":
        rules += [
            "A value in square brackets is a list of comma-separated values, each typed as above (commas "
            "inside quoted strings do not split). `[]` is an empty list.",
            "A line ending in a backslash continues on the next line: the backslash and surrounding whitespace "
            "become a single space, and the next line's leading whitespace is dropped.",
            "`${section.key}` inside a string value is replaced by the final value of that key (booleans as "
            "`true`/`false`, numbers as Python's `str()`); the result is a string.",
            "Any other line is an error: print a message naming the line number to stderr, print nothing to "
            "stdout and exit with status 1.",
        ]
    instruction = pick(rng, [
        "Write `/app/cfg2json.py`: it parses one configuration file in our in-house format and prints it as JSON.",
        "Our services read configs in a home-grown INI-like format. Implement `/app/cfg2json.py` to convert one to JSON.",
        "Implement a converter `/app/cfg2json.py` from the configuration format below to JSON.",
    ]) + ("\n\n`python3 /app/cfg2json.py FILE` must print a JSON object mapping each section name to an object "
          "of its keys and typed values. The format:\n\n" + "\n".join(f"- {r}" for r in rules)
          + "\n\nAn example input is /app/example.cfg and its expected output /app/example.json. Use only the "
          "Python standard library.\n")
    solve = f"""# Study the example input and the expected JSON
cd /app && cat -A example.cfg | head -60 && cat example.json | head -60

# Write the parser: join continuations, skip comments, track sections, type the values, then interpolate
cat > /app/cfg2json.py <<'EOF'
{REFERENCE.strip()}
EOF

# Compare with the expected example output
cd /app && python3 cfg2json.py example.cfg > /tmp/out.json && python3 -c 'import json; a = json.load(open("/tmp/out.json")); b = json.load(open("/app/example.json")); print("match" if json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True) else "DIFF")'
"""
    if d == "easy":
        wrong = solve.replace('if not s or s[0] in "#;":', 'if not s or s[0] == "#":')
    elif d == "medium":
        wrong = solve.replace("data.setdefault(section, {})[key.strip()] = parsed",
                              "data.setdefault(section, {}).setdefault(key.strip(), parsed)")
    else:
        wrong = solve.replace('if isinstance(v, str) and "${" in v:', 'if False:')
    assert wrong != solve
    test_files = {f"cases/c{i}.cfg": text for i, (text, _) in enumerate(docs)}
    if bad:
        test_files["cases/bad.cfg"] = bad
    expected = [json.dumps(exp, sort_keys=True) for _, exp in docs]
    tests = f"""import json
import subprocess
import sys

import pytest

EXPECTED = {py_literal(expected)}


def run(path):
    return subprocess.run([sys.executable, "/app/cfg2json.py", path], capture_output=True, text=True, timeout=30)


@pytest.mark.parametrize("i", range(len(EXPECTED)))
def test_hidden_config(i):
    r = run(f"/tests/cases/c{{i}}.cfg")
    assert r.returncode == 0, r.stderr[-400:]
    assert json.dumps(json.loads(r.stdout), sort_keys=True) == EXPECTED[i]
"""
    if bad:
        tests += """

def test_invalid_line_rejected():
    r = run("/tests/cases/bad.cfg")
    assert r.returncode == 1 and r.stdout.strip() == "" and "line" in r.stderr.lower()
"""
    return TaskDraft(instruction=instruction,
                     app_files={"example.cfg": sample, "example.json": json.dumps(sample_expected, indent=2) + "\n"},
                     solve=solve, wrong_solve=wrong, tests=tests, test_files=test_files,
                     tags=("python", "parsing", "config"), requires=("python3",))


FAMILY = TaskFamily(
    name="format-parser",
    description="parse an INI-like config format (types, escapes, lists, continuations, interpolation) to JSON",
    generate=generate,
    requires=("python3",),
)
