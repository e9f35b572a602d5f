"""Backport bug-fix commits from main to a release branch with cherry-pick -x.

easy: pick every fix commit (tagged [BUG-n]) in order, recording where each came from.
medium: plus one fix was already backported earlier (picking it again must not happen).
hard: plus a fix that was later reverted on main (neither it nor its revert goes to the release), and
the new release tip must get an annotated tag.
"""

from __future__ import annotations

import json

from litecore.records import TaskDraft, TaskFamily, TaskRequest
from litecore.wording import pick
from litecore_plugin_version_control.common import PROJECTS, ident, people
from litecore_plugin_version_control.gitrepo import Repo, default_mode, tree_sha

BUGS = ("off-by-one in pagination", "crash on empty input", "timezone drift", "leaked file handle",
        "wrong rounding of totals", "race in cache refresh", "unicode filenames", "retry storm",
        "stale session reuse", "negative durations", "duplicate webhook delivery", "slow shutdown")


def _module(name: str, k: int, fixed: int) -> str:
    return (f"\"\"\"{name} handling.\"\"\"\n\nLIMIT = {k}\n\n\ndef {name}(x):\n"
            f"    \"\"\"Process x.\"\"\"\n    return min(x, LIMIT)\n"
            + (f"\n\ndef {name}_guard(x):\n    \"\"\"Fix #{fixed}.\"\"\"\n    return x if x is not None else 0\n" if fixed else ""))


