"""Write a small JSON HTTP service over a data file; the tests start it and query its endpoints."""

from __future__ import annotations

import json

from litecore.records import TaskDraft, TaskFamily, TaskRequest
from litecore.wording import bullets, pick

from litecore_plugin_networking.families._util import swap

RESOURCES = {
    "books": (["fiction", "history", "science", "poetry", "travel"], ["Atlas", "Ember", "Harbor", "Lantern",
                                                                       "Meridian", "Orchard", "Quill", "Tide"]),
    "tools": (["hand", "power", "garden", "measure"], ["Hammer", "Wrench", "Level", "Saw", "Drill", "Rake",
                                                        "Chisel", "Clamp"]),
    "plants": (["succulent", "fern", "herb", "palm", "vine"], ["Aloe", "Basil", "Ivy", "Mint", "Sage", "Fern",
                                                                 "Yucca", "Thyme"]),
    "parts": (["bolt", "gear", "spring", "valve"], ["Alpha", "Bravo", "Delta", "Kilo", "Sierra", "Tango",
                                                    "Victor", "Zulu"]),
}

SERVER = r'''import json, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse, parse_qs
PORT = __PORT__
RES = "__RES__"
API_KEY = __KEY__
with open("/app/data/__RES__.json") as fh:
    ITEMS = {int(r["id"]): r for r in json.load(fh)}
LOCK = threading.Lock()
class H(BaseHTTPRequestHandler):
    def send(self, code, obj=None):
        body = b"" if obj is None else json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
    def authorized(self):
        return API_KEY is None or self.headers.get("X-Api-Key") == API_KEY
    def do_GET(self):
        u = urlparse(self.path)
        parts = [p for p in u.path.split("/") if p]
        q = parse_qs(u.query)
        with LOCK:
            if parts == ["health"]:
                return self.send(200, {"status": "ok"})
            if parts == ["stats"] and API_KEY is not None:
                cats = {}
                for r in ITEMS.values():
                    cats[r["category"]] = cats.get(r["category"], 0) + 1
                return self.send(200, {"count": len(ITEMS), "by_category": cats})
            if parts == [RES]:
                rows = [ITEMS[k] for k in sorted(ITEMS)]
                if "category" in q:
                    rows = [r for r in rows if r["category"] == q["category"][0]]
                if "min_price" in q:
                    rows = [r for r in rows if r["price"] >= float(q["min_price"][0])]
                return self.send(200, rows)
            if len(parts) == 2 and parts[0] == RES and parts[1].isdigit() and int(parts[1]) in ITEMS:
                return self.send(200, ITEMS[int(parts[1])])
        return self.send(404, {"error": "not found"})
    def do_POST(self):
        if urlparse(self.path).path.rstrip("/") != "/" + RES:
            return self.send(404, {"error": "not found"})
        if not self.authorized():
            return self.send(401, {"error": "unauthorized"})
        try:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"null")
            rec = {"name": str(body["name"]), "category": str(body["category"]), "price": float(body["price"])}
        except (ValueError, KeyError, TypeError):
            return self.send(400, {"error": "bad request"})
        with LOCK:
            rec = {"id": max(ITEMS, default=0) + 1, **rec}
            ITEMS[rec["id"]] = rec
        return self.send(201, rec)
    def do_DELETE(self):
        parts = [p for p in urlparse(self.path).path.split("/") if p]
        if not self.authorized():
            return self.send(401, {"error": "unauthorized"})
        with LOCK:
            if len(parts) == 2 and parts[0] == RES and parts[1].isdigit() and int(parts[1]) in ITEMS:
                del ITEMS[int(parts[1])]
                return self.send(204)
        return self.send(404, {"error": "not found"})
ThreadingHTTPServer(("127.0.0.1", PORT), H).serve_forever()
'''

