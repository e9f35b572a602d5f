"""Write CMakeLists.txt: library + tool, a feature option, ctest, install rules, versioned shared lib."""

from __future__ import annotations

import json

from litecore.records import TaskDraft, TaskFamily, TaskRequest
from litecore.wording import bullets

from litecore_plugin_build_tools.families._util import PROJECT_NAMES, one_of


def cmakelists(n: str, opt: str, ver: str, d: str, *, install_header: bool = True, soversion: bool = True) -> str:
    major = ver.split(".")[0]
    lines = [
        "cmake_minimum_required(VERSION 3.16)",
        f"project({n} VERSION {ver} LANGUAGES C)",
        f"option({opt} \"use the alternative mixing formula\" OFF)",
        f"add_library({n} src/lib/{n}.c)",
        f"target_include_directories({n} PUBLIC $<BUILD_INTERFACE:${{CMAKE_CURRENT_SOURCE_DIR}}/include> $<INSTALL_INTERFACE:include>)",
        f"if({opt})",
        f"  target_compile_definitions({n} PRIVATE {opt}=1)",
        "endif()",
        f"add_executable({n}-cli src/app/main.c)",
        f"target_link_libraries({n}-cli PRIVATE {n})",
    ]
    if d == "hard":
        props = f"VERSION ${{PROJECT_VERSION}} SOVERSION {major}" if soversion else "VERSION ${PROJECT_VERSION}"
        lines += [f"set_target_properties({n} PROPERTIES {props})",
                  f"set_target_properties({n}-cli PROPERTIES INSTALL_RPATH \"$ORIGIN/../lib\")"]
    if d != "easy":
        lines += ["enable_testing()",
                  f"add_executable(test_{n} tests/test_{n}.c)",
                  f"target_link_libraries(test_{n} PRIVATE {n})",
                  f"add_test(NAME {n}_mix COMMAND test_{n})",
                  "include(GNUInstallDirs)",
                  f"install(TARGETS {n} {n}-cli)"]
        if install_header:
            lines.append(f"install(FILES include/{n}.h DESTINATION ${{CMAKE_INSTALL_INCLUDEDIR}})")
    return "\n".join(lines) + "\n"


