"""Find brute-force sources in (rotated, compressed) sshd auth logs and write a blocklist + summary."""

from __future__ import annotations

import datetime
import gzip
import ipaddress
import json
import random

from litecore.records import TaskDraft, TaskFamily, TaskRequest
from litecore.wording import bullets

from litecore_plugin_system_admin.families._util import USERS, one_of

YEAR = 2024
START = datetime.datetime(YEAR, 3, 1)
WIN_START, WIN_END = datetime.datetime(YEAR, 3, 3), datetime.datetime(YEAR, 3, 5, 23, 59, 59)
BAD_USERS = ("admin", "test", "oracle", "ubuntu", "postgres", "git", "guest", "support", "pi", "ftp")


def rand_ip(rng: random.Random, used: set[str]) -> str:
    while True:
        net = rng.choice(["203.0.113", "198.51.100", "192.0.2", f"45.{rng.randint(10, 250)}.{rng.randint(0, 250)}"])
        ip = f"{net}.{rng.choice([rng.randint(2, 9), rng.randint(10, 99), rng.randint(100, 254)])}"
        if ip not in used:
            used.add(ip)
            return ip


def stamp(t: datetime.datetime) -> str:
    return f"{t.strftime('%b')} {t.day:2d} {t.strftime('%H:%M:%S')}"


