"""Recover work that looks lost: a deleted branch, a hard reset, a dropped stash.

easy: a deleted branch must be recreated at its last commit (found in the HEAD reflog).
medium: plus `main` was hard-reset and later checkouts hide the old tip behind HEAD@{1}.
hard: plus the branch's last commit was amended (the pre-amend commit is a decoy), a second deleted
branch has a similar name, and a dropped stash (no reflog at all) must be found with fsck by content.
"""

from __future__ import annotations

from litecore.records import TaskDraft, TaskFamily, TaskRequest
from litecore.wording import pick
from litecore_plugin_version_control.common import PROJECTS, filler_subject, ident, people
from litecore_plugin_version_control.gitrepo import Repo


def _mod(name: str, k: int) -> str:
    return f"\"\"\"{name} support.\"\"\"\n\n\ndef {name}_step(x):\n    return x * {k}\n"


def generate(req: TaskRequest) -> TaskDraft:
    rng = req.rng
    d = req.difficulty
    proj = rng.choice(PROJECTS)
    devs = people(rng, 2)
    repo = Repo(user=devs[0], clock=1_695_000_000 + rng.randrange(10_000_000))
    feat = ident(rng)
    branch = pick(rng, ["feature/", "topic/", "wip/"]) + feat
    decoy = branch + pick(rng, ["-old", "-v1", "-try"])
    app = f"\"\"\"{proj} app.\"\"\"\n\nVERSION = \"1.{rng.randint(0, 9)}\"\n"
    repo.commit({"README.md": f"# {proj}\n", "src/app.py": app, "notes.txt": "todo:\n"}, "Initial commit")
    for _ in range(rng.randint(2, 4)):
        repo.commit({"notes.txt": f"todo:\n- {filler_subject(rng)}\n"}, filler_subject(rng), seconds=rng.randint(900, 50_000))
    if d == "hard":
        repo.checkout(decoy, create=True)
        repo.commit({f"src/{feat}.py": _mod(feat, 99)}, f"First attempt at {feat}")
        repo.checkout("main")
    repo.checkout(branch, create=True)
    n_feat = rng.randint(2, 4)
    for i in range(n_feat):
        repo.commit({f"src/{feat}.py": _mod(feat, i + 2), f"docs/{feat}.md": f"# {feat}\n\nstep {i}\n"},
                    pick(rng, [f"{feat}: step {i + 1}", f"Implement {feat} part {i + 1}", f"{feat} progress ({i + 1})"]),
                    seconds=rng.randint(600, 20_000))
    first_feat = repo.logs[f"refs/heads/{branch}"][1].split()[1]
    pre_amend = repo.head_sha()
    if d == "hard":
        # amend the last commit: same parent, new content
        parent = repo.parents[pre_amend][0]
        snap = repo.snapshot()
        snap[f"src/{feat}.py"] = ("100644", _mod(feat, 42).encode())
        repo.tick(400)
        amended = repo.make_commit(snap, f"{feat}: final version", (parent,))
        repo._move_head(pre_amend, amended, f"commit (amend): {feat}: final version")
    tip = repo.head_sha()
    repo.checkout("main")
    for _ in range(rng.randint(1, 2)):
        repo.commit({"README.md": f"# {proj}\n\n{filler_subject(rng)}.\n"}, filler_subject(rng))
    stash_path = "src/app.py"
    stash_func = ident(rng, "handle_")
    stash_content = app + f"\n\ndef {stash_func}(request):\n    # half done: validate first\n    return None\n"
    decoy_stash_content = f"todo:\n- {filler_subject(rng)}\n- try {ident(rng)}\n"
    if d == "hard":
        head = repo.head_sha()
        short = head[:7]
        subject = repo.messages[head].splitlines()[0]
        for path, content in ((stash_path, stash_content), ("notes.txt", decoy_stash_content)):
            repo.tick(500)
            index_c = repo.make_commit(repo.snapshot(), f"index on main: {short} {subject}", (head,))
            snap = repo.snapshot()
            snap[path] = ("100644", content.encode())
            repo.make_commit(snap, f"WIP on main: {short} {subject}", (head, index_c))
    lost_main = ""
    if d != "easy":
        for _ in range(2):
            repo.commit({f"src/{ident(rng)}.py": "X = 1\n"}, filler_subject(rng))
        lost_main = repo.head_sha()
        back = repo.parents[repo.parents[lost_main][0]][0]
        repo.reset_hard(back)
        other = pick(rng, ["docs", "release", "hotfix"])
        repo.branch(other)
        repo.checkout(other)
        repo.checkout("main")
    repo.delete_branch(branch)
    if d == "hard":
        repo.delete_branch(decoy)
    files, execs = repo.app_files(proj)

    tasks = [f"The branch `{branch}` was deleted by mistake. Recreate it so it points at the last commit "
             f"that branch had before it was deleted."]
    if d != "easy":
        tasks.append("Someone also ran `git reset --hard` on `main` and threw away its newest commits. Move "
                     "`main` back to the commit it pointed at just before that reset, and leave `main` "
                     "checked out with a clean working tree.")
    if d == "hard":
        tasks.append(f"There was also a stash holding the start of a `{stash_func}` function; it was dropped. "
                     f"Create a branch `rescued-stash` whose tip contains that work in `{stash_path}` "
                     f"(exactly as it was stashed).")
    instruction = pick(rng, [
        f"Work has gone missing in the git repository /app/{proj}.",
        f"Someone had a bad day in /app/{proj} (a git repository) and some work seems lost.",
        f"Help recover lost work in the repository at /app/{proj}.",
    ]) + " Nothing was garbage-collected yet.\n\n" + "\n".join(f"- {t}" for t in tasks) + "\n"

    pat = branch.replace("/", "\\/")
    solve = f"""# Explore: which branches exist and what the reflog remembers
cd /app/{proj} && git branch -a && git log -g --format='%h %gd %gs' HEAD | head -40

# The deleted branch's tip is the entry just before we last left it (reflog is newest first)
tip=$(git log -g --format='%H %gs' HEAD | awk '/checkout: moving from {pat} to /{{getline; print $1; exit}}')
git branch {branch} "$tip" && git log --oneline -3 {branch}
"""
    if d != "easy":
        solve += """
# main's own reflog: the entry right before the reset is the old tip
old=$(git log -g --format='%H %gs' main | awk '/reset: moving to/{getline; print $1; exit}')
git checkout -q main && git reset --hard "$old" && git log --oneline -3 && git status --short
"""
    if d == "hard":
        solve += f"""
# Dropped stashes have no reflog: list dangling commits and pick the stash whose tree has the function
for c in $(git fsck --no-progress --dangling 2>/dev/null | awk '/dangling commit/{{print $3}}'); do git log -1 --format="%H %s" $c; done

# Branch at the stash commit that contains {stash_func}
for c in $(git fsck --no-progress --dangling 2>/dev/null | awk '/dangling commit/{{print $3}}'); do if git grep -q "def {stash_func}" $c -- {stash_path}; then git branch rescued-stash $c; fi; done; git show --stat rescued-stash | head
"""
    wrong = solve.replace(f"git branch {branch} \"$tip\"", f"git branch {branch} {first_feat}")
    if d != "easy":
        wrong = wrong.replace("git reset --hard \"$old\"", "git reset --hard HEAD@{1}")
    tests = f"""import subprocess

REPO = "/app/{proj}"
TIP = "{tip}"
LOST_MAIN = "{lost_main}"
STASH_CONTENT = {stash_content!r}


def git(*args, check=True):
    return subprocess.run(["git", "-C", REPO, *args], capture_output=True, text=True, check=check).stdout


def test_branch_recreated_at_last_commit():
    assert git("rev-parse", "refs/heads/{branch}").strip() == TIP
"""
    if d != "easy":
        tests += """

def test_main_restored():
    assert git("rev-parse", "refs/heads/main").strip() == LOST_MAIN


def test_main_checked_out_clean():
    assert git("symbolic-ref", "HEAD").strip() == "refs/heads/main"
    assert git("status", "--porcelain", "--untracked-files=no").strip() == ""
"""
    if d == "hard":
        tests += f"""

def test_stash_rescued():
    assert git("show", "rescued-stash:{stash_path}") == STASH_CONTENT
"""
    return TaskDraft(instruction=instruction, app_files=files, solve=solve, wrong_solve=wrong, tests=tests,
                     executables=execs, tags=("git", "reflog", "recovery"), requires=("git",))


FAMILY = TaskFamily(
    name="reflog-recovery",
    description="recover a deleted branch, a hard-reset main and a dropped stash from reflog and fsck",
    generate=generate,
    requires=("git",),
)
