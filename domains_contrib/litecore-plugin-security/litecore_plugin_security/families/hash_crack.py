"""Crack a dump of mixed-format password hashes with a wordlist and stated mangling rules."""

from __future__ import annotations

import base64
import hashlib
import json
import random

from litecore.records import TaskDraft, TaskFamily, TaskRequest
from litecore.wording import bullets, pick

from litecore_plugin_security.families._util import swap

SYL = ["ka", "ro", "mi", "ten", "zu", "lo", "var", "pi", "nek", "sa", "dor", "el", "qui", "ma", "tor", "fen",
       "bri", "ul", "os", "gan", "hex", "ri", "wen", "ly"]
USERS = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory", "niaj",
         "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter", "yolanda", "svc-backup", "svc-ci",
         "svc-mail", "svc-metrics"]


def _words(rng: random.Random, n: int) -> list[str]:
    out: set[str] = set()
    while len(out) < n:
        out.add("".join(rng.choice(SYL) for _ in range(rng.randint(2, 4))))
    return sorted(out)


def _hash(fmt: str, pw: str, rng: random.Random) -> str:
    if fmt in ("md5", "sha1", "sha256"):
        return hashlib.new(fmt, pw.encode()).hexdigest()
    if fmt == "salted":
        salt = f"{rng.getrandbits(32):08x}"
        return f"$sha256${salt}${hashlib.sha256((salt + pw).encode()).hexdigest()}"
    it = rng.choice([600, 800, 1000])
    salt = f"{rng.getrandbits(48):012x}"
    dk = hashlib.pbkdf2_hmac("sha256", pw.encode(), salt.encode(), it)
    return f"pbkdf2_sha256${it}${salt}${base64.b64encode(dk).decode()}"


SCRIPT = r'''import base64, hashlib, hmac
MANGLE = __MANGLE__
words = [w.strip() for w in open("/app/wordlist.txt") if w.strip()]
def variants(w):
    yield w
    if MANGLE:
        bases = [w, w.capitalize()]
        for b in bases:
            if b != w:
                yield b
            for d in range(100):
                yield f"{b}{d}"
cands = [v for w in words for v in variants(w)]
def check(h, pw):
    if h.startswith("pbkdf2_sha256$"):
        _, it, salt, b64 = h.split("$")
        dk = hashlib.pbkdf2_hmac("sha256", pw.encode(), salt.encode(), int(it))
        return hmac.compare_digest(base64.b64encode(dk).decode(), b64)
    if h.startswith("$sha256$"):
        _, _, salt, hexd = h.split("$")
        return hashlib.sha256((salt + pw).encode()).hexdigest() == hexd
    algo = {32: "md5", 40: "sha1", 64: "sha256"}[len(h)]
    return hashlib.new(algo, pw.encode()).hexdigest() == h
cracked, missed = [], []
for line in open("/app/hashes.txt"):
    line = line.strip()
    if not line or line.startswith("#"):
        continue
    user, h = line.split(":", 1)
    pool = words if h.startswith("pbkdf2_sha256$") else cands
    hit = next((pw for pw in pool if check(h, pw)), None)
    if hit is None:
        missed.append(user)
    else:
        cracked.append(f"{user}:{hit}")
open("/app/cracked.txt", "w").write("\n".join(cracked) + "\n")
open("/app/uncracked.txt", "w").write("\n".join(missed) + ("\n" if missed else ""))
print(len(cracked), "cracked;", "uncracked:", missed)
'''


