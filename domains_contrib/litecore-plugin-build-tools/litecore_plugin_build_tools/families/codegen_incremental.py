"""Makefile for a project with generated sources: regenerate on data/generator change, -j safe."""

from __future__ import annotations

import json
import random

from litecore.records import TaskDraft, TaskFamily, TaskRequest
from litecore.wording import bullets

from litecore_plugin_build_tools.families._maketests import TEST_HELPERS
from litecore_plugin_build_tools.families._util import PROJECT_NAMES, one_of

TABLES = {
    "colors": ("crimson", "teal", "amber", "indigo", "olive", "coral", "ivory", "slate", "maroon", "azure"),
    "opcodes": ("load", "store", "jump", "halt", "push", "pop", "call", "ret", "swap", "nop"),
    "units": ("meter", "gram", "second", "kelvin", "mole", "ampere", "candela", "liter", "joule", "watt"),
    "errors": ("timeout", "refused", "denied", "missing", "corrupt", "busy", "overflow", "invalid", "closed", "stale"),
}

GENERATOR = '''#!/usr/bin/env python3
"""Generate {t}_table.h and {t}_table.c from a TSV table: name<TAB>code<TAB>weight.

Usage: python3 tools/gentable.py TABLE.tsv OUTDIR
"""
import pathlib
import sys

SALT = {salt}


def checksum(name, code):
    return (sum(ord(c) for c in name) * SALT + code) % 9973


def main():
    table, outdir = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    rows = []
    for line in table.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, code, weight = line.split("\\t")
        rows.append((name, int(code), int(weight)))
    outdir.mkdir(parents=True, exist_ok=True)
    (outdir / "{t}_table.h").write_text(
        "#ifndef {T}_TABLE_H\\n#define {T}_TABLE_H\\n"
        "struct {t}_entry {{ const char *name; int code; int weight; int checksum; }};\\n"
        f"#define {T}_COUNT {{len(rows)}}\\n"
        "extern const struct {t}_entry {t}_table[{T}_COUNT];\\n#endif\\n")
    body = "".join(f'    {{{{"{{n}}", {{c}}, {{w}}, {{checksum(n, c)}}}}}},\\n' for n, c, w in rows)
    (outdir / "{t}_table.c").write_text(
        '#include "{t}_table.h"\\nconst struct {t}_entry {t}_table[{T}_COUNT] = {{\\n' + body + "}};\\n")


if __name__ == "__main__":
    main()
'''

MAIN = '''#include <stdio.h>
#include "{t}_table.h"

int main(void)
{{
    long total = 0;
    for (int i = 0; i < {T}_COUNT; i++) {{
        printf("%s %d %d %d\\n", {t}_table[i].name, {t}_table[i].code, {t}_table[i].weight, {t}_table[i].checksum);
        total += (long){t}_table[i].weight * {t}_table[i].code;
    }}
    printf("entries=%d total=%ld\\n", {T}_COUNT, total);
    return 0;
}}
'''


def expected(rows: list[tuple[str, int, int]], salt: int) -> str:
    out = "".join(f"{n} {c} {w} {(sum(map(ord, n)) * salt + c) % 9973}\n" for n, c, w in rows)
    return out + f"entries={len(rows)} total={sum(w * c for _, c, w in rows)}\n"


def tsv(rng: random.Random, rows: list[tuple[str, int, int]]) -> str:
    head = rng.choice(["# name\tcode\tweight\n", "# generated table source: edit me, not the C files\n", ""])
    return head + "".join(f"{n}\t{c}\t{w}\n" for n, c, w in rows)


