"""Write a disk cleanup script that applies age/retention/protection rules (checked on fresh trees)."""

from __future__ import annotations

import json

from litecore.records import TaskDraft, TaskFamily, TaskRequest
from litecore.wording import bullets

from litecore_plugin_system_admin.families._util import SERVICES, one_of


def script(days: int, keep: int, d: str, *, tmp_glob: str = "*.tmp", protect_keep: bool = True,
           by_name: bool = True) -> str:
    lines = [
        "#!/usr/bin/env python3",
        '"""Reclaim disk space under ROOT by the cleanup rules."""',
        "import os, re, sys, time, fnmatch",
        "args = [a for a in sys.argv[1:] if a != '--dry-run']",
        "dry = '--dry-run' in sys.argv[1:]",
        "root = os.path.abspath(args[0])",
        f"DAYS, KEEP = {days}, {keep}",
        "now = time.time()",
        "protected = set()",
        "pfile = os.path.join(root, '.protected')",
        "if os.path.exists(pfile):",
        "    protected = {os.path.normpath(l.strip()) for l in open(pfile) if l.strip() and not l.startswith('#')}",
        "def is_protected(path):",
        "    rel = os.path.relpath(path, root)",
        ("    return rel == 'keep' or rel.startswith('keep' + os.sep) or rel in protected" if protect_keep
         else "    return rel in protected"),
        "victims = []",
        "for dirpath, dirs, files in os.walk(root):",
        "    for f in files:",
        "        p = os.path.join(dirpath, f)",
        "        if is_protected(p) or os.path.islink(p):",
        "            continue",
        f"        if fnmatch.fnmatchcase(f, {tmp_glob!r}) and now - os.lstat(p).st_mtime > DAYS * 86400:",
        "            victims.append(p)",
    ]
    if d != "easy":
        lines += ["        elif re.fullmatch(r'core(\\.[0-9]+)?', f):", "            victims.append(p)"]
    lines += [
        "bdir = os.path.join(root, 'backups')",
        "groups = {}",
        "if os.path.isdir(bdir):",
        "    for f in os.listdir(bdir):",
        "        m = re.fullmatch(r'(.+)-(\\d{8})\\.tar\\.gz', f)",
        "        if m and not is_protected(os.path.join(bdir, f)):",
        ("            groups.setdefault(m.group(1), []).append((m.group(2), f))" if by_name else
         "            groups.setdefault(m.group(1), []).append((os.stat(os.path.join(bdir, f)).st_mtime, f))"),
        "for prefix, items in groups.items():",
        "    for _key, f in sorted(items, reverse=True)[KEEP:]:",
        "        victims.append(os.path.join(bdir, f))",
        "for p in sorted(victims):",
        "    if dry:",
        "        print(p)",
        "    else:",
        "        os.remove(p)",
    ]
    if d != "easy":
        lines += [
            "if not dry:",
            "    for dirpath, dirs, files in os.walk(root, topdown=False):",
            "        if dirpath in (root, bdir) or is_protected(dirpath):",
            "            continue",
            "        if not os.listdir(dirpath):",
            "            os.rmdir(dirpath)",
        ]
    return "\n".join(lines) + "\n"


