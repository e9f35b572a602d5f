"""Write a Makefile for a multi-file C project: per-object builds, header deps, check/install targets."""

from __future__ import annotations

import json

from litecore.records import TaskDraft, TaskFamily, TaskRequest
from litecore.wording import bullets

from litecore_plugin_build_tools.families._cproject import make_project
from litecore_plugin_build_tools.families._maketests import TEST_HELPERS
from litecore_plugin_build_tools.families._util import one_of

MAKEFILE = """CC ?= gcc
CFLAGS ?= -O2 -Wall
CPPFLAGS += -Iinclude
PREFIX ?= /usr/local
SRCS := $(wildcard src/*.c)
OBJS := $(patsubst src/%.c,build/%.o,$(SRCS))
BIN := bin/{prog}
all: $(BIN)
$(BIN): $(OBJS)
\t@mkdir -p $(dir $@)
\t$(CC) $(LDFLAGS) -o $@ $(OBJS) $(LDLIBS)
build/%.o: src/%.c
\t@mkdir -p $(dir $@)
\t$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<
-include $(OBJS:.o=.d)
check: $(BIN)
\t./$(BIN) | diff -u expected_output.txt -
install: $(BIN)
\tinstall -d $(DESTDIR)$(PREFIX)/bin
\tinstall -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/{prog}
clean:
\trm -rf build bin
.PHONY: all check install clean
"""


