"""Repair an inherited Makefile: syntax slips, a dropped object, a stale link rule, phony targets, header deps."""

from __future__ import annotations

import json

import attrs

from litecore.records import TaskDraft, TaskFamily, TaskRequest
from litecore.wording import bullets

from litecore_plugin_build_tools.families._cproject import make_project
from litecore_plugin_build_tools.families._maketests import TEST_HELPERS
from litecore_plugin_build_tools.families._util import one_of

VISIBLE = ("spaces", "typo-var", "missing-object")


def makefile(prog: str, objs: list[str], bugs: set[str]) -> str:
    """The project's Makefile, correct except for the named bugs."""
    obj_list = [o for o in objs if not ("missing-object" in bugs and o == objs[-1])]
    flags_ref = "$(CFLAG)" if "typo-var" in bugs else "$(CFLAGS)"
    deps = "" if "header-deps" in bugs else " -MMD -MP"
    link_indent = "    " if "spaces" in bugs else "\t"
    lines = [
        "# Build file for " + prog + " (inherited; see README)",
        "CC = gcc",
        "CFLAGS = -O2 -Wall -Iinclude",
        "OBJS = " + " ".join(f"build/{o}" for o in obj_list),
        f"BIN = bin/{prog}",
        "",
        "all: $(OBJS) $(BIN)" if "stale-link" in bugs else "all: $(BIN)",
        "",
        "$(BIN): build/main.o" if "stale-link" in bugs else "$(BIN): $(OBJS)",
        "\t@mkdir -p bin",
        f"{link_indent}$(CC) -o $@ $(OBJS)",
        "",
        "build/%.o: src/%.c",
        "\t@mkdir -p build",
        f"\t$(CC) {flags_ref}{deps} -c $< -o $@",
        "",
    ]
    if "header-deps" not in bugs:
        lines += ["-include $(OBJS:.o=.d)", ""]
    lines += ["clean:", "\trm -rf build bin", ""]
    lines.append(".PHONY: all" if "phony-clean" in bugs else ".PHONY: all clean")
    return "\n".join(lines) + "\n"


