"""Write a log rotation script implementing a stated policy (size trigger, retention, delaycompress, modes)."""

from __future__ import annotations

import json

from litecore.records import TaskDraft, TaskFamily, TaskRequest
from litecore.wording import bullets

from litecore_plugin_system_admin.families._util import SERVICES, one_of


def script(size: int, keep: int, d: str, *, honor_size: bool = True, delay: bool = True, mode: bool = True) -> str:
    lines = [
        "#!/bin/bash",
        "# rotate DIR/*.log according to the policy in the task",
        'dir=${1:?usage: rotate.sh DIR}',
        f"MAX={keep}",
        f"MIN={size}",
        'for log in "$dir"/*.log; do',
        '  [ -f "$log" ] || continue',
    ]
    if d == "hard":
        lines.append('  grep -qxF "${log##*/}" "$dir/.norotate" 2>/dev/null && continue')
    lines.append('  read -r size perm <<< "$(stat -c \'%s %a\' "$log")"')
    lines.append('  [ "$size" -ge "$MIN" ] || continue' if honor_size else '  [ "$size" -gt 0 ] || continue')
    lines += [
        '  rm -f "$log.$MAX" "$log.$MAX.gz"',
        '  for ((i = MAX - 1; i >= 1; i--)); do',
        '    [ -e "$log.$i" ] && mv "$log.$i" "$log.$((i + 1))"',
        '    [ -e "$log.$i.gz" ] && mv "$log.$i.gz" "$log.$((i + 1)).gz"',
        '  done',
    ]
    if d != "easy":
        lines.append('  [ -e "$log.2" ] && gzip -n "$log.2"')
    lines.append('  mv "$log" "$log.1"')
    if d != "easy" and not delay:
        lines.append('  gzip -n "$log.1"')
    lines.append('  : > "$log"')
    if mode:
        lines.append('  chmod "$perm" "$log"')
    lines.append("done")
    return "\n".join(lines) + "\n"


