"""Write git hooks that enforce a team's commit rules (judged by attempting real commits).

easy: a pre-commit hook rejecting staged content with a forbidden marker (deletions and untouched files
are fine).
medium: plus forbidden file extensions, and the hook must judge what is staged, not the work tree.
hard: plus a size limit, file names with spaces, and a commit-msg hook enforcing a message convention.
"""

from __future__ import annotations

import json
import random
from typing import Any

from litecore.records import TaskDraft, TaskFamily, TaskRequest
from litecore.wording import pick
from litecore_plugin_version_control.common import PROJECTS, filler_subject, ident, people
from litecore_plugin_version_control.gitrepo import Repo

MARKERS = ("DO NOT COMMIT", "NOCOMMIT", "FIXME-BEFORE-MERGE", "XXX-REMOVE-ME", "DEBUG-ONLY")
EXTS = (".pem", ".key", ".p12", ".env", ".sqlite", ".pfx")
TYPES = ("feat", "fix", "docs", "chore", "refactor", "test", "perf", "build")


def _text(rng: random.Random, lines: int) -> str:
    return "".join(f"{ident(rng)} = {rng.randint(0, 999)}\n" for _ in range(lines))


def generate(req: TaskRequest) -> TaskDraft:
    rng = req.rng
    d = req.difficulty
    proj = rng.choice(PROJECTS)
    repo = Repo(user=people(rng, 1)[0], clock=1_692_000_000 + rng.randrange(20_000_000))
    marker = rng.choice(MARKERS)
    exts = sorted(rng.sample(EXTS, 2)) if d != "easy" else []
    limit = rng.randint(20, 60) * 100 if d == "hard" else 0
    types = sorted(rng.sample(TYPES, 4)) if d == "hard" else []
    maxlen = rng.choice([50, 60, 72]) if d == "hard" else 0
    legacy = pick(rng, ["legacy/old_notes.txt", "docs/scratch.md", "misc/todo.txt"])
    repo.commit({"README.md": f"# {proj}\n", "src/main.py": _text(rng, 4),
                 legacy: f"old notes\n{marker}: remove the demo account\n"}, "Initial commit")
    repo.commit({"src/util.py": _text(rng, 3)}, filler_subject(rng))
    files, execs = repo.app_files(proj)

    def msg(ok: bool = True) -> str:
        if not types:
            return filler_subject(rng)
        t = rng.choice(types)
        scope = rng.choice(["", f"({ident(rng)})"])
        return f"{t}{scope}: {filler_subject(rng).lower()}"

    scen: list[dict[str, Any]] = []

    def add(name: str, ok: bool, files_: dict[str, str | None], after: dict[str, str] | None = None,
            message: str | None = None) -> None:
        scen.append({"name": name, "ok": ok, "files": files_, "after": after or {}, "msg": message or msg()})

    mid = rng.randint(1, 3)
    clean_name = f"src/{ident(rng)}.py"
    add("clean change", True, {clean_name: _text(rng, 3)})
    dirty = _text(rng, mid) + f"# {marker}\n" + _text(rng, 2)
    add("marker in new file", False, {f"src/{ident(rng)}.py": dirty})
    add("marker in modified file", False, {"src/main.py": _text(rng, 2) + f"x = 1  # {marker}\n"})
    add("deleting a file that has the marker", True, {legacy: None})
    add("untouched file with marker stays", True, {"README.md": f"# {proj}\n\n{filler_subject(rng)}\n"})
    if d != "easy":
        for e in exts:
            add(f"forbidden {e}", False, {f"config/{ident(rng)}{e}": "secret\n"})
        add("allowed extension", True, {f"config/{ident(rng)}.yaml": "a: 1\n"})
        staged_clean = f"src/{ident(rng)}.py"
        add("staged clean, worktree dirty", True, {staged_clean: _text(rng, 2)},
            after={staged_clean: f"# {marker}\n"})
        staged_dirty = f"src/{ident(rng)}.py"
        add("staged dirty, worktree clean", False, {staged_dirty: f"# {marker}\n"}, after={staged_dirty: "ok = 1\n"})
    if d == "hard":
        add("too big", False, {f"data/{ident(rng)}.csv": "x" * (limit + rng.randint(1, 500))})
        add("just under the limit", True, {f"data/{ident(rng)}.csv": "y" * (limit - rng.randint(0, 50))})
        add("space in name with marker", False, {f"notes/{ident(rng)} draft.txt": f"{marker}\n"})
        add("space in name clean", True, {f"notes/{ident(rng)} final.txt": "done\n"})
        add("message without type", False, {f"src/{ident(rng)}.py": "a = 1\n"},
            message=filler_subject(rng))
        bad_type = rng.choice([t for t in TYPES if t not in types])
        add("message with unknown type", False, {f"src/{ident(rng)}.py": "b = 1\n"},
            message=f"{bad_type}: {filler_subject(rng).lower()}")
        t = rng.choice(types)
        long_msg = f"{t}: " + " ".join(filler_subject(rng).lower() for _ in range(8))
        long_msg = long_msg[: maxlen + rng.randint(1, 10)].rstrip() + "x"
        add("message too long", False, {f"src/{ident(rng)}.py": "c = 1\n"}, message=long_msg)
        exact = f"{t}({ident(rng)}): " + "y" * 80
        add("message exactly at the limit", True, {f"src/{ident(rng)}.py": "d = 1\n"}, message=exact[:maxlen])
        add("message with scope and body", True, {f"src/{ident(rng)}.py": "e = 1\n"},
            message=f"{rng.choice(types)}({ident(rng)}): {filler_subject(rng).lower()}\n\n" + "z" * 120)
    rng.shuffle(scen)

    rules = [f"`pre-commit` must reject the commit when any file being added or modified in the commit "
             f"contains the text `{marker}` (exact, case-sensitive). Deleting such a file, or leaving an "
             f"existing one untouched, is fine."]
    if d != "easy":
        rules.append("`pre-commit` must also reject adding or modifying files whose names end in "
                     + " or ".join(f"`{e}`" for e in exts) + ".")
        rules.append("Judge exactly what is staged for the commit (the index), not what happens to be in the "
                     "working tree.")
    if d == "hard":
        rules.append(f"`pre-commit` must also reject any added or modified file larger than {limit} bytes "
                     f"(exactly {limit} is fine). File names may contain spaces.")
        rules.append("A `commit-msg` hook must require the first line of the message to look like "
                     "`<type>: <summary>` or `<type>(<scope>): <summary>`, where type is one of "
                     + ", ".join(f"`{t}`" for t in types) + ", scope is lower-case letters, digits or dashes, "
                     f"the summary is not empty, and the whole first line is at most {maxlen} characters.")
    instruction = pick(rng, [
        f"The team behind /app/{proj} wants git to enforce some commit rules locally.",
        f"Set up client-side git hooks for the repository /app/{proj}.",
        f"Add commit checks to the git repository at /app/{proj} using hooks.",
    ]) + (" Install them in the repository's own hooks folder (`.git/hooks`) so they run on every "
          "`git commit`:\n\n" + "\n".join(f"- {r}" for r in rules)
          + "\n\nA rejected commit must fail (non-zero exit, no commit created) and print why; everything "
          "else must commit normally. Hooks may be written in bash or python3.\n")

    # bash hooks: git runs them on every commit attempt, and a bash start is a fraction of a python3 one
    hook = f"""#!/bin/bash
# Reject staged content that breaks the team rules (reads the index, not the work tree).
marker='{marker}'
exts=({" ".join(exts)})
limit={limit}
status=0
while IFS= read -r -d '' path; do
    if git cat-file blob ":$path" | grep -qF -- "$marker"; then
        echo "pre-commit: $path: contains $marker" >&2
        status=1
    fi
    for ext in "${{exts[@]}}"; do
        if [[ "$path" == *"$ext" ]]; then
            echo "pre-commit: $path: forbidden file type" >&2
            status=1
        fi
    done
    if (( limit > 0 )); then
        size=$(git cat-file -s ":$path")
        if (( size > limit )); then
            echo "pre-commit: $path: $size bytes > $limit" >&2
            status=1
        fi
    fi
done < <(git diff --cached --name-only -z --diff-filter=ACMR)
exit $status"""
    msg_hook = f"""#!/bin/bash
# Enforce '<type>(<scope>): <summary>' on the first line, with a length cap.
IFS= read -r first < "$1"
re='^({'|'.join(types)})(\\([a-z0-9-]+\\))?: [^[:space:]]'
if [[ $first =~ $re ]] && (( ${{#first}} <= {maxlen} )); then
    exit 0
fi
echo "commit-msg: bad first line: $first" >&2
exit 1"""
    solve = f"""# Explore the repository and any existing hooks
cd /app/{proj} && git log --oneline && ls .git/hooks 2>/dev/null; git grep -n '{marker}' || true

# Write the pre-commit hook (checks staged blobs via the index)
mkdir -p .git/hooks && cat > .git/hooks/pre-commit <<'EOF'
{hook}
EOF
chmod +x .git/hooks/pre-commit
"""
    if d == "hard":
        solve += f"""
# Write the commit-msg hook
cat > .git/hooks/commit-msg <<'EOF'
{msg_hook}
EOF
chmod +x .git/hooks/commit-msg
"""
    solve += f"""
# Try it in a scratch clone: a bad commit must be refused
rm -rf /tmp/hooktry && cp -r /app/{proj} /tmp/hooktry && cd /tmp/hooktry && printf '{marker}\\n' > probe.txt && git add probe.txt && (git commit -qm "{(types or ['chore'])[0]}: probe" && echo UNEXPECTED || echo refused as expected); cd /app/{proj} && rm -rf /tmp/hooktry
"""
    if d == "easy":
        wrong = solve.replace("chmod +x .git/hooks/pre-commit\n", "")
    elif d == "medium":
        wrong = solve.replace('git cat-file blob ":$path"', 'cat -- "$path"')
    else:
        wrong = solve.replace(f" && (( ${{#first}} <= {maxlen} ))", "")
    assert wrong != solve
    tests = f"""import json
import os
import shutil
import subprocess
import tempfile

import pytest

REPO = "/app/{proj}"
SCENARIOS = json.loads({json.dumps(json.dumps(scen))})
BASE = {{}}


def run(cwd, *args):
    env = {{"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": cwd, "GIT_CONFIG_NOSYSTEM": "1", "LANG": "C.UTF-8"}}
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=30)


def copy_repo(work):
    # a private copy of the repository; git only reads its object store, so that is shared (alternates)
    objects = os.path.join(REPO, ".git", "objects")
    shutil.copytree(REPO, work, symlinks=True, ignore=lambda d, names: names if d == objects else [])
    info = os.path.join(work, ".git", "objects", "info")
    if os.path.isdir(objects) and os.path.isdir(os.path.dirname(info)):
        os.makedirs(info, exist_ok=True)
        with open(os.path.join(info, "alternates"), "w") as fh:
            fh.write(objects + "\\n")


def attempt(sc):
    tmp = tempfile.mkdtemp()
    work = os.path.join(tmp, "repo")
    copy_repo(work)
    if "head" not in BASE:  # every copy starts at the same commit: ask git once
        BASE["head"] = run(work, "rev-parse", "HEAD").stdout.strip()
    before = BASE["head"]
    for path, content in sc["files"].items():
        full = os.path.join(work, path)
        if content is None:
            os.remove(full)
        else:
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, "w") as fh:
                fh.write(content)
    assert run(work, "add", "-A").returncode == 0
    for path, content in sc["after"].items():
        with open(os.path.join(work, path), "w") as fh:
            fh.write(content)
    r = run(work, "commit", "-q", "-m", sc["msg"])
    after = run(work, "rev-parse", "HEAD").stdout.strip()
    shutil.rmtree(tmp, ignore_errors=True)
    return r, before != after


def test_hooks_installed_executable():
    hooks = ["pre-commit"] + (["commit-msg"] if {bool(types)} else [])
    for h in hooks:
        assert os.access(os.path.join(REPO, ".git", "hooks", h), os.X_OK), h


@pytest.mark.parametrize("sc", SCENARIOS, ids=[s["name"] for s in SCENARIOS])
def test_scenario(sc):
    r, committed = attempt(sc)
    if sc["ok"]:
        assert r.returncode == 0 and committed, r.stderr[-500:]
    else:
        assert r.returncode != 0 and not committed
"""
    return TaskDraft(instruction=instruction, app_files=files, solve=solve, wrong_solve=wrong, tests=tests,
                     executables=execs, tags=("git", "hooks", "automation"), requires=("git", "python3"))


FAMILY = TaskFamily(
    name="commit-hooks",
    description="write pre-commit/commit-msg hooks enforcing marker, file-type, size and message rules",
    generate=generate,
    requires=("git", "python3"),
)