def generate(req: TaskRequest) -> TaskDraft:
    rng = req.rng
    d = req.difficulty
    n = rng.choice(PROJECT_NAMES) + rng.choice(["", "mix", "core", "calc"])
    N = n.upper()
    opt = f"{N}_{rng.choice(['FAST', 'ALT', 'TURBO', 'LEGACY'])}"
    ver = f"{rng.randint(1, 6)}.{rng.randint(0, 12)}.{rng.randint(0, 9)}"
    a, b, c = rng.randint(3, 29), rng.randint(1, 99), rng.randint(100, 999)
    inputs = sorted(rng.sample(range(1, 1000), 3))
    plain = {x: x * a + b for x in inputs}
    alt = {x: x * a + b + c for x in inputs}
    header = f"#ifndef {N}_H\n#define {N}_H\nlong {n}_mix(long x);\nconst char *{n}_mode(void);\n#endif\n"
    lib = (f'#include "{n}.h"\n\nlong {n}_mix(long x)\n{{\n#ifdef {opt}\n    return x * {a} + {b} + {c};\n#else\n'
           f'    return x * {a} + {b};\n#endif\n}}\n\nconst char *{n}_mode(void)\n{{\n#ifdef {opt}\n    return "alt";\n'
           f'#else\n    return "plain";\n#endif\n}}\n')
    main = (f'#include <stdio.h>\n#include <stdlib.h>\n#include "{n}.h"\n\nint main(int argc, char **argv)\n{{\n'
            f'    printf("mode=%s\\n", {n}_mode());\n    for (int i = 1; i < argc; i++)\n'
            f'        printf("%s -> %ld\\n", argv[i], {n}_mix(atol(argv[i])));\n    return 0;\n}}\n')
    test_c = (f'#include <string.h>\n#include "{n}.h"\n\nint main(void)\n{{\n'
              f'    long want = strcmp({n}_mode(), "alt") == 0 ? {a + b + c} : {a + b};\n'
              f'    return {n}_mix(1) == want ? 0 : 1;\n}}\n')
    files = {f"include/{n}.h": header, f"src/lib/{n}.c": lib, "src/app/main.c": main, f"tests/test_{n}.c": test_c,
             "README.md": f"# {n}\n\nA tiny mixing library and its command line tool.\n"}
    reqs = [
        f"`cmake -S /app -B <dir>` followed by `cmake --build <dir>` builds a library target `{n}` from "
        f"`src/lib/` and an executable `{n}-cli` (from `src/app/main.c`) linked against it; the executable "
        "ends up directly in the build directory",
        "public headers are in `include/`; don't edit any source file",
        f"a CMake option `{opt}` (default OFF) compiles the library with the preprocessor macro `{opt}` "
        "defined, which switches it to its alternative formula",
        f"the project version is {ver}",
    ]
    if d != "easy":
        reqs += [f"`ctest` in the build directory runs `tests/test_{n}.c` (built as its own executable) as a test, "
                 "and it passes with the option both ON and OFF",
                 f"`cmake --install <dir> --prefix <p>` installs `bin/{n}-cli`, the library under `lib/` and "
                 f"the header as `include/{n}.h`"]
    if d == "hard":
        reqs += [f"with `-DBUILD_SHARED_LIBS=ON` the library is a shared library versioned like the project: "
                 f"`lib{n}.so.{ver}` with SONAME `lib{n}.so.{ver.split('.')[0]}` (plus the usual symlinks)",
                 f"the installed `bin/{n}-cli` of a shared build runs without setting LD_LIBRARY_PATH"]
    intro = one_of(rng, f"/app contains the C sources of `{n}` but no build description.",
                   f"The `{n}` project in /app is moving to CMake.",
                   f"We want a CMake build for the `{n}` library and tool in /app.")
    ask = one_of(rng, "Write /app/CMakeLists.txt so that:", "Create the top-level CMakeLists.txt. Requirements:",
                 "Add /app/CMakeLists.txt satisfying all of:")
    instruction = f"{intro} {ask}\n\n{bullets(reqs, rng)}\n"
    good = cmakelists(n, opt, ver, d)
    if d == "easy":
        bad = good.replace(f"if({opt})", f"if(NOT {opt})")
    elif d == "medium":
        bad = cmakelists(n, opt, ver, d, install_header=False)
    else:
        bad = cmakelists(n, opt, ver, d, soversion=False)
    solve = f"""# Look at the sources: which macro the option must define, what the test program expects
cd /app && find . -type f | sort && grep -n "ifdef\\|include" src/lib/*.c src/app/main.c tests/*.c

# Write the CMake build: library + tool, the option as a compile definition, tests, install rules
cat > /app/CMakeLists.txt <<'CM'
{good.rstrip()}
CM

# Configure once with the option on: CMake accepts the file and knows the option
rm -rf /tmp/b1 && cmake -S /app -B /tmp/b1 -D{opt}=ON >/dev/null && grep "^{opt}:" /tmp/b1/CMakeCache.txt
"""
    wrong = f"cat > /app/CMakeLists.txt <<'CM'\n{bad.rstrip()}\nCM\n"
    tests = f"""import os
import pathlib
import shutil
import subprocess

import pytest

APP = pathlib.Path("/app")
NAME = {n!r}
OPT = {opt!r}
VERSION = {ver!r}
INPUTS = {json.dumps([str(x) for x in inputs])}
PLAIN = "mode=plain\\n" + "".join(f"{{x}} -> {{v}}\\n" for x, v in {json.dumps(list(plain.items()))})
ALT = "mode=alt\\n" + "".join(f"{{x}} -> {{v}}\\n" for x, v in {json.dumps(list(alt.items()))})


def build(tmp, *defs):
    src = tmp / "src"
    if not src.exists():
        shutil.copytree(APP, src, ignore=shutil.ignore_patterns("build", "CMakeCache.txt", "CMakeFiles"))
    bdir = tmp / ("build" + "".join(defs).replace("=", "_"))
    # progress messages off: they cost a cmake process per rule and change nothing that is built
    r = subprocess.run(["cmake", "-S", str(src), "-B", str(bdir), "-DCMAKE_RULE_MESSAGES=OFF",
                        *[f"-D{{d}}" for d in defs]],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout[-1500:] + r.stderr[-1500:]
    r = subprocess.run(["cmake", "--build", str(bdir)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout[-1500:] + r.stderr[-1500:]
    return bdir


@pytest.fixture(scope="module")
def default_build(tmp_path_factory):
    return build(tmp_path_factory.mktemp("d"))


@pytest.fixture(scope="module")
def option_build(tmp_path_factory):
    return build(tmp_path_factory.mktemp("o"), f"{{OPT}}=ON")


def run(exe, *args, env=None):
    return subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=20, env=env)


def test_default_build_output(default_build):
    assert run(default_build / f"{{NAME}}-cli", *INPUTS).stdout == PLAIN


def test_option_switches_formula(option_build):
    assert run(option_build / f"{{NAME}}-cli", *INPUTS).stdout == ALT


def test_project_version(default_build):
    cache = (default_build / "CMakeCache.txt").read_text()
    assert f"CMAKE_PROJECT_VERSION:STATIC={{VERSION}}" in cache
"""
    if d != "easy":
        tests += """

def test_ctest_passes_both_ways(default_build, option_build):
    for b in (default_build, option_build):
        r = subprocess.run(["ctest", "--output-on-failure"], cwd=b, capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stdout[-1500:]
        assert "1 tests passed" in r.stdout or "100% tests passed" in r.stdout
        assert "No tests were found" not in r.stdout


def test_install_layout(default_build, tmp_path):
    r = subprocess.run(["cmake", "--install", str(default_build), "--prefix", str(tmp_path / "p")],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    p = tmp_path / "p"
    assert (p / "include" / f"{NAME}.h").is_file()
    assert run(p / "bin" / f"{NAME}-cli", *INPUTS).stdout == PLAIN
    libs = list(p.glob(f"lib*/lib{NAME}.*"))
    assert libs, sorted(str(x) for x in p.rglob("*"))
"""
    if d == "hard":
        tests += """

def test_shared_library_versioning(tmp_path):
    b = build(tmp_path, "BUILD_SHARED_LIBS=ON")
    major = VERSION.split(".")[0]
    real = list(b.rglob(f"lib{NAME}.so.{VERSION}"))
    assert real, sorted(str(x.name) for x in b.iterdir())
    out = subprocess.run(["readelf", "-d", str(real[0])], capture_output=True, text=True).stdout
    assert f"Library soname: [lib{NAME}.so.{major}]" in out
    r = subprocess.run(["cmake", "--install", str(b), "--prefix", str(tmp_path / "p")], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    env = {k: v for k, v in os.environ.items() if k != "LD_LIBRARY_PATH"}
    res = run(tmp_path / "p" / "bin" / f"{NAME}-cli", *INPUTS, env=env)
    assert res.returncode == 0, res.stderr
    assert res.stdout == PLAIN
    assert list((tmp_path / "p").glob(f"lib*/lib{NAME}.so.{major}"))
"""
    return TaskDraft(
        instruction=instruction,
        app_files=files,
        solve=solve,
        wrong_solve=wrong,
        tests=tests,
        tags=("cmake", "c", "install"),
    )


FAMILY = TaskFamily(
    name="cmake-project",
    description="write a CMake build with a library, a tool, an option, tests, install rules and SONAME",
    generate=generate,
    requires=("cmake", "make", "gcc"),
)
