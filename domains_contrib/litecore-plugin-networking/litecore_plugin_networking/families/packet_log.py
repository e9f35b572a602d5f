"""Compute traffic statistics from a tcpdump-style text capture (with junk, IPv6 and a time window)."""

from __future__ import annotations

import json
import random

from litecore.records import TaskDraft, TaskFamily, TaskRequest
from litecore.wording import bullets, pick

from litecore_plugin_networking.families._util import swap


def _ts(t: float) -> str:
    h, rem = divmod(t, 3600)
    m, s = divmod(rem, 60)
    return f"{int(h):02d}:{int(m):02d}:{s:09.6f}"


class _Capture:
    """Packets as records (the truth) plus their rendered lines."""

    def __init__(self, rng: random.Random, start: float) -> None:
        self.rng = rng
        self.start = start
        self.pkts: list[dict] = []

    def add(self, t: float, proto: str, src: str, dst: str, length: int, sport: int | None = None,
            dport: int | None = None, flags: str = "", v6: bool = False, extra: str = "") -> None:
        self.pkts.append({"t": round(t, 6), "proto": proto, "src": src, "dst": dst, "len": length,
                          "sport": sport, "dport": dport, "flags": flags, "v6": v6, "extra": extra})

    def tcp_conv(self, t: float, cli: str, srv: str, port: int, complete: bool, data: int) -> None:
        rng = self.rng
        cport = rng.randint(32768, 60999)
        self.add(t, "tcp", cli, srv, 0, cport, port, "S")
        if not complete:
            if rng.random() < 0.5:
                self.add(t + 0.01, "tcp", srv, cli, 0, port, cport, "R.")
            return
        self.add(t + 0.002, "tcp", srv, cli, 0, port, cport, "S.")
        self.add(t + 0.004, "tcp", cli, srv, 0, cport, port, ".")
        tt = t + 0.004
        for _ in range(data):
            tt += rng.uniform(0.001, 0.05)
            if rng.random() < 0.4:
                self.add(tt, "tcp", cli, srv, rng.randint(40, 600), cport, port, "P.")
            else:
                self.add(tt, "tcp", srv, cli, rng.randint(200, 1448), port, cport, "P.")
        self.add(tt + 0.01, "tcp", cli, srv, 0, cport, port, "F.")


def render(p: dict) -> str:
    fam = "IP6" if p["v6"] else "IP"
    if p["proto"] == "icmp":
        kind = "ICMP6, echo request" if p["v6"] else "ICMP echo request"
        return f"{_ts(p['t'])} {fam} {p['src']} > {p['dst']}: {kind}, id {p['sport']}, seq {p['dport']}, length {p['len']}"
    a = f"{p['src']}.{p['sport']} > {p['dst']}.{p['dport']}"
    if p["proto"] == "udp":
        return f"{_ts(p['t'])} {fam} {a}: UDP, length {p['len']}"
    win = 64240 if p["flags"] == "S" else 502
    return f"{_ts(p['t'])} {fam} {a}: Flags [{p['flags']}], seq 1, win {win}, length {p['len']}"


