"""Implement a line-based TCP key-value protocol from its spec; the tests start it and talk to it."""

from __future__ import annotations

import json

from litecore.records import TaskDraft, TaskFamily, TaskRequest
from litecore.wording import bullets, pick

from litecore_plugin_networking.families._util import swap

VERBS = {
    "set": ["SET", "PUT", "STORE", "WRITE"],
    "get": ["GET", "FETCH", "READ", "LOOKUP"],
    "del": ["DEL", "REMOVE", "DROP", "ERASE"],
    "count": ["COUNT", "SIZE", "LEN"],
    "incr": ["INCR", "BUMP", "ADD1"],
}
REPLIES = {"ok": ["OK", "+OK", "DONE", "STORED"], "nil": ["NIL", "(nil)", "NONE", "NOTFOUND"],
           "err": ["ERR", "-ERR", "ERROR"]}

SERVER = r'''import json, os, socketserver, threading
PORT = __PORT__
V = __VERBS__
R = __REPLIES__
STORE = "__STORE__"
LOCK = threading.Lock()
DATA = {}
if STORE and os.path.exists(STORE):
    DATA.update(json.load(open(STORE)))
def save():
    if STORE:
        os.makedirs(os.path.dirname(STORE), exist_ok=True)
        tmp = STORE + ".tmp"
        with open(tmp, "w") as fh:
            json.dump(DATA, fh)
        os.replace(tmp, STORE)
def handle(line):
    parts = line.split(" ", 2)
    verb = parts[0].upper()
    with LOCK:
        if verb == V["set"] and len(parts) == 3:
            DATA[parts[1]] = parts[2]
            save()
            return R["ok"]
        if verb == V["get"] and len(parts) == 2:
            return DATA.get(parts[1], R["nil"])
        if verb == V["del"] and len(parts) == 2:
            found = DATA.pop(parts[1], None) is not None
            save()
            return "1" if found else "0"
        if verb == V.get("count") and len(parts) == 1:
            return str(len(DATA))
        if verb == V.get("incr") and len(parts) == 2:
            try:
                DATA[parts[1]] = str(int(DATA.get(parts[1], "0")) + 1)
            except ValueError:
                return R["err"] + " not an integer"
            save()
            return DATA[parts[1]]
    return R["err"] + " unknown command"
class H(socketserver.StreamRequestHandler):
    def handle(self):
        for raw in self.rfile:
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if line.upper() == "QUIT":
                self.wfile.write(b"BYE\n")
                return
            if not line.strip():
                continue
            self.wfile.write((handle(line) + "\n").encode())
class S(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
S(("127.0.0.1", PORT), H).serve_forever()
'''

TESTS = r'''import json, os, socket, subprocess, time
import pytest

PORT = __PORT__
V = json.loads(r"""__VERBS__""")
R = json.loads(r"""__REPLIES__""")
LEVEL = "__LEVEL__"
PAIRS = json.loads(r"""__PAIRS__""")


def start():
    proc = subprocess.Popen(["python3", "/app/kvserver.py"], cwd="/app", stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", PORT), timeout=0.5).close()
            return proc
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.1)
    return proc


def stop(proc):
    proc.kill()
    proc.wait()


class Client:
    def __init__(self):
        self.sock = socket.create_connection(("127.0.0.1", PORT), timeout=3)
        self.file = self.sock.makefile("rb")

    def cmd(self, line):
        self.sock.sendall((line + "\n").encode())
        return self.file.readline().decode().rstrip("\r\n")

    def close(self):
        self.sock.close()


@pytest.fixture(scope="module")
def server():
    proc = start()
    yield proc
    stop(proc)


def test_set_get_del(server):
    c = Client()
    for k, v in PAIRS:
        assert c.cmd(f"{V['set']} {k} {v}") == R["ok"]
    for k, v in PAIRS:
        assert c.cmd(f"{V['get']} {k}") == v
    k0 = PAIRS[0][0]
    assert c.cmd(f"{V['del']} {k0}") == "1"
    assert c.cmd(f"{V['del']} {k0}") == "0"
    assert c.cmd(f"{V['get']} {k0}") == R["nil"]
    assert c.cmd(f"{V['set']} {k0} {PAIRS[0][1]}") == R["ok"]
    c.close()


def test_verbs_case_insensitive(server):
    c = Client()
    k, v = PAIRS[1]
    assert c.cmd(f"{V['get'].lower()} {k}") == v
    assert c.cmd(f"{V['set'].title()} {k} {v}") == R["ok"]
    c.close()


def test_unknown_and_quit(server):
    c = Client()
    assert c.cmd("FROBNICATE x").startswith(R["err"] + " ")
    assert c.cmd("QUIT") == "BYE"
    c.close()


if LEVEL != "easy":
    def test_count_and_spaces_in_values(server):
        c = Client()
        assert c.cmd(f"{V['set']} motd hello   there  world") == R["ok"]
        assert c.cmd(f"{V['get']} motd") == "hello   there  world"
        assert c.cmd(V["count"]) == str(len(PAIRS) + 1)
        c.close()

    def test_concurrent_clients_share_state(server):
        a, b = Client(), Client()
        assert a.cmd(f"{V['set']} shared from-a") == R["ok"]
        assert b.cmd(f"{V['get']} shared") == "from-a"
        assert b.cmd(f"{V['set']} shared from-b") == R["ok"]
        assert a.cmd(f"{V['get']} shared") == "from-b"
        a.close()
        b.close()

if LEVEL == "hard":
    def test_incr(server):
        c = Client()
        assert c.cmd(f"{V['incr']} hits") == "1"
        assert c.cmd(f"{V['incr']} hits") == "2"
        assert c.cmd(f"{V['set']} word abc") == R["ok"]
        assert c.cmd(f"{V['incr']} word").startswith(R["err"] + " ")
        assert c.cmd(f"{V['get']} word") == "abc"
        c.close()

    def test_state_survives_restart(server):
        stop(server)
        proc = start()
        try:
            c = Client()
            for k, v in PAIRS[1:]:
                assert c.cmd(f"{V['get']} {k}") == v
            assert c.cmd(f"{V['get']} hits") == "2"
            c.close()
        finally:
            stop(proc)
'''

