"""Turn a written firewall policy into an iptables-restore ruleset; the tests replay packets through it."""

from __future__ import annotations

import ipaddress
import json
import random

from litecore.records import TaskDraft, TaskFamily, TaskRequest
from litecore.wording import bullets, pick


SERVICE_POOL = [
    ("web", "tcp", [80, 443], "any"), ("ssh", "tcp", [22], "admin"), ("dns", "udp", [53], "internal"),
    ("node-exporter", "tcp", [9100], "internal"), ("postgres", "tcp", [5432], "admin"),
    ("smtp", "tcp", [25, 587], "any"), ("syslog", "udp", [514], "internal"), ("ntp", "udp", [123], "internal"),
    ("imaps", "tcp", [993], "any"), ("redis", "tcp", [6379], "internal"),
]


def _in(addr: str, nets: list[str]) -> bool:
    a = ipaddress.ip_address(addr)
    return any(a in ipaddress.ip_network(n) for n in nets)


def decide(pol: dict, p: dict) -> str:
    """The policy's verdict for one packet (the truth the tests embed)."""
    if p["iface"] == "lo":
        return "ACCEPT"
    if p["state"] in ("ESTABLISHED", "RELATED"):
        return "ACCEPT"
    if _in(p["src"], pol["blocked"]) and p["src"] not in pol["exceptions"]:
        return "DROP"
    if p["proto"] == "icmp":
        return "ACCEPT" if pol["ping"] and p["icmp"] == "echo-request" and _in(p["src"], [pol["internal"]]) else "DROP"
    for _, proto, ports, who in pol["services"]:
        lo_hi = [(a, a) if isinstance(a, int) else tuple(a) for a in ports]
        if p["proto"] == proto and any(lo <= p["dport"] <= hi for lo, hi in lo_hi):
            srcs = {"any": ["0.0.0.0/0"], "internal": [pol["internal"]], "admin": pol["admin"]}[who]
            if _in(p["src"], srcs):
                return "ACCEPT"
    if pol["ident_reject"] and p["proto"] == "tcp" and p["dport"] == 113:
        return "REJECT"
    return "DROP"


def ruleset(pol: dict, *, skip: str = "") -> str:
    """A reference iptables-save ruleset for the policy (``skip`` drops one rule: the wrong solution)."""
    r = ["*filter", ":INPUT DROP [0:0]", ":FORWARD DROP [0:0]", ":OUTPUT ACCEPT [0:0]",
         "-A INPUT -i lo -j ACCEPT"]
    if skip != "established":
        r.append("-A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT")
    block = []
    for ex in pol["exceptions"]:
        block.append(f"-A INPUT -s {ex}/32 -j RETURN_OK")
    for b in pol["blocked"]:
        block.append(f"-A INPUT -s {b} -j DROP")
    body = []
    if pol["ping"]:
        body.append(f"-A INPUT -p icmp -s {pol['internal']} --icmp-type echo-request -j ACCEPT")
    for name, proto, ports, who in pol["services"]:
        srcs = {"any": [None], "internal": [pol["internal"]], "admin": pol["admin"]}[who]
        spec = ",".join(str(a) if isinstance(a, int) else f"{a[0]}:{a[1]}" for a in ports)
        for s in srcs:
            src = f" -s {s}" if s else ""
            r_ = f"-A INPUT -p {proto}{src} -m multiport --dports {spec} -m comment --comment \"{name}\" -j ACCEPT"
            body.append(r_)
    if pol["ident_reject"]:
        verdict = "DROP" if skip == "ident" else "REJECT --reject-with tcp-reset"
        body.append(f"-A INPUT -p tcp --dport 113 -j {verdict}")
    if pol["exceptions"]:
        # the exception hosts skip the blocklist by going through a separate chain
        r.insert(4, ":RETURN_OK - [0:0]")
        pre = [f"-A RETURN_OK {x[len('-A INPUT '):]}" for x in body]
    else:
        pre = []
    if skip == "order":
        r += body + block
    else:
        r += block + body
    return "\n".join(r + pre + ["COMMIT"]) + "\n"


