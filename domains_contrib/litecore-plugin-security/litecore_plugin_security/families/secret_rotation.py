"""Find leaked credentials in a source tree, redact them in place and write a rotation report."""

from __future__ import annotations

import base64
import hashlib
import json
import random
import string

from litecore.records import TaskDraft, TaskFamily, TaskRequest
from litecore.wording import bullets, pick

from litecore_plugin_security.families._util import swap

AWS_EXAMPLE = "AKIAIOSFODNN7EXAMPLE"
UP = string.ascii_uppercase + string.digits
ALNUM = string.ascii_letters + string.digits


def _r(rng: random.Random, alphabet: str, n: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


SCRIPT = r'''import base64, hashlib, json, os, re
ROOT = "/app/repo"
EXAMPLE = "AKIAIOSFODNN7EXAMPLE"
PATTERNS = [("aws_key", re.compile(r"AKIA[0-9A-Z]{16}")), ("github_token", re.compile(r"ghp_[A-Za-z0-9]{36}")),
            ("slack_token", re.compile(r"xoxb-[0-9]+-[0-9]+-[A-Za-z0-9]+"))]
ASSIGN = re.compile(r"^(\s*(?:export\s+)?[\w.-]*(?:PASSWORD|PASSWD|SECRET)[\w.-]*\s*[:=]\s*)(\S+)(\s*)$", re.I)
REDACTED_B64 = base64.b64encode(b"REDACTED").decode()
report = []
def sha(v):
    return hashlib.sha256(v.encode()).hexdigest()
def paths():
    for d, dirs, files in os.walk(ROOT):
        dirs.sort()
        for f in sorted(files):
            yield os.path.join(d, f)
for path in paths():
    rel = os.path.relpath(path, ROOT)
    lines = open(path).read().split("\n")
    out, in_key, in_data = [], False, False
    is_k8s = any(l.strip() == "kind: Secret" for l in lines)
    for n, line in enumerate(lines, 1):
        if in_key:
            if line.startswith("-----END"):
                in_key = False
            continue
        if line.startswith("-----BEGIN") and "PRIVATE KEY-----" in line:
            report.append({"file": rel, "line": n, "type": "private_key"})
            out.append("REDACTED")
            in_key = True
            continue
        if is_k8s:
            if line.strip() == "data:":
                in_data = True
            elif in_data and line.startswith("  ") and ":" in line:
                key, _, val = line.partition(":")
                val = val.strip()
                report.append({"file": rel, "line": n, "type": "k8s_secret",
                               "sha256": sha(base64.b64decode(val).decode())})
                out.append(f"{key}: {REDACTED_B64}")
                continue
            elif not line.startswith("  "):
                in_data = False
        for kind, rx in PATTERNS:
            for m in rx.findall(line):
                if m == EXAMPLE:
                    continue
                report.append({"file": rel, "line": n, "type": kind, "sha256": sha(m)})
                line = line.replace(m, "REDACTED")
        m = ASSIGN.match(line)
        if m and m[2] != "REDACTED" and not m[2].startswith("${") and m[2] not in ('""', "''"):
            val = m[2].strip("\"'")
            report.append({"file": rel, "line": n, "type": "password", "sha256": sha(val)})
            q = m[2][0] if m[2][0] in "\"'" else ""
            line = m[1] + q + "REDACTED" + q + m[3]
        out.append(line)
    new = "\n".join(out)
    if new != "\n".join(lines):
        open(path, "w").write(new)
json.dump(report, open("/app/leaks.json", "w"), indent=2)
print(len(report), "secrets redacted")
'''


def generate(req: TaskRequest) -> TaskDraft:
    rng = req.rng
    level = req.difficulty
    app = rng.choice(["orders", "billing", "pipeline", "gateway", "notifier", "inventory"])
    secrets: dict[str, str] = {
        "aws": "AKIA" + _r(rng, UP, 16),
        "aws_secret": _r(rng, ALNUM, 40),
        "gh": "ghp_" + _r(rng, ALNUM, 36),
        "slack": f"xoxb-{rng.randint(10**9, 10**10)}-{rng.randint(10**9, 10**10)}-{_r(rng, ALNUM, 24)}",
        "db": _r(rng, ALNUM, rng.randint(12, 20)),
        "django": _r(rng, ALNUM, 32),
        "smtp": _r(rng, ALNUM, 14),
    }
    db_user = rng.choice(["app", "svc", app])
    files: dict[str, list[tuple[str, str | None, str | None]]] = {}
    # (redacted line, type-or-None, secret value) per line; the original line is rebuilt from these
    env = [("# local settings", None, None), (f"APP_NAME={app}", None, None),
           (f"DB_USER={db_user}", None, None), ("DB_PASSWORD=REDACTED", "password", secrets["db"]),
           ("SECRET_KEY=REDACTED", "password", secrets["django"]), ("DEBUG=false", None, None)]
    settings = [(f"service: {app}", None, None), ("database:", None, None), (f"  host: db.{app}.internal", None, None),
                ("  password: REDACTED", "password", secrets["smtp"]), ("aws:", None, None),
                ("  aws_access_key_id: REDACTED", "aws_key", secrets["aws"]),
                ("  aws_secret_access_key: REDACTED", "password", secrets["aws_secret"]),
                (f"  region: {rng.choice(['eu-west-1', 'us-east-2', 'ap-south-1'])}", None, None)]
    client = [("import os", None, None), ("", None, None),
              ("# token format: ghp_ followed by 36 letters/digits", None, None),
              ('GITHUB_TOKEN = "REDACTED"', "github_token", secrets["gh"]), ("", None, None),
              ("def headers():", None, None), ('    return {"Authorization": f"token {GITHUB_TOKEN}"}', None, None)]
    run = [("#!/bin/sh", None, None), ("export SLACK_TOKEN=REDACTED", "slack_token", secrets["slack"]),
           (f"exec python3 -m {app}", None, None)]
    files = {".env": env, "config/settings.yaml": settings, "src/client.py": client, "deploy/run.sh": run}
    if level != "easy":
        files["README.md"] = [(f"# {app}", None, None), ("", None, None),
                              (f"Configure AWS like the docs do: `aws_access_key_id = {AWS_EXAMPLE}` (the "
                               "documentation example key, not a credential).", None, None),
                              ("Set DB_PASSWORD in `.env`; never commit it.", None, None)]
        files["config/prod.yaml"] = [("database:", None, None), ("  password: ${DB_PASSWORD}", None, None),
                                     ("  replica_password: \"\"", None, None),
                                     ("smtp:", None, None), ("  smtp_password: 'REDACTED'", "password", secrets["smtp"] + "x"),
                                     ("  user: mailer", None, None)]
        files["src/legacy/old_client.py"] = [("# moved to client.py", None, None),
                                             ('BACKUP_TOKEN = "REDACTED"', "github_token",
                                              "ghp_" + _r(rng, ALNUM, 36))]
    if level == "hard":
        pw = _r(rng, ALNUM, 18)
        tok = _r(rng, ALNUM, 30)
        files["k8s/secret.yaml"] = [("apiVersion: v1", None, None), ("kind: Secret", None, None),
                                    ("metadata:", None, None), (f"  name: {app}-creds", None, None),
                                    ("type: Opaque", None, None), ("data:", None, None),
                                    (f"  db-password: {base64.b64encode(b'REDACTED').decode()}", "k8s_secret", pw),
                                    (f"  api-token: {base64.b64encode(b'REDACTED').decode()}", "k8s_secret", tok)]
        key_body = [base64.b64encode(rng.getrandbits(384).to_bytes(48, "big")).decode() for _ in range(4)]
        files["deploy/keys/deploy_key"] = [("-----BEGIN OPENSSH PRIVATE KEY-----", "private_key", "\n".join(key_body)),
                                           ("# deploy key for the build host", None, None)]
    order = sorted(files)

    original: dict[str, str] = {}
    redacted: dict[str, str] = {}
    report = []
    for path in order:
        o_lines: list[str] = []
        r_lines: list[str] = []
        for red, kind, value in files[path]:
            r_lines.append(red)
            if kind is None:
                o_lines.append(red)
                continue
            line_no = len(o_lines) + 1
            if kind == "private_key":
                assert value is not None
                o_lines += ["-----BEGIN OPENSSH PRIVATE KEY-----", *value.split("\n"), "-----END OPENSSH PRIVATE KEY-----"]
                r_lines[-1] = "REDACTED"
                report.append({"file": path, "line": line_no, "type": kind})
                continue
            assert value is not None
            if kind == "k8s_secret":
                o_lines.append(red.replace(base64.b64encode(b"REDACTED").decode(), base64.b64encode(value.encode()).decode()))
            else:
                o_lines.append(red.replace("REDACTED", value))
            report.append({"file": path, "line": line_no, "type": kind,
                           "sha256": hashlib.sha256(value.encode()).hexdigest()})
        original[path] = "\n".join(o_lines) + "\n"
        redacted[path] = "\n".join(r_lines) + "\n"
    app_files = {f"repo/{p}": original[p] for p in order}

    types = [
        "`aws_key`: AWS access key ids, `AKIA` followed by 16 upper-case letters or digits",
        "`github_token`: `ghp_` followed by 36 letters or digits",
        "`slack_token`: Slack bot tokens, `xoxb-<digits>-<digits>-<letters/digits>`",
        "`password`: the value assigned to any setting whose name contains PASSWORD, PASSWD or SECRET "
        "(case-insensitive), in `NAME=value`, `export NAME=value` or YAML `name: value` form; an empty value or "
        "a `${VAR}` reference is not a secret; quotes around a value are not part of it",
    ]
    if level != "easy":
        types[0] += f" (the AWS documentation example `{AWS_EXAMPLE}` is not a secret)"
    if level == "hard":
        types.append("`k8s_secret`: every value under `data:` of a Kubernetes `kind: Secret` manifest (base64; "
                     "the secret is the decoded value); redact it as the base64 of `REDACTED`")
        types.append("`private_key`: a whole PEM private key block (BEGIN line to END line) — replace the entire "
                     "block with one line `REDACTED`")
    intro = pick(rng, [
        f"Credentials were committed to the `{app}` repository checked out in /app/repo. We are rotating them.",
        f"A scan flagged leaked secrets somewhere in /app/repo (the `{app}` service). Clean it up.",
        f"Before /app/repo (service `{app}`) can be published, every credential in it must go.",
    ])
    steps = [
        "Replace each secret value in place with the literal text `REDACTED`, changing nothing else in any file "
        "(every other byte stays as it is)",
        "Write /app/leaks.json: a JSON list with one object per secret found: `file` (path relative to /app/repo), "
        "`line` (1-based line number in the original file), `type` (below) and, except for `private_key`, `sha256` "
        "(hex SHA-256 of the secret value, so the rotation team can match it against their inventory)",
        "Look everywhere, hidden files included",
    ]
    instruction = (f"{intro}\n\n{bullets(steps)}\n\nSecret types:\n"
                   f"{bullets(types)}\n")

    script = SCRIPT
    if level == "easy":
        wrong_script = swap(script, "for f in sorted(files):", "for f in sorted(x for x in files if not x.startswith('.')):")
    elif level == "medium":
        wrong_script = swap(script, "if m == EXAMPLE:\n                    continue\n", "")
    else:
        wrong_script = swap(script, 'is_k8s = any(l.strip() == "kind: Secret" for l in lines)', "is_k8s = False")
    solve = f"""# Survey the tree (hidden files too) and grep for likely credentials
find /app/repo -type f | sort
grep -rnE 'AKIA|ghp_|xox|PASSWORD|password|SECRET|secret|PRIVATE KEY' /app/repo | head -50

# Redact every secret by the stated rules and record file, original line, type and fingerprint
cat > /app/redact.py <<'PYEOF'
{script.rstrip()}
PYEOF
python3 /app/redact.py

# Make sure nothing that looks like a credential is left
grep -rnE 'AKIA[0-9A-Z]{{16}}|ghp_[A-Za-z0-9]{{36}}|xoxb-' /app/repo; cat /app/leaks.json | head -40
"""
    wrong = f"cat > /app/redact.py <<'PYEOF'\n{wrong_script.rstrip()}\nPYEOF\npython3 /app/redact.py\n"
    values = sorted({v for fl in files.values() for _, k, v in fl if v is not None and k != "private_key"} |
                    {base64.b64encode(v.encode()).decode() for fl in files.values() for _, k, v in fl
                     if k == "k8s_secret" and v is not None})
    tests = f'''import json
import pathlib

ROOT = pathlib.Path("/app/repo")
REDACTED = json.loads(r"""{json.dumps(redacted, sort_keys=True)}""")
REPORT = json.loads(r"""{json.dumps(report, sort_keys=True)}""")
SECRETS = json.loads(r"""{json.dumps(values)}""")


def test_no_secret_left_anywhere():
    for p in ROOT.rglob("*"):
        if p.is_file():
            text = p.read_text(errors="replace")
            for s in SECRETS:
                assert s not in text, p
            assert "PRIVATE KEY-----" not in text, p


def test_files_redacted_exactly():
    files = sorted(str(p.relative_to(ROOT)) for p in ROOT.rglob("*") if p.is_file())
    assert files == sorted(REDACTED)
    for rel, text in REDACTED.items():
        assert (ROOT / rel).read_text() == text, rel


def test_report_locations():
    got = json.loads(pathlib.Path("/app/leaks.json").read_text())
    assert sorted((d["file"], int(d["line"]), d["type"]) for d in got) == sorted(
        (d["file"], d["line"], d["type"]) for d in REPORT)


def test_report_fingerprints():
    got = json.loads(pathlib.Path("/app/leaks.json").read_text())
    by_loc = {{(d["file"], int(d["line"]), d["type"]): d for d in got}}
    for d in REPORT:
        if "sha256" in d:
            assert by_loc[(d["file"], d["line"], d["type"])]["sha256"].lower() == d["sha256"], d
'''
    return TaskDraft(instruction=instruction, app_files=app_files, solve=solve, wrong_solve=wrong, tests=tests,
                     tags=("secrets", "credential-rotation", "code-audit"))


FAMILY = TaskFamily(
    name="secret-rotation",
    description="find leaked credentials in a repo tree, redact them in place and report location and fingerprint",
    generate=generate,
    requires=("python3",),
)