TESTS = r'''import json, os, socket, subprocess, time, urllib.error, urllib.request
import pytest

PORT = __PORT__
RES = "__RES__"
ITEMS = __ITEMS__
LEVEL = "__LEVEL__"
KEY = __KEY__
NEW = __NEW__


@pytest.fixture(scope="module")
def server():
    assert os.path.exists("/app/server.py"), "no /app/server.py"
    proc = subprocess.Popen(["python3", "/app/server.py"], cwd="/app", stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", PORT), timeout=0.5).close()
            break
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.1)
    yield proc
    proc.kill()
    proc.wait()


def call(method, path, body=None, headers=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{PORT}{path}", data=data, method=method,
                                 headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            raw = r.read()
            return r.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            return e.code, json.loads(raw) if raw else None
        except ValueError:
            return e.code, None


def test_health(server):
    assert call("GET", "/health") == (200, {"status": "ok"})


def test_get_each_item(server):
    for item in ITEMS:
        code, got = call("GET", f"/{RES}/{item['id']}")
        assert code == 200 and got == item


def test_unknown_item_is_404(server):
    missing = max(i["id"] for i in ITEMS) + 50
    assert call("GET", f"/{RES}/{missing}")[0] == 404
    assert call("GET", "/no-such-route")[0] == 404


def test_list_sorted_and_filtered(server):
    code, got = call("GET", f"/{RES}")
    assert code == 200 and got == sorted(ITEMS, key=lambda r: r["id"])
    cats = sorted({i["category"] for i in ITEMS})
    for cat in cats:
        code, got = call("GET", f"/{RES}?category={cat}")
        assert got == sorted([i for i in ITEMS if i["category"] == cat], key=lambda r: r["id"])


if LEVEL != "easy":
    AUTH = {"X-Api-Key": KEY} if KEY else {}

    def test_min_price_filter(server):
        prices = sorted(i["price"] for i in ITEMS)
        limit = prices[len(prices) // 2]
        code, got = call("GET", f"/{RES}?min_price={limit}")
        assert [r["id"] for r in got] == sorted(i["id"] for i in ITEMS if i["price"] >= limit)

    def test_post_creates_and_is_visible(server):
        code, bad = call("POST", f"/{RES}", {"name": "x"}, AUTH)
        assert code == 400
        code, created = call("POST", f"/{RES}", NEW, AUTH)
        assert code == 201
        assert created["id"] == max(i["id"] for i in ITEMS) + 1
        assert {k: created[k] for k in ("name", "category")} == {k: NEW[k] for k in ("name", "category")}
        assert float(created["price"]) == float(NEW["price"])
        code, again = call("GET", f"/{RES}/{created['id']}")
        assert code == 200 and again == created

if LEVEL == "hard":
    def test_writes_need_api_key(server):
        assert call("POST", f"/{RES}", NEW)[0] == 401
        assert call("POST", f"/{RES}", NEW, {"X-Api-Key": KEY + "x"})[0] == 401
        victim = ITEMS[0]["id"]
        assert call("DELETE", f"/{RES}/{victim}")[0] == 401
        assert call("GET", f"/{RES}/{victim}")[0] == 200

    def test_delete_and_stats(server):
        victim = ITEMS[-1]["id"]
        assert call("DELETE", f"/{RES}/{victim}", None, AUTH)[0] == 204
        assert call("GET", f"/{RES}/{victim}")[0] == 404
        assert call("DELETE", f"/{RES}/{victim}", None, AUTH)[0] == 404
        code, stats = call("GET", "/stats")
        _, rows = call("GET", f"/{RES}")
        cats = {}
        for r in rows:
            cats[r["category"]] = cats.get(r["category"], 0) + 1
        assert code == 200 and stats == {"count": len(rows), "by_category": cats}
        assert victim not in [r["id"] for r in rows]
'''