SIM = r'''import ipaddress, pathlib, shlex


class Rules:
    """A small iptables-restore reader and first-match simulator (filter table, INPUT path)."""

    def __init__(self, text):
        self.policy, self.chains, table, committed = {}, {}, None, False
        for raw in text.splitlines():
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("*"):
                table = line[1:]
                continue
            if line == "COMMIT":
                committed = True
                continue
            assert table == "filter", f"rule outside *filter: {line}"
            if line.startswith(":"):
                name, pol = line[1:].split()[:2]
                self.policy[name] = pol
                self.chains.setdefault(name, [])
                continue
            args = shlex.split(line)
            assert args[0] in ("-A", "--append"), f"unsupported line: {line}"
            assert args[1] in self.chains, f"chain {args[1]} not declared"
            self.chains[args[1]].append(self.parse(args[2:]))
        assert committed, "missing COMMIT"
        for c in ("INPUT", "FORWARD", "OUTPUT"):
            assert c in self.policy, f"chain {c} not declared"

    @staticmethod
    def parse(a):
        rule, i = {"neg": set()}, 0
        neg = False
        while i < len(a):
            t = a[i]
            if t == "!":
                neg = True
                i += 1
                continue
            key = {"-s": "src", "--source": "src", "-d": "dst", "--destination": "dst", "-p": "proto",
                   "--protocol": "proto", "-i": "iface", "--in-interface": "iface", "--dport": "dport",
                   "--destination-port": "dport", "--dports": "dports", "--ctstate": "state", "--state": "state",
                   "--icmp-type": "icmp", "-j": "jump", "--jump": "jump", "-m": None, "--match": None,
                   "--comment": None, "--reject-with": None, "--log-prefix": None, "--sport": "sport"}
            assert t in key, f"unsupported option {t}"
            if key[t]:
                rule[key[t]] = a[i + 1]
                if neg:
                    rule["neg"].add(key[t])
            neg = False
            i += 2
        return rule

    @staticmethod
    def ports(spec):
        out = []
        for part in spec.split(","):
            lo, _, hi = part.partition(":")
            out.append((int(lo), int(hi or lo)))
        return out

    def matches(self, r, p):
        checks = []
        if "src" in r:
            checks.append(("src", ipaddress.ip_address(p["src"]) in ipaddress.ip_network(r["src"], strict=False)))
        if "iface" in r:
            checks.append(("iface", p["iface"] == r["iface"]))
        if "proto" in r:
            checks.append(("proto", r["proto"] in ("all", p["proto"])))
        if "dport" in r or "dports" in r:
            spec = r.get("dport") or r.get("dports")
            ok = p["proto"] in ("tcp", "udp") and any(lo <= p["dport"] <= hi for lo, hi in self.ports(spec))
            checks.append(("dport" if "dport" in r else "dports", ok))
        if "state" in r:
            checks.append(("state", p["state"] in r["state"].split(",")))
        if "icmp" in r:
            names = {"8": "echo-request", "0": "echo-reply", "echo-request": "echo-request",
                     "echo-reply": "echo-reply", "any": p.get("icmp")}
            checks.append(("icmp", p["proto"] == "icmp" and names.get(r["icmp"]) == p.get("icmp")))
        return all(ok != (k in r["neg"]) for k, ok in checks)

    def run(self, chain, p, depth=0):
        assert depth < 10, "jump loop"
        for r in self.chains[chain]:
            if not self.matches(r, p):
                continue
            j = r.get("jump")
            if j in ("ACCEPT", "DROP", "REJECT"):
                return j
            if j in (None, "LOG"):
                continue
            if j == "RETURN":
                return None
            assert j in self.chains, f"unknown target {j}"
            v = self.run(j, p, depth + 1)
            if v:
                return v
        return None

    def verdict(self, p):
        return self.run("INPUT", p) or self.policy["INPUT"]


def load():
    return Rules(pathlib.Path("/app/rules.v4").read_text())
'''