WORDS = ["alpha", "bravo", "cedar", "delta", "ember", "fjord", "gamma", "harbor", "iris", "juniper", "kepler",
         "lumen", "maple", "nova", "onyx", "pixel", "quartz", "raven", "sierra", "tundra"]


def generate(req: TaskRequest) -> TaskDraft:
    rng = req.rng
    level = req.difficulty
    port = rng.randint(5000, 7999)
    verbs = {k: rng.choice(v) for k, v in VERBS.items()}
    if level == "easy":
        verbs.pop("count")
    if level != "hard":
        verbs.pop("incr")
    replies = {k: rng.choice(v) for k, v in REPLIES.items()}
    store = f"/app/data/{rng.choice(['store', 'kv', 'state', 'db'])}.json" if level == "hard" else ""
    pairs = []
    for k in rng.sample(WORDS, 4):
        pairs.append([f"{k}{rng.randint(1, 99)}", f"{rng.choice(WORDS)}-{rng.randint(100, 999)}"])

    lines = ["# KV line protocol", "",
             "Clients connect over TCP and send one command per line (`\\n` terminated, a trailing `\\r` is "
             "ignored); the server answers every command with exactly one line. Command verbs are "
             "case-insensitive; keys are single words; values are the rest of the line after the key "
             "(they may contain spaces, kept verbatim).", "", "| command | reply |", "|---|---|",
             f"| `{verbs['set']} <key> <value>` | `{replies['ok']}` |",
             f"| `{verbs['get']} <key>` | the value, or `{replies['nil']}` if the key is absent |",
             f"| `{verbs['del']} <key>` | `1` if the key existed (it is removed), else `0` |"]
    if "count" in verbs:
        lines.append(f"| `{verbs['count']}` | number of keys stored, in decimal |")
    if "incr" in verbs:
        lines.append(f"| `{verbs['incr']} <key>` | adds 1 to an integer value (absent counts as 0) and "
                     f"returns the new value; if the value is not an integer: `{replies['err']} not an integer` "
                     "and nothing changes |")
    lines += ["| `QUIT` | `BYE`, then the server closes the connection |", "",
              f"Anything else is answered with `{replies['err']} unknown command`.", ""]
    protocol = "\n".join(lines)

    reqs = [f"listen on 127.0.0.1 port {port} when started as `python3 /app/kvserver.py`",
            "use only the Python standard library"]
    if level != "easy":
        reqs.append("serve many clients at the same time; all clients share one key space")
    if store:
        reqs.append(f"persist the key space in {store} (JSON) so that a restarted server still has every "
                    "key; write it on every change")
    intro = pick(rng, [
        "Implement the server side of the line protocol described in /app/PROTOCOL.md.",
        "/app/PROTOCOL.md specifies a tiny key-value protocol over TCP. Write a server for it.",
        "We need a key-value server speaking the protocol in /app/PROTOCOL.md.",
    ])
    instruction = (f"{intro} Requirements:\n\n{bullets(reqs, rng)}\n\n"
                   "The grader starts your server itself (nothing you leave running survives), connects with "
                   "plain TCP clients, and checks every reply.\n")

    server = (SERVER.replace("__PORT__", str(port)).replace("__VERBS__", json.dumps(verbs))
              .replace("__REPLIES__", json.dumps(replies)).replace("__STORE__", store))
    if level == "easy":
        wrong_server = swap(server, 'verb = parts[0].upper()', 'verb = parts[0]')
    elif level == "medium":
        wrong_server = swap(server, "class S(socketserver.ThreadingTCPServer):", "class S(socketserver.TCPServer):")
    else:
        wrong_server = swap(server, f'STORE = "{store}"', 'STORE = ""')
    solve = f"""# Read the protocol spec
cat /app/PROTOCOL.md
ls -la /app

# Write the server: a threaded socketserver, one shared dict behind a lock{', saved atomically to JSON' if store else ''}
cat > /app/kvserver.py <<'PYEOF'
{server.rstrip()}
PYEOF

# Try it with a few commands through netcat
python3 /app/kvserver.py & SRV=$!
sleep 1
printf '{verbs['set']} k1 hello world\\n{verbs['get'].lower()} k1\\n{verbs['get']} nope\\nQUIT\\n' | nc -q 1 127.0.0.1 {port}
kill $SRV; wait $SRV 2>/dev/null
"""
    if store:
        solve += f"rm -f {store}\n"
    wrong = f"cat > /app/kvserver.py <<'PYEOF'\n{wrong_server.rstrip()}\nPYEOF\n"
    tests = (TESTS.replace("__PORT__", str(port)).replace("__VERBS__", json.dumps(verbs))
             .replace("__REPLIES__", json.dumps(replies)).replace("__LEVEL__", level)
             .replace("__PAIRS__", json.dumps(pairs)))
    return TaskDraft(instruction=instruction, app_files={"PROTOCOL.md": protocol}, solve=solve, wrong_solve=wrong,
                     tests=tests, tags=("tcp", "sockets", "protocol"), requires=("python3", "nc"))


FAMILY = TaskFamily(
    name="tcp-line-server",
    description="implement a line-based TCP key-value protocol (concurrency, persistence) from its spec",
    generate=generate,
    requires=("python3", "nc"),
)
