"""Audit rotated sshd auth logs for brute-force sources (sliding windows, allowlists, compromises)."""

from __future__ import annotations

import gzip
import ipaddress
import json

from litecore.records import TaskDraft, TaskFamily, TaskRequest
from litecore.wording import bullets, pick

from litecore_plugin_security.families._util import swap

MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov"]
REAL_USERS = ["alice", "bob", "deploy", "carol", "ops", "git"]
GUESSES = ["admin", "test", "oracle", "ubuntu", "pi", "guest", "user", "ftp", "postgres"]


def _stamp(month: str, t: int) -> str:
    day, rem = divmod(t + 7200, 86400)  # events may start slightly before t=0
    h, rem = divmod(rem, 3600)
    m, s = divmod(rem, 60)
    return f"{month} {day + 1:2d} {h:02d}:{m:02d}:{s:02d}"


SCRIPT = r'''import glob, gzip, ipaddress, json, re, datetime
N, WINDOW = __N__, __WINDOW__
FILES = sorted(glob.glob("/app/logs/auth.log*"))
ALLOW = [ipaddress.ip_network(l.split("#")[0].strip()) for l in open("/app/allowlist.txt") if l.split("#")[0].strip()] if __HAS_ALLOW__ else []
FAIL = re.compile(r"^(\w{3}\s+\d+ \d\d:\d\d:\d\d) \S+ sshd\[\d+\]: Failed password for (?:invalid user )?(\S+) from (\S+) port")
OK = re.compile(r"^(\w{3}\s+\d+ \d\d:\d\d:\d\d) \S+ sshd\[\d+\]: Accepted \S+ for (\S+) from (\S+) port")
def ts(s):
    return datetime.datetime.strptime("2024 " + " ".join(s.split()), "%Y %b %d %H:%M:%S").replace(tzinfo=datetime.timezone.utc).timestamp()
fails, bad, events = {}, set(), []
for path in FILES:
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt") as fh:
        for line in fh:
            m = FAIL.match(line)
            if m:
                events.append((ts(m[1]), "fail", m[3], m[2]))
                continue
            m = OK.match(line)
            if m:
                events.append((ts(m[1]), "ok", m[3], m[2]))
events.sort(key=lambda e: e[0])
compromised = set()
for t, kind, ip, user in events:
    if kind == "fail":
        q = fails.setdefault(ip, [])
        q.append(t)
        while WINDOW and q and q[0] <= t - WINDOW:
            q.pop(0)
        if len(q) >= N:
            bad.add(ip)
    elif ip in bad:
        compromised.add(f"{user} {ip}")
allowed = lambda ip: any(ipaddress.ip_address(ip) in n for n in ALLOW)
block = sorted((ip for ip in bad if not allowed(ip)), key=ipaddress.ip_address)
open("/app/blocklist.txt", "w").write("".join(ip + "\n" for ip in block))
if __HAS_ALLOW__:
    open("/app/compromised.txt", "w").write("".join(c + "\n" for c in sorted(compromised)))
print(block, sorted(compromised))
'''


