"""Repair a broken nginx-style reverse-proxy config to match a routing spec (checked by a config parser)."""

from __future__ import annotations

import json
import random

from litecore.records import TaskDraft, TaskFamily, TaskRequest
from litecore.wording import bullets, pick


SERVICES = ["api", "auth", "billing", "search", "media", "reports", "chat", "catalog", "orders", "uploads"]
DOMAINS = ["shop", "portal", "intranet", "app", "status", "docs"]
TLDS = ["example.com", "example.org", "corp.test", "lan.test"]

BASE_HEADERS = [("Host", "$host"), ("X-Real-IP", "$remote_addr"), ("X-Forwarded-For", "$proxy_add_x_forwarded_for")]


def _render(m: dict, *, bugs: frozenset[str]) -> str:
    """The config text for model ``m`` with the named bugs applied."""
    out = ["# reverse proxy for " + m["server_name"], ""]
    for name, servers in m["upstreams"].items():
        out.append(f"upstream {name} {{")
        for i, (host, port) in enumerate(servers):
            if "port" in bugs and name == m["bug_upstream"] and i == 0:
                port += 1
            out.append(f"    server {host}:{port}" + (" backup" if m["backup"].get(name) == i else "") + ";")
        out.append("}")
        out.append("")
    out.append("server {")
    out.append(f"    listen {m['listen'] + (1 if 'listen' in bugs else 0)};")
    semi = "" if "syntax" in bugs else ";"
    out.append(f"    server_name {m['server_name']}{semi}")
    if m["headers"]:
        for k, v in BASE_HEADERS:
            out.append(f"    proxy_set_header {k} {v};")
    out.append("")
    routes = m["routes"]
    for r in routes:
        if "missing" in bugs and r["prefix"] == m["bug_missing"]:
            continue
        target = r["upstream"]
        if "swap" in bugs and r["prefix"] == m["bug_swap"][0]:
            target = m["bug_swap"][1]
        out.append(f"    location {r['prefix']} {{")
        out.append(f"        proxy_pass http://{target};")
        if r.get("request_id"):
            if "inherit" not in bugs:
                for k, v in BASE_HEADERS:
                    out.append(f"        proxy_set_header {k} {v};")
            out.append("        proxy_set_header X-Request-Id $request_id;")
        if r.get("websocket") and "websocket" not in bugs:
            out.append("        proxy_http_version 1.1;")
            out.append("        proxy_set_header Upgrade $http_upgrade;")
            out.append('        proxy_set_header Connection "upgrade";')
            for k, v in BASE_HEADERS:
                out.append(f"        proxy_set_header {k} {v};")
        if r.get("body"):
            size = r["body"] if "body" not in bugs else "1m"
            out.append(f"        client_max_body_size {size};")
        out.append("    }")
    out.append("}")
    return "\n".join(out) + "\n"


def _model(rng: random.Random, level: str) -> dict:
    n_up = {"easy": 3, "medium": 4, "hard": 5}[level]
    names = rng.sample(SERVICES, n_up)
    ups: dict[str, list[tuple[str, int]]] = {}
    backup: dict[str, int] = {}
    for name in names:
        k = rng.randint(1, 3)
        base = rng.randint(3000, 9000)
        ups[f"{name}_backend"] = [(f"10.{rng.randint(0, 9)}.{rng.randint(0, 9)}.{rng.randint(2, 250)}",
                                   base + rng.randint(0, 9)) for _ in range(k)]
        if level == "hard" and k > 1 and rng.random() < 0.6:
            backup[f"{name}_backend"] = k - 1
    routes = []
    for name in names:
        routes.append({"prefix": f"/{name}/", "upstream": f"{name}_backend"})
    routes.append({"prefix": "/", "upstream": f"{names[0]}_backend"})
    m = {"upstreams": ups, "backup": backup, "routes": routes,
         "server_name": f"{rng.choice(DOMAINS)}.{rng.choice(TLDS)}", "listen": rng.choice([80, 8080, 8000, 8888]),
         "headers": level != "easy"}
    prefixes = [r["prefix"] for r in routes[:-1]]
    m["bug_missing"] = rng.choice(prefixes)
    others = [p for p in prefixes if p != m["bug_missing"]]
    sp = rng.choice(others)
    wrong_target = rng.choice([u for u in ups if u != f"{sp.strip('/')}_backend"])
    m["bug_swap"] = (sp, wrong_target)
    m["bug_upstream"] = rng.choice(sorted(ups))
    if level != "easy":
        rid = rng.choice([r for r in routes[:-1] if r["prefix"] != m["bug_missing"]])
        rid["request_id"] = True
    if level == "hard":
        free = [r for r in routes[:-1] if not r.get("request_id")]
        ws, body = rng.sample(free, 2)
        ws["websocket"] = True
        body["body"] = rng.choice(["20m", "50m", "100m"])
    return m