def generate(req: TaskRequest) -> TaskDraft:
    rng = req.rng
    d = req.difficulty
    days = rng.randint(3, 14)
    keep = rng.randint(2, 4)
    dbs = rng.sample(SERVICES, 2)
    reqs = [
        "usage: `/app/cleanup.sh ROOT` (any language, but it must be executable); it works on the tree under ROOT",
        f"delete every file whose name ends in `.tmp` and that was last modified more than {days} days ago "
        "(anywhere under ROOT); newer ones stay",
        f"`ROOT/backups/` holds archives named `<name>-YYYYMMDD.tar.gz`: for each `<name>` keep only the {keep} "
        "newest by the date in the file name and delete the older ones; other files there are not touched",
        "nothing under `ROOT/keep/` is ever deleted",
        "never follow or delete symbolic links",
    ]
    if d != "easy":
        reqs += ["delete core dumps anywhere: files named exactly `core` or `core.<digits>`",
                 "afterwards remove directories that ended up (or were) empty, except ROOT itself, "
                 "`ROOT/backups` and anything under `ROOT/keep`"]
    if d == "hard":
        reqs += ["`ROOT/.protected` (if present) lists paths relative to ROOT, one per line, that must never be "
                 "deleted",
                 "with `--dry-run` as second argument, print the absolute path of every file that would be deleted "
                 "(one per line) and change nothing",
                 "file modification times of backups are unreliable (they were copied around): only the name counts"]
    intro = one_of(rng, "The data volume of our batch server keeps running out of space.",
                   "Disk usage on the build host is out of control.",
                   "We need an automated janitor for a shared data volume.")
    instruction = (f"{intro} Write `/app/cleanup.sh` that applies these rules:\n\n{bullets(reqs, rng)}\n\n"
                   "`/app/make_sample.sh DIR` builds a small example tree to experiment with.\n")
    sample = ("#!/bin/bash\n# build an example tree for trying the cleanup script\nset -e\nd=${1:?usage: make_sample.sh DIR}\n"
              "mkdir -p \"$d/cache\" \"$d/backups\" \"$d/keep\"\n"
              f"echo old > \"$d/cache/a.tmp\"; touch -d '{days + 3} days ago' \"$d/cache/a.tmp\"\n"
              "echo new > \"$d/cache/b.tmp\"\n"
              + "touch" + "".join(f" \"$d/backups/{dbs[0]}-2024010{i}.tar.gz\"" for i in range(1, keep + 3)) + "\n")
    good = script(days, keep, d)
    solve = f"""# Build the example tree and look at it (ages, names)
cd /app && cat make_sample.sh && rm -rf /tmp/sample && ./make_sample.sh /tmp/sample && find /tmp/sample -printf '%TY-%Tm-%Td %p\\n'

# Write the cleanup script (python): collect victims by rule, skip protected paths and symlinks,
# keep the newest backups by name date, then prune empty directories
cat > /app/cleanup.sh <<'PY'
{good.rstrip()}
PY
chmod +x /app/cleanup.sh

# Try it on the sample{" (a dry run first)" if d == "hard" else ""}
{"/app/cleanup.sh /tmp/sample --dry-run; " if d == "hard" else ""}/app/cleanup.sh /tmp/sample && find /tmp/sample
"""
    if d == "easy":
        bad = script(days, keep, d, tmp_glob="*.tmp*")
    elif d == "medium":
        bad = script(days, keep, d, protect_keep=False)
    else:
        bad = script(days, keep, d, by_name=False)
    wrong = f"cat > /app/cleanup.sh <<'PY'\n{bad.rstrip()}\nPY\nchmod +x /app/cleanup.sh\n"
    dates = {db: sorted(rng.sample(range(1, 28 * 9), keep + rng.randint(1, 3))) for db in dbs}
    backups = {db: [f"{db}-2024{1 + n // 28:02d}{1 + n % 28:02d}.tar.gz" for n in ns] for db, ns in dates.items()}
    tests = f"""import os
import pathlib
import subprocess
import time

import pytest

DAYS = {days}
KEEP = {keep}
MEDIUM = {d != "easy"!r}
HARD = {d == "hard"!r}
BACKUPS = {json.dumps(backups)}
DAY = 86400


def touch(root, rel, age_days=0.0, text="x"):
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)
    t = time.time() - age_days * DAY
    os.utime(p, (t, t))
    return p


def build(root):
    touch(root, "cache/old.tmp", DAYS + 2)
    touch(root, "cache/new.tmp", DAYS - 1)
    touch(root, "cache/deep/er/old2.tmp", DAYS + 30)
    touch(root, "cache/template.tmpl", DAYS + 40)
    touch(root, "cache/old.tmp.bak", DAYS + 40)
    touch(root, "keep/ancient.tmp", DAYS + 100)
    touch(root, "keep/core", 1)
    touch(root, "src/corelib.c", 50)
    touch(root, "crash/core", 1)
    touch(root, "crash/core.4711", 1)
    touch(root, "crash/core.txt", 1)
    touch(root, "spool/empty/.placeholder-not", 1).unlink()
    touch(root, "protected/old3.tmp", DAYS + 9)
    (root / "data").mkdir()
    os.symlink(root / "cache/new.tmp", root / "data/link.tmp")
    os.utime(root / "data/link.tmp", (time.time() - 99 * DAY,) * 2, follow_symlinks=False)
    if HARD:
        (root / ".protected").write_text("protected/old3.tmp\\n")
    for db, names in BACKUPS.items():
        for i, name in enumerate(names):
            # on hard, mtimes run opposite to the dates in the names
            touch(root, "backups/" + name, (i if HARD else len(names) - i) + 1)
    touch(root, "backups/README", 400)


def survivors(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() or p.is_symlink())


def run(root, *extra):
    if not os.access("/app/cleanup.sh", os.X_OK):
        pytest.fail("/app/cleanup.sh is missing or not executable", pytrace=False)
    r = subprocess.run(["/app/cleanup.sh", str(root), *extra], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def expected(root):
    gone = {{"cache/old.tmp", "cache/deep/er/old2.tmp"}}
    if MEDIUM:
        gone |= {{"crash/core", "crash/core.4711"}}
    if not HARD:
        gone.add("protected/old3.tmp")
    for db, names in BACKUPS.items():
        gone |= {{"backups/" + n for n in names[:-KEEP]}}
    return sorted(set(survivors(root)) - gone), sorted(gone)


@pytest.fixture(scope="module")
def cleaned(tmp_path_factory):
    # one volume cleaned once, shared by the tests that only inspect the result
    root = tmp_path_factory.mktemp("once") / "vol"
    build(root)
    want, _gone = expected(root)
    run(root)
    return root, want


def test_tmp_and_core_rules(cleaned):
    root, want = cleaned
    got = survivors(root)
    for rel in want:
        if not rel.startswith("backups/"):
            assert rel in got, rel + " was deleted"
    assert not [g for g in got if g not in want and not g.startswith("backups/")]


def test_backup_retention(cleaned):
    root, _want = cleaned
    for db, names in BACKUPS.items():
        assert sorted(p.name for p in (root / "backups").glob(db + "-*.tar.gz")) == sorted(names[-KEEP:])
    assert (root / "backups/README").exists()


def test_protected_areas(cleaned):
    root, _want = cleaned
    assert (root / "keep/ancient.tmp").exists() and (root / "keep/core").exists()
    assert (root / "data/link.tmp").is_symlink() and (root / "cache/new.tmp").exists()
"""
    if d != "easy":
        tests += """

def test_empty_directories_pruned(cleaned):
    root, _want = cleaned
    assert not (root / "cache/deep").exists()
    assert not (root / "spool").exists()
    assert (root / "backups").is_dir() and (root / "keep").is_dir() and (root / "crash").is_dir()
"""
    if d == "hard":
        tests += """

def test_dry_run(tmp_path):
    root = tmp_path / "vol"
    build(root)
    before = survivors(root)
    out = run(root, "--dry-run")
    assert survivors(root) == before
    _want, gone = expected(root)
    listed = sorted(str(pathlib.Path(l.strip()).relative_to(root)) for l in out.splitlines() if l.strip())
    assert listed == gone
"""
    return TaskDraft(
        instruction=instruction,
        app_files={"make_sample.sh": sample},
        executables=("make_sample.sh",),
        solve=solve,
        wrong_solve=wrong,
        tests=tests,
        tags=("disk", "cleanup", "find", "retention"),
    )


FAMILY = TaskFamily(
    name="disk-cleanup",
    description="write a cleanup script that frees disk space by age, retention and protection rules",
    generate=generate,
    requires=("python3", "bash"),
)
