"""Get a C project to build under strict flags: include paths, -lm, link order, prototypes, guards, globals."""

from __future__ import annotations

import json
import math
import random

from litecore.records import TaskDraft, TaskFamily, TaskRequest
from litecore.wording import bullets

from litecore_plugin_build_tools.families._maketests import TEST_HELPERS
from litecore_plugin_build_tools.families._util import PROJECT_NAMES, one_of

BUILD_ISSUES = ("no-lm", "no-include-path", "link-order")
SOURCE_ISSUES = ("implicit-decl", "no-guard", "header-global")


def makefile(prog: str, issues: set[str], extra_cflags: str = "") -> str:
    inc = "" if "no-include-path" in issues else " -Iinclude"
    libs = "-lhelper" if "no-lm" in issues else "-lhelper -lm"
    link = ("\t$(CC) $(LDFLAGS) $(LDLIBS) -o $@ $(OBJS)" if "link-order" in issues
            else "\t$(CC) $(LDFLAGS) -o $@ $(OBJS) $(LDLIBS)")
    return "\n".join([
        "CC = gcc",
        f"CFLAGS = -O2 -Wall -Werror{inc}{extra_cflags}",
        "LDFLAGS = -Lbuild",
        f"LDLIBS = {libs}",
        "OBJS = build/main.o build/stats.o build/util.o",
        f"bin/{prog}: $(OBJS) build/libhelper.a",
        "\t@mkdir -p bin",
        link,
        "build/libhelper.a: build/helper.o",
        "\tar rcs $@ $^",
        "build/helper.o: lib/helper.c",
        "\t@mkdir -p build",
        "\t$(CC) $(CFLAGS) -c -o $@ $<",
        "build/%.o: src/%.c",
        "\t@mkdir -p build",
        "\t$(CC) $(CFLAGS) -c -o $@ $<",
        "clean:",
        "\trm -rf build bin",
        ".PHONY: clean",
    ]) + "\n"


def sources(prog: str, label: str, clamp: int, issues: set[str]) -> dict[str, str]:
    guard_open = "" if "no-guard" in issues else "#ifndef SAMPLE_TYPES_H\n#define SAMPLE_TYPES_H\n"
    guard_close = "" if "no-guard" in issues else "#endif\n"
    verbose = "int verbose_level = 0;\n" if "header-global" in issues else "extern int verbose_level;\n"
    util_def = "" if "header-global" in issues else "int verbose_level = 0;\n"
    stats_inc = "" if "implicit-decl" in issues else '#include "util.h"\n'
    return {
        "include/types.h": guard_open + "struct sample {\n    long value;\n    int weight;\n};\n" + guard_close,
        "include/stats.h": ('#ifndef STATS_H\n#define STATS_H\n#include "types.h"\n'
                            "long stats_total(const struct sample *s, int n);\n"
                            "long stats_norm(const struct sample *s, int n);\n"
                            "long stats_root(long v);\n#endif\n"),
        "include/util.h": ('#ifndef UTIL_H\n#define UTIL_H\n#include "types.h"\n' + verbose +
                           "int util_load(const char *path, struct sample *out, int max);\n"
                           "long util_clamp(long v);\n#endif\n"),
        "include/helper.h": "#ifndef HELPER_H\n#define HELPER_H\nvoid helper_print(const char *key, long v);\n#endif\n",
        "lib/helper.c": ('#include <stdio.h>\n#include "helper.h"\n\n'
                         f'void helper_print(const char *key, long v)\n{{\n    printf("{label}.%s=%ld\\n", key, v);\n}}\n'),
        "src/stats.c": ('#include <math.h>\n#include "stats.h"\n' + stats_inc + "\n"
                        "long stats_total(const struct sample *s, int n)\n{\n    long t = 0;\n"
                        "    for (int i = 0; i < n; i++)\n        t += util_clamp(s[i].value) * s[i].weight;\n"
                        "    return t;\n}\n\n"
                        "long stats_norm(const struct sample *s, int n)\n{\n    double acc = 0;\n"
                        "    for (int i = 0; i < n; i++)\n        acc += (double)s[i].weight * s[i].value * s[i].value;\n"
                        "    return (long)floor(sqrt(acc));\n}\n\n"
                        "long stats_root(long v)\n{\n    return (long)floor(sqrt((double)v));\n}\n"),
        "src/util.c": ('#include <stdio.h>\n#include "util.h"\n\n' + util_def +
                       "int util_load(const char *path, struct sample *out, int max)\n{\n"
                       '    FILE *f = fopen(path, "r");\n    int n = 0;\n    if (!f)\n        return -1;\n'
                       '    while (n < max && fscanf(f, "%ld %d", &out[n].value, &out[n].weight) == 2)\n'
                       "        n++;\n    fclose(f);\n    return n;\n}\n\n"
                       f"long util_clamp(long v)\n{{\n    return v > {clamp} ? {clamp} : v;\n}}\n"),
        "src/main.c": ('#include <stdio.h>\n#include "stats.h"\n#include "util.h"\n#include "helper.h"\n\n'
                       "int main(int argc, char **argv)\n{\n    struct sample s[256];\n"
                       '    int n = util_load(argc > 1 ? argv[1] : "data/samples.txt", s, 256);\n'
                       '    if (n < 0) {\n        fprintf(stderr, "cannot read input\\n");\n        return 1;\n    }\n'
                       '    helper_print("count", n);\n    helper_print("total", stats_total(s, n));\n'
                       '    helper_print("norm", stats_norm(s, n));\n'
                       '    for (int i = 0; i < n; i++)\n        helper_print("root", stats_root(s[i].value));\n'
                       "    return verbose_level;\n}\n"),
    }