TESTS = r'''import json
import pathlib
import re

MODEL = json.loads(r"""__MODEL__""")
LEVEL = "__LEVEL__"
BASE = [["Host", "$host"], ["X-Real-IP", "$remote_addr"], ["X-Forwarded-For", "$proxy_add_x_forwarded_for"]]
TOKEN = re.compile(r"#[^\n]*|\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'|[{};]|[^\s{};\"']+")


def parse(text):
    """Nested (name, args, children) tuples; raises on any syntax error."""
    root, stack, words = [], [], []
    cur = root
    for tok in TOKEN.findall(text):
        if tok.startswith("#"):
            continue
        if tok == ";":
            assert words, "empty directive"
            cur.append((words[0], [w.strip("\"'") for w in words[1:]], None))
            words = []
        elif tok == "{":
            assert words, "block without a name"
            block = (words[0], [w.strip("\"'") for w in words[1:]], [])
            cur.append(block)
            stack.append(cur)
            cur, words = block[2], []
        elif tok == "}":
            assert not words, f"unterminated directive {words}"
            assert stack, "unbalanced }"
            cur = stack.pop()
        else:
            words.append(tok)
    assert not words and not stack, "unterminated config"
    return root


def conf():
    return parse(pathlib.Path("/app/nginx/conf.d/site.conf").read_text())


def server():
    servers = [d for d in conf() if d[0] == "server"]
    assert len(servers) == 1
    return servers[0][2]


def locations():
    out = {}
    for d in server():
        if d[0] == "location":
            assert d[1][-1] not in out, "duplicate location"
            out[d[1][-1]] = (d[1][:-1], d[2])
    return out


def headers(block):
    return [d[1] for d in block if d[0] == "proxy_set_header"]


def test_config_parses():
    conf()


def test_upstreams():
    ups = {d[1][0]: d[2] for d in conf() if d[0] == "upstream"}
    assert sorted(ups) == sorted(MODEL["upstreams"])
    for name, servers in MODEL["upstreams"].items():
        got = sorted((s[1][0], tuple(s[1][1:])) for s in ups[name] if s[0] == "server")
        want = sorted((f"{h}:{p}", ("backup",) if MODEL["backup"].get(name) == i else ())
                      for i, (h, p) in enumerate(servers))
        assert got == want, name


def test_listen_and_name():
    srv = server()
    assert [d[1] for d in srv if d[0] == "listen"] == [[str(MODEL["listen"])]]
    assert [d[1] for d in srv if d[0] == "server_name"] == [[MODEL["server_name"]]]


def test_routes():
    locs = locations()
    assert sorted(locs) == sorted(r["prefix"] for r in MODEL["routes"])
    for r in MODEL["routes"]:
        mods, block = locs[r["prefix"]]
        assert mods == [], "plain prefix locations only"
        assert [d[1] for d in block if d[0] == "proxy_pass"] == [["http://" + r["upstream"]]], r["prefix"]


if LEVEL != "easy":
    def test_forwarding_headers_reach_every_route():
        srv = server()
        for r in MODEL["routes"]:
            block = locations()[r["prefix"]][1]
            # nginx inherits proxy_set_header only when the location sets none itself
            eff = headers(block) or headers(srv)
            for h in BASE:
                assert h in eff, (r["prefix"], h)
            if r.get("request_id"):
                assert ["X-Request-Id", "$request_id"] in eff

if LEVEL == "hard":
    def test_websocket_and_body_limits():
        for r in MODEL["routes"]:
            block = locations()[r["prefix"]][1]
            if r.get("websocket"):
                assert [d[1] for d in block if d[0] == "proxy_http_version"] == [["1.1"]]
                eff = headers(block)
                assert ["Upgrade", "$http_upgrade"] in eff
                assert any(h[0] == "Connection" and h[1].lower() == "upgrade" for h in eff)
            if r.get("body"):
                assert [d[1] for d in block if d[0] == "client_max_body_size"] == [[r["body"]]]
'''


