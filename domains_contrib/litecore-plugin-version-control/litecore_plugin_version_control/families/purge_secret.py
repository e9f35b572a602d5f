"""Rewrite history so a leaked credential is gone from every branch and tag.

easy: a committed credentials file must vanish from all branches (refs/original counts too).
medium: plus the token was pasted inline into a source file that must stay (redact it), and an
annotated tag must be rewritten as well.
hard: plus a second token in another file, and no object in the object store (not even unreachable
ones) may still contain either token.
"""

from __future__ import annotations

import json
import random
import string

from litecore.records import TaskDraft, TaskFamily, TaskRequest
from litecore.wording import pick
from litecore_plugin_version_control.common import PROJECTS, filler_subject, ident, people
from litecore_plugin_version_control.gitrepo import Repo, Snapshot, tree_sha


def _token(rng: random.Random) -> str:
    kind = rng.choice(["aws", "gh", "stripe", "slack"])
    up = string.ascii_uppercase + string.digits
    al = string.ascii_letters + string.digits
    if kind == "aws":
        return "AKIA" + "".join(rng.choice(up) for _ in range(16))
    if kind == "gh":
        return "ghp_" + "".join(rng.choice(al) for _ in range(36))
    if kind == "stripe":
        return "sk_live_" + "".join(rng.choice(al) for _ in range(24))
    return "xoxb_" + "".join(rng.choice(string.digits) for _ in range(12)) + "_" + "".join(rng.choice(al) for _ in range(24))