def makefile(t: str, prog: str, *, data_dep: bool = True, gen_dep: bool = True, hdr_dep: bool = True) -> str:
    prereq = " ".join(p for p, keep in (("$(TABLE)", data_dep), ("tools/gentable.py", gen_dep)) if keep)
    lines = [
        f"TABLE ?= data/{t}.tsv",
        "CFLAGS ?= -O2 -Wall",
        "CPPFLAGS += -Ibuild/gen",
        f"BIN := bin/{prog}",
        f"GEN := build/gen/{t}_table.c build/gen/{t}_table.h",
        "all: $(BIN)",
        f"$(BIN): build/main.o build/{t}_table.o",
        "\t@mkdir -p bin",
        "\t$(CC) -o $@ $^",
        f"$(GEN) &: {prereq}".rstrip(),
        "\tpython3 tools/gentable.py $(TABLE) build/gen",
        f"build/main.o: src/main.c" + (f" build/gen/{t}_table.h" if hdr_dep else ""),
        "\t$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<",
        f"build/{t}_table.o: build/gen/{t}_table.c build/gen/{t}_table.h",
        "\t$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<",
        "clean:",
        "\trm -rf build bin",
        ".PHONY: all clean",
    ]
    return "\n".join(lines) + "\n"


def generate(req: TaskRequest) -> TaskDraft:
    rng = req.rng
    d = req.difficulty
    t = rng.choice(sorted(TABLES))
    T = t.upper()
    prog = rng.choice(PROJECT_NAMES) + "-" + rng.choice(["lookup", "dump", "report", "list"])
    names = rng.sample(TABLES[t], rng.randint(4, 7) + 2)
    codes = rng.sample(range(1, 400), len(names))
    rows = [(n, c, rng.randint(1, 60)) for n, c in zip(names, codes)]
    base, extra_pool = rows[:-2], rows[-2:]
    added = extra_pool[0]
    alt = rng.sample(rows, len(rows) - 1)
    salt, salt2 = rng.randint(3, 40), rng.randint(41, 90)
    files = {
        "tools/gentable.py": GENERATOR.format(t=t, T=T, salt=salt),
        "src/main.c": MAIN.format(t=t, T=T),
        f"data/{t}.tsv": tsv(rng, base),
        "NOTES.md": one_of(rng,
                           f"The {t} table is generated: run `python3 tools/gentable.py data/{t}.tsv build/gen`.\n",
                           f"Never edit generated C by hand. Source of truth: data/{t}.tsv.\n",
                           f"Generator usage: tools/gentable.py TABLE.tsv OUTDIR (writes {t}_table.[ch]).\n"),
    }
    if d == "hard":
        files[f"data/{t}_alt.tsv"] = tsv(rng, alt)
    reqs = [
        f"`make` builds `bin/{prog}`; the program's sources are `src/main.c` plus the C code that "
        f"`tools/gentable.py` generates from `data/{t}.tsv`",
        "generated files go under `build/gen/`, never into `src/` (don't commit generated code)",
        f"after `data/{t}.tsv` is edited, `make` regenerates the table and rebuilds what depends on it",
        "`make clean` removes `build/` and `bin/` (generated files included)",
    ]
    if d != "easy":
        reqs += ["a build from a clean tree works both serially and with `make -j4`",
                 "on an up-to-date tree, `make` neither reruns the generator nor recompiles anything"]
    if d == "hard":
        reqs += ["changing `tools/gentable.py` itself also causes regeneration",
                 f"the table file can be chosen on the command line: `make TABLE=data/{t}_alt.tsv` builds the "
                 f"program from that table instead (default: `data/{t}.tsv`)"]
    intro = one_of(rng,
                   f"The `{prog}` program in /app is built around a table that is generated into C code.",
                   f"In /app there is a C program whose lookup table is generated from `data/{t}.tsv`.",
                   f"/app contains `{prog}`: one hand-written C file and a code generator.")
    ask = one_of(rng, "Write /app/Makefile with these properties:", "Create /app/Makefile. It must satisfy:",
                 "Give the project a Makefile (/app/Makefile) such that:")
    instruction = f"{intro} {ask}\n\n{bullets(reqs, rng)}\n"
    mk = makefile(t, prog)
    solve = f"""# Look at the generator, the table and how main.c uses the generated header
cd /app && ls -R && head -20 tools/gentable.py && head -5 data/{t}.tsv && grep include src/main.c

# Write the Makefile: one grouped rule generates both files from the table and the generator;
# main.o depends on the generated header explicitly so a clean (or -j) build orders correctly
cat > /app/Makefile <<'MK'
{mk.rstrip()}
MK

# Build from scratch in parallel, run, then make sure a second make does nothing
make -C /app clean && make -C /app -j4 && /app/bin/{prog} && make -C /app

# Clean up build outputs
make -C /app clean
"""
    if d == "easy":
        bad = makefile(t, prog, data_dep=False)
    elif d == "medium":
        bad = makefile(t, prog, hdr_dep=False)
    else:
        bad = makefile(t, prog, gen_dep=False)
    wrong = f"cat > /app/Makefile <<'MK'\n{bad.rstrip()}\nMK\n"
    added_row = "{}\t{}\t{}\n".format(*added)
    tests = TEST_HELPERS + f"""
import time

import pytest

PROG = {prog!r}
TABLE = {f"data/{t}.tsv"!r}
GEN_FILES = {json.dumps([f"build/gen/{t}_table.c", f"build/gen/{t}_table.h"])}
EXPECTED = {json.dumps(expected(base, salt))}
ADDED_ROW = {added_row!r}
EXPECTED_ADDED = {json.dumps(expected(base + [added], salt))}
SALT_FROM = {f"SALT = {salt}"!r}
SALT_TO = {f"SALT = {salt2}"!r}
EXPECTED_SALT = {json.dumps(expected(base, salt2))}
ALT = {f"data/{t}_alt.tsv"!r}
EXPECTED_ALT = {json.dumps(expected(alt, salt))}


def run_prog(proj):
    return subprocess.run([str(proj / "bin" / PROG)], capture_output=True, text=True, timeout=20).stdout


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    # one serial build of a clean copy, shared by the tests below (edits go to a scratch copy)
    proj = fresh(tmp_path_factory.mktemp("built"))
    return proj, make(proj, check=False)


def test_build_output(built):
    assert run_prog(built_ok(built)) == EXPECTED


def test_generated_files_location(built):
    proj = built_ok(built)
    for g in GEN_FILES:
        assert (proj / g).is_file(), g
    assert sorted(p.name for p in (proj / "src").iterdir()) == ["main.c"]


def test_table_edit_regenerates(built):
    with scratch(built_ok(built)) as proj:
        age_tree(proj, time.time() - 100)
        with open(proj / TABLE, "a") as fh:
            fh.write(ADDED_ROW)
        make(proj)
        assert run_prog(proj) == EXPECTED_ADDED


def test_clean(built):
    with scratch(built_ok(built)) as proj:
        make(proj, "clean")
        assert not (proj / "build").exists() and not (proj / "bin").exists()
"""
    if d != "easy":
        tests += """

def test_parallel_and_serial_from_scratch(built, tmp_path):
    proj = fresh(tmp_path)
    make(proj, "-j4")
    assert run_prog(proj) == EXPECTED
    assert run_prog(built_ok(built)) == EXPECTED


def test_up_to_date_is_noop(built):
    # in place: only mtimes change and the tree stays fully built
    proj = built_ok(built)
    age_tree(proj, time.time() - 100)
    before = {**mtimes(proj, ".o"), **mtimes(proj, ".c"), **mtimes(proj, ".h")}
    make(proj)
    assert {**mtimes(proj, ".o"), **mtimes(proj, ".c"), **mtimes(proj, ".h")} == before
"""
    if d == "hard":
        tests += """

def test_generator_edit_regenerates(built):
    with scratch(built_ok(built)) as proj:
        age_tree(proj, time.time() - 100)
        gen = proj / "tools/gentable.py"
        gen.write_text(gen.read_text().replace(SALT_FROM, SALT_TO))
        make(proj)
        assert run_prog(proj) == EXPECTED_SALT


def test_table_override(tmp_path):
    proj = fresh(tmp_path)
    make(proj, "TABLE=" + ALT)
    assert run_prog(proj) == EXPECTED_ALT
"""
    return TaskDraft(
        instruction=instruction,
        app_files=files,
        solve=solve,
        wrong_solve=wrong,
        tests=tests,
        tags=("make", "codegen", "incremental-build"),
    )


FAMILY = TaskFamily(
    name="codegen-incremental",
    description="Makefile for C code generated from a table: correct regeneration and ordering",
    generate=generate,
    requires=("make", "gcc", "python3"),
)