def generate(req: TaskRequest) -> TaskDraft:
    rng = req.rng
    d = req.difficulty
    proj = make_project(rng, {"easy": 2, "medium": 3, "hard": 4}[d] + rng.randint(0, 1))
    prog = proj.prog
    header = proj.discriminating_header(rng)
    rebuilt = proj.objects_depending_on(header)
    objects = sorted(["main.o"] + [f"{m.name}.o" for m in proj.modules])
    prefix = one_of(rng, "/opt/" + prog, "/srv/tools", "/usr")
    files: dict[str, str] = dict(proj.files())
    reqs = [
        f"`make` (with no arguments) builds the program `bin/{prog}` from every `.c` file in `src/`",
        "each source file is compiled separately to an object file `build/<name>.o` "
        "(e.g. `src/main.c` -> `build/main.o`), then the objects are linked",
        "headers live in `include/`; do not move or edit any source or header file",
        "`make clean` removes everything the build produced (all objects and the program)",
    ]
    if d != "easy":
        files["expected_output.txt"] = proj.expected_output()
        reqs += [
            "running `make` a second time on an up-to-date tree recompiles nothing",
            "when a header changes, exactly the objects whose source includes that header "
            "(directly or through another header) are recompiled, and no others",
            "`make check` builds the program if needed, runs it and fails (non-zero exit) unless its "
            "output is identical to `expected_output.txt`",
        ]
    if d == "hard":
        reqs += [
            "`make install` copies the program to `$(DESTDIR)$(PREFIX)/bin/`, creating directories as "
            "needed; `PREFIX` defaults to `/usr/local` and both can be set on the command line",
            "the compiler is taken from `CC`, and the build must still succeed when someone overrides "
            "`CFLAGS` on the command line (for example `make CFLAGS=-O0`)",
        ]
    intro = one_of(
        rng,
        f"The C project `{prog}` in /app has no build system yet.",
        f"Someone has been compiling `{prog}` (in /app) by hand with a long gcc command line.",
        f"/app holds the sources of a small C tool called `{prog}`, but nothing to build it with.",
    )
    ask = one_of(rng, "Write /app/Makefile so that:", "Create a GNU Makefile at /app/Makefile such that:",
                 "Your job: add /app/Makefile meeting these requirements:")
    instruction = f"{intro} {ask}\n\n{bullets(reqs, rng)}\n"
    solve = f"""# Explore the project layout and how the sources include each other
ls -R /app
grep -n '#include' /app/src/*.c /app/include/*.h

# Write a Makefile with per-object pattern rules, -MMD -MP header dependencies and the extra targets
cat > /app/Makefile <<'MK'
{MAKEFILE.format(prog=prog).rstrip()}
MK

# Build, run and (where there is an expected output) check the result
cd /app && make && ./bin/{prog} && (test ! -f expected_output.txt || make check)

# Leave the tree clean; the build is reproducible from the Makefile
make -C /app clean
"""
    if d == "easy":
        bad = MAKEFILE.replace("rm -rf build bin", "rm -f bin/{prog}")
    elif d == "medium":
        bad = MAKEFILE.replace(" -MMD -MP", "")
    else:
        bad = MAKEFILE.replace("CPPFLAGS += -Iinclude\n", "").replace("CFLAGS ?= -O2 -Wall", "CFLAGS = -O2 -Wall -Iinclude")
    wrong = f"cat > /app/Makefile <<'MK'\n{bad.format(prog=prog).rstrip()}\nMK\n"
    tests = TEST_HELPERS + f"""
import time

import pytest

PROG = {prog!r}
EXPECTED = {json.dumps(proj.expected_output())}
OBJECTS = {json.dumps(objects)}
HEADER = {header!r}
REBUILT = {json.dumps(rebuilt)}
PREFIX = {prefix!r}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    # one clean build, shared by the tests that only read it or run make again on it
    proj = fresh(tmp_path_factory.mktemp("built"))
    return proj, make(proj, check=False)


def test_build_and_output(built):
    proj = built_ok(built)
    out = subprocess.run([str(proj / "bin" / PROG)], capture_output=True, text=True, timeout=20)
    assert out.returncode == 0
    assert out.stdout == EXPECTED


def test_one_object_per_source(built):
    assert sorted(p.name for p in (built_ok(built) / "build").glob("*.o")) == OBJECTS


def test_clean_removes_outputs(built):
    with scratch(built_ok(built)) as proj:
        make(proj, "clean")
        assert not (proj / "bin" / PROG).exists()
        assert not list(proj.rglob("*.o"))
"""
    if d != "easy":
        tests += """

def test_second_make_is_noop(built):
    proj = built_ok(built)
    age_tree(proj, time.time() - 100)
    before = mtimes(proj, ".o")
    make(proj)
    assert mtimes(proj, ".o") == before


def test_header_change_rebuilds_exactly_dependents(built):
    proj = built_ok(built)
    now = time.time()
    age_tree(proj, now - 100)
    before = mtimes(proj, ".o")
    os.utime(proj / HEADER, (now - 50, now - 50))
    make(proj)
    after = mtimes(proj, ".o")
    changed = sorted(pathlib.Path(k).name for k in after if after[k] != before.get(k))
    assert changed == REBUILT


def test_check_target_compares_output(built):
    with scratch(built_ok(built)) as proj:
        (proj / "bin" / PROG).unlink()  # so `make check` has to build the program again
        make(proj, "check")
        (proj / "expected_output.txt").write_text(EXPECTED.replace(" = ", " == ", 1))
        assert make(proj, "check", check=False).returncode != 0
"""
    if d == "hard":
        tests += """

def test_install_prefix_and_destdir(built, tmp_path):
    proj = built_ok(built)
    stage = tmp_path / "stage"
    make(proj, "install", f"DESTDIR={stage}", f"PREFIX={PREFIX}")
    exe = stage / PREFIX.lstrip("/") / "bin" / PROG
    assert os.access(exe, os.X_OK)
    assert subprocess.run([str(exe)], capture_output=True, text=True).stdout == EXPECTED
    make(proj, "install", f"DESTDIR={tmp_path / 'stage2'}")
    assert (tmp_path / "stage2" / "usr/local/bin" / PROG).is_file()


def test_cc_and_cflags_overrides(tmp_path):
    proj = fresh(tmp_path)
    log = tmp_path / "cc.log"
    wrapper = tmp_path / "mycc"
    wrapper.write_text(f"#!/bin/sh\\necho \\"$@\\" >> {log}\\nexec gcc \\"$@\\"\\n")
    wrapper.chmod(0o755)
    make(proj, f"CC={wrapper}", "CFLAGS=-O0")
    compiled = [line for line in log.read_text().splitlines() if " -c " in f" {line} "]
    assert len(compiled) == len(OBJECTS)
    assert all("-O0" in line for line in compiled)
    out = subprocess.run([str(proj / "bin" / PROG)], capture_output=True, text=True)
    assert out.stdout == EXPECTED
"""
    return TaskDraft(
        instruction=instruction,
        app_files=files,
        solve=solve,
        wrong_solve=wrong,
        tests=tests,
        tags=("make", "c", "gcc"),
    )


FAMILY = TaskFamily(
    name="makefile-write",
    description="write a Makefile for a multi-file C project with stated targets and incremental rules",
    generate=generate,
    requires=("make", "gcc"),
)