def generate(req: TaskRequest) -> TaskDraft:
    rng = req.rng
    d = req.difficulty
    proj = make_project(rng, rng.randint(3, 5))
    prog = proj.prog
    objs = ["main.o"] + [f"{m.name}.o" for m in proj.modules]
    if d == "easy":
        bugs = set(rng.sample(VISIBLE, 2))
        fix_last = sorted(bugs)[rng.randint(0, 1)]
    elif d == "medium":
        hidden = rng.choice(["phony-clean", "stale-link"])
        bugs = set(VISIBLE) | {hidden}
        fix_last = hidden
    else:
        bugs = set(VISIBLE) | {"phony-clean", "stale-link", "header-deps"}
        fix_last = rng.choice(["stale-link", "header-deps"])
    header = proj.discriminating_header(rng)
    rebuilt = proj.objects_depending_on(header)
    edited = rng.choice(proj.modules)
    new_mul = edited.mul + rng.randint(1, 5)
    proj2 = attrs.evolve(proj, modules=tuple(attrs.evolve(m, mul=new_mul) if m.name == edited.name else m
                                             for m in proj.modules))
    files: dict[str, str] = dict(proj.files())
    files["Makefile"] = makefile(prog, objs, bugs)
    if "phony-clean" in bugs:
        files["clean"] = one_of(rng, "remember: run the clean target before tagging a release\n",
                                "clean-room notes: nothing here yet\n", "TODO clean up warnings\n")
    files["README"] = (f"{prog}: build with `make`, output goes to bin/{prog}.\n"
                       f"`make clean` should leave only the sources.\n")
    reqs = [
        f"`make` in a fresh checkout builds `bin/{prog}` (also with `make -j4`), and the program prints "
        "one line per module and input",
        "`make clean` removes `build/` and `bin/`",
        "after a `.c` file is edited, `make` recompiles it and relinks the program, so the program reflects "
        "the change",
        "after a header is edited, `make` recompiles exactly the objects whose sources include it "
        "(directly or indirectly)",
        "do not modify anything under `src/` or `include/`; the fix belongs in the Makefile",
    ]
    intro = one_of(
        rng,
        f"The build of `{prog}` in /app is broken, and even when it builds it misbehaves.",
        f"A colleague left /app/Makefile for `{prog}` in a bad state before going on leave.",
        f"`make` fails in /app, the `{prog}` project.",
    )
    ask = one_of(rng, "Repair /app/Makefile so that all of the following hold:",
                 "Fix the Makefile (keep it a Makefile; don't replace it with a shell script). Requirements:",
                 "Make these statements true by fixing /app/Makefile:")
    instruction = f"{intro} {ask}\n\n{bullets(reqs, rng)}\n"
    good = makefile(prog, objs, set())
    almost = makefile(prog, objs, {fix_last} & {"spaces", "typo-var", "missing-object", "stale-link", "header-deps",
                                                "phony-clean"})
    solve = f"""# See what is there and what make complains about
cd /app && ls -la && cat -A Makefile | head -40
make 2>&1 | tail -5; ls src include

# Rewrite the Makefile: tab-indented recipes, the right CFLAGS, every object listed, a link rule that
# depends on all objects, -MMD -MP header dependencies and a phony clean target
cat > /app/Makefile <<'MK'
{good.replace(chr(10) + chr(10), chr(10)).rstrip()}
MK

# Verify: parallel build from scratch, run, clean
make -C /app clean && make -C /app -j4 && /app/bin/{prog} | head -3 && make -C /app clean && ls /app
"""
    wrong = f"cat > /app/Makefile <<'MK'\n{almost.replace(chr(10) + chr(10), chr(10)).rstrip()}\nMK\n"
    originals = {k: v for k, v in proj.files().items()}
    tests = TEST_HELPERS + f"""
import time

import pytest

PROG = {prog!r}
EXPECTED = {json.dumps(proj.expected_output())}
EXPECTED_AFTER_EDIT = {json.dumps(proj2.expected_output())}
EDIT_FILE = {f"src/{edited.name}.c"!r}
EDIT_FROM = {f" * {edited.mul} + "!r}
EDIT_TO = {f" * {new_mul} + "!r}
HEADER = {header!r}
REBUILT = {json.dumps(rebuilt)}
ORIGINALS = {json.dumps(originals, sort_keys=True)}


def run_prog(proj):
    return subprocess.run([str(proj / "bin" / PROG)], capture_output=True, text=True, timeout=20).stdout


def test_sources_untouched():
    for rel, text in ORIGINALS.items():
        assert (APP / rel).read_text() == text, rel


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    # one parallel build of a clean copy, shared by the tests below (edits go to a scratch copy)
    proj = fresh(tmp_path_factory.mktemp("built"))
    return proj, make(proj, "-j4", check=False)


def test_parallel_build_from_scratch(built):
    assert run_prog(built_ok(built)) == EXPECTED


def test_clean(built):
    with scratch(built_ok(built)) as proj:
        make(proj, "clean")
        assert not (proj / "build").exists() and not (proj / "bin").exists()


def test_source_edit_relinks(built):
    with scratch(built_ok(built)) as proj:
        age_tree(proj, time.time() - 100)
        src = proj / EDIT_FILE
        text = src.read_text()
        assert EDIT_FROM in text
        src.write_text(text.replace(EDIT_FROM, EDIT_TO))
        make(proj)
        assert run_prog(proj) == EXPECTED_AFTER_EDIT


def test_header_edit_rebuilds_dependents(built):
    # in place: only mtimes change and the tree stays fully built
    proj = built_ok(built)
    now = time.time()
    age_tree(proj, now - 100)
    before = mtimes(proj, ".o")
    os.utime(proj / HEADER, (now - 50, now - 50))
    make(proj)
    after = mtimes(proj, ".o")
    assert sorted(pathlib.Path(k).name for k in after if after[k] != before.get(k)) == REBUILT
"""
    return TaskDraft(
        instruction=instruction,
        app_files=files,
        solve=solve,
        wrong_solve=wrong,
        tests=tests,
        tags=("make", "debugging", "c"),
    )


FAMILY = TaskFamily(
    name="makefile-repair",
    description="repair a broken Makefile (syntax, variables, object list, link deps, phony, header deps)",
    generate=generate,
    requires=("make", "gcc"),
)