def generate(req: TaskRequest) -> TaskDraft:
    rng = req.rng
    level = req.difficulty
    res = rng.choice(sorted(RESOURCES))
    cats, names = RESOURCES[res]
    port = rng.randint(8000, 8999)
    n = {"easy": 6, "medium": 9, "hard": 12}[level]
    ids = sorted(rng.sample(range(1, 60), n))  # gaps: "next id" is max+1, never len+1
    items = []
    for i in ids:
        items.append({"id": i, "name": f"{rng.choice(names)} {rng.randint(10, 99)}", "category": rng.choice(cats),
                      "price": round(rng.uniform(2, 200), 2)})
    file_items = items[:]
    rng.shuffle(file_items)
    key = f"{rng.getrandbits(64):016x}" if level == "hard" else None
    new = {"name": f"{rng.choice(names)} {rng.randint(100, 999)}", "category": rng.choice(cats),
           "price": round(rng.uniform(2, 200), 2)}

    app_files: dict[str, str] = {f"data/{res}.json": json.dumps(file_items, indent=2) + "\n"}
    if key:
        app_files["config.ini"] = f"[service]\nname = {res}-api\n\n[auth]\n; clients send this in X-Api-Key\napi_key = {key}\n"

    endpoints = [
        "`GET /health` returns `{\"status\": \"ok\"}`",
        f"`GET /{res}/<id>` returns that record exactly as stored in the data file (same keys and values); "
        "an unknown id, or any other unknown path, returns status 404 with a JSON error body",
        f"`GET /{res}` returns a JSON array of all records sorted by ascending `id`; an optional query "
        f"parameter `category=<c>` keeps only records of that category",
    ]
    if level != "easy":
        endpoints.append(f"`GET /{res}` also accepts `min_price=<p>` (keep records whose price is >= p)")
        endpoints.append(
            f"`POST /{res}` with a JSON body holding `name`, `category` and `price` creates a record, "
            "answers 201 with the new record; its `id` is one more than the largest id in use; a body with "
            "a missing field answers 400. New records are kept in memory only and are visible to later GETs")
    if level == "hard":
        endpoints.append(
            f"`DELETE /{res}/<id>` removes a record (204, or 404 if there is no such record)")
        endpoints.append(
            "`GET /stats` returns `{\"count\": <number of records>, \"by_category\": {<category>: <count>}}` "
            "reflecting every change made so far")
    rules = ["Every response body is JSON (`Content-Type: application/json`), except the empty 204 body",
             "Use only the Python standard library"]
    if level == "hard":
        rules.append("`POST` and `DELETE` require the header `X-Api-Key` carrying the key from "
                     "`/app/config.ini`; without it (or with a wrong key) answer 401 and change nothing")
    intro = pick(rng, [
        f"Build a small JSON API for the {res} catalogue in /app/data/{res}.json.",
        f"Our {res} inventory lives in /app/data/{res}.json and needs an HTTP front end.",
        f"Write an HTTP service that exposes the records of /app/data/{res}.json.",
    ])
    run = pick(rng, [
        f"It must be a single file, /app/server.py, that listens on 127.0.0.1 port {port} when started as "
        f"`python3 /app/server.py` (from /app).",
        f"Put it in /app/server.py; running `python3 /app/server.py` must serve on 127.0.0.1:{port}.",
    ])
    note = pick(rng, [
        "The service is started fresh by the checker, so do not rely on anything you leave running.",
        "Processes you start are stopped before grading: the grader launches the server itself.",
    ])
    instruction = (f"{intro} {run}\n\nEndpoints:\n{bullets(endpoints)}\n\n"
                   f"Rules:\n{bullets(rules, rng)}\n\n{note}\n")

    server = (SERVER.replace("__PORT__", str(port)).replace("__RES__", res)
              .replace("__KEY__", "None" if key is None else repr(key)))
    if level == "hard":
        server = server.replace("API_KEY = " + repr(key), "import configparser\n_c = configparser.ConfigParser()\n"
                                "_c.read('/app/config.ini')\nAPI_KEY = _c['auth']['api_key'].strip()")
    if level == "easy":
        wrong_server = swap(server, 'return self.send(404, {"error": "not found"})\n    def do_POST',
                            'return self.send(200, {})\n    def do_POST')
    elif level == "medium":
        wrong_server = swap(server, '"id": max(ITEMS, default=0) + 1', '"id": len(ITEMS) + 1')
    else:
        wrong_server = swap(server, "return API_KEY is None or self.headers.get(\"X-Api-Key\") == API_KEY",
                            "return True")

    explore = f"""# Look at the data and any configuration before writing the service
ls -la /app /app/data
head -c 600 /app/data/{res}.json; echo
python3 -c "import json; d=json.load(open('/app/data/{res}.json')); print(len(d), 'records, ids', sorted(r['id'] for r in d))"
""" + ("cat /app/config.ini\n" if key else "")
    write = f"""# Write the service: stdlib ThreadingHTTPServer, records indexed by id, JSON everywhere
cat > /app/server.py <<'PYEOF'
{server.rstrip()}
PYEOF
"""
    check = f"""# Smoke-test it: start, query a few endpoints, stop
python3 /app/server.py & SRV=$!
sleep 1
curl -s 127.0.0.1:{port}/health; echo
curl -s -o /dev/null -w '%{{http_code}}\\n' 127.0.0.1:{port}/{res}/99999
curl -s "127.0.0.1:{port}/{res}?category={items[0]['category']}" | head -c 300; echo
kill $SRV; wait $SRV 2>/dev/null
"""
    wrong = f"cat > /app/server.py <<'PYEOF'\n{wrong_server.rstrip()}\nPYEOF\n"
    tests = (TESTS.replace("__PORT__", str(port)).replace("__RES__", res).replace("__LEVEL__", level)
             .replace("__ITEMS__", json.dumps(items)).replace("__KEY__", repr(key))
             .replace("__NEW__", json.dumps(new)))
    return TaskDraft(
        instruction=instruction, app_files=app_files, solve="\n".join([explore, write, check]),
        wrong_solve=wrong, tests=tests, tags=("http", "rest-api", "python"), requires=("python3", "curl"),
    )


FAMILY = TaskFamily(
    name="http-service",
    description="write a localhost JSON HTTP API over a data file; the tests start it and exercise each endpoint",
    generate=generate,
    requires=("python3", "curl"),
)
