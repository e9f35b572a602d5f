"""Package a Python project with pyproject.toml so pip installs it offline, with scripts and data."""

from __future__ import annotations

import json

from litecore.records import TaskDraft, TaskFamily, TaskRequest
from litecore.wording import bullets

from litecore_plugin_build_tools.families._util import one_of

PKG_NAMES = ("wordscore", "tallyho", "glyphs", "letterweight", "scrabbler", "inkcount", "runeval", "textmass")
WORDS = ("orbit", "cinder", "meadow", "falcon", "quartz", "lantern", "harbor", "pebble", "thistle", "vortex",
         "juniper", "kettle", "zephyr", "bramble", "walnut", "mosaic")


def init_py(version: str) -> str:
    return f'"""Word scoring utilities."""\n\n__version__ = "{version}"\n'


def cli_py(pkg: str, sub: bool, data: bool) -> str:
    if data:
        load = ("import json\nfrom importlib import resources\n\n\n"
                f"def weights():\n    return json.loads(resources.files('{pkg}').joinpath('data/weights.json').read_text())\n")
    elif sub:
        load = f"from {pkg}.scoring.table import WEIGHTS\n\n\ndef weights():\n    return WEIGHTS\n"
    else:
        load = f"from {pkg}.table import WEIGHTS\n\n\ndef weights():\n    return WEIGHTS\n"
    yaml_part = ("    if args and args[0] == '--yaml':\n        import yaml\n"
                 "        print(yaml.safe_dump({w: score(w, table) for w in args[1:]}, sort_keys=True), end='')\n"
                 "        return 0\n") if data else ""
    return (f'"""Command line entry point of {pkg}."""\nimport sys\n' + load + "\n\n"
            "def score(word, table):\n    return sum(table.get(c, 0) for c in word.lower())\n\n\n"
            "def main(argv=None):\n    args = list(sys.argv[1:] if argv is None else argv)\n    table = weights()\n"
            + yaml_part +
            "    for w in args:\n        print(f'{w}: {score(w, table)}')\n    return 0\n\n\n"
            "if __name__ == '__main__':\n    sys.exit(main())\n")