def _packets(rng: random.Random, pol: dict) -> list[dict]:
    ext = lambda: f"{rng.randint(11, 199)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"  # noqa: E731
    net = ipaddress.ip_network(pol["internal"])
    inside = lambda: str(net[rng.randint(2, net.num_addresses - 2)])  # noqa: E731

    def admin() -> str:
        a = ipaddress.ip_network(rng.choice(pol["admin"]))
        return str(a[rng.randint(0, a.num_addresses - 1)])

    def blocked() -> str:
        b = ipaddress.ip_network(rng.choice(pol["blocked"]))
        return str(b[rng.randint(1, b.num_addresses - 2)])

    pk = []

    def add(src: str, proto: str, dport: int = 0, state: str = "NEW", iface: str = "eth0",
            icmp: str | None = None) -> None:
        pk.append({"iface": iface, "src": src, "proto": proto, "dport": dport, "state": state, "icmp": icmp})

    add("127.0.0.1", "tcp", rng.randint(1000, 9000), iface="lo")
    for _ in range(2):
        add(ext(), rng.choice(["tcp", "udp"]), rng.randint(1024, 65000), state="ESTABLISHED")
    for name, proto, ports, who in pol["services"]:
        for a in ports:
            port = a if isinstance(a, int) else rng.randint(a[0], a[1])
            for src in (ext(), inside(), admin()):
                add(src, proto, port)
            add(ext(), "udp" if proto == "tcp" else "tcp", port)
    for _ in range(3):
        add(rng.choice([ext(), inside(), admin()]), rng.choice(["tcp", "udp"]), rng.randint(1, 65535))
    if pol["blocked"]:
        public = [s for s in pol["services"] if s[3] == "any"]
        svc = public[0]
        for _ in range(2):
            add(blocked(), svc[1], svc[2][0])
        add(blocked(), "tcp", rng.randint(1024, 65000), state="ESTABLISHED")
        for ex in pol["exceptions"]:
            add(ex, svc[1], svc[2][0])
    if pol["ping"]:
        add(inside(), "icmp", icmp="echo-request")
        add(ext(), "icmp", icmp="echo-request")
        add(inside(), "icmp", icmp="echo-reply")
    if pol["ident_reject"]:
        add(ext(), "tcp", 113)
        add(inside(), "tcp", 113)
    for p in pk:
        p["verdict"] = decide(pol, p)
    return pk


