"""VLSM subnet planning: carve a parent block into right-sized subnets around reserved ranges."""

from __future__ import annotations

import ipaddress
import json
import math

from litecore.records import TaskDraft, TaskFamily, TaskRequest
from litecore.wording import bullets, pick

from litecore_plugin_networking.families._util import swap

SEGMENTS = ["staff", "guests", "voip", "cameras", "servers", "printers", "lab", "mgmt", "iot", "dmz", "wifi",
            "backup", "kiosk", "storage", "dev", "finance", "hr", "sales", "ops", "build"]

SCRIPT = r'''import csv, ipaddress, math
PARENT = ipaddress.ip_network("__PARENT__")
HEADROOM = __HEADROOM__
reserved = []
try:
    for line in open("/app/reserved.txt"):
        line = line.split("#")[0].strip()
        if line:
            reserved.append(ipaddress.ip_network(line))
except FileNotFoundError:
    pass
reqs = []
for row in csv.DictReader(open("/app/requirements.csv")):
    kind = row.get("kind", "lan").strip() or "lan"
    hosts = int(row["hosts"])
    if kind == "p2p":
        prefix = 31
    else:
        need = math.ceil(hosts * (1 + HEADROOM / 100)) + 2
        prefix = 32 - max(2, (need - 1).bit_length())
    reqs.append((prefix, row["name"].strip(), kind))
taken = list(reserved)
rows = []
for prefix, name, kind in sorted(reqs):
    for cand in PARENT.subnets(new_prefix=prefix):
        if not any(cand.overlaps(t) for t in taken):
            break
    else:
        raise SystemExit(f"no room for {name}")
    taken.append(cand)
    if prefix == 31:
        rows.append([name, str(cand), str(cand[0]), str(cand[1]), "-", 2])
    else:
        rows.append([name, str(cand), str(cand[1]), str(cand[-2]), str(cand[-1]), cand.num_addresses - 2])
with open("/app/plan.csv", "w", newline="") as fh:
    w = csv.writer(fh)
    w.writerow(["name", "network", "first_usable", "last_usable", "broadcast", "usable_hosts"])
    w.writerows(rows)
print(open("/app/plan.csv").read())
'''


def _prefix_for(hosts: int, kind: str, headroom: int) -> int:
    if kind == "p2p":
        return 31
    need = math.ceil(hosts * (1 + headroom / 100)) + 2
    return 32 - max(2, (need - 1).bit_length())


