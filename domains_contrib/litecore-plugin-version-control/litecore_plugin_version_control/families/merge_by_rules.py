"""Merge a diverged branch and resolve the conflicts by stated rules (not by taking one side).

easy: dependency pins conflict; the higher version wins.
medium: plus version numbers that sort wrongly as strings (1.10 > 1.9), and a limits file where the
stricter (smaller) value wins.
hard: plus a changelog whose entries from both sides must be kept in order, and dependencies that one
side removed while the other bumped them (removal wins).
"""

from __future__ import annotations

import json
import random

from litecore.records import TaskDraft, TaskFamily, TaskRequest
from litecore.wording import pick
from litecore_plugin_version_control.common import PROJECTS, filler_subject, ident, people
from litecore_plugin_version_control.gitrepo import Repo

PACKAGES = (
    "attrs", "certifi", "click", "colorama", "cryptography", "docutils", "flask", "gunicorn", "httpx",
    "idna", "jinja2", "lxml", "markupsafe", "numpy", "packaging", "pillow", "pydantic", "pygments",
    "pytz", "pyyaml", "redis", "requests", "rich", "six", "sqlalchemy", "tomli", "urllib3", "wheel",
)
LIMITS = ("max_connections", "request_timeout_s", "max_body_kb", "worker_threads", "queue_depth",
          "retry_limit", "cache_ttl_s", "max_upload_mb", "rate_per_minute")
Ver = tuple[int, int, int]


def vs(v: Ver) -> str:
    return ".".join(map(str, v))


def _bump(rng: random.Random, v: Ver) -> Ver:
    kind = rng.choice(["patch", "minor", "minor", "major"])
    if kind == "patch":
        return (v[0], v[1], v[2] + rng.randint(1, 4))
    if kind == "minor":
        return (v[0], v[1] + rng.randint(1, 3), rng.randint(0, 3))
    return (v[0] + 1, rng.randint(0, 2), 0)


def _reqs(d: dict[str, Ver | None]) -> str:
    return "".join(f"{n}=={vs(v)}\n" for n, v in sorted(d.items()) if v is not None)


def _merge3(base: dict, ours: dict, theirs: dict, pick_both) -> dict:
    out = {}
    for k in sorted(set(base) | set(ours) | set(theirs)):
        b, o, t = base.get(k), ours.get(k), theirs.get(k)
        if o == t:
            r = o
        elif o == b:
            r = t
        elif t == b:
            r = o
        else:
            r = pick_both(o, t)
        if r is not None:
            out[k] = r
    return out