def generate(req: TaskRequest) -> TaskDraft:
    rng = req.rng
    d = req.difficulty
    proj = rng.choice(PROJECTS)
    devs = people(rng, 3)
    repo = Repo(user=devs[0], clock=1_685_000_000 + rng.randrange(20_000_000))
    secret = _token(rng)
    secret2 = _token(rng) if d == "hard" else ""
    leak_path = pick(rng, ["config/prod.env", "deploy/.env.production", "secrets/credentials.env", "ops/keys.env"])
    settings = f"src/{proj}/settings.py"
    script = pick(rng, ["scripts/deploy.sh", "tools/publish.sh", "bin/release.sh"])

    def settings_src(token: str | None, extra: list[str]) -> str:
        line = f"API_TOKEN = \"{token}\"  # TODO move to env\n" if token else "API_TOKEN = os.environ.get(\"API_TOKEN\", \"\")\n"
        return "\"\"\"Settings.\"\"\"\n\nimport os\n\n" + line + "".join(f"{e}\n" for e in extra)

    extra: list[str] = []
    repo.commit({"README.md": f"# {proj}\n", settings: settings_src(None, extra),
                 script: "#!/bin/bash\nset -e\necho deploying\n"}, "Initial commit")
    n_before, n_after = rng.randint(2, 4), rng.randint(3, 5)
    for _ in range(n_before):
        extra.append(f"{ident(rng).upper()} = {rng.randint(1, 500)}")
        repo.commit({settings: settings_src(None, extra)}, filler_subject(rng), author=rng.choice(devs),
                    seconds=rng.randint(1000, 80_000))
    leak = f"API_TOKEN={secret}\nDB_HOST=db.internal\nDB_USER={ident(rng)}\n"
    repo.commit({leak_path: leak, "README.md": f"# {proj}\n\nDeploy settings live in `{leak_path}`.\n"},
                pick(rng, ["Add production deploy config", "Wire up deployment", "Deploy settings"]),
                author=devs[1], seconds=rng.randint(1000, 80_000))
    inline = d != "easy"
    if inline:
        repo.commit({settings: settings_src(secret, extra)}, "Hardcode token for the demo", author=devs[1])
    if d == "hard":
        repo.commit({script: f"#!/bin/bash\nset -e\nexport DEPLOY_KEY={secret2}\necho deploying\n"},
                    "Deploy script uses key", author=devs[2])
    repo.branch("develop")
    tag_at = ""
    for i in range(n_after):
        extra.append(f"{ident(rng).upper()} = {rng.randint(1, 500)}")
        changes: dict[str, str | None] = {settings: settings_src(secret if inline else None, extra)}
        msg = filler_subject(rng)
        if i == 1:
            changes[leak_path] = None
            changes["README.md"] = f"# {proj}\n\nDeploy settings come from the environment.\n"
            msg = "Stop tracking the deploy config"
        repo.commit(changes, msg, author=rng.choice(devs), seconds=rng.randint(1000, 80_000))
        if i == 0 and d != "easy":
            tag_at = repo.head_sha()
            repo.annotated_tag("v1.0.0", tag_at, "Release 1.0.0")
    repo.checkout("develop")
    for _ in range(rng.randint(1, 3)):
        name = ident(rng)
        repo.commit({f"src/{proj}/{name}.py": f"\"\"\"{name}.\"\"\"\n"}, f"Add {name} module", author=rng.choice(devs))
    repo.checkout("main")

    def clean(snap: Snapshot) -> Snapshot:
        out: Snapshot = {}
        for path, (mode, data) in snap.items():
            if path == leak_path:
                continue
            data = data.replace(secret.encode(), b"REDACTED")
            if secret2:
                data = data.replace(secret2.encode(), b"REDACTED")
            out[path] = (mode, data)
        return out

    def history(ref: str) -> list[str]:
        out, sha = [], repo.refs[ref]
        while True:
            raw = repo.objects[sha].split(b"\0", 1)[1].decode()
            author = next(l for l in raw.splitlines() if l.startswith("author "))
            name, rest = author[7:].split(" <", 1)
            out.append(f"{repo.messages[sha].splitlines()[0]}|{name}|{rest.split('> ')[1].split()[0]}")
            if not repo.parents[sha]:
                return out
            sha = repo.parents[sha][0]

    expected = {b: {"tree": tree_sha(clean(repo.snapshot(repo.refs[f"refs/heads/{b}"]))),
                    "log": history(f"refs/heads/{b}")} for b in ("main", "develop")}
    tag_tree = tree_sha(clean(repo.snapshot(tag_at))) if tag_at else ""
    files, execs = repo.app_files(proj, packed=True)

    tokens = [secret] + ([secret2] if secret2 else [])
    reqs = [f"`{leak_path}` must not exist in any commit reachable from any ref (branches, tags, and any "
            f"backup refs a tool may leave behind)."]
    if inline:
        reqs.append("Wherever a leaked token appears in any other file, in any commit, replace the token "
                    "text with `REDACTED` (keep the rest of the file byte-for-byte).")
        reqs.append("The tag `v1.0.0` must still exist and point at the rewritten version of its commit.")
    if d == "hard":
        reqs.append("The tokens must not survive anywhere in the object database, not even in unreachable "
                    "objects.")
    reqs.append("Every commit stays (same messages, authors and author dates, same order), on both `main` "
                "and `develop`; `main` stays checked out.")
    instruction = pick(rng, [
        f"A credential leaked into the history of the git repository /app/{proj}.",
        f"Security found a live token committed to /app/{proj} (a git repository).",
        f"The repository /app/{proj} has secrets in its history that must be purged before it is published.",
    ]) + " Rewrite the history so that it is gone:\n\n" + "\n".join(f"- {r}" for r in reqs) + (
        "\n\nThe leaked value" + ("s are" if len(tokens) > 1 else " is") + ": "
        + ", ".join(f"`{t}`" for t in tokens[:1]) + (" (and a second token, find it yourself: it was added in "
        "a commit about deploy keys)" if d == "hard" else "") + ".\n")
    # git filter-branch spends ~20 ms of CPU per commit; stream the history once through fast-export/fast-import
    # (what git filter-repo does) with a small filter that drops the file and redacts the tokens in every blob
    scrub = f"""\"\"\"Filter a git fast-export stream: drop LEAK from every commit, redact TOKENS in every blob.\"\"\"
import sys

LEAK = b"{leak_path}"
TOKENS = {[t.encode() for t in tokens]!r}
src, out = sys.stdin.buffer, sys.stdout.buffer
section = b""
while line := src.readline():
    word = line.split(b" ", 1)[0].strip()
    if word in (b"blob", b"commit", b"tag", b"reset"):
        section = word  # a new command starts
    elif word == b"data":  # a payload of exactly N bytes: file contents or a message
        data = src.read(int(line[5:]))
        if section == b"blob":
            for token in TOKENS:
                data = data.replace(token, b"REDACTED")
        line = b"data %d\\n" % len(data) + data
    elif word in (b"M", b"D") and line.rstrip(b"\\n").split(b" ")[-1] == LEAK:
        continue  # the file is never added (nor deleted) in the new history
    out.write(line)
"""

    def rewrite(refs: str) -> str:
        return f"git fast-export --signed-tags=strip {refs} | python3 /tmp/scrub.py | git fast-import --force --quiet"

    solve = f"""# Explore: where do the secrets live in history?
cd /app/{proj} && git log --oneline --all --graph && git log --all --format='%h %s' -S '{secret}' && git log --all --oneline --name-status -- {leak_path}
"""
    if d == "hard":
        solve += """
# Find the second token: look at the deploy-key commit's diff
git log --all -p -i --grep='deploy' -- . | grep -n 'KEY' | head
"""
    solve += f"""
# The history filter: drop the leaked file, redact the token text in every other file
cat > /tmp/scrub.py <<'PYEOF'
{scrub.rstrip()}
PYEOF

# Rewrite every branch and tag in one pass (no refs/original backups are left, unlike filter-branch), then
# bring the checked-out main's index and worktree up to the rewritten tip
{rewrite("--all")}
git reset -q --hard
"""
    if d == "hard":
        solve += """
# Purge unreachable objects: expire reflogs and prune everything now
git reflog expire --expire=now --all && git gc -q --prune=now
"""
    solve += f"""
# Verify nothing reachable still has the leak
git grep -c '{secret}' $(git rev-list --all) ; git rev-list --all -- {leak_path} | wc -l; git status --short
"""
    if d == "easy":
        wrong = solve.replace(rewrite("--all"), rewrite("main"))
    elif d == "medium":
        wrong = solve.replace(f"TOKENS = {[t.encode() for t in tokens]!r}", "TOKENS = []")
    else:
        wrong = solve.replace("git reflog expire --expire=now --all && git gc -q --prune=now", "git gc -q")
    assert wrong != solve
    tests = f"""import subprocess

REPO = "/app/{proj}"
TOKENS = {json.dumps(tokens)}
LEAK = "{leak_path}"
EXPECTED = {json.dumps(expected, sort_keys=True)}
TAG_TREE = "{tag_tree}"


def git(*args, check=True):
    return subprocess.run(["git", "-C", REPO, *args], capture_output=True, text=True, check=check)


def test_file_gone_from_reachable_history():
    assert git("log", "--all", "--format=%H", "--", LEAK).stdout.strip() == ""


def test_token_gone_from_reachable_trees():
    patterns = [arg for token in TOKENS for arg in ("-e", token)]
    r = git("grep", "-l", "-F", *patterns, *git("rev-list", "--all").stdout.split(), check=False)
    assert r.returncode == 1, r.stdout[:300]


def test_history_kept():
    for branch, exp in EXPECTED.items():
        log = git("log", "--first-parent", "--format=%s|%an|%at", branch).stdout.splitlines()
        assert log == exp["log"], branch


def test_trees_rewritten_exactly():
    trees = git("rev-parse", *(f"{{branch}}^{{{{tree}}}}" for branch in EXPECTED)).stdout.split()
    assert dict(zip(EXPECTED, trees)) == {{branch: exp["tree"] for branch, exp in EXPECTED.items()}}


def test_main_checked_out_and_worktree_clean():
    status = git("status", "--porcelain=v2", "--branch").stdout.splitlines()
    assert "# branch.head main" in status
    assert [line for line in status if not line.startswith("# ")] == []
"""
    if inline:
        tests += """

def test_tag_rewritten():
    assert git("rev-parse", "v1.0.0^{tree}").stdout.strip() == TAG_TREE
"""
    if d == "hard":
        tests += """

def test_object_store_clean():
    out = subprocess.run(["git", "-C", REPO, "cat-file", "--batch-all-objects", "--batch"],
                         capture_output=True, check=True).stdout
    for token in TOKENS:
        assert token.encode() not in out
"""
    return TaskDraft(instruction=instruction, app_files=files, solve=solve, wrong_solve=wrong, tests=tests,
                     executables=execs, tags=("git", "security", "history-rewrite"), requires=("git",))


FAMILY = TaskFamily(
    name="purge-secret",
    description="rewrite every branch and tag so a leaked credential file/token is gone (optionally from the object store)",
    generate=generate,
    requires=("git",),
)