def generate(req: TaskRequest) -> TaskDraft:
    rng = req.rng
    level = req.difficulty
    month = rng.choice(MONTHS)
    n = rng.randint(4, 7)
    window = rng.choice([5, 10, 15]) * 60 if level != "easy" else 0
    host = rng.choice(["bastion", "web01", "db-primary", "gw", "jump"])
    rand_ip = lambda: f"{rng.randint(11, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"  # noqa: E731
    span = 3 * 86400
    ev: list[tuple[int, str, str, str, bool]] = []  # (t, kind, ip, user, invalid_user)

    def burst(ip: str, count: int, gap: int, t0: int | None = None, real: bool = False) -> int:
        t = rng.randint(0, span - count * gap - 600) if t0 is None else t0
        for _ in range(count):
            t += rng.randint(max(1, gap // 2), gap)
            if real:
                ev.append((t, "fail", ip, rng.choice(REAL_USERS), False))
            else:
                ev.append((t, "fail", ip, rng.choice(GUESSES), True))
        return t

    attackers = [rand_ip() for _ in range(rng.randint(2, 3))]
    for ip in attackers:
        burst(ip, n + rng.randint(0, 6), 20)
    # legitimate users: occasional typo then success
    for _ in range(8):
        ip, user = rand_ip(), rng.choice(REAL_USERS)
        t = rng.randint(0, span - 100)
        if rng.random() < 0.5:
            ev.append((t, "fail", ip, user, False))
        ev.append((t + 30, "ok", ip, user, False))
    # slow guesser: as many failures as an attacker, but spread out (a brute-forcer only without a window)
    slow = rand_ip()
    slow_gap = (window or 600) + 200
    t = rng.randint(0, 3600)
    for _ in range(n + 1):
        t += slow_gap
        ev.append((t, "fail", slow, rng.choice(GUESSES), True))
    # invalid-user decoy: failures just below the threshold; naive counting of "Invalid user" lines doubles them
    decoy = rand_ip()
    burst(decoy, n - 1, 15)
    allow: list[str] = []
    rotated_only = None
    if level != "easy":
        rotated_only = rand_ip()
    if level == "hard":
        office = f"{rng.randint(11, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.0/24"
        allow = [office, f"10.{rng.randint(0, 255)}.0.0/16"]
        inner = str(ipaddress.ip_network(office)[rng.randint(2, 250)])
        burst(inner, n + 2, 10, real=True)  # a colleague fat-fingering in a loop: allowlisted
        victim = attackers[0]
        last = max(e[0] for e in ev if e[2] == victim)
        ev.append((last + 40, "ok", victim, rng.choice(REAL_USERS), False))
        inner_ok = max(e[0] for e in ev if e[2] == inner)
        ev.append((inner_ok + 20, "ok", inner, rng.choice(REAL_USERS), False))
        # a success BEFORE reaching the threshold is not a compromise
        early = attackers[1]
        first = min(e[0] for e in ev if e[2] == early)
        ev.append((first + 3, "ok", early, rng.choice(REAL_USERS), False))
    ev.sort()
    # rotation: the oldest events go to auth.log.2.gz / auth.log.1 (medium+), the rest to auth.log
    if level != "easy":
        assert rotated_only is not None
        end = burst(rotated_only, n + 1, 12, t0=-(n + 2) * 12)  # the very start of the logs
        ev.sort()
        cut1 = max(ev[len(ev) // 3][0], end + 1)
        cut2 = max(ev[2 * len(ev) // 3][0], cut1 + 1)
    else:
        cut1 = cut2 = -1

    pid = rng.randint(1000, 30000)
    files: dict[str, list[str]] = {"auth.log.2.gz": [], "auth.log.1": [], "auth.log": []}
    for t, kind, ip, user, invalid in ev:
        pid += rng.randint(1, 40)
        name = "auth.log" if t >= cut2 else ("auth.log.1" if t >= cut1 else "auth.log.2.gz")
        st = _stamp(month, t)
        out = files[name]
        port = rng.randint(30000, 65000)
        if kind == "fail":
            if invalid:
                out.append(f"{st} {host} sshd[{pid}]: Invalid user {user} from {ip} port {port}")
            out.append(f"{st} {host} sshd[{pid}]: pam_unix(sshd:auth): authentication failure; logname= uid=0 "
                       f"euid=0 tty=ssh ruser= rhost={ip}" + ("" if invalid else f"  user={user}"))
            out.append(f"{st} {host} sshd[{pid}]: Failed password for {'invalid user ' if invalid else ''}{user} "
                       f"from {ip} port {port} ssh2")
            if rng.random() < 0.3:
                out.append(f"{st} {host} sshd[{pid}]: Connection closed by {'invalid user ' if invalid else 'authenticating user '}"
                           f"{user} {ip} port {port} [preauth]")
        else:
            method = rng.choice(["password", "publickey"])
            out.append(f"{st} {host} sshd[{pid}]: Accepted {method} for {user} from {ip} port {port} ssh2")
            out.append(f"{st} {host} sshd[{pid}]: pam_unix(sshd:session): session opened for user {user}(uid=1000) by (uid=0)")
        if rng.random() < 0.1:
            out.append(f"{st} {host} CRON[{pid + 1}]: pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)")

    # truth from events
    fails: dict[str, list[int]] = {}
    bad: set[str] = set()
    comp: set[str] = set()
    for t, kind, ip, user, _ in ev:
        if kind == "fail":
            q = [x for x in fails.get(ip, []) + [t] if not window or x > t - window]
            fails[ip] = q
            if len(q) >= n:
                bad.add(ip)
        elif ip in bad:
            comp.add(f"{user} {ip}")
    allowed = lambda ip: any(ipaddress.ip_address(ip) in ipaddress.ip_network(a) for a in allow)  # noqa: E731
    block = sorted((ip for ip in bad if not allowed(ip)), key=ipaddress.ip_address)
    compromised = sorted(comp)

    app_files: dict[str, str | bytes] = {"logs/auth.log": "\n".join(files["auth.log"]) + "\n"}
    if level != "easy":
        app_files["logs/auth.log.1"] = "\n".join(files["auth.log.1"]) + "\n"
        app_files["logs/auth.log.2.gz"] = gzip.compress(("\n".join(files["auth.log.2.gz"]) + "\n").encode(), mtime=0)
    if allow:
        app_files["allowlist.txt"] = "# never block these (office, VPN)\n" + "".join(f"{a}\n" for a in allow)

    rule = (f"at least {n} failed password attempts in total" if not window else
            f"at least {n} failed password attempts within any {window // 60}-minute window "
            f"(an attempt at time t counts toward the window (t - {window // 60} min, t])")
    rules = [f"A source IP is a brute-forcer if it made {rule}",
             "One failed attempt is one `Failed password` line; the `Invalid user` and `pam_unix` lines that "
             "accompany it are not extra attempts"]
    if level != "easy":
        rules.append("The logs were rotated: read all of /app/logs/auth.log, auth.log.1 and the compressed "
                     "auth.log.2.gz (all from the same year, oldest in .2.gz)")
    if allow:
        rules.append("Never block addresses inside the networks in /app/allowlist.txt")
        rules.append("Write /app/compromised.txt: one `user ip` line (sorted) for every successful login "
                     "(`Accepted ...`) from an IP after that IP had met the brute-force rule, allowlisted or not")
    intro = pick(rng, [
        f"Our SSH host `{host}` is being hammered. Its auth logs are in /app/logs/.",
        f"Audit the sshd authentication logs of `{host}` in /app/logs/ for password guessing.",
        f"Security asked for a blocklist built from `{host}`'s SSH logs (/app/logs/).",
    ])
    ask = pick(rng, ["Write the offending IPs to /app/blocklist.txt, one per line, sorted numerically.",
                     "Produce /app/blocklist.txt with one offending source IP per line in numeric order."])
    instruction = f"{intro} {ask}\n\n{bullets(rules)}\n"

    script = (SCRIPT.replace("__N__", str(n)).replace("__WINDOW__", str(window))
              .replace("__HAS_ALLOW__", str(bool(allow))))
    if level == "easy":
        wrong_script = swap(script, r'Failed password for (?:invalid user )?(\S+) from (\S+) port',
                            r'(?:Failed password for (?:invalid user )?|Invalid user )(\S+) from (\S+) port')
    elif level == "medium":
        wrong_script = swap(script, 'sorted(glob.glob("/app/logs/auth.log*"))',
                            '[p for p in sorted(glob.glob("/app/logs/auth.log*")) if not p.endswith(".gz")]')
    else:
        wrong_script = swap(script, "block = sorted((ip for ip in bad if not allowed(ip))",
                            "block = sorted((ip for ip in bad if True)")
    solve = f"""# What is in the logs: files, line kinds, an example failure
ls -la /app/logs/
head -5 /app/logs/auth.log
{'zcat /app/logs/auth.log.2.gz | head -3' if level != 'easy' else 'wc -l /app/logs/auth.log'}
grep -o 'sshd\\[[0-9]*\\]: [A-Za-z_]*' /app/logs/auth.log | awk '{{print $2}}' | sort | uniq -c
{'cat /app/allowlist.txt' if allow else ''}

# Replay every Failed/Accepted event in time order across the rotated files and apply the rules
cat > /app/audit.py <<'PYEOF'
{script.rstrip()}
PYEOF
python3 /app/audit.py

# Check the output
cat /app/blocklist.txt
"""
    wrong = f"cat > /app/audit.py <<'PYEOF'\n{wrong_script.rstrip()}\nPYEOF\npython3 /app/audit.py\n"
    tests = f'''import pathlib

BLOCK = {json.dumps(block)}
COMPROMISED = {json.dumps(compromised)}
LEVEL = "{level}"


def lines(path):
    return [x.strip() for x in pathlib.Path(path).read_text().splitlines() if x.strip()]


def test_blocklist_members():
    assert sorted(lines("/app/blocklist.txt")) == sorted(BLOCK)


def test_blocklist_numeric_order():
    assert lines("/app/blocklist.txt") == BLOCK


if LEVEL == "hard":
    def test_compromised_accounts():
        assert sorted(" ".join(x.split()) for x in lines("/app/compromised.txt")) == COMPROMISED
'''
    return TaskDraft(instruction=instruction, app_files=app_files, solve=solve, wrong_solve=wrong, tests=tests,
                     tags=("log-analysis", "ssh", "incident-response"))


FAMILY = TaskFamily(
    name="bruteforce-audit",
    description="find SSH brute-force sources in rotated auth logs (sliding window, allowlist, compromises)",
    generate=generate,
    requires=("python3", "zcat"),
)
