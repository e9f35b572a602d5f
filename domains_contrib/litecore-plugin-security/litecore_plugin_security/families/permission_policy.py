"""Unpack a release and bring every file mode in line with a written permission policy (and report drift)."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import random
import tarfile

from litecore.records import TaskDraft, TaskFamily, TaskRequest
from litecore.wording import bullets, pick

from litecore_plugin_security.families._util import swap

BAD_FILE_MODES = [0o777, 0o666, 0o755, 0o644, 0o640, 0o600, 0o700, 0o775]
BAD_DIR_MODES = [0o777, 0o755, 0o775, 0o750, 0o700]


def policy_mode(path: str, is_dir: bool, level: str, suid_ok: set[str]) -> int:
    """The mode the policy assigns (the truth; mirrors the rule list in the instruction)."""
    parts = path.split("/")
    name = parts[-1]
    if is_dir:
        if name == "private":
            return 0o700
        if name == "uploads":
            return 0o1733
        if level == "hard" and name == "shared":
            return 0o2775
        return 0o755
    if "private" in parts[:-1]:
        return 0o600
    if name.endswith((".key", ".pem")) or name == ".env":
        return 0o600
    if "bin" in parts[:-1] or name.endswith(".sh"):
        return 0o4755 if path in suid_ok else 0o755
    if level == "hard" and "shared" in parts[:-1]:
        return 0o664
    return 0o644


SCRIPT = r'''import os, tarfile
LEVEL = "__LEVEL__"
ROOT = "/app/site"
SUID_OK = set()
if os.path.exists("/app/suid-allowlist.txt"):
    SUID_OK = {l.strip() for l in open("/app/suid-allowlist.txt") if l.strip() and not l.startswith("#")}
def mode_for(path, is_dir):
    parts = path.split("/")
    name = parts[-1]
    if is_dir:
        if name == "private":
            return 0o700
        if name == "uploads":
            return 0o1733
        if LEVEL == "hard" and name == "shared":
            return 0o2775
        return 0o755
    if "private" in parts[:-1]:
        return 0o600
    if name.endswith((".key", ".pem")) or name == ".env":
        return 0o600
    if "bin" in parts[:-1] or name.endswith(".sh"):
        return 0o4755 if path in SUID_OK else 0o755
    if LEVEL == "hard" and "shared" in parts[:-1]:
        return 0o664
    return 0o644
violations = []
with tarfile.open("/app/release.tar.gz") as tf:
    for m in tf.getmembers():
        rel = m.name.split("/", 1)[1] if "/" in m.name else ""
        if rel and (m.mode & 0o7777) != mode_for(rel, m.isdir()):
            violations.append(rel)
for dirpath, dirs, files in os.walk(ROOT):
    for n in dirs + files:
        full = os.path.join(dirpath, n)
        rel = os.path.relpath(full, ROOT)
        os.chmod(full, mode_for(rel, os.path.isdir(full)))
os.chmod(ROOT, 0o755)
if LEVEL != "easy":
    open("/app/violations.txt", "w").write("".join(v + "\n" for v in sorted(violations)))
print(len(violations), "violations")
'''


def _tree(rng: random.Random, level: str) -> list[tuple[str, bool, str]]:
    """(relative path, is_dir, content) for the release tree."""
    app = rng.choice(["shop", "wiki", "tracker", "blog", "crm", "ledger"])
    items: list[tuple[str, bool, str]] = []
    dirs = ["bin", "conf", "public", "public/uploads", "private", "logs"]
    if level != "easy":
        dirs += ["scripts", "public/assets"]
    if level == "hard":
        dirs += ["shared", "shared/reports", "conf/private"]
    for d in dirs:
        items.append((d, True, ""))
    files = {
        f"bin/{app}ctl": f"#!/bin/sh\necho {app} control\n",
        "bin/start.sh": f"#!/bin/sh\nexec /opt/{app}/server\n",
        "conf/app.conf": f"name = {app}\nport = {rng.randint(3000, 9000)}\n",
        "conf/tls.key": f"-----BEGIN PRIVATE KEY-----\n{rng.getrandbits(128):032x}\n-----END PRIVATE KEY-----\n",
        "conf/.env": f"DB_PASSWORD={rng.getrandbits(64):016x}\n",
        "private/notes.txt": "rotate keys quarterly\n",
        "public/index.html": f"<h1>{app}</h1>\n",
        "public/app.js": "console.log('hi');\n",
        "logs/app.log": "started\n",
    }
    if level != "easy":
        files.update({
            "scripts/backup.sh": "#!/bin/sh\ntar czf /tmp/b.tgz /app\n",
            "public/assets/logo.svg": "<svg/>\n",
            "bin/pinghelper": "#!/bin/sh\nping -c1 \"$1\"\n",
            "public/assets/cert.pem": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
        })
    if level == "hard":
        files.update({
            "bin/deploy.key": "-----BEGIN OPENSSH PRIVATE KEY-----\nb3Bl\n-----END OPENSSH PRIVATE KEY-----\n",
            "private/rotate.sh": "#!/bin/sh\necho rotating\n",
            "shared/reports/q1.csv": "month,total\njan,10\n",
            "shared/readme.txt": "team share\n",
            "conf/private/db.conf": "user=app\n",
            "shared/sync.sh": "#!/bin/sh\nrsync -a /app/shared /backup\n",
        })
    extra = rng.sample(["public/robots.txt", "public/favicon.ico", "conf/logging.conf", "logs/access.log",
                        "public/uploads/.keep", "bin/migrate.sh"], rng.randint(2, 4))
    for e in extra:
        files[e] = f"{e} {rng.randint(1, 999)}\n"
    for path in sorted(files):
        items.append((path, False, files[path]))
    return items


def generate(req: TaskRequest) -> TaskDraft:
    rng = req.rng
    level = req.difficulty
    top = rng.choice(["site", "release", "dist", "www"]) + f"-{rng.randint(1, 9)}.{rng.randint(0, 20)}"
    items = _tree(rng, level)
    suid_ok: set[str] = set()
    if level != "easy":
        suid_ok = {"bin/pinghelper"}
    archived: dict[str, int] = {}
    for path, is_dir, _ in items:
        if is_dir:
            mode = rng.choice(BAD_DIR_MODES)
            if path.endswith("private"):
                mode = 0o755  # always at least one directory out of policy
        else:
            mode = rng.choice(BAD_FILE_MODES)
            if level != "easy" and rng.random() < 0.2:
                mode |= rng.choice([0o4000, 0o2000])
        archived[path] = mode
    if level != "easy":
        archived["bin/pinghelper"] = 0o755  # the allowlisted helper lost its setuid bit
        archived[f"bin/{[p for p, d, _ in items if p.startswith('bin/') and p.endswith('ctl')][0].split('/')[1]}"] = 0o4755
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tf:
        root = tarfile.TarInfo(top)
        root.type, root.mode, root.mtime = tarfile.DIRTYPE, 0o755, 1700000000
        tf.addfile(root)
        for path, is_dir, content in items:
            info = tarfile.TarInfo(f"{top}/{path}")
            info.mtime, info.uid, info.gid, info.uname, info.gname = 1700000000, 0, 0, "root", "root"
            info.mode = archived[path]
            if is_dir:
                info.type = tarfile.DIRTYPE
                tf.addfile(info)
            else:
                data = content.encode()
                info.size = len(data)
                tf.addfile(info, io.BytesIO(data))
    archive = gzip.compress(buf.getvalue(), mtime=0)

    expected = {p: policy_mode(p, d, level, suid_ok) for p, d, _ in items}
    violations = sorted(p for p in expected if archived[p] != expected[p])
    digests = {p: hashlib.sha256(c.encode()).hexdigest() for p, d, c in items if not d}

    dir_rules = ["Directories: 755", "Directories named `private`: 700",
                 "Directories named `uploads`: 1733 (sticky drop box: anyone may add, nobody may list or remove "
                 "others' files)"]
    if level == "hard":
        dir_rules.append("Directories named `shared`: 2775 (setgid, group-writable)")
    file_rules = ["Any file below a `private` directory (at any depth): 600",
                  "Secrets (`*.key`, `*.pem`, `.env`): 600",
                  "Executables (files directly or indirectly below a `bin` directory, and `*.sh` files): 755" +
                  (" — except the paths listed in /app/suid-allowlist.txt, which are 4755" if suid_ok else "")]
    if level == "hard":
        file_rules.append("Files below a `shared` directory: 664")
    file_rules.append("All other files: 644")
    policy = ("# Permission policy for deployed releases\n\nPaths are relative to the release root.\n\n"
              "## Directories\n\n" + "\n".join(f"- {r}" for r in dir_rules) +
              "\n\n## Files (the first rule that matches wins)\n\n" +
              "\n".join(f"{i + 1}. {r}" for i, r in enumerate(file_rules)) +
              "\n\nNo other setuid/setgid bits are allowed anywhere.\n")
    app_files: dict[str, str | bytes] = {"release.tar.gz": archive, "POLICY.md": policy}
    if suid_ok:
        app_files["suid-allowlist.txt"] = "# setuid-root helpers approved by security\n" + "".join(
            f"{p}\n" for p in sorted(suid_ok))

    tasks = [f"unpack /app/release.tar.gz so that its top-level folder's contents end up in /app/site "
             f"(i.e. /app/site/bin, /app/site/conf, ... — not /app/site/{top}/...)",
             "set the mode of every file and directory below /app/site as /app/POLICY.md says; "
             "/app/site itself is 755",
             "do not change file contents"]
    if level != "easy":
        tasks.append("write /app/violations.txt: the paths (relative to the release root, e.g. `conf/app.conf`) "
                     "of every file or directory whose mode in the archive differed from the policy, one per line, "
                     "sorted in byte order")
    intro = pick(rng, ["A release of our app arrived as /app/release.tar.gz with sloppy permissions.",
                       "Deploying /app/release.tar.gz by hand: its permissions are all over the place.",
                       "We have to install the release archive /app/release.tar.gz safely."])
    instruction = f"{intro} Please:\n\n{bullets(tasks)}\n"

    script = SCRIPT.replace("__LEVEL__", level)
    if level == "easy":
        wrong_script = swap(script, '        if name == "private":\n            return 0o700\n', "")
    elif level == "medium":
        wrong_script = swap(script, "if rel and (m.mode & 0o7777)", "if rel and m.isfile() and (m.mode & 0o7777)")
    else:
        wrong_script = swap(script, '''    if "private" in parts[:-1]:
        return 0o600
    if name.endswith((".key", ".pem")) or name == ".env":
        return 0o600
    if "bin" in parts[:-1] or name.endswith(".sh"):
        return 0o4755 if path in SUID_OK else 0o755
''', '''    if "bin" in parts[:-1] or name.endswith(".sh"):
        return 0o4755 if path in SUID_OK else 0o755
    if "private" in parts[:-1]:
        return 0o600
    if name.endswith((".key", ".pem")) or name == ".env":
        return 0o600
''')
    unpack = "mkdir -p /app/site && tar -xzf /app/release.tar.gz -C /app/site --strip-components=1 --no-same-owner"
    solve = f"""# Read the policy and look inside the archive (modes as shipped)