SCRIPT = r'''import ipaddress, json, re
LINE = re.compile(r"^(\d\d):(\d\d):(\d\d\.\d+) (IP6?) (\S+) > (\S+): (.*), length (\d+)$")
WINDOW = __WINDOW__
THRESH = __THRESH__
def split(ep, v6, has_port):
    if not has_port:
        return ep, None
    host, _, port = ep.rpartition(".")
    return host, int(port)
stats = {"tcp": 0, "udp": 0, "icmp": 0}
sent, total, syn = {}, 0, 0
probes, conv = {}, {}
for line in open("/app/capture.log"):
    m = LINE.match(line.strip())
    if not m:
        continue
    t = int(m[1]) * 3600 + int(m[2]) * 60 + float(m[3])
    if WINDOW and not (WINDOW[0] <= t < WINDOW[1]):
        continue
    body = m[7]
    proto = "icmp" if body.startswith("ICMP") else "udp" if body.startswith("UDP") else "tcp"
    src, sp = split(m[5], m[4] == "IP6", proto != "icmp")
    dst, dp = split(m[6].rstrip(":"), m[4] == "IP6", proto != "icmp")
    total += 1
    stats[proto] += int(m[8])
    sent[src] = sent.get(src, 0) + int(m[8])
    if proto == "tcp":
        flags = re.search(r"Flags \[([^\]]*)\]", body)[1]
        if flags == "S":
            syn += 1
            probes.setdefault((src, dst), set()).add(dp)
            conv[(src, sp, dst, dp)] = 1
        elif flags == "S." and conv.get((dst, dp, src, sp)) == 1:
            conv[(dst, dp, src, sp)] = 2
        elif flags == "." and conv.get((src, sp, dst, dp)) == 2:
            conv[(src, sp, dst, dp)] = 3
best = max(sent.values())
out = {"total_packets": total, "bytes_by_protocol": stats,
       "top_talker": min(h for h, b in sent.items() if b == best)}
if THRESH:
    out["syn_count"] = syn
    out["port_scanners"] = sorted({s for (s, d), ports in probes.items() if len(ports) >= THRESH},
                                  key=ipaddress.ip_address)
if WINDOW:
    out["completed_handshakes"] = sum(1 for v in conv.values() if v == 3)
json.dump(out, open("/app/stats.json", "w"), indent=2)
print(json.dumps(out, indent=2))
'''