def expected(label: str, clamp: int, rows: list[tuple[int, int]]) -> str:
    out = [f"{label}.count={len(rows)}", f"{label}.total={sum(min(v, clamp) * w for v, w in rows)}",
           f"{label}.norm={math.isqrt(sum(w * v * v for v, w in rows))}"]
    out += [f"{label}.root={math.isqrt(v)}" for v, _ in rows]
    return "\n".join(out) + "\n"


def rows_for(rng: random.Random) -> list[tuple[int, int]]:
    return [(rng.randint(1, 90000), rng.randint(1, 9)) for _ in range(rng.randint(4, 9))]


def generate(req: TaskRequest) -> TaskDraft:
    rng = req.rng
    d = req.difficulty
    prog = rng.choice(PROJECT_NAMES) + "stat"
    label = rng.choice(["stat", "out", "res", "m", prog[:4]])
    clamp = rng.randint(20000, 70000)
    if d == "easy":
        issues = set(rng.sample(BUILD_ISSUES, 2))
    elif d == "medium":
        issues = set(BUILD_ISSUES) | {rng.choice(SOURCE_ISSUES)}
    else:
        issues = set(BUILD_ISSUES) | set(rng.sample(SOURCE_ISSUES, 2))
    rows, rows2 = rows_for(rng), rows_for(rng)
    data = "".join(f"{v} {w}\n" for v, w in rows)
    data2 = "".join(f"{v} {w}\n" for v, w in rows2)
    files = dict(sources(prog, label, clamp, issues))
    files["Makefile"] = makefile(prog, issues)
    files["data/samples.txt"] = data
    reqs = [
        f"`make` in a clean checkout builds `bin/{prog}` without errors",
        f"`bin/{prog} FILE` prints the statistics of FILE (one `value weight` pair per line); with no "
        "argument it reads `data/samples.txt`",
        "keep the strict warning flags: every compile must still use `-Wall -Werror`, and you may not "
        "silence diagnostics (no `-w`, `-Wno-...`, `-fcommon` or `-fpermissive`); fix the code instead",
        "every `.c` file must compile on its own with `gcc -Wall -Werror -Iinclude -c`",
        "the helper code in `lib/` must stay a static library (`build/libhelper.a`) linked with `-lhelper`",
    ]
    intro = one_of(rng,
                   f"`make` fails for the `{prog}` project in /app.",
                   f"The `{prog}` statistics tool in /app stopped building after a cleanup of its build flags.",
                   f"Nobody has been able to build `{prog}` (in /app) since the last refactor.")
    ask = one_of(rng, "Get it building again. Requirements:", "Fix the build. What must be true when you are done:",
                 "Find and fix every problem so that:")
    instruction = f"{intro} {ask}\n\n{bullets(reqs, rng)}\n"
    fix_blocks = []
    if "implicit-decl" in issues:
        fix_blocks.append("# stats.c calls util_clamp without its prototype: include util.h\n"
                          "sed -i 's/^#include \"stats.h\"$/#include \"stats.h\"\\n#include \"util.h\"/' /app/src/stats.c\n"
                          "grep -n include /app/src/stats.c")
    if "no-guard" in issues:
        fix_blocks.append("# types.h is included twice through stats.h and util.h: give it an include guard\n"
                          "cd /app && { printf '#ifndef SAMPLE_TYPES_H\\n#define SAMPLE_TYPES_H\\n'; cat include/types.h; "
                          "printf '#endif\\n'; } > /tmp/types.h && mv /tmp/types.h include/types.h && cat include/types.h")
    if "header-global" in issues:
        fix_blocks.append("# verbose_level is defined in a header (multiple definition at link): declare it extern\n"
                          "# there and define it once in util.c\n"
                          "cd /app && sed -i 's/^int verbose_level = 0;$/extern int verbose_level;/' include/util.h && "
                          "sed -i 's/^#include \"util.h\"$/#include \"util.h\"\\n\\nint verbose_level = 0;/' src/util.c")
    solve = (f"""# Reproduce the failure and read the Makefile and headers
cd /app && cat Makefile && ls -R include src lib && make 2>&1 | tail -15

# Fix the Makefile: add the include path, link libm, and put the libraries after the objects
cat > /app/Makefile <<'MK'
{makefile(prog, set()).rstrip()}
MK

""" + "\n\n".join(fix_blocks) + ("\n\n" if fix_blocks else "") + f"""# Build from scratch and run on the sample data
# (make compiles every file on its own with -Wall -Werror -Iinclude)
cd /app && make clean && make 2>&1 | tail -8 && ./bin/{prog}
""")
    # wrong: leaves one problem (or papers over a source problem with a flag)
    left = sorted(issues)[rng.randrange(len(issues))]
    hack = {"implicit-decl": " -Wno-implicit-function-declaration", "header-global": " -fcommon"}.get(left, "")
    if hack:
        wrong_mk = makefile(prog, set(), hack)
    else:
        wrong_mk = makefile(prog, {left} & set(BUILD_ISSUES))
    wrong_fix = "\n".join(b.split("\n", 1)[1].replace("\n# there and define it once in util.c", "")
                          for b, name in zip(fix_blocks, [i for i in SOURCE_ISSUES if i in issues]) if name != left)
    wrong = f"cat > /app/Makefile <<'MK'\n{wrong_mk.rstrip()}\nMK\n{wrong_fix}\n"
    tests = TEST_HELPERS + f"""
import pytest

PROG = {prog!r}
EXPECTED = {json.dumps(expected(label, clamp, rows))}
DATA2 = {json.dumps(data2)}
EXPECTED2 = {json.dumps(expected(label, clamp, rows2))}
FORBIDDEN = ("-w", "-fcommon", "-fpermissive")


def run_prog(proj, *args):
    return subprocess.run([str(proj / "bin" / PROG), *args], capture_output=True, text=True, timeout=20, cwd=proj)


def cc_shims(where, log):
    # gcc and cc wrappers that log their arguments, then run the real compiler
    where.mkdir()
    for name in ("gcc", "cc"):
        real = shutil.which(name)
        if real:
            (where / name).write_text(f"#!/bin/sh\\necho \\"$@\\" >> {{log}}\\nexec {{real}} \\"$@\\"\\n")
            (where / name).chmod(0o755)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    # one plain `make` of a clean copy, shared by the tests below; the compilers it finds on PATH log their calls
    tmp = tmp_path_factory.mktemp("b")
    proj, log = fresh(tmp), tmp / "cc.log"
    cc_shims(tmp / "shims", log)
    env = dict(os.environ, PATH=f"{{tmp / 'shims'}}:{{os.environ.get('PATH', '')}}")
    r = subprocess.run(["make", "-C", str(proj)], capture_output=True, text=True, timeout=120, env=env)
    return proj, r, log


def test_builds_from_clean(built):
    built_ok(built)


def test_output_on_sample(built):
    r = run_prog(built_ok(built))
    assert r.returncode == 0 and r.stdout == EXPECTED


def test_output_on_other_file(built, tmp_path):
    proj = built_ok(built)
    (tmp_path / "other.txt").write_text(DATA2)
    assert run_prog(proj, str(tmp_path / "other.txt")).stdout == EXPECTED2


def compiles_of(calls):
    return [c.split() for c in calls if " -c " in f" {{c}} "]


def test_strict_flags_kept(built, tmp_path):
    proj, log = built_ok(built), built[2]
    calls = log.read_text().splitlines() if log.exists() else []
    if len(compiles_of(calls)) < 4:
        # the Makefile runs its compiler by a name the shims don't cover: wrap $(CC) instead
        proj = fresh(tmp_path)
        log = tmp_path / "cc.log"
        wrapper = tmp_path / "cc-wrap"
        wrapper.write_text(f"#!/bin/sh\\necho \\"$@\\" >> {{log}}\\nexec gcc \\"$@\\"\\n")
        wrapper.chmod(0o755)
        make(proj, f"CC={{wrapper}}")
        calls = log.read_text().splitlines()
    compiles = compiles_of(calls)
    assert len(compiles) >= 4
    for args in calls:
        words = args.split()
        assert not any(w in FORBIDDEN or w.startswith("-Wno-") for w in words), args
    for words in compiles:
        assert "-Wall" in words and "-Werror" in words, words
    assert (proj / "build/libhelper.a").is_file()
    link = [c.split() for c in calls if " -c " not in f" {{c}} "]
    assert any("-lhelper" in w for w in link)


def test_sources_compile_strictly(tmp_path):
    for src in sorted(list((APP / "src").glob("*.c")) + list((APP / "lib").glob("*.c"))):
        r = subprocess.run(["gcc", "-Wall", "-Werror", "-I", str(APP / "include"), "-c", str(src),
                            "-o", str(tmp_path / "x.o")], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr


def test_links_without_common_symbols(tmp_path):
    objs = []
    for src in sorted((APP / "src").glob("*.c")):
        obj = tmp_path / (src.stem + ".o")
        subprocess.run(["gcc", "-O2", "-I", str(APP / "include"), "-c", str(src), "-o", str(obj)], check=True)
        objs.append(str(obj))
    helper = tmp_path / "helper.o"
    subprocess.run(["gcc", "-I", str(APP / "include"), "-c", str(APP / "lib/helper.c"), "-o", str(helper)], check=True)
    r = subprocess.run(["gcc", "-o", str(tmp_path / "p"), *objs, str(helper), "-lm"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
"""
    return TaskDraft(
        instruction=instruction,
        app_files=files,
        solve=solve,
        wrong_solve=wrong,
        tests=tests,
        tags=("gcc", "linker", "make", "debugging"),
    )


FAMILY = TaskFamily(
    name="c-build-fix",
    description="fix compile and link errors (include paths, libm, link order, prototypes, guards, globals)",
    generate=generate,
    requires=("make", "gcc", "ar"),
)
