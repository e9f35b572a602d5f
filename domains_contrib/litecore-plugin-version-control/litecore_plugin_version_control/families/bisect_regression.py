"""Find the commit that broke a behaviour with git bisect (skipping unbuildable commits), then revert it.

easy: linear history, a probe script decides good/bad.
medium: some commits cannot even be imported (half-finished work) and must be skipped, not judged;
the culprit must also be reverted on main.
hard: as medium, and the culprit sits on a side branch that was merged back (non-linear history).
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any

import attrs

from litecore.records import TaskDraft, TaskFamily, TaskRequest
from litecore.wording import pick
from litecore_plugin_version_control.common import PROJECTS, filler_subject, ident, people
from litecore_plugin_version_control.gitrepo import Repo, default_mode, tree_sha


@attrs.frozen
class Target:
    """A function with a good and a regressed body, and how to probe it."""

    module: str
    func: str
    imports: str
    good: str
    bad: str
    bad_subject: str
    cases: Callable[[random.Random], list[tuple[list[Any], Any]]]


def _slug(s: str) -> str:
    import re
    return re.sub(r"[^a-z0-9]+", "-", s.lower()).strip("-")


def _slug_cases(rng: random.Random) -> list[tuple[list[Any], Any]]:
    words = ["Hello", "World", "Data", "Sync", "Fast", "Night", "Build", "Cloud", "Edge", "Tiny"]
    out = []
    for _ in range(4):
        w = " ".join(rng.sample(words, 3))
        s = rng.choice([" ", "!", "-- ", "("]) + w.replace(" ", rng.choice([" ", ", ", " & "])) + rng.choice(["!", " ", "?", ")"])
        out.append(([s], _slug(s)))
    return out


def _median_cases(rng: random.Random) -> list[tuple[list[Any], Any]]:
    out = []
    for n in (rng.choice([4, 6, 8]), rng.choice([5, 7]), rng.choice([2, 10])):
        xs = [rng.randint(-50, 200) for _ in range(n)]
        while n % 2 == 0 and len(set(xs)) < n:
            xs = [rng.randint(-50, 200) for _ in range(n)]
        s = sorted(xs)
        m = s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2
        out.append(([xs], m))
    return out


def _duration_cases(rng: random.Random) -> list[tuple[list[Any], Any]]:
    out = []
    for _ in range(4):
        h, m, s = rng.randint(0, 9), rng.randint(1, 59), rng.randint(0, 59)
        text = (f"{h}h" if h else "") + f"{m}m" + (f"{s}s" if s else "")
        out.append(([text], h * 3600 + m * 60 + s))
    return out


def _pages_cases(rng: random.Random) -> list[tuple[list[Any], Any]]:
    out = []
    for _ in range(4):
        per = rng.randint(3, 25)
        total = per * rng.randint(1, 40) + rng.randint(1, per - 1)
        out.append(([total, per], -(-total // per)))
    per = rng.randint(3, 25)
    out.append(([per * 7, per], 7))
    return out


def _chunk_cases(rng: random.Random) -> list[tuple[list[Any], Any]]:
    out = []
    for _ in range(3):
        n = rng.randint(2, 5)
        xs = [rng.randint(0, 99) for _ in range(n * rng.randint(1, 4) + rng.randint(1, n - 1))]
        out.append(([xs, n], [xs[i:i + n] for i in range(0, len(xs), n)]))
    return out


def _clamp_cases(rng: random.Random) -> list[tuple[list[Any], Any]]:
    out = []
    for _ in range(4):
        lo = rng.randint(-20, 10)
        hi = lo + rng.randint(5, 40)
        x = rng.choice([lo - rng.randint(1, 30), hi + rng.randint(1, 30), rng.randint(lo, hi)])
        out.append(([x, lo, hi], min(max(x, lo), hi)))
    out.append(([hi + 3, lo, hi], hi))
    return out


TARGETS = (
    Target("text", "slugify", "import re\n",
           "def slugify(title):\n    \"\"\"URL-safe lower-case slug.\"\"\"\n    slug = re.sub(r\"[^a-z0-9]+\", \"-\", title.lower())\n    return slug.strip(\"-\")\n",
           "def slugify(title):\n    \"\"\"URL-safe lower-case slug.\"\"\"\n    slug = re.sub(r\"[^a-z0-9]+\", \"-\", title.lower())\n    return slug\n",
           "Simplify slugify", _slug_cases),
    Target("stats", "median", "",
           "def median(values):\n    \"\"\"Middle value (mean of the two middle ones for even counts).\"\"\"\n    s = sorted(values)\n    mid = len(s) // 2\n    if len(s) % 2:\n        return s[mid]\n    return (s[mid - 1] + s[mid]) / 2\n",
           "def median(values):\n    \"\"\"Middle value (mean of the two middle ones for even counts).\"\"\"\n    s = sorted(values)\n    mid = len(s) // 2\n    return s[mid]\n",
           "Streamline median", _median_cases),
    Target("timeparse", "parse_duration", "import re\n",
           "UNITS = {\"h\": 3600, \"m\": 60, \"s\": 1}\n\n\ndef parse_duration(text):\n    \"\"\"'1h30m5s' -> seconds.\"\"\"\n    return sum(int(n) * UNITS[u] for n, u in re.findall(r\"(\\d+)([hms])\", text))\n",
           "UNITS = {\"h\": 3600, \"m\": 3600, \"s\": 1}\n\n\ndef parse_duration(text):\n    \"\"\"'1h30m5s' -> seconds.\"\"\"\n    return sum(int(n) * UNITS[u] for n, u in re.findall(r\"(\\d+)([hms])\", text))\n",
           "Table-driven duration units", _duration_cases),
    Target("paging", "page_count", "",
           "def page_count(total, per_page):\n    \"\"\"Pages needed to show ``total`` items.\"\"\"\n    return -(-total // per_page)\n",
           "def page_count(total, per_page):\n    \"\"\"Pages needed to show ``total`` items.\"\"\"\n    return total // per_page\n",
           "Use integer division in page_count", _pages_cases),
    Target("batching", "chunk", "",
           "def chunk(items, size):\n    \"\"\"Split into lists of ``size`` (the last may be shorter).\"\"\"\n    return [items[i:i + size] for i in range(0, len(items), size)]\n",
           "def chunk(items, size):\n    \"\"\"Split into lists of ``size`` (the last may be shorter).\"\"\"\n    return [items[i:i + size] for i in range(0, len(items) - size + 1, size)]\n",
           "Avoid slicing past the end in chunk", _chunk_cases),
    Target("bounds", "clamp", "",
           "def clamp(value, low, high):\n    \"\"\"Limit value to [low, high].\"\"\"\n    return min(max(value, low), high)\n",
           "def clamp(value, low, high):\n    \"\"\"Limit value to [low, high].\"\"\"\n    return max(min(value, low), high)\n",
           "Reorder clamp for readability", _clamp_cases),
)


def _helper(rng: random.Random) -> str:
    name = ident(rng)
    a, b = rng.randint(2, 9), rng.randint(1, 30)
    op = rng.choice(["+", "-", "*"])
    return f"def {name}(value):\n    \"\"\"Helper added for the {name} feature.\"\"\"\n    return value {op} {a} * {b}\n"


@attrs.define
class _State:
    """The project's moving parts; rendering them gives file contents."""

    pkg: str
    target: Target
    bad: bool = False
    appended: list[str] = attrs.field(factory=list)
    util: list[str] = attrs.field(factory=list)
    broken: str | None = None
    io: list[str] = attrs.field(factory=list)
    readme: list[str] = attrs.field(factory=list)
    version: list[int] = attrs.field(factory=lambda: [0, 1, 0])

    def target_src(self, bad: bool | None = None) -> str:
        t = self.target
        body = t.bad if (self.bad if bad is None else bad) else t.good
        anchor = ("def describe():\n    \"\"\"What this module offers.\"\"\"\n"
                  f"    return \"{t.module} helpers for {self.pkg}\"\n")
        parts = [f"\"\"\"{t.module} helpers.\"\"\"\n" + (t.imports and "\n" + t.imports), body, anchor] + self.appended
        return "\n\n".join(p.rstrip("\n") for p in parts) + "\n"

    def util_src(self) -> str:
        parts = ["\"\"\"Small shared utilities.\"\"\"", *self.util]
        if self.broken:
            parts.append(f"def {self.broken}(value:\n    # TODO finish this\n    return value")
        return "\n\n\n".join(p.rstrip("\n") for p in parts) + "\n"

    def io_src(self) -> str:
        parts = ["\"\"\"Reading and writing files.\"\"\"\n\nimport json", *self.io,
                 "def load(path):\n    with open(path) as fh:\n        return json.load(fh)"]
        return "\n\n\n".join(p.rstrip("\n") for p in parts) + "\n"

    def init_src(self) -> str:
        return (f"\"\"\"{self.pkg}.\"\"\"\n\nfrom . import io, util, {self.target.module}\n\n"
                f"__version__ = \"{'.'.join(map(str, self.version))}\"\n")

    def readme_src(self) -> str:
        return f"# {self.pkg}\n\nA small library.\n\n" + "".join(f"- {line}\n" for line in self.readme)

    def files(self) -> dict[str, str]:
        return {f"{self.pkg}/__init__.py": self.init_src(), f"{self.pkg}/util.py": self.util_src(),
                f"{self.pkg}/io.py": self.io_src(), f"{self.pkg}/{self.target.module}.py": self.target_src(),
                "README.md": self.readme_src()}