def generate(req: TaskRequest) -> TaskDraft:
    rng = req.rng
    d = req.difficulty
    proj = rng.choice(PROJECTS)
    devs = people(rng, 3)
    repo = Repo(user=devs[0], clock=1_688_000_000 + rng.randrange(20_000_000))
    major, minor = rng.randint(1, 4), rng.randint(0, 9)
    patch = rng.randint(1, 6)
    release = f"release/{major}.{minor}"
    n_fix = {"easy": rng.randint(3, 4), "medium": rng.randint(4, 5), "hard": rng.randint(5, 6)}[d]
    mods = [ident(rng) for _ in range(n_fix)]
    while len(set(mods)) < n_fix:
        mods = [ident(rng) for _ in range(n_fix)]
    limits = [rng.randint(5, 500) for _ in mods]
    base = {f"src/{m}.py": _module(m, k, 0) for m, k in zip(mods, limits)}
    base["src/core.py"] = "\"\"\"Core.\"\"\"\n\nFEATURES = []\n"
    base["README.md"] = f"# {proj}\n"
    repo.commit(base, "Initial import")
    repo.commit({"README.md": f"# {proj}\n\nRelease {major}.{minor}.0\n"}, f"Release {major}.{minor}.0")
    repo.branch(release)
    bug_ids = rng.sample(range(100, 999), n_fix)
    bugs = rng.sample(BUGS, n_fix)
    features: list[str] = []
    fixes: list[tuple[str, str, str]] = []  # (sha, subject, module path)
    order = ["fix"] * n_fix + ["feat"] * rng.randint(3, 5)
    rng.shuffle(order)
    k = 0
    for kind in order:
        if kind == "feat":
            name = ident(rng)
            features.append(name)
            repo.commit({"src/core.py": "\"\"\"Core.\"\"\"\n\nFEATURES = " + repr(features) + "\n",
                         f"src/feat_{name}.py": f"\"\"\"{name}.\"\"\"\n"},
                        f"{pick(rng, ['Add', 'Introduce', 'Ship'])} {name} feature (#{rng.randint(10, 99)})",
                        author=rng.choice(devs), seconds=rng.randint(2000, 90_000))
        else:
            m, lim = mods[k], limits[k]
            subject = f"Fix {bugs[k]} in {m} [BUG-{bug_ids[k]}]"
            sha = repo.commit({f"src/{m}.py": _module(m, lim, bug_ids[k])}, subject, author=rng.choice(devs),
                              seconds=rng.randint(2000, 90_000))
            fixes.append((sha, subject, f"src/{m}.py"))
            k += 1
    already = fixes[rng.randrange(len(fixes))] if d != "easy" else None
    reverted = None
    if d == "hard":
        reverted = rng.choice([f for f in fixes if f is not already])
        path = reverted[2]
        m = path[4:-3]
        repo.commit({path: _module(m, limits[mods.index(m)], 0)},
                    f"Revert \"{reverted[1]}\"\n\nThis reverts commit {reverted[0]}.\n", seconds=5000)
        repo.commit({"README.md": f"# {proj}\n\nSee CHANGES.\n"}, "Docs update")
    main_tip = repo.head_sha()
    repo.checkout(release)
    repo.commit({"README.md": f"# {proj}\n\nRelease {major}.{minor}.x maintenance branch\n"},
                "Mark maintenance branch")
    if already:
        m = already[2][4:-3]
        repo.commit({already[2]: _module(m, limits[mods.index(m)], bug_ids[mods.index(m)])},
                    f"{already[1]}\n\n(cherry picked from commit {already[0]})\n", seconds=3000)
    release_tip = repo.head_sha()
    repo.checkout("main")
    picks = [f for f in fixes if f is not already and f is not reverted]
    snap = repo.snapshot(release_tip)
    for sha, _, path in picks:
        snap[path] = (default_mode(path), repo.snapshot(sha)[path][1])
    expected_tree = tree_sha(snap)
    new_tag = f"v{major}.{minor}.{patch + 1}"
    repo.annotated_tag(f"v{major}.{minor}.{patch}", repo.parents[release_tip][0] if already else release_tip,
                       f"Release {major}.{minor}.{patch}")
    files, execs = repo.app_files(proj)

    reqs = [f"Bring every bug-fix commit from `main` (their subjects end in a `[BUG-<number>]` reference) "
            f"onto `{release}`, as new commits on top of it, in the order they were made on `main`.",
            "Use cherry-picks that record their origin: every backported commit's message must contain "
            "`(cherry picked from commit <full hash of the original>)`.",
            "Feature work must not go to the release branch. Leave `main` untouched."]
    if d != "easy":
        reqs.append(f"Some fixes may already be on `{release}`; never apply a fix twice.")
    if d == "hard":
        reqs.append("A fix that was later reverted on `main` must not be backported (and neither must its revert).")
        reqs.append(f"Finally create an annotated tag `{new_tag}` (any message) on the new tip of `{release}`.")
    instruction = pick(rng, [
        f"The repository /app/{proj} has a maintenance branch `{release}` that needs the latest fixes.",
        f"Time for a patch release of /app/{proj} (a git repository).",
        f"In /app/{proj}, backport the bug fixes from `main` to `{release}`.",
    ]) + "\n\n" + "\n".join(f"- {r}" for r in reqs) + "\n"

    solve = f"""# Explore: what is on main but not on the release branch, and what was already backported
cd /app/{proj} && git log --oneline {release}..main && git log --format='%h %s%n%b' {release} | grep -i 'cherry picked' ; git cherry -v {release} main

# Build the list: [BUG-n] fixes, oldest first, minus reverts, reverted fixes and already-backported ones
git log --format='%H' {release} | xargs -n1 git log -1 --format=%b | sed -n 's/.*cherry picked from commit \\([0-9a-f]*\\).*/\\1/p' > /tmp/done.txt
git log --format=%b main | sed -n 's/^This reverts commit \\([0-9a-f]*\\).*/\\1/p' >> /tmp/done.txt
git log --reverse --no-merges --format='%H %s' {release}..main | grep '\\[BUG-[0-9]*\\]$' | grep -v ' Revert "' | awk '{{print $1}}' | grep -vxFf /tmp/done.txt > /tmp/picks.txt; cat /tmp/picks.txt

# Cherry-pick them onto the release branch, recording their origin
git checkout -q {release} && for c in $(cat /tmp/picks.txt); do git cherry-pick -x "$c" || break; done; git log --oneline -8
"""
    if d == "hard":
        solve += f"""
# Tag the new release tip
git tag -a {new_tag} -m "Release {new_tag[1:]}" && git show --stat {new_tag} | head -5
"""
    if d == "easy":
        wrong = solve.replace("git cherry-pick -x", "git cherry-pick")
    elif d == "medium":
        wrong = solve.replace("| grep -vxFf /tmp/done.txt ", "").replace("git cherry-pick -x \"$c\" || break",
                                                                        "git cherry-pick -x --keep-redundant-commits \"$c\" || break")
    else:
        wrong = solve.replace("| grep -v ' Revert \"' ", "").replace(
            "git log --format=%b main | sed -n 's/^This reverts commit \\([0-9a-f]*\\).*/\\1/p' >> /tmp/done.txt", "true")
    tests = f"""import subprocess

REPO = "/app/{proj}"
MAIN_TIP = "{main_tip}"
RELEASE_BASE = "{release_tip}"
PICKS = {json.dumps([[s, subj] for s, subj, _ in picks])}
TREE = "{expected_tree}"


def git(*args):
    return subprocess.run(["git", "-C", REPO, *args], capture_output=True, text=True, check=True).stdout


def new_commits():
    return git("rev-list", "--reverse", "--first-parent", f"{{RELEASE_BASE}}..refs/heads/{release}").split()


def test_release_extends_old_tip():
    assert git("merge-base", "--is-ancestor", RELEASE_BASE, "refs/heads/{release}") == ""


def test_backported_commits_in_order():
    subjects = [git("log", "-1", "--format=%s", c).strip() for c in new_commits()]
    assert subjects == [s for _, s in PICKS]


def test_origin_recorded():
    commits = new_commits()
    assert len(commits) == len(PICKS)
    for c, (orig, _) in zip(commits, PICKS):
        assert f"(cherry picked from commit {{orig}})" in git("log", "-1", "--format=%B", c)


def test_release_tree():
    assert git("rev-parse", "refs/heads/{release}^{{tree}}").strip() == TREE


def test_main_untouched():
    assert git("rev-parse", "refs/heads/main").strip() == MAIN_TIP
"""
    if d == "hard":
        tests += f"""

def test_release_tag():
    assert git("cat-file", "-t", "refs/tags/{new_tag}").strip() == "tag"
    assert git("rev-parse", "{new_tag}^{{commit}}").strip() == git("rev-parse", "refs/heads/{release}").strip()
"""
    return TaskDraft(instruction=instruction, app_files=files, solve=solve, wrong_solve=wrong, tests=tests,
                     executables=execs, tags=("git", "cherry-pick", "release"), requires=("git",))


FAMILY = TaskFamily(
    name="backport-fixes",
    description="cherry-pick -x the bug fixes (not features, not reverted or already-picked ones) onto a release branch",
    generate=generate,
    requires=("git",),
)