cat /app/POLICY.md
{'cat /app/suid-allowlist.txt' if suid_ok else ''}
tar -tvzf /app/release.tar.gz | head -40

# Unpack without the top-level folder
{unpack}
find /app/site | head -50

# Apply the policy (first matching rule wins) and record which archived modes were out of policy
cat > /app/fixperms.py <<'PYEOF'
{script.rstrip()}
PYEOF
python3 /app/fixperms.py

# Verify
find /app/site -printf '%m %y %P\\n' | sort -k3
"""
    wrong = f"{unpack}\ncat > /app/fixperms.py <<'PYEOF'\n{wrong_script.rstrip()}\nPYEOF\npython3 /app/fixperms.py\n"
    tests = f'''import hashlib
import json
import os
import pathlib
import stat

ROOT = pathlib.Path("/app/site")
MODES = json.loads(r"""{json.dumps({p: oct(m) for p, m in expected.items()}, sort_keys=True)}""")
DIGESTS = json.loads(r"""{json.dumps(digests, sort_keys=True)}""")
VIOLATIONS = {json.dumps(violations)}
LEVEL = "{level}"


def test_tree_unpacked_in_place():
    found = sorted(str(p.relative_to(ROOT)) for p in ROOT.rglob("*"))
    assert found == sorted(MODES)


def test_contents_unchanged():
    for rel, digest in DIGESTS.items():
        assert hashlib.sha256((ROOT / rel).read_bytes()).hexdigest() == digest, rel


def test_directory_modes():
    assert stat.S_IMODE(os.lstat(ROOT).st_mode) == 0o755
    for rel, mode in MODES.items():
        st = os.lstat(ROOT / rel)
        if stat.S_ISDIR(st.st_mode):
            assert oct(stat.S_IMODE(st.st_mode)) == mode, rel


def test_file_modes():
    for rel, mode in MODES.items():
        st = os.lstat(ROOT / rel)
        if not stat.S_ISDIR(st.st_mode):
            assert stat.S_ISREG(st.st_mode), rel
            assert oct(stat.S_IMODE(st.st_mode)) == mode, rel


if LEVEL != "easy":
    def test_violations_report():
        got = [x.strip().rstrip("/") for x in pathlib.Path("/app/violations.txt").read_text().splitlines() if x.strip()]
        assert got == VIOLATIONS
'''
    return TaskDraft(instruction=instruction, app_files=app_files, solve=solve, wrong_solve=wrong, tests=tests,
                     tags=("permissions", "hardening", "tar"), requires=("tar", "python3"))


FAMILY = TaskFamily(
    name="permission-policy",
    description="unpack a release and set every mode per a written permission policy, reporting drift",
    generate=generate,
    requires=("tar", "python3"),
)