def _filler(rng: random.Random, st: _State, kinds: list[str]) -> tuple[dict[str, str | None], str]:
    kind = rng.choice(kinds)
    if kind == "util":
        st.util.append(_helper(rng))
        return {f"{st.pkg}/util.py": st.util_src()}, filler_subject(rng)
    if kind == "io":
        st.io.append(_helper(rng))
        return {f"{st.pkg}/io.py": st.io_src()}, f"{pick(rng, ['Add', 'Support', 'Introduce'])} {ident(rng)} export"
    if kind == "target":
        st.appended.append(_helper(rng))
        return ({f"{st.pkg}/{st.target.module}.py": st.target_src()},
                f"{pick(rng, ['Add', 'New'])} {st.target.module} helper {ident(rng)}")
    if kind == "version":
        st.version[rng.choice([1, 2])] += 1
        return {f"{st.pkg}/__init__.py": st.init_src()}, f"Bump version to {'.'.join(map(str, st.version))}"
    st.readme.append(f"{filler_subject(rng)} notes")
    return {"README.md": st.readme_src()}, pick(rng, ["Update README", "Docs: usage notes", "README tweaks"])


def _probe(pkg: str, root: str, t: Target, cases: list[tuple[list[Any], Any]]) -> str:
    return f"""#!/usr/bin/env python3
\"\"\"Regression probe: exit 0 if {t.func} behaves, 1 otherwise.\"\"\"
import sys

sys.path.insert(0, "/app/{root}")
from {pkg}.{t.module} import {t.func}

CASES = {json.dumps(cases)}
bad = 0
for args, want in CASES:
    got = {t.func}(*args)
    if got != want:
        print(f"{t.func}{{tuple(args)}} = {{got!r}}, expected {{want!r}}")
        bad += 1
sys.exit(1 if bad else 0)
"""