def generate(req: TaskRequest) -> TaskDraft:
    rng = req.rng
    level = req.difficulty
    m = _model(rng, level)
    bugs = {"syntax", "port", "swap", "missing"}
    if level != "easy":
        bugs.add("inherit")
    if level == "hard":
        bugs |= {"websocket", "body", "listen"}
    broken = _render(m, bugs=frozenset(bugs))
    fixed = _render(m, bugs=frozenset())
    wrong_bug = {"easy": "swap", "medium": "inherit", "hard": "websocket"}[level]
    wrong_conf = _render(m, bugs=frozenset({wrong_bug}))

    lines = [f"# Routing spec for {m['server_name']}", "",
             f"The proxy listens on port {m['listen']} for `server_name {m['server_name']}`.", "",
             "## Backends (upstream name: members)", ""]
    for name, servers in m["upstreams"].items():
        members = ", ".join(f"{h}:{p}" + (" (backup only)" if m["backup"].get(name) == i else "")
                            for i, (h, p) in enumerate(servers))
        lines.append(f"- `{name}`: {members}")
    lines += ["", "## Routes (path prefix -> upstream)", ""]
    rs = m["routes"][:]
    rng.shuffle(rs)
    for r in rs:
        extra = []
        if r.get("request_id"):
            extra.append("also passes `X-Request-Id: $request_id` to the backend")
        if r.get("websocket"):
            extra.append("carries WebSocket traffic (HTTP/1.1 with Upgrade/Connection headers)")
        if r.get("body"):
            extra.append(f"accepts request bodies up to {r['body']}")
        lines.append(f"- `{r['prefix']}` -> `{r['upstream']}`" + (f"; {'; '.join(extra)}" if extra else ""))
    if m["headers"]:
        lines += ["", "Every route must pass `Host $host`, `X-Real-IP $remote_addr` and "
                  "`X-Forwarded-For $proxy_add_x_forwarded_for` to its backend."]
    spec = "\n".join(lines) + "\n"

    intro = pick(rng, [
        "The reverse proxy config in /app/nginx/conf.d/site.conf was edited by hand and no longer does what "
        "/app/SPEC.md describes (it may not even load).",
        "Someone broke /app/nginx/conf.d/site.conf: nginx refuses it and some routes go to the wrong place. "
        "/app/SPEC.md is the source of truth.",
        "Fix the nginx-style proxy configuration /app/nginx/conf.d/site.conf so that it matches the routing "
        "spec in /app/SPEC.md.",
    ])
    rules = ["Keep the same layout: `upstream` blocks plus one `server` block with one `location` per route",
             "Use plain prefix locations and `proxy_pass http://<upstream>;` without a URI part",
             "nginx is not installed here; the file is checked by a parser that follows nginx's syntax and "
             "inheritance rules"]
    instruction = f"{intro}\n\n{bullets(rules, rng)}\n"

    solve = f"""# Read the spec and the current config side by side
cat /app/SPEC.md
cat -n /app/nginx/conf.d/site.conf

# Compare the upstream members and proxy_pass targets against the spec
grep -n 'server \\|proxy_pass\\|location\\|listen' /app/nginx/conf.d/site.conf

# Rewrite the config: fix the syntax error, member ports, wrong/missing routes, and
# repeat the forwarding headers inside any location that sets its own (nginx does not merge them)
cat > /app/nginx/conf.d/site.conf <<'CONF'
{fixed.replace(chr(10) + chr(10), chr(10)).rstrip()}
CONF

# Check braces and semicolons balance
python3 -c "t=open('/app/nginx/conf.d/site.conf').read(); print('braces', t.count('{{'), t.count('}}'))"
"""
    wrong = (f"cat > /app/nginx/conf.d/site.conf <<'CONF'\n{wrong_conf.replace(chr(10) + chr(10), chr(10)).rstrip()}"
             "\nCONF\n")
    tests = TESTS.replace("__MODEL__", json.dumps(m)).replace("__LEVEL__", level)
    return TaskDraft(instruction=instruction, app_files={"nginx/conf.d/site.conf": broken, "SPEC.md": spec},
                     solve=solve, wrong_solve=wrong, tests=tests, tags=("nginx", "reverse-proxy", "config"))


FAMILY = TaskFamily(
    name="proxy-config-fix",
    description="repair a broken nginx-style reverse-proxy config to match a routing spec, checked by a parser",
    generate=generate,
    requires=("python3",),
)