def generate(req: TaskRequest) -> TaskDraft:
    rng = req.rng
    d = req.difficulty
    host = rng.choice(["web01", "bastion", "db-2", "edge-a", "ci-runner"])
    threshold = rng.randint(4, 8)
    used: set[str] = set()
    # events: (time, kind, ip, user, repeat)
    events: list[tuple[datetime.datetime, str, str, str, int]] = []

    def t_any(in_window: bool | None = None) -> datetime.datetime:
        while True:
            t = START + datetime.timedelta(seconds=rng.randint(0, 7 * 86400 - 1))
            if d != "hard" or in_window is None or (WIN_START <= t <= WIN_END) == in_window:
                return t

    def failures(ip: str, n: int, *, valid_only: bool = False, in_window: bool | None = True) -> None:
        for _ in range(n):
            user = "root" if valid_only or rng.random() < 0.4 else rng.choice(BAD_USERS)
            kind = "fail-valid" if user == "root" else "fail-invalid"
            events.append((t_any(in_window), kind, ip, user, 1))

    blocked = [rand_ip(rng, used) for _ in range(rng.randint(2, 4))]
    for ip in blocked:
        failures(ip, threshold + rng.randint(0, 6))
    boundary = rand_ip(rng, used)
    failures(boundary, threshold)
    blocked.append(boundary)
    rootonly = rand_ip(rng, used)
    failures(rootonly, threshold + 1, valid_only=True)
    blocked.append(rootonly)
    near = rand_ip(rng, used)
    failures(near, threshold - 1)
    for _ in range(rng.randint(3, 6)):
        failures(rand_ip(rng, used), rng.randint(1, threshold - 2))
    allow_cidrs: list[str] = []
    if d == "hard":
        office = f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}"
        allow_cidrs = [f"{office}.0/24", f"172.{rng.randint(16, 31)}.0.0/16"]
        allowed_ip = f"{office}.{rng.randint(2, 254)}"
        failures(allowed_ip, threshold + 3)
        rep_ip = rand_ip(rng, used)
        n_rep = threshold - 1
        events.append((t_any(True), "fail-valid", rep_ip, "root", 1))
        events.append((t_any(True), "fail-valid", rep_ip, "root", n_rep))
        blocked.append(rep_ip)
        outside = rand_ip(rng, used)
        failures(outside, threshold - 2)
        failures(outside, 4, in_window=False)
    for u in rng.sample(USERS, 4):
        for _ in range(rng.randint(1, 3)):
            events.append((t_any(), "accepted", f"10.1.{rng.randint(0, 9)}.{rng.randint(2, 200)}", u, 1))
    events.sort(key=lambda e: (e[0], e[2], e[1], e[3]))
    in_win = (lambda t: WIN_START <= t <= WIN_END) if d == "hard" else (lambda t: True)
    counts: dict[str, int] = {}
    for t, kind, ip, _u, rep in events:
        if kind.startswith("fail") and in_win(t):
            counts[ip] = counts.get(ip, 0) + rep
    nets = [ipaddress.ip_network(c) for c in allow_cidrs]
    expected_block = sorted((ip for ip, c in counts.items() if c >= threshold
                             and not any(ipaddress.ip_address(ip) in n for n in nets)),
                            key=lambda s: tuple(int(p) for p in s.split(".")))
    summary = {"failed_attempts": sum(counts.values()), "distinct_source_ips": len(counts),
               "blocked": len(expected_block)}
    # render log lines
    lines: list[tuple[datetime.datetime, str]] = []
    for t, kind, ip, user, rep in events:
        pid = rng.randint(1000, 60000)
        port = rng.randint(30000, 65000)
        pre = f"{stamp(t)} {host} sshd[{pid}]: "
        if kind == "accepted":
            lines.append((t, pre + f"Accepted publickey for {user} from {ip} port {port} ssh2: ED25519 SHA256:x"))
            continue
        msg = (f"Failed password for root from {ip} port {port} ssh2" if kind == "fail-valid"
               else f"Failed password for invalid user {user} from {ip} port {port} ssh2")
        if kind == "fail-invalid":
            lines.append((t, pre + f"Invalid user {user} from {ip} port {port}"))
        if rep > 1:
            lines.append((t, pre + f"message repeated {rep} times: [ {msg}]"))
        else:
            lines.append((t, pre + f"pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh "
                                   f"ruser= rhost={ip}" + ("  user=root" if kind == "fail-valid" else "")))
            lines.append((t, pre + msg))
        if rng.random() < 0.3:
            lines.append((t, pre + f"Connection closed by authenticating user {user} {ip} port {port} [preauth]"))
    for _ in range(rng.randint(10, 20)):
        t = t_any()
        lines.append((t, f"{stamp(t)} {host} CRON[{rng.randint(100, 9999)}]: pam_unix(cron:session): session "
                         f"opened for user root(uid=0) by (uid=0)"))
    lines.sort(key=lambda x: x[0])
    text_lines = [line for _t, line in lines]
    files: dict[str, str | bytes] = {}
    if d == "easy":
        files["logs/auth.log"] = "\n".join(text_lines) + "\n"
    else:
        a, b = sorted(rng.sample(range(len(text_lines) // 4, 3 * len(text_lines) // 4), 2))
        files["logs/auth.log.2.gz"] = gzip.compress(("\n".join(text_lines[:a]) + "\n").encode(), mtime=0)
        files["logs/auth.log.1"] = "\n".join(text_lines[a:b]) + "\n"
        files["logs/auth.log"] = "\n".join(text_lines[b:]) + "\n"
    if allow_cidrs:
        files["allowlist.txt"] = "# trusted networks, never block\n" + "\n".join(allow_cidrs) + "\n"
    reqs = [
        "a failed attempt is one `Failed password` event (for a valid or an invalid user); other sshd lines about "
        "the same attempt (`Invalid user`, `pam_unix ... authentication failure`, `Connection closed`) are not "
        "additional attempts",
        f"block every source IP with at least {threshold} failed attempts",
        "write the blocked IPs to `/app/report/blocklist.txt`, one per line, in ascending numeric order "
        "(10.0.0.9 before 10.0.0.10)",
        "write `/app/report/summary.json` with the integer keys `failed_attempts` (total counted attempts), "
        "`distinct_source_ips` (IPs with at least one counted attempt) and `blocked` (lines in the blocklist)",
    ]
    if d != "easy":
        reqs.append("the logs were rotated: consider `auth.log`, `auth.log.1` and the compressed `auth.log.2.gz`")
    if d == "hard":
        reqs += ["sshd sometimes collapses duplicates into `message repeated N times: [ ... ]`; such a line stands "
                 "for N attempts",
                 "only count attempts between 2024-03-03 00:00:00 and 2024-03-05 23:59:59 inclusive "
                 "(the logs are from 2024)",
                 "never block an address inside a network listed in `/app/allowlist.txt` (its attempts still count "
                 "in the summary)"]
    intro = one_of(rng, f"The host `{host}` is being hammered by SSH password guessing.",
                   f"Security asked for a blocklist built from the sshd logs of `{host}` in /app/logs.",
                   f"Please analyse the SSH authentication logs copied from `{host}` into /app/logs.")
    instruction = f"{intro}\n\n{bullets(reqs, rng)}\n"
    cidrs_py = json.dumps(allow_cidrs)
    window = ("(2024, 3, 3), (2024, 3, 5, 23, 59, 59)" if d == "hard" else "None")
    solve = f"""# Look at the log files and the shapes of the sshd lines
ls -la /app/logs /app; head -5 /app/logs/auth.log; grep -o 'sshd\\[[0-9]*\\]: [A-Za-z]* [a-z]*' /app/logs/auth.log | sed 's/.*: //' | sort | uniq -c

# Count Failed password events per IP (incl. 'message repeated N times'), apply window and allowlist
mkdir -p /app/report && python3 - <<'PY'
import datetime, glob, gzip, ipaddress, json, re
texts = []
for p in sorted(glob.glob('/app/logs/auth.log*')):
    texts.append(gzip.open(p, 'rt').read() if p.endswith('.gz') else open(p).read())
win = {window}
lo, hi = (datetime.datetime(*win[0]), datetime.datetime(*win[1])) if win else (None, None)
nets = [ipaddress.ip_network(c) for c in {cidrs_py}]
rx = re.compile(r'^(\\w{{3}} +\\d+ [\\d:]+) \\S+ sshd\\[\\d+\\]: (?:message repeated (\\d+) times: \\[ )?Failed password for (?:invalid user )?\\S+ from (\\S+) ')
counts = {{}}
for text in texts:
    for line in text.splitlines():
        m = rx.match(line)
        if not m:
            continue
        t = datetime.datetime.strptime('2024 ' + m.group(1), '%Y %b %d %H:%M:%S')
        if lo and not (lo <= t <= hi):
            continue
        counts[m.group(3)] = counts.get(m.group(3), 0) + int(m.group(2) or 1)
block = [ip for ip, c in counts.items() if c >= {threshold} and not any(ipaddress.ip_address(ip) in n for n in nets)]
block.sort(key=lambda s: tuple(map(int, s.split('.'))))
open('/app/report/blocklist.txt', 'w').write(''.join(ip + '\\n' for ip in block))
json.dump({{'failed_attempts': sum(counts.values()), 'distinct_source_ips': len(counts), 'blocked': len(block)}},
          open('/app/report/summary.json', 'w'), indent=2)
PY

# Check the outputs
cat /app/report/blocklist.txt /app/report/summary.json
"""
    if d == "easy":
        wrong = f"""mkdir -p /app/report
grep 'Failed password for invalid user' /app/logs/auth.log | grep -o 'from [0-9.]*' | awk '{{print $2}}' | sort | uniq -c | awk '$1 >= {threshold} {{print $2}}' | sort -t. -k1,1n -k2,2n -k3,3n -k4,4n > /app/report/blocklist.txt
n=$(grep -c 'Failed password' /app/logs/auth.log); i=$(grep 'Failed password' /app/logs/auth.log | grep -o 'from [0-9.]*' | sort -u | wc -l); b=$(wc -l < /app/report/blocklist.txt)
echo "{{\\"failed_attempts\\": $n, \\"distinct_source_ips\\": $i, \\"blocked\\": $b}}" > /app/report/summary.json
"""
    else:
        # ignores the compressed rotation (and, on hard, the repeated-message lines)
        wrong = solve.split("# Check the outputs")[0].replace(
            "texts.append(gzip.open(p, 'rt').read() if p.endswith('.gz') else open(p).read())",
            "texts.append('' if p.endswith('.gz') else open(p).read())" if d == "medium" else
            "texts.append(gzip.open(p, 'rt').read() if p.endswith('.gz') else open(p).read())").replace(
            "(?:message repeated (\\d+) times: \\[ )?", "()" if d == "hard" else "(?:message repeated (\\d+) times: \\[ )?")
    tests = f"""import json
import pathlib

BLOCK = {json.dumps(expected_block)}
SUMMARY = {json.dumps(summary)}


def test_blocklist_exact():
    lines = [l.strip() for l in pathlib.Path("/app/report/blocklist.txt").read_text().splitlines() if l.strip()]
    assert lines == BLOCK


def test_blocklist_set():
    lines = {{l.strip() for l in pathlib.Path("/app/report/blocklist.txt").read_text().splitlines() if l.strip()}}
    assert lines == set(BLOCK)


def test_summary():
    data = json.loads(pathlib.Path("/app/report/summary.json").read_text())
    for k, v in SUMMARY.items():
        assert data.get(k) == v, k
"""
    return TaskDraft(
        instruction=instruction,
        app_files=files,
        solve=solve,
        wrong_solve=wrong,
        tests=tests,
        tags=("logs", "ssh", "security", "awk"),
    )


FAMILY = TaskFamily(
    name="log-analysis",
    description="build an SSH brute-force blocklist from rotated auth logs",
    generate=generate,
    requires=("python3", "gzip"),
)