def generate(req: TaskRequest) -> TaskDraft:
    rng = req.rng
    d = req.difficulty
    proj = rng.choice(PROJECTS)
    pkg = proj.replace("-", "_")
    target = rng.choice(TARGETS)
    cases = target.cases(rng)
    devs = people(rng, 3)
    repo = Repo(user=devs[0], clock=1_690_000_000 + rng.randrange(10_000_000))
    st = _State(pkg=pkg, target=target)
    for _ in range(2):
        st.util.append(_helper(rng))
    n = {"easy": rng.randint(10, 14), "medium": rng.randint(22, 30), "hard": rng.randint(18, 24)}[d]
    kinds_all = ["util", "io", "target", "version", "readme"]
    plan: dict[int, str] = {}
    fork = merge = -1
    if d == "hard":
        fork = rng.randint(4, n // 2 - 1)
        merge = rng.randint(fork + 4, n - 3)
        bad_at = -1
        spans_region = [(2, fork), (fork + 1, merge - 1)]
    else:
        bad_at = rng.randint(int(n * 0.4), int(n * 0.8))
        plan[bad_at] = "bad"
        spans_region = [(2, bad_at - 1)] if d == "medium" else []
    # half-finished commits: start..fix-1 cannot be imported; fix < region end keeps boundaries testable
    for lo, hi in spans_region:
        if hi - lo < 3:
            continue
        length = rng.randint(1, 2)
        start = rng.randint(lo, hi - length - 1)
        plan[start] = "wip"
        for k in range(start + 1, start + length):
            plan[k] = "readme"
        plan[start + length] = "fix"
    good_tag_at = min([k for k, v in plan.items() if v in ("wip", "bad")] + [fork if fork > 0 else n]) - 1
    good_tag_at = rng.randint(max(0, good_tag_at - 2), good_tag_at)

    def step(i: int, kinds: list[str]) -> None:
        what = plan.get(i)
        author = devs[rng.randrange(3)]
        if what == "bad":
            st.bad = True
            repo.commit({f"{pkg}/{target.module}.py": st.target_src()}, target.bad_subject, author=author)
        elif what == "wip":
            st.broken = ident(rng)
            repo.commit({f"{pkg}/util.py": st.util_src()}, f"WIP: start {st.broken}", author=author)
        elif what == "fix":
            assert st.broken
            st.util.append(f"def {st.broken}(value):\n    \"\"\"Finished helper.\"\"\"\n    return value\n")
            name, st.broken = st.broken, None
            repo.commit({f"{pkg}/util.py": st.util_src()}, f"Finish {name}", author=author)
        else:
            changes, msg = _filler(rng, st, kinds)
            repo.commit(changes, msg, author=author, seconds=rng.randint(600, 90_000))

    repo.commit(st.files(), "Initial import", author=devs[0])
    culprit = ""
    tag_sha = repo.head_sha() if good_tag_at == 0 else ""
    tag = "v0.1.0"
    for i in range(1, n):
        if d == "hard" and i == fork + 1:
            branch = f"feature/{ident(rng)}"
            fork_snap = repo.snapshot()
            repo.checkout(branch, create=True)
            k = rng.randint(3, 5)
            bad_pos = rng.randint(0, k - 2)
            for j in range(k):
                if j == bad_pos:
                    st.bad = True
                    culprit = repo.commit({f"{pkg}/{target.module}.py": st.target_src()}, target.bad_subject,
                                          author=devs[1])
                elif rng.random() < 0.5:
                    changes, msg = _filler(rng, st, ["target"])
                    repo.commit(changes, msg, author=devs[1], seconds=rng.randint(600, 40_000))
                else:
                    name = ident(rng)
                    repo.commit({f"{pkg}/plugins/{name}.py": _helper(rng)}, f"Add {name} plugin", author=devs[1])
            branch_snap = repo.snapshot()
            repo.checkout("main")
        if d == "hard" and i == merge:
            snap = repo.snapshot()
            for path, v in branch_snap.items():
                if fork_snap.get(path) != v:
                    snap[path] = v
            repo.merge(branch, snap, f"Merge branch '{branch}'")
            continue
        kinds = [k for k in kinds_all if not (d == "hard" and fork < i < merge and k == "target")]
        step(i, kinds)
        if plan.get(i) == "bad":
            culprit = repo.head_sha()
        if i == good_tag_at:
            tag_sha = repo.head_sha()
            tag = "v" + ".".join(map(str, st.version))
    repo.refs[f"refs/tags/{tag}"] = tag_sha
    head = repo.head_sha()
    fixed = repo.snapshot()
    mod_path = f"{pkg}/{target.module}.py"
    fixed[mod_path] = (default_mode(mod_path), st.target_src(bad=False).encode())
    expected_tree = tree_sha(fixed)
    files, execs = repo.app_files(proj, packed=True)
    files["probe.py"] = _probe(pkg, proj, target, cases)
    revert = d != "easy"

    intro = pick(rng, [
        f"The `{target.func}` function in the git repository /app/{proj} has regressed: "
        f"`python3 /app/probe.py` fails on the current `main`, but the tag `{tag}` was known to be good.",
        f"A regression slipped into /app/{proj} (a git repository). The probe `/app/probe.py` "
        f"exits non-zero on `main` today; at tag `{tag}` it still passed.",
        f"Somewhere between tag `{tag}` and the tip of `main`, `{target.func}` in /app/{proj} broke. "
        f"`python3 /app/probe.py` checks it (exit 0 = good, non-zero = bad).",
    ])
    steps = ["Find the first commit that introduced the regression and write its full 40-character hash "
             "to `/app/first_bad.txt`."]
    if d != "easy":
        steps.append("Some commits in this history are half-finished and the package cannot even be imported "
                     "there; such commits tell you nothing about the regression and must be skipped, not "
                     "counted as bad.")
        steps.append("Then undo the culprit on `main` with a single new commit on top of the current tip that "
                     "reverts exactly that commit's change (nothing else may change), so the probe passes again.")
    if d == "hard":
        steps.append("Note that the history is not linear: work from a side branch was merged into `main`.")
    steps.append("When you are done, no bisect session may be left in progress and `main` must be checked out.")
    instruction = intro + "\n\n" + "\n".join(f"{i + 1}. {s}" for i, s in enumerate(steps)) + "\n"

    solve = f"""# Explore: look at the history shape and the probe
cd /app/{proj} && git log --oneline --graph --decorate | head -60 && cat /app/probe.py

# A bisect helper, one interpreter per step: exit 125 (skip) where the package cannot be imported, else the
# probe's verdict (-B: no stale bytecode as bisect swaps the sources underneath)
cat > /tmp/bisect_step.py <<'EOF'
import sys

sys.path.insert(0, "/app/{proj}")
try:
    import {pkg}  # noqa: F401
except Exception:
    sys.exit(125)
exec(open("/app/probe.py").read(), {{"__name__": "__main__"}})
EOF

# Bisect between the known-good tag and main
cd /app/{proj} && git bisect start main {tag} && git bisect run python3 -B /tmp/bisect_step.py

# Record the culprit and end the bisect session
git rev-parse refs/bisect/bad > /app/first_bad.txt && git bisect reset && git log -1 --stat $(cat /app/first_bad.txt)
"""
    if revert:
        solve += """
# Revert exactly that commit on top of main and confirm the probe passes
git revert --no-edit $(cat /app/first_bad.txt) && python3 /app/probe.py && echo probe ok
"""
    wrong = solve.replace("git rev-parse refs/bisect/bad >", "git rev-parse refs/bisect/bad^ >")

    tests = f"""import os
import subprocess

REPO = "/app/{proj}"
CULPRIT = "{culprit}"
OLD_HEAD = "{head}"
TAG_SHA = "{tag_sha}"
EXPECTED_TREE = "{expected_tree}"


def git(*args):
    return subprocess.run(["git", "-C", REPO, *args], capture_output=True, text=True, check=True).stdout.strip()


def test_first_bad_commit():
    assert open("/app/first_bad.txt").read().strip() == CULPRIT


def test_no_bisect_in_progress_and_main_checked_out():
    assert not os.path.exists(os.path.join(REPO, ".git", "BISECT_START"))
    assert git("symbolic-ref", "HEAD") == "refs/heads/main"


def test_tag_untouched():
    assert git("rev-parse", "{tag}^{{commit}}") == TAG_SHA
"""
    if revert:
        tests += """

def test_single_revert_commit_on_top():
    assert git("rev-list", "--parents", "-n", "1", "main").split()[1:] == [OLD_HEAD]


def test_revert_restores_exactly():
    assert git("rev-parse", "main^{tree}") == EXPECTED_TREE
"""
    return TaskDraft(instruction=instruction, app_files=files, solve=solve, wrong_solve=wrong, tests=tests,
                     executables=execs, tags=("git", "bisect", "regression") + (("revert",) if revert else ()),
                     requires=("git",))


FAMILY = TaskFamily(
    name="bisect-regression",
    description="find the commit that broke a function with git bisect (skipping unbuildable commits) and revert it",
    generate=generate,
    requires=("git", "python3"),
)