def generate(req: TaskRequest) -> TaskDraft:
    rng = req.rng
    d = req.difficulty
    size = rng.choice([512, 1000, 2048, 4096, 5000])
    keep = rng.randint(3, 6)
    svcs = rng.sample(SERVICES, 5)
    big, small, empty, fresh, skipped = svcs
    gz = d != "easy"
    reqs = [
        "usage: `/app/rotate.sh DIR`; it handles every `*.log` file directly inside DIR",
        f"a log is rotated only when it is at least {size} bytes long; smaller (including empty) logs are left "
        "alone",
        "rotating `X.log` renames it to `X.log.1`; an existing `X.log.N` becomes `X.log.N+1`; afterwards an "
        "empty `X.log` exists again",
        f"keep at most {keep} rotated generations per log (`X.log.1` ... `X.log.{keep}`); anything older is "
        "deleted",
    ]
    if gz:
        reqs.append("rotated generations are gzip-compressed (`X.log.N.gz`), except the newest one `X.log.1`, which "
                    "stays uncompressed until the next rotation (like logrotate's delaycompress)")
    if d == "hard":
        reqs += ["the new empty `X.log` gets the same permission bits as the file it replaces",
                 "logs whose file name is listed (one name per line) in `DIR/.norotate` are never rotated"]
    intro = one_of(rng, "There is no logrotate on this box, and the disk keeps filling up with logs.",
                   "We need a small, dependency-free replacement for logrotate.",
                   "Write the log rotation job for our application servers.")
    instruction = (f"{intro} Write an executable bash script `/app/rotate.sh` implementing this policy:\n\n"
                   f"{bullets(reqs)}\n\nA sample directory to try it on is in `/app/sample/`.\n")
    sample = {f"sample/{big}.log": "x" * (size + 10) + "\n", f"sample/{big}.log.1": "older\n",
              f"sample/{small}.log": "short\n", f"sample/{empty}.log": ""}
    good = script(size, keep, d)
    solve = f"""# Look at the sample tree and the sizes involved
ls -la /app/sample; stat -c '%n %s %a' /app/sample/*

# Write the rotation script: size check, shift generations from the oldest down, compress all but .1,
# recreate the log with the old permissions
cat > /app/rotate.sh <<'SH'
{good.rstrip()}
SH
chmod +x /app/rotate.sh

# Try it on a copy of the sample
rm -rf /tmp/s && cp -a /app/sample /tmp/s && /app/rotate.sh /tmp/s && ls -la /tmp/s
"""
    if d == "easy":
        bad = script(size, keep, d, honor_size=False)
    elif d == "medium":
        bad = script(size, keep, d, delay=False)
    else:
        bad = script(size, keep, d, mode=False)
    wrong = f"cat > /app/rotate.sh <<'SH'\n{bad.rstrip()}\nSH\nchmod +x /app/rotate.sh\n"
    tests = f"""import gzip
import os
import pathlib
import shutil
import subprocess

import pytest

SIZE = {size}
KEEP = {keep}
GZ = {gz!r}
HARD = {d == "hard"!r}
BIG, SMALL, EMPTY, FRESH, SKIPPED = {json.dumps(svcs)}


def gen_name(log, n):
    return f"{{log}}.log.{{n}}" + (".gz" if GZ and n >= 2 else "")


def write_gen(root, log, n, text):
    p = root / gen_name(log, n)
    if p.name.endswith(".gz"):
        p.write_bytes(gzip.compress(text.encode(), mtime=0))
    else:
        p.write_text(text)


def read_gen(root, log, n):
    p = root / gen_name(log, n)
    return gzip.decompress(p.read_bytes()).decode() if p.name.endswith(".gz") else p.read_text()


def make_tree(root):
    root.mkdir()
    (root / f"{{BIG}}.log").write_text("B" * SIZE)
    for n in range(1, KEEP + 1):
        write_gen(root, BIG, n, f"generation {{n}} of {{BIG}}\\n")
    (root / f"{{SMALL}}.log").write_text("s" * (SIZE - 1))
    (root / f"{{EMPTY}}.log").write_text("")
    (root / f"{{FRESH}}.log").write_text("F" * (SIZE + 100))
    (root / f"{{SKIPPED}}.log").write_text("K" * (SIZE * 2))
    (root / "notes.txt").write_text("N" * (SIZE * 3))
    os.chmod(root / f"{{BIG}}.log", 0o640)
    os.chmod(root / f"{{FRESH}}.log", 0o600)
    if HARD:
        (root / ".norotate").write_text(f"{{SKIPPED}}.log\\n")


def rotate(root):
    if not os.access("/app/rotate.sh", os.X_OK):
        pytest.fail("/app/rotate.sh is missing or not executable", pytrace=False)
    r = subprocess.run(["/app/rotate.sh", str(root)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.fixture(scope="module")
def rotated(tmp_path_factory):
    # the test tree after one rotation, shared by the tests that only inspect it
    root = tmp_path_factory.mktemp("once") / "logs"
    make_tree(root)
    rotate(root)
    return root


def test_rotates_big_log_and_shifts_generations(rotated):
    root = rotated
    assert (root / f"{{BIG}}.log").read_text() == ""
    assert read_gen(root, BIG, 1) == "B" * SIZE
    for n in range(2, KEEP + 1):
        assert read_gen(root, BIG, n) == f"generation {{n - 1}} of {{BIG}}\\n"


def test_retention_limit(rotated):
    root = rotated
    names = sorted(p.name for p in root.iterdir() if p.name.startswith(BIG + ".log."))
    assert names == sorted(gen_name(BIG, n) for n in range(1, KEEP + 1))


def test_small_and_empty_untouched(rotated):
    root = rotated
    assert (root / f"{{SMALL}}.log").read_text() == "s" * (SIZE - 1)
    assert (root / f"{{EMPTY}}.log").read_text() == ""
    assert not list(root.glob(f"{{SMALL}}.log.*")) and not list(root.glob(f"{{EMPTY}}.log.*"))
    assert (root / "notes.txt").read_text() == "N" * (SIZE * 3) and not list(root.glob("notes.txt.*"))


def test_repeated_runs(rotated, tmp_path):
    # a second rotation, on a copy of the once-rotated tree (modes and times kept)
    root = tmp_path / "logs"
    shutil.copytree(rotated, root)
    (root / f"{{FRESH}}.log").write_text("second\\n" * (SIZE // 7 + 1))
    rotate(root)
    assert read_gen(root, FRESH, 1) == "second\\n" * (SIZE // 7 + 1)
    assert read_gen(root, FRESH, 2) == "F" * (SIZE + 100)
    assert sorted(p.name for p in root.glob(f"{{FRESH}}.log.*")) == sorted([gen_name(FRESH, 1), gen_name(FRESH, 2)])
    assert read_gen(root, BIG, 1) == "B" * SIZE
"""
    if d == "hard":
        tests += """

def test_permissions_preserved(rotated):
    root = rotated
    assert (root / f"{BIG}.log").stat().st_mode & 0o777 == 0o640
    assert (root / f"{FRESH}.log").stat().st_mode & 0o777 == 0o600


def test_norotate_respected(rotated):
    root = rotated
    assert (root / f"{SKIPPED}.log").read_text() == "K" * (SIZE * 2)
    assert not list(root.glob(f"{SKIPPED}.log.*"))
"""
    return TaskDraft(
        instruction=instruction,
        app_files=sample,
        solve=solve,
        wrong_solve=wrong,
        tests=tests,
        tags=("logs", "logrotate", "bash"),
    )


FAMILY = TaskFamily(
    name="log-rotation",
    description="write a log rotation script for a stated size/retention/compression policy",
    generate=generate,
    requires=("bash", "gzip", "stat"),
)