def generate(req: TaskRequest) -> TaskDraft:
    rng = req.rng
    level = req.difficulty
    internal = f"10.{rng.randint(0, 255)}.0.0/16"
    admin = [f"192.168.{rng.randint(0, 255)}.0/24"]
    if level != "easy":
        admin.append(f"172.{rng.randint(16, 31)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}/32")
    pool = SERVICE_POOL[:]
    rng.shuffle(pool)
    n = {"easy": 3, "medium": 4, "hard": 5}[level]
    services = [("web", "tcp", [80, 443], "any")] if level != "easy" else []
    services += [s for s in pool if s[0] != "web"][: n - len(services)]
    if not any(s[3] == "any" for s in services):
        services[0] = ("web", "tcp", [80, 443], "any")
    if level == "hard":
        lo = rng.choice([60000, 61000, 50000])
        services.append(("mosh", "udp", [[lo, lo + rng.choice([100, 500, 1000])]], "admin"))
    blocked: list[str] = []
    exceptions: list[str] = []
    if level != "easy":
        blocked = [f"{rng.randint(100, 199)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.0/24" for _ in range(2)]
        if level == "hard":
            b = ipaddress.ip_network(blocked[0])
            exceptions = [str(b[rng.randint(2, 250)])]
    pol = {"internal": internal, "admin": admin, "services": [list(s) for s in services], "blocked": blocked,
           "exceptions": exceptions, "ping": level != "easy", "ident_reject": level == "hard"}
    packets = _packets(rng, pol)

    lines = ["# Host firewall policy (inbound)", "",
             f"Internal network: {internal}", f"Admin networks: {', '.join(admin)}", "",
             "Allowed inbound services:"]
    for name, proto, ports, who in services:
        ps = ", ".join(str(a) if isinstance(a, int) else f"{a[0]}-{a[1]}" for a in ports)
        whom = {"any": "from anywhere", "internal": "from the internal network only",
                "admin": "from the admin networks only"}[who]
        lines.append(f"- {name}: {proto.upper()} {ps}, {whom}")
    lines += ["", "General rules:",
              "- Traffic on the loopback interface `lo` is always allowed.",
              "- Packets of established or related connections are always allowed (checked before anything "
              "else except loopback)."]
    if blocked:
        lines.append(f"- These ranges are blocked for every new connection, even to public services: "
                     f"{', '.join(blocked)}.")
    if exceptions:
        lines.append(f"- Exception: {exceptions[0]} is a partner host inside a blocked range; it is treated like "
                     "any other host (the blocklist does not apply to it).")
    if pol["ping"]:
        lines.append("- ICMP echo-request (ping) is allowed from the internal network only; all other ICMP is "
                     "dropped.")
    if pol["ident_reject"]:
        lines.append("- Ident (TCP 113) must be refused actively with a TCP reset (REJECT), not silently "
                     "dropped, so mail servers do not stall.")
    lines.append("- Everything else inbound is dropped. Forwarding is dropped; outbound is allowed.")
    policy = "\n".join(lines) + "\n"
    intro = pick(rng, [
        "Write the host firewall for the policy in /app/policy.md.",
        "Our security team wrote down the inbound policy for this server in /app/policy.md; turn it into "
        "firewall rules.",
        "Translate /app/policy.md into an iptables ruleset.",
    ])
    fmt = pick(rng, [
        "Save it in `iptables-save`/`iptables-restore` format (filter table, ending with COMMIT) as "
        "/app/rules.v4.",
        "The result must be a file /app/rules.v4 that `iptables-restore` could load (the `*filter` table "
        "with its chain policies and `-A` rules, then `COMMIT`).",
    ])
    notes = ["Do not try to load it into the kernel (you cannot here); it is checked by replaying packets "
             "through the rules with first-match semantics",
             "Use standard matches only (`-i`, `-s`, `-p`, `--dport`, `-m multiport --dports`, "
             "`-m conntrack --ctstate`, `--icmp-type`, `-m comment`); user-defined chains are fine"]
    instruction = f"{intro} {fmt}\n\n{bullets(notes, rng)}\n"

    ref = ruleset(pol)
    wrong = ruleset(pol, skip={"easy": "established", "medium": "order", "hard": "ident"}[level])
    solve = f"""# Read the policy
cat /app/policy.md

# Write the ruleset: loopback, established, blocklist (exceptions first), services, the rest dropped
cat > /app/rules.v4 <<'RULES'
{ref.rstrip()}
RULES

# Review it and check the structure (chains declared, COMMIT at the end)
cat -n /app/rules.v4
grep -c '^-A' /app/rules.v4; tail -1 /app/rules.v4
"""
    wrong_solve = f"cat > /app/rules.v4 <<'RULES'\n{wrong.rstrip()}\nRULES\n"
    tests = SIM + f'''

PACKETS = json.loads(r"""{json.dumps(packets)}""")


def test_ruleset_loads():
    rules = load()
    assert rules.policy["INPUT"] in ("DROP", "ACCEPT")


def test_default_deny():
    rules = load()
    assert all(rules.verdict(p) == "DROP" for p in PACKETS if p["verdict"] == "DROP")


def test_loopback_and_established():
    rules = load()
    for p in PACKETS:
        if p["iface"] == "lo" or p["state"] != "NEW":
            assert rules.verdict(p) == p["verdict"], p


def test_services():
    rules = load()
    for p in PACKETS:
        if p["iface"] != "lo" and p["state"] == "NEW" and p["proto"] != "icmp":
            assert rules.verdict(p) == p["verdict"], p


def test_icmp():
    rules = load()
    for p in PACKETS:
        if p["proto"] == "icmp":
            assert rules.verdict(p) == p["verdict"], p
'''
    tests = tests.replace("import ipaddress, pathlib, shlex", "import ipaddress, json, pathlib, shlex", 1)
    return TaskDraft(instruction=instruction, app_files={"policy.md": policy}, solve=solve,
                     wrong_solve=wrong_solve, tests=tests, tags=("iptables", "firewall", "policy"))


FAMILY = TaskFamily(
    name="firewall-ruleset",
    description="write an iptables-restore ruleset from a written policy; tests replay packets first-match",
    generate=generate,
    requires=("python3",),
)