def generate(req: TaskRequest) -> TaskDraft:
    rng = req.rng
    d = req.difficulty
    pkg = rng.choice(PKG_NAMES)
    dist = pkg.replace("_", "-") + rng.choice(["", "-tool", "-cli", "-kit"])
    cmd = rng.choice([pkg, pkg[:5] + "-score", "score-" + pkg[:4], pkg + "ctl"])
    version = f"{rng.randint(0, 3)}.{rng.randint(0, 19)}.{rng.randint(0, 9)}"
    src_layout = rng.random() < 0.5
    projdir = rng.choice(["project", pkg, "pkg-src", "workspace"])
    sub, data = d != "easy", d == "hard"
    letters = "abcdefghijklmnopqrstuvwxyz"
    table = {c: rng.randint(1, 12) for c in letters}
    words = rng.sample(WORDS, 3)
    scores = {w: sum(table[c] for c in w) for w in words}
    root = f"{projdir}/src/{pkg}" if src_layout else f"{projdir}/{pkg}"
    files: dict[str, str] = {
        f"{root}/__init__.py": init_py(version),
        f"{root}/cli.py": cli_py(pkg, sub, data),
        f"{projdir}/README.md": f"# {dist}\n\nScores words by letter weights. Run `{cmd} WORD...`.\n",
        f"{projdir}/tests/test_cli.py": f"from {pkg}.cli import score\n\n\ndef test_empty():\n    assert score('', {{}}) == 0\n",
        f"{projdir}/docs/index.md": f"{dist} documentation\n",
    }
    table_src = "WEIGHTS = {\n" + "".join(f"    {c!r}: {v},\n" for c, v in table.items()) + "}\n"
    if data:
        files[f"{root}/data/weights.json"] = json.dumps(table, indent=1) + "\n"
        files[f"{root}/scoring/__init__.py"] = ""
        files[f"{root}/scoring/table.py"] = f"# legacy copy, superseded by data/weights.json\n{table_src}"
    elif sub:
        files[f"{root}/scoring/__init__.py"] = ""
        files[f"{root}/scoring/table.py"] = table_src
    else:
        files[f"{root}/table.py"] = table_src
    reqs = [
        f"the distribution is named `{dist}`; its version is {version}, defined once in "
        f"`{pkg}/__init__.py` as `__version__` (the installed metadata must match it)",
        f"installing it offline works: `pip install --no-build-isolation --no-index /app/{projdir}` into a "
        "virtual environment created with `--system-site-packages` (setuptools is available there, nothing can "
        "be downloaded)",
        f"the installed environment gets a console command `{cmd}` that calls `{pkg}.cli:main`",
        "use setuptools as the build backend; don't move or edit the Python sources",
    ]
    if sub:
        reqs.append(f"every sub-package of `{pkg}` must be installed (the tests and docs folders must not be)")
    if data:
        reqs.append(f"the data file `{pkg}/data/weights.json` is package data and must be installed with the "
                    "package (the CLI loads it through importlib.resources)")
        reqs.append(f"the `--yaml` option needs PyYAML: declare a runtime dependency on `PyYAML>=5` "
                    "(it is already installed system-wide)")
    intro = one_of(rng,
                   f"/app/{projdir} is a Python project with no packaging metadata at all.",
                   f"The tool in /app/{projdir} can only be used from a source checkout right now.",
                   f"We need to ship the Python code in /app/{projdir} to machines without internet access.")
    ask = one_of(rng, f"Write /app/{projdir}/pyproject.toml so that:",
                 f"Add a pyproject.toml (in /app/{projdir}) meeting these requirements:",
                 "Package it properly. Requirements:")
    instruction = f"{intro} {ask}\n\n{bullets(reqs, rng)}\n"
    find = ('where = ["src"]\n' if src_layout else "") + f'include = ["{pkg}", "{pkg}.*"]\n'
    pyproject = (
        '[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n'
        f'[project]\nname = "{dist}"\ndynamic = ["version"]\nrequires-python = ">=3.9"\n'
        + ('dependencies = ["PyYAML>=5"]\n' if data else "")
        + f'[project.scripts]\n{cmd} = "{pkg}.cli:main"\n'
        f'[tool.setuptools.dynamic]\nversion = {{attr = "{pkg}.__version__"}}\n'
        f"[tool.setuptools.packages.find]\n{find}"
        + (f'[tool.setuptools.package-data]\n{pkg} = ["data/*.json"]\n' if data else "")
    )
    if d == "easy":
        bad = pyproject.replace(f'"{pkg}.cli:main"', f'"{pkg}:main"')
    elif d == "medium":
        bad = pyproject.replace(f'include = ["{pkg}", "{pkg}.*"]', f'include = ["{pkg}"]')
    else:
        bad = pyproject.replace(f'[tool.setuptools.package-data]\n{pkg} = ["data/*.json"]\n', "")
    solve = f"""# Inspect the project layout and where the entry point and data live
cd /app/{projdir} && find . -type f | sort && grep -n "__version__\\|def main\\|resources\\|import" -r --include=*.py .

# Write pyproject.toml: setuptools backend, version from __version__, explicit package discovery,
# the console script, and package data / dependency where needed
cat > /app/{projdir}/pyproject.toml <<'TOML'
{pyproject.rstrip()}
TOML

# Check the file parses and names the distribution, version source and console script
cd /app/{projdir} && python3 -c "import tomllib; t = tomllib.load(open('pyproject.toml', 'rb')); \
print(t['project']['name'], t['project']['scripts'], t['tool']['setuptools']['dynamic'])"
"""
    wrong = f"cat > /app/{projdir}/pyproject.toml <<'TOML'\n{bad.rstrip()}\nTOML\n"
    tests = f"""import email.parser
import json
import pathlib
import shutil
import subprocess
import sys

import pytest

PROJ = pathlib.Path("/app") / {projdir!r}
DIST = {dist!r}
PKG = {pkg!r}
CMD = {cmd!r}
VERSION = {version!r}
WORDS = {json.dumps(words)}
SCORES = {json.dumps(scores)}
DATA = {data!r}
SUB = {sub!r}


@pytest.fixture(scope="module")
def venv(tmp_path_factory):
    base = tmp_path_factory.mktemp("inst")
    env = base / "venv"
    if not any((PROJ / f).is_file() for f in ("pyproject.toml", "setup.py")):
        # pip rejects a directory with neither file at once; don't pay its start-up to learn that
        return env, subprocess.CompletedProcess([], 1, "", f"{{PROJ}} has no pyproject.toml")
    src = base / "src"
    shutil.copytree(PROJ, src, ignore=shutil.ignore_patterns("build", "*.egg-info", "dist", "__pycache__"))
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(env)], check=True)
    # --no-warn-conflicts only skips pip's scan of every other installed distribution for a warning
    r = subprocess.run([str(env / "bin/python"), "-m", "pip", "install", "--no-build-isolation", "--no-index",
                        "--no-warn-conflicts", "--disable-pip-version-check", str(src)],
                       capture_output=True, text=True, timeout=300)
    return env, r


@pytest.fixture(scope="module")
def installed(venv):
    # the installed distribution's metadata and file list, read by one interpreter of the venv
    env, r = venv
    if r.returncode != 0:
        pytest.fail("offline install failed: " + r.stdout[-1000:] + r.stderr[-1000:])
    code = ("import importlib.metadata as m, json, sys; d = m.distribution(sys.argv[1]); "
            "json.dump({{'md': str(d.metadata), 'files': [str(f) for f in d.files or []]}}, sys.stdout)")
    out = subprocess.run([str(env / "bin/python"), "-c", code, DIST], capture_output=True, text=True, cwd="/")
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    return email.parser.Parser().parsestr(got["md"]), got["files"]


def test_offline_install_succeeds(venv):
    env, r = venv
    assert r.returncode == 0, r.stdout[-1500:] + r.stderr[-1500:]


def test_metadata_name_and_version(installed):
    md = installed[0]
    assert md["Name"].lower().replace("_", "-") == DIST
    assert md["Version"] == VERSION


def test_console_script(venv, tmp_path):
    exe = venv[0] / "bin" / CMD
    r = subprocess.run([str(exe), *WORDS], capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    got = dict(line.split(": ") for line in r.stdout.strip().splitlines())
    assert {{k: int(v) for k, v in got.items()}} == SCORES


def test_installed_files(installed):
    files = installed[1]
    assert f"{{PKG}}/cli.py" in files
    assert not any(f.startswith(("tests/", "docs/")) for f in files)
    if SUB:
        assert f"{{PKG}}/scoring/table.py" in files
    if DATA:
        assert f"{{PKG}}/data/weights.json" in files
"""
    if data:
        tests += """

def test_dependency_and_yaml_output(venv, installed, tmp_path):
    md = installed[0]
    reqs = [r.lower().replace("_", "-") for r in md.get_all("Requires-Dist") or []]
    assert any(r.startswith("pyyaml") for r in reqs), reqs
    r = subprocess.run([str(venv[0] / "bin" / CMD), "--yaml", *WORDS], capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    import yaml
    assert yaml.safe_load(r.stdout) == SCORES
"""
    return TaskDraft(
        instruction=instruction,
        app_files=files,
        solve=solve,
        wrong_solve=wrong,
        tests=tests,
        tags=("python", "packaging", "pip", "setuptools"),
    )


FAMILY = TaskFamily(
    name="pyproject-offline",
    description="write pyproject.toml so a project installs offline with pip (scripts, sub-packages, data)",
    generate=generate,
    requires=("python3",),
)