def generate(req: TaskRequest) -> TaskDraft:
    rng = req.rng
    level = req.difficulty
    headroom = rng.choice([20, 25, 50]) if level == "hard" else 0
    n = {"easy": 5, "medium": 7, "hard": 9}[level]
    names = rng.sample(SEGMENTS, n)
    reqs: list[tuple[str, int, str]] = []
    # one requirement sits exactly on a boundary so forgetting network/broadcast (or headroom) shows
    k = rng.randint(4, 7)
    if level == "hard":
        h = (2 ** k - 2)  # fits without headroom, not with it
        reqs.append((names[0], h, "lan"))
    else:
        reqs.append((names[0], 2 ** k - 1, "lan"))
    for name in names[1:]:
        reqs.append((name, rng.choice([rng.randint(3, 30), rng.randint(20, 120), rng.randint(60, 250)]), "lan"))
    links: list[tuple[str, int, str]] = []
    if level == "hard":
        for i in range(rng.randint(2, 3)):
            links.append((f"link-{rng.choice(['core', 'edge', 'wan', 'fw'])}{i + 1}", 2, "p2p"))
    allreqs = reqs + links
    blocks = sum(2 ** (32 - _prefix_for(h, kind, headroom)) for _, h, kind in allreqs)
    bits = max(8, math.ceil(math.log2(blocks * 1.6))) + (1 if level != "easy" else 0)
    base = rng.choice([f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.0",
                       f"172.{rng.randint(16, 31)}.{rng.randint(0, 255)}.0",
                       f"192.168.{rng.randint(0, 255)}.0"])
    parent = ipaddress.ip_network(f"{base}/{32 - bits}", strict=False)
    reserved: list[ipaddress.IPv4Network] = []
    if level != "easy":
        # the parent's first block is always reserved (infrastructure), plus one or two more inside it
        first = next(parent.subnets(new_prefix=min(parent.prefixlen + 4, 28)))
        reserved.append(first)
        pieces = list(parent.subnets(new_prefix=min(parent.prefixlen + 5, 29)))
        for _ in range(rng.randint(1, 2)):
            reserved.append(rng.choice(pieces[len(pieces) // 2:]))
        reserved = sorted(set(reserved))
    # compute the reference plan (fails loudly if this instance cannot be satisfied)
    taken = list(reserved)
    expected: dict[str, int] = {}
    for prefix, name, kind in sorted((_prefix_for(h, kind, headroom), name, kind) for name, h, kind in allreqs):
        for cand in parent.subnets(new_prefix=prefix):
            if not any(cand.overlaps(t) for t in taken):
                taken.append(cand)
                expected[name] = prefix
                break
        else:  # pragma: no cover - sizes above leave room
            raise RuntimeError("unsatisfiable plan generated")

    rows = ["name,hosts" + (",kind" if level == "hard" else "")]
    listed = allreqs[:]
    rng.shuffle(listed)
    for name, h, kind in listed:
        rows.append(f"{name},{h}" + (f",{kind}" if level == "hard" else ""))
    app_files = {"requirements.csv": "\n".join(rows) + "\n"}
    if reserved:
        app_files["reserved.txt"] = "# ranges already in use; never allocate over them\n" + "".join(
            f"{r}  # {rng.choice(['routers', 'legacy', 'vpn pool', 'switch mgmt', 'loopbacks'])}\n" for r in reserved)

    rules = [
        "Each subnet is the smallest CIDR block whose usable addresses (excluding network and broadcast) "
        "hold the requested hosts",
        "Subnets must lie inside the parent block and must not overlap each other",
        "Any placement that satisfies the rules is accepted",
    ]
    if reserved:
        rules.append("The ranges listed in /app/reserved.txt are already in use: no subnet may overlap them")
    if level == "hard":
        rules.append(f"LAN segments must be sized with {headroom}% growth headroom: room for "
                     f"ceil(hosts x {1 + headroom / 100:g}) hosts")
        rules.append("Rows of kind `p2p` are point-to-point router links: give each a /31 (RFC 3021, both "
                     "addresses usable, `usable_hosts` 2, first/last usable = its two addresses, broadcast `-`)")
    fmt = ("CSV with header `name,network,first_usable,last_usable,broadcast,usable_hosts`, one row per "
           "requirement, `network` in CIDR notation (e.g. `10.0.0.64/26`)")
    intro = pick(rng, [
        f"We are re-addressing a site inside {parent}. The segments it needs are listed in /app/requirements.csv.",
        f"Plan the subnets of the block {parent}: /app/requirements.csv says which segments exist and how many "
        f"hosts each one needs.",
        f"The address block {parent} must be divided among the segments in /app/requirements.csv.",
    ])
    instruction = (f"{intro} Write the plan to /app/plan.csv as {fmt}.\n\nRules:\n{bullets(rules, rng)}\n")

    script = SCRIPT.replace("__PARENT__", str(parent)).replace("__HEADROOM__", str(headroom))
    if level == "easy":
        wrong_script = swap(script, "need = math.ceil(hosts * (1 + HEADROOM / 100)) + 2",
                            "need = math.ceil(hosts * (1 + HEADROOM / 100))")
    elif level == "medium":
        wrong_script = swap(script, "taken = list(reserved)", "taken = []")
    else:
        wrong_script = swap(script, "HEADROOM = " + str(headroom), "HEADROOM = 0")
    explore = "# Read the requirements (and anything reserved) first\ncat /app/requirements.csv\n" + (
        "cat /app/reserved.txt\n" if reserved else "")
    solve = f"""{explore}
# Size each segment (hosts + network + broadcast{', with headroom' if headroom else ''}), place the largest first
# at the lowest free aligned block, then derive the address columns with ipaddress
cat > /app/plan.py <<'PYEOF'
{script.rstrip()}
PYEOF
python3 /app/plan.py

# Sanity check: no two rows overlap
python3 -c "import csv,ipaddress,itertools; n=[ipaddress.ip_network(r['network']) for r in csv.DictReader(open('/app/plan.csv'))]; print('overlaps:', [(a,b) for a,b in itertools.combinations(n,2) if a.overlaps(b)])"
"""
    wrong = f"cat > /app/plan.py <<'PYEOF'\n{wrong_script.rstrip()}\nPYEOF\npython3 /app/plan.py\n"
    tests = f'''import csv
import ipaddress
import itertools
import pathlib

PARENT = ipaddress.ip_network("{parent}")
PREFIX = {json.dumps(expected, sort_keys=True)}
RESERVED = [ipaddress.ip_network(r) for r in {json.dumps([str(r) for r in reserved])}]


def rows():
    text = pathlib.Path("/app/plan.csv").read_text()
    return list(csv.DictReader(text.splitlines()))


def nets():
    return {{r["name"].strip(): ipaddress.ip_network(r["network"].strip()) for r in rows()}}


def test_header_and_names():
    text = pathlib.Path("/app/plan.csv").read_text().splitlines()
    assert [h.strip() for h in text[0].split(",")] == ["name", "network", "first_usable", "last_usable",
                                                       "broadcast", "usable_hosts"]
    assert sorted(r["name"].strip() for r in rows()) == sorted(PREFIX)


def test_sizes_are_minimal():
    got = nets()
    for name, prefix in PREFIX.items():
        assert got[name].prefixlen == prefix, name


def test_inside_parent_and_disjoint():
    got = list(nets().values())
    for n in got:
        assert n.subnet_of(PARENT), n
        for r in RESERVED:
            assert not n.overlaps(r), (n, r)
    for a, b in itertools.combinations(got, 2):
        assert not a.overlaps(b), (a, b)


def test_address_columns():
    for r in rows():
        n = ipaddress.ip_network(r["network"].strip())
        if n.prefixlen == 31:
            want = [str(n[0]), str(n[1]), "-", "2"]
        else:
            want = [str(n[1]), str(n[-2]), str(n[-1]), str(n.num_addresses - 2)]
        got = [r["first_usable"].strip(), r["last_usable"].strip(), r["broadcast"].strip(), r["usable_hosts"].strip()]
        assert got == want, r
'''
    return TaskDraft(instruction=instruction, app_files=app_files, solve=solve, wrong_solve=wrong, tests=tests,
                     tags=("subnetting", "cidr", "ipv4"))


FAMILY = TaskFamily(
    name="cidr-planner",
    description="VLSM subnet plan for a parent block, around reserved ranges, with headroom and /31 links",
    generate=generate,
    requires=("python3",),
)