def generate(req: TaskRequest) -> TaskDraft:
    rng = req.rng
    level = req.difficulty
    words = _words(rng, {"easy": 80, "medium": 150, "hard": 200}[level])
    mangle = level != "easy"
    fmts = ["md5", "sha1", "sha256"] + (["salted"] if level != "easy" else []) + (["pbkdf2"] if level == "hard" else [])
    n = {"easy": 5, "medium": 7, "hard": 9}[level]
    users = rng.sample([u for u in USERS if not u.startswith("svc-")], n)
    entries: list[tuple[str, str, str | None]] = []
    for i, user in enumerate(users):
        fmt = fmts[i] if i < len(fmts) and fmts[i] != "pbkdf2" else rng.choice([f for f in fmts if f != "pbkdf2"])
        pw = rng.choice(words)
        if mangle and (i == 1 or rng.random() < 0.5):  # at least one mangled password
            pw = rng.choice([pw.capitalize(), pw + str(rng.randint(0, 99)), pw.capitalize() + str(rng.randint(0, 99))])
            if pw == pw.lower() and not any(c.isdigit() for c in pw):
                pw = pw + "7"
        entries.append((user, _hash(fmt, pw, rng), pw))
    if level == "hard":
        for svc in rng.sample([u for u in USERS if u.startswith("svc-")], 2):
            pw = rng.choice(words)
            entries.append((svc, _hash("pbkdf2", pw, rng), pw))
        # accounts whose passwords are not in the search space at all
        for user in rng.sample([u for u in USERS if u not in users and not u.startswith("svc-")], 2):
            pw = f"{rng.choice(words)}!{rng.randint(100, 999)}"
            entries.append((user, _hash(rng.choice(["sha256", "salted"]), pw, rng), None))
    rng.shuffle(entries)
    hashes = "# user:hash  (exported from the legacy auth database)\n" + "".join(f"{u}:{h}\n" for u, h, _ in entries)
    expected = {u: pw for u, _, pw in entries if pw is not None}
    uncrackable = sorted(u for u, _, pw in entries if pw is None)

    formats = ["32/40/64 hex digits: unsalted MD5 / SHA-1 / SHA-256 of the password"]
    if level != "easy":
        formats.append("`$sha256$<salt>$<hex>`: SHA-256 of the salt string followed by the password")
    if level == "hard":
        formats.append("`pbkdf2_sha256$<iterations>$<salt>$<base64>`: PBKDF2-HMAC-SHA256 (salt used as ASCII "
                       "bytes, 32-byte key, standard base64)")
    rules = ["Every crackable password comes from /app/wordlist.txt"]
    if mangle:
        rules.append("Human users were allowed simple variations: the word as is or capitalised (first letter "
                     "upper case), optionally followed by one number from 0 to 99")
    if level == "hard":
        rules.append("Service accounts (`pbkdf2_sha256`) use plain wordlist words, never variations")
        rules.append("Some accounts cannot be cracked with this wordlist: list their user names, one per "
                     "line, in /app/uncracked.txt")
    intro = pick(rng, [
        "During the audit we pulled /app/hashes.txt from a legacy system.",
        "/app/hashes.txt is a dump of user password hashes from an old application.",
        "An old service stored its users' password hashes in /app/hashes.txt.",
    ])
    ask = pick(rng, ["Recover as many passwords as you can and write them to /app/cracked.txt as `user:password` "
                     "lines (any order).",
                     "Find the plaintext passwords; write one `user:password` line per cracked account to "
                     "/app/cracked.txt."])
    instruction = (f"{intro} {ask}\n\nHash formats in the dump:\n{bullets(formats)}\n\n"
                   f"What we know:\n{bullets(rules, rng)}\n\nOnly list accounts you actually cracked.\n")

    script = SCRIPT.replace("__MANGLE__", str(mangle))
    if level == "easy":
        wrong_script = swap(script, 'algo = {32: "md5", 40: "sha1", 64: "sha256"}[len(h)]', 'algo = "md5"')
    elif level == "medium":
        wrong_script = swap(script, "MANGLE = True", "MANGLE = False")
    else:
        wrong_script = swap(script, 'pool = words if h.startswith("pbkdf2_sha256$") else cands',
                            'pool = [] if h.startswith("pbkdf2_sha256$") else cands')
    solve = f"""# Look at the dump: which hash formats occur, and how big the wordlist is
head -20 /app/hashes.txt
cut -d: -f2 /app/hashes.txt | grep -v '^ *#' | awk '{{print length($0), substr($0,1,8)}}' | sort | uniq -c
wc -l /app/wordlist.txt

# Dictionary attack: identify each hash's format, try the candidate space that applies to it
cat > /app/crack.py <<'PYEOF'
{script.rstrip()}
PYEOF
python3 /app/crack.py

# Result
cat /app/cracked.txt
"""
    wrong = f"cat > /app/crack.py <<'PYEOF'\n{wrong_script.rstrip()}\nPYEOF\npython3 /app/crack.py\n"
    tests = f'''import json
import pathlib

EXPECTED = json.loads(r"""{json.dumps(expected, sort_keys=True)}""")
UNCRACKABLE = {json.dumps(uncrackable)}
LEVEL = "{level}"


def cracked():
    out = {{}}
    for line in pathlib.Path("/app/cracked.txt").read_text().splitlines():
        if line.strip():
            user, _, pw = line.partition(":")
            out[user.strip()] = pw.rstrip("\\r")
    return out


def test_every_account_cracked():
    got = cracked()
    assert sorted(got) == sorted(EXPECTED)


def test_passwords_correct():
    got = cracked()
    for user, pw in EXPECTED.items():
        assert got.get(user) == pw, user


if LEVEL == "hard":
    def test_uncracked_listed():
        text = pathlib.Path("/app/uncracked.txt").read_text()
        assert sorted(x.strip() for x in text.splitlines() if x.strip()) == UNCRACKABLE
'''
    return TaskDraft(instruction=instruction, app_files={"hashes.txt": hashes, "wordlist.txt": "\n".join(words) + "\n"},
                     solve=solve, wrong_solve=wrong, tests=tests, tags=("password-cracking", "hashing"))


FAMILY = TaskFamily(
    name="hash-crack",
    description="crack mixed-format password hashes (plain, salted, PBKDF2) with a wordlist and mangling rules",
    generate=generate,
    requires=("python3",),
)