def generate(req: TaskRequest) -> TaskDraft:
    rng = req.rng
    d = req.difficulty
    proj = rng.choice(PROJECTS)
    devs = people(rng, 2)
    repo = Repo(user=devs[0], clock=1_680_000_000 + rng.randrange(20_000_000))
    branch = pick(rng, ["deps/refresh", "upgrade-deps", "feature/", "chore/bump-"])
    if branch.endswith(("/", "-")):
        branch += ident(rng)

    names = sorted(rng.sample(PACKAGES, rng.randint(12, 14) if d == "hard" else rng.randint(10, 14)))
    base: dict[str, Ver | None] = {n: (rng.randint(0, 3), rng.randint(0, 9), rng.randint(0, 9)) for n in names}
    ours, theirs = dict(base), dict(base)
    pool = list(names)
    rng.shuffle(pool)
    # both sides bump: one where ours wins, one where theirs wins, (medium+) one lexicographic trap
    both = pool[:3]
    o1 = base[both[0]]
    ours[both[0]] = (o1[0] + 1, 0, 0)
    theirs[both[0]] = (o1[0], o1[1] + 1, 0)
    t1 = base[both[1]]
    theirs[both[1]] = (t1[0], t1[1], t1[2] + 3)
    ours[both[1]] = (t1[0], t1[1], t1[2] + 1)
    if d != "easy":
        t2 = base[both[2]]
        # "x.1N.0" is the higher version but sorts below "x.M.p" (M >= 2) as a string
        hi, lo = (t2[0], 10 + rng.randint(0, 5), 0), (t2[0], max(t2[1], 2), t2[2] + rng.randint(1, 5))
        if rng.random() < 0.5:
            ours[both[2]], theirs[both[2]] = hi, lo
        else:
            ours[both[2]], theirs[both[2]] = lo, hi
    else:
        ours[both[2]] = _bump(rng, base[both[2]])
    # one-sided changes
    for n in pool[3:6]:
        ours[n] = _bump(rng, base[n])
    for n in pool[6:9]:
        theirs[n] = _bump(rng, base[n])
    extra = [p for p in PACKAGES if p not in base]
    rng.shuffle(extra)
    theirs[extra[0]] = (rng.randint(0, 4), rng.randint(0, 12), rng.randint(0, 9))
    ours[extra[1]] = (rng.randint(0, 4), rng.randint(0, 12), rng.randint(0, 9))
    ours.pop(pool[9], None)
    removal_conflicts: list[str] = []
    if d == "hard":
        for n in pool[10:12]:
            if n in base:
                removal_conflicts.append(n)
        for i, n in enumerate(removal_conflicts):
            if i % 2 == 0:
                ours.pop(n)
                theirs[n] = _bump(rng, base[n])  # type: ignore[arg-type]
            else:
                theirs.pop(n)
                ours[n] = _bump(rng, base[n])  # type: ignore[arg-type]
    expected_reqs = _merge3(base, ours, theirs, lambda o, t: None if o is None or t is None else max(o, t))

    files_base = {"requirements.txt": _reqs(base),
                  "README.md": f"# {proj}\n\nService code.\n\nInstall with `pip install -r requirements.txt`.\n",
                  f"src/{proj}/app.py": f"\"\"\"{proj} entry point.\"\"\"\n\nPORT = {rng.randint(8000, 8999)}\n\n\ndef main():\n    return PORT\n"}
    limits_base: dict[str, int] = {}
    if d != "easy":
        keys = rng.sample(LIMITS, rng.randint(6, 8))
        limits_base = {k: rng.randint(5, 60) * 10 for k in keys}
    lim_o, lim_t = dict(limits_base), dict(limits_base)
    if limits_base:
        ks = list(limits_base)
        rng.shuffle(ks)
        for k in ks[:2]:  # both change (conflict)
            lim_o[k] = limits_base[k] + rng.randint(1, 20) * 5
            lim_t[k] = limits_base[k] - rng.randint(1, 20) * 5 if rng.random() < 0.5 else limits_base[k] + rng.randint(21, 40) * 5
        lim_o[ks[2]] = limits_base[ks[2]] * 2
        lim_t[ks[3]] = limits_base[ks[3]] // 2
    expected_limits = _merge3(limits_base, lim_o, lim_t, min)

    def limits_src(lim: dict[str, int]) -> str:
        return "[limits]\n" + "".join(f"{k} = {v}\n" for k, v in lim.items())

    released = [f"{filler_subject(rng)}" for _ in range(3)]
    cl_base = [f"{filler_subject(rng)}" for _ in range(2)]
    cl_o = [f"{filler_subject(rng)} ({ident(rng)})" for _ in range(rng.randint(1, 2))]
    cl_t = [f"{filler_subject(rng)} ({ident(rng)})" for _ in range(rng.randint(1, 2))]
    ver_released = f"{rng.randint(1, 3)}.{rng.randint(0, 9)}.0"

    def changelog(entries: list[str]) -> str:
        return ("# Changelog\n\n## Unreleased\n\n" + "".join(f"- {e}\n" for e in entries)
                + f"\n## {ver_released}\n\n" + "".join(f"- {e}\n" for e in released))

    expected_cl = sorted(set(cl_base + cl_o + cl_t), key=str.lower)
    if limits_base:
        files_base["config/limits.ini"] = limits_src(limits_base)
    if d == "hard":
        files_base["CHANGELOG.md"] = changelog(sorted(cl_base, key=str.lower))

    repo.commit(files_base, "Initial project layout")
    repo.commit({"README.md": files_base["README.md"] + "\nSee docs/ for details.\n"}, "Docs pointer")
    repo.checkout(branch, create=True)
    new_mod = ident(rng)
    theirs_files: dict[str, str | None] = {"requirements.txt": _reqs(theirs),
                                           f"src/{proj}/{new_mod}.py": f"\"\"\"The {new_mod} feature.\"\"\"\n\nENABLED = True\n"}
    repo.commit({f"src/{proj}/{new_mod}.py": theirs_files[f"src/{proj}/{new_mod}.py"]}, f"Add {new_mod} module",
                author=devs[1])
    repo.commit({"requirements.txt": theirs_files["requirements.txt"]}, "Refresh dependency pins", author=devs[1])
    if limits_base:
        repo.commit({"config/limits.ini": limits_src(lim_t)}, "Tune limits for the new workers", author=devs[1])
    if d == "hard":
        repo.commit({"CHANGELOG.md": changelog(cl_t + sorted(cl_base, key=str.lower))}, "Changelog entries",
                    author=devs[1])
    feature_tip = repo.head_sha()
    repo.checkout("main")
    app_new = files_base[f"src/{proj}/app.py"].replace("PORT =", "# port can be overridden by PORT env\nPORT =")
    repo.commit({f"src/{proj}/app.py": app_new}, "Document PORT override")
    repo.commit({"requirements.txt": _reqs(ours)}, "Security updates for pinned packages")
    if limits_base:
        repo.commit({"config/limits.ini": limits_src(lim_o)}, "Raise limits for production")
    if d == "hard":
        repo.commit({"CHANGELOG.md": changelog(cl_o + sorted(cl_base, key=str.lower))}, "Note the production changes")
    main_tip = repo.head_sha()
    files, execs = repo.app_files(proj)

    rules = ["`requirements.txt`: when both branches changed the pin of the same package, keep the higher "
             "version (compare versions numerically, component by component); otherwise keep whichever "
             "side changed it. Keep the file sorted by package name, one `name==version` per line."]
    if d != "easy":
        rules.append("`config/limits.ini`: when both branches changed the same limit, keep the smaller "
                     "(stricter) value; otherwise keep whichever side changed it.")
    if d == "hard":
        rules.append("`requirements.txt`: a package that one branch removed stays removed, even if the other "
                     "branch bumped it.")
        rules.append("`CHANGELOG.md`: the `## Unreleased` list must contain every entry from both branches "
                     "exactly once, sorted alphabetically (case-insensitive); older sections stay as they are.")
    rng.shuffle(rules)
    instruction = pick(rng, [
        f"In the git repository /app/{proj}, merge the branch `{branch}` into `main`.",
        f"/app/{proj} is a git repository. Bring the work on `{branch}` into `main` with a merge.",
        f"Merge `{branch}` into `main` in the repository at /app/{proj}.",
    ]) + (
        " The result must be a real merge commit on `main` whose parents are the current tip of `main` "
        f"and the tip of `{branch}` (leave `{branch}` itself where it is). Changes that do not conflict "
        "must be kept from both sides. Resolve conflicts by these rules:\n\n"
        + "\n".join(f"- {r}" for r in rules)
        + "\n\nNo conflict markers may remain and the merge must be committed.\n"
    )

    resolver = """import re, subprocess, sys
def show(stage, path):
    r = subprocess.run(["git", "show", f":{stage}:{path}"], capture_output=True, text=True)
    return r.stdout if r.returncode == 0 else None
def merge3(b, o, t, both):
    out = {}
    for k in sorted(set(b) | set(o) | set(t), key=lambda k: list(b).index(k) if k in b else 999):
        bv, ov, tv = b.get(k), o.get(k), t.get(k)
        r = ov if ov == tv else tv if ov == bv else ov if tv == bv else both(ov, tv)
        if r is not None:
            out[k] = r
    return out
def ver(s):
    return tuple(int(x) for x in s.split("."))
def pins(text):
    return dict(l.strip().split("==") for l in (text or "").splitlines() if "==" in l)
status = subprocess.run(["git", "diff", "--name-only", "--diff-filter=U"], capture_output=True, text=True).stdout.split()
print("conflicted:", status)
if "requirements.txt" in status:
    m = merge3(pins(show(1, "requirements.txt")), pins(show(2, "requirements.txt")), pins(show(3, "requirements.txt")),
               lambda o, t: None if o is None or t is None else max(o, t, key=ver))
    open("requirements.txt", "w").write("".join(f"{k}=={m[k]}\\n" for k in sorted(m)))
if "config/limits.ini" in status:
    kv = lambda s: {k.strip(): int(v) for k, v in (l.split("=") for l in (s or "").splitlines() if "=" in l)}
    m = merge3(kv(show(1, "config/limits.ini")), kv(show(2, "config/limits.ini")), kv(show(3, "config/limits.ini")), min)
    open("config/limits.ini", "w").write("[limits]\\n" + "".join(f"{k} = {v}\\n" for k, v in m.items()))
if "CHANGELOG.md" in status:
    def split(s):
        head, rest = s.split("## Unreleased\\n", 1)
        body, tail = rest.split("\\n## ", 1)
        return head, [l[2:] for l in body.splitlines() if l.startswith("- ")], "\\n## " + tail
    parts = [split(show(i, "CHANGELOG.md")) for i in (1, 2, 3)]
    entries = sorted(set(parts[0][1] + parts[1][1] + parts[2][1]), key=str.lower)
    open("CHANGELOG.md", "w").write(parts[1][0] + "## Unreleased\\n\\n" + "".join(f"- {e}\\n" for e in entries) + parts[1][2])
"""
    solve = f"""# Explore both sides of the merge first
cd /app/{proj} && git log --oneline --graph --all | head -30 && git diff main...{branch} --stat

# Start the merge; conflicts are expected
git merge --no-ff --no-edit {branch} || git status --short

# Resolve every conflicted file by the stated rules from the three index stages (base/ours/theirs)
cat > /tmp/resolve.py <<'EOF'
{resolver.rstrip()}
EOF
python3 /tmp/resolve.py && git diff

# Stage the resolutions and commit the merge
git add -A && git commit --no-edit && git log --oneline --graph -5
"""
    if d == "easy":
        wrong = f"""cd /app/{proj} && git merge --no-ff --no-edit -X theirs {branch}
"""
    else:
        wrong = solve.replace("key=ver", "key=str")
    exp_files = {f"src/{proj}/app.py": app_new, f"src/{proj}/{new_mod}.py": theirs_files[f"src/{proj}/{new_mod}.py"],
                 "README.md": files_base["README.md"] + "\nSee docs/ for details.\n"}
    tests = f"""import json
import subprocess

REPO = "/app/{proj}"
MAIN_TIP = "{main_tip}"
FEATURE_TIP = "{feature_tip}"
PINS = {json.dumps({k: vs(v) for k, v in expected_reqs.items() if v is not None}, sort_keys=True)}
LIMITS = {json.dumps(expected_limits, sort_keys=True)}
CHANGELOG = {json.dumps(expected_cl if d == "hard" else [])}
OTHER = {json.dumps(exp_files, sort_keys=True)}


def git(*args):
    return subprocess.run(["git", "-C", REPO, *args], capture_output=True, text=True, check=True).stdout


def test_merge_commit_parents():
    assert git("rev-list", "--parents", "-n", "1", "main").split()[1:] == [MAIN_TIP, FEATURE_TIP]
    assert git("rev-parse", "refs/heads/{branch}").strip() == FEATURE_TIP


def test_requirements_by_rules():
    lines = [l.strip() for l in git("show", "main:requirements.txt").splitlines() if l.strip()]
    pins = dict(l.split("==") for l in lines)
    assert pins == PINS
    assert [l.split("==")[0] for l in lines] == sorted(PINS)


def test_clean_files_from_both_sides():
    for path, content in OTHER.items():
        assert git("show", f"main:{{path}}") == content, path


def test_no_conflict_markers_and_nothing_pending():
    assert subprocess.run(["git", "-C", REPO, "grep", "-nE", "^(<<<<<<<|>>>>>>>|=======$)", "main"],
                          capture_output=True).returncode == 1
    assert git("status", "--porcelain", "--untracked-files=no").strip() == ""
"""
    if d != "easy":
        tests += """

def test_limits_by_rules():
    got = {}
    for line in git("show", "main:config/limits.ini").splitlines():
        if "=" in line:
            k, v = line.split("=", 1)
            got[k.strip()] = int(v)
    assert got == LIMITS
"""
    if d == "hard":
        tests += f"""

def test_changelog_entries():
    text = git("show", "main:CHANGELOG.md")
    body = text.split("## Unreleased", 1)[1].split("\\n## ", 1)[0]
    assert [l[2:].strip() for l in body.splitlines() if l.startswith("- ")] == CHANGELOG
    assert "## {ver_released}" in text
    for e in {json.dumps(released)}:
        assert f"- {{e}}" in text
"""
    return TaskDraft(instruction=instruction, app_files=files, solve=solve, wrong_solve=wrong, tests=tests,
                     executables=execs, tags=("git", "merge", "conflicts"), requires=("git",))


FAMILY = TaskFamily(
    name="merge-by-rules",
    description="merge a diverged branch and resolve dependency/limits/changelog conflicts by stated rules",
    generate=generate,
    requires=("git", "python3"),
)