def generate(req: TaskRequest) -> TaskDraft:
    rng = req.rng
    level = req.difficulty
    net = rng.choice(["10.0.{}.", "192.168.{}.", "172.16.{}."]).format(rng.randint(0, 30))
    inside = [net + str(x) for x in rng.sample(range(2, 250), 5)]
    outside = [f"{rng.randint(11, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
               for _ in range(5)]
    v6hosts = [f"fe80::{rng.randint(1, 0xffff):x}" for _ in range(3)]
    start = rng.randint(0, 20) * 3600 + rng.randint(0, 3599)
    span = 240.0
    cap = _Capture(rng, start)
    n_conv = {"easy": 8, "medium": 12, "hard": 16}[level]
    for _ in range(n_conv):
        cap.tcp_conv(start + rng.uniform(0, span), rng.choice(inside), rng.choice(outside + inside[:1]),
                     rng.choice([22, 80, 443, 443, 8080, 5432]), rng.random() < 0.75, rng.randint(1, 5))
    for _ in range({"easy": 6, "medium": 8, "hard": 10}[level]):
        t = start + rng.uniform(0, span)
        cli, dns = rng.choice(inside), inside[-1]
        sp = rng.randint(32768, 60999)
        cap.add(t, "udp", cli, dns, rng.randint(28, 60), sp, 53)
        cap.add(t + 0.003, "udp", dns, cli, rng.randint(60, 300), 53, sp)
    for _ in range(rng.randint(2, 4)):
        t = start + rng.uniform(0, span)
        cap.add(t, "icmp", rng.choice(inside), rng.choice(outside), 64, rng.randint(1, 999), rng.randint(1, 9))
    thresh = 0
    if level != "easy":
        thresh = rng.randint(5, 8)
        target = rng.choice(inside)
        scanners = rng.sample(outside, 2 if level == "hard" else 1)
        for s in scanners:
            t = start + rng.uniform(0, span - 20)
            for port in rng.sample(range(1, 1024), thresh + rng.randint(0, 4)):
                t += rng.uniform(0.01, 0.2)
                cap.add(t, "tcp", s, target, 0, rng.randint(40000, 50000), port, "S")
        decoy = rng.choice([o for o in outside if o not in scanners])
        t = start + rng.uniform(0, span - 20)
        for port in rng.sample(range(1, 1024), thresh - 1):  # one port short of the threshold
            t += rng.uniform(0.01, 0.2)
            cap.add(t, "tcp", decoy, rng.choice(inside[:-1] if target != inside[-1] else inside[1:]), 0,
                    rng.randint(40000, 50000), port, "S")
    window = None
    if level == "hard":
        for _ in range(6):
            t = start + rng.uniform(0, span)
            a, b = rng.sample(v6hosts, 2)
            if rng.random() < 0.5:
                cap.add(t, "udp", a, "ff02::fb", rng.randint(30, 200), 5353, 5353, v6=True)
            else:
                cap.add(t, "icmp", a, b, 64, rng.randint(1, 99), rng.randint(1, 9), v6=True)
        lo = start + rng.uniform(20, 60)
        window = (int(lo), int(lo) + rng.randint(120, 160))
    cap.pkts.sort(key=lambda p: p["t"])
    lines = [render(p) for p in cap.pkts]
    junk_count = 0
    if level != "easy":
        for _ in range(rng.randint(4, 8)):
            i = rng.randrange(len(lines) + 1)
            t = cap.pkts[min(i, len(cap.pkts) - 1)]["t"]
            if rng.random() < 0.5:
                lines.insert(i, f"{_ts(t)} ARP, Request who-has {rng.choice(inside)} tell {rng.choice(inside)}, length 28")
            else:
                lines.insert(i, render(cap.pkts[min(i, len(cap.pkts) - 1)]).rsplit(", length", 1)[0])
            junk_count += 1

    # the truth, from the packet records themselves
    kept = [p for p in cap.pkts if window is None or window[0] <= p["t"] < window[1]]
    import ipaddress

    stats = {"tcp": 0, "udp": 0, "icmp": 0}
    sent: dict[str, int] = {}
    for p in kept:
        stats[p["proto"]] += p["len"]
        sent[p["src"]] = sent.get(p["src"], 0) + p["len"]
    best = max(sent.values())
    expected: dict = {"total_packets": len(kept), "bytes_by_protocol": stats,
                      "top_talker": min(h for h, b in sent.items() if b == best)}
    if thresh:
        probes: dict[tuple[str, str], set[int]] = {}
        for p in kept:
            if p["proto"] == "tcp" and p["flags"] == "S":
                probes.setdefault((p["src"], p["dst"]), set()).add(p["dport"])
        expected["syn_count"] = sum(1 for p in kept if p["proto"] == "tcp" and p["flags"] == "S")
        expected["port_scanners"] = sorted({s for (s, _), ports in probes.items() if len(ports) >= thresh},
                                           key=ipaddress.ip_address)
    if window:
        state: dict[tuple, int] = {}
        for p in kept:
            if p["proto"] != "tcp":
                continue
            k = (p["src"], p["sport"], p["dst"], p["dport"])
            r = (p["dst"], p["dport"], p["src"], p["sport"])
            if p["flags"] == "S":
                state[k] = 1
            elif p["flags"] == "S." and state.get(r) == 1:
                state[r] = 2
            elif p["flags"] == "." and state.get(k) == 2:
                state[k] = 3
        expected["completed_handshakes"] = sum(1 for v in state.values() if v == 3)

    keys = [
        "`total_packets`: number of packets counted",
        "`bytes_by_protocol`: object with keys `tcp`, `udp`, `icmp` summing the `length` field of each packet",
        "`top_talker`: the source address that sent the most bytes (ties: the smallest address as a string)",
    ]
    rules = ["Addresses and ports are written tcpdump-style: `ADDR.PORT` (ICMP lines have no port)."]
    if thresh:
        keys.append("`syn_count`: number of TCP packets whose flags are exactly `[S]`")
        keys.append(f"`port_scanners`: sorted list of source addresses that sent `[S]` packets to at least "
                    f"{thresh} distinct destination ports of one single destination host")
        rules.append("The capture contains non-IP lines (ARP) and truncated lines without a `length`: ignore "
                     "both; they are not packets")
    if window:
        keys.append("`completed_handshakes`: TCP connections whose `[S]`, `[S.]` reply and final `[.]` from the "
                    "client all appear among the counted packets")
        rules.append(f"Only packets with timestamps in the window [{_ts(window[0])[:8]}, {_ts(window[1])[:8]}) "
                     "(start inclusive, end exclusive) count, for every statistic")
        rules.append("IPv6 packets (`IP6`) count like IPv4 ones; ICMP6 is `icmp`")
    else:
        rules.append("Count only IPv4 (`IP`) packets")
    intro = pick(rng, [
        "A packet capture was exported as text to /app/capture.log (tcpdump style, one packet per line).",
        "/app/capture.log holds a text dump of captured traffic, one packet per line in tcpdump's format.",
        "The network team saved a tcpdump text export at /app/capture.log.",
    ])
    ask = pick(rng, ["Summarise it in /app/stats.json, a JSON object with these keys:",
                     "Write /app/stats.json: a JSON object holding",
                     "Produce the following statistics as a JSON object in /app/stats.json:"])
    instruction = f"{intro} {ask}\n\n{bullets(keys)}\n\nNotes:\n{bullets(rules, rng)}\n"

    script = SCRIPT.replace("__WINDOW__", repr(window)).replace("__THRESH__", str(thresh))
    if level == "easy":
        wrong_script = swap(script, 'for line in open("/app/capture.log"):',
                            'for line in open("/app/capture.log").readlines()[1:]:')
    elif level == "medium":
        wrong_script = swap(script, "    if not m:\n        continue\n",
                            "    if not m:\n        total += 1\n        continue\n")
    else:
        wrong_script = swap(script, "    if WINDOW and not", "    if False and not")
    solve = f"""# Look at the capture: line shapes, protocols, odd lines
head -20 /app/capture.log
wc -l /app/capture.log
awk '{{print $2}}' /app/capture.log | sort | uniq -c
grep -v ', length [0-9]*$' /app/capture.log | head

# Parse every packet line with one regex and compute the statistics
cat > /app/stats.py <<'PYEOF'
{script.rstrip()}
PYEOF
python3 /app/stats.py
"""
    wrong = f"cat > /app/stats.py <<'PYEOF'\n{wrong_script.rstrip()}\nPYEOF\npython3 /app/stats.py\n"
    tests = f'''import json
import pathlib

EXPECTED = {json.dumps(expected, sort_keys=True)}


def load():
    return json.loads(pathlib.Path("/app/stats.json").read_text())


def test_total_packets():
    assert int(load()["total_packets"]) == EXPECTED["total_packets"]


def test_bytes_by_protocol():
    got = load()["bytes_by_protocol"]
    assert {{k: int(v) for k, v in got.items() if k in EXPECTED["bytes_by_protocol"]}} == EXPECTED["bytes_by_protocol"]


def test_top_talker():
    assert load()["top_talker"] == EXPECTED["top_talker"]
'''
    if thresh:
        tests += '''

def test_syn_and_scanners():
    got = load()
    assert int(got["syn_count"]) == EXPECTED["syn_count"]
    assert list(got["port_scanners"]) == EXPECTED["port_scanners"]
'''
    if window:
        tests += '''

def test_completed_handshakes():
    assert int(load()["completed_handshakes"]) == EXPECTED["completed_handshakes"]
'''
    return TaskDraft(instruction=instruction, app_files={"capture.log": "\n".join(lines) + "\n"}, solve=solve,
                     wrong_solve=wrong, tests=tests, tags=("tcpdump", "traffic-analysis", "parsing"))


FAMILY = TaskFamily(
    name="packet-log-stats",
    description="compute traffic statistics (bytes per protocol, scanners, handshakes) from a tcpdump text capture",
    generate=generate,
    requires=("python3",),
)
