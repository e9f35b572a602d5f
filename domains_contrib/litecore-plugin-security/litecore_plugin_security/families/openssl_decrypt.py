"""Decrypt a vault of `openssl enc` files from key hints (candidate lists, chained secrets, armour, gzip)."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import subprocess

from litecore.records import TaskDraft, TaskFamily, TaskRequest
from litecore.wording import pick

from litecore_plugin_security.families._util import swap

WORDS = ["copper", "lantern", "orbit", "saffron", "glacier", "meadow", "falcon", "quartz", "harbor", "velvet",
         "ember", "tundra", "zephyr", "cobalt", "juniper", "mosaic", "nebula", "pepper", "raven", "summit",
         "thistle", "walnut", "willow", "marble"]
TOPICS = ["payroll", "backup-keys", "db-creds", "incident", "roadmap", "vendor", "audit", "oncall"]


def openssl_encrypt(data: bytes, cipher: str, password: str, iters: int, salt: bytes) -> bytes:
    """``openssl enc`` output with the standard Salted__ header, deterministic for a given salt."""
    body = subprocess.run(["openssl", "enc", f"-{cipher}", "-pbkdf2", "-iter", str(iters), "-S", salt.hex(),
                           "-pass", f"pass:{password}"], input=data, capture_output=True, check=True).stdout
    return b"Salted__" + salt + body


SCRIPT = r'''import base64, gzip, json, os, re, subprocess
MARK = b"__MARK__"
manifest = json.load(open("/app/vault/manifest.json"))
cands = [l.strip() for l in open("/app/vault/candidates.txt") if l.strip()] if os.path.exists("/app/vault/candidates.txt") else []
cands += re.findall(r"passphrase: (\S+)", open("/app/NOTES.md").read())
os.makedirs("/app/decrypted", exist_ok=True)
todo = dict(manifest)
tried = {name: set() for name in manifest}  # a (file, passphrase) pair that failed once fails again
while todo:
    progress = False
    for name, meta in sorted(todo.items()):
        for pw in [c for c in cands if c not in tried[name]]:
            tried[name].add(pw)
            args = ["openssl", "enc", "-d", "-" + meta["cipher"], "-pbkdf2", "-iter", str(meta["iter"]), "-pass", "pass:" + pw,
                    "-in", "/app/vault/" + name]
            if meta.get("armor"):
                args.append("-a")
            r = subprocess.run(args, capture_output=True)
            if r.returncode != 0:
                continue
            data = r.stdout
            if meta.get("compressed") == "gzip":
                try:
                    data = gzip.decompress(data)
                except OSError:
                    continue
            if not data.startswith(MARK):
                continue
            out = "/app/decrypted/" + name[: -len(".enc")]
            open(out, "wb").write(data)
            cands = re.findall(r"passphrase: (\S+)", data.decode("utf-8", "replace")) + cands  # new hints first
            del todo[name]
            progress = True
            print("decrypted", name)
            break
    if not progress:
        raise SystemExit(f"stuck on {sorted(todo)}")
'''


def generate(req: TaskRequest) -> TaskDraft:
    rng = req.rng
    level = req.difficulty
    mark = rng.choice(["VAULT-OK", "# sealed-by-ops", "BEGIN-NOTE", "== PLAINTEXT =="])
    n = {"easy": 2, "medium": 3, "hard": 4}[level]
    topics = rng.sample(TOPICS, n)
    iters = rng.choice([1000, 5000, 10000, 20000])
    pool = rng.sample(WORDS, 16)
    cands = [f"{w}-{rng.randint(10, 99)}" for w in pool]
    files: dict[str, bytes] = {}
    manifest: dict[str, dict] = {}
    plains: dict[str, bytes] = {}
    main_pw = cands[0]
    stream_pw = ""
    chain_pw = f"{rng.choice(WORDS)}{rng.randint(1000, 9999)}"
    for i, topic in enumerate(topics):
        name = f"{topic}.txt"
        meta: dict = {"cipher": "aes-256-cbc", "iter": iters}
        if level == "easy":
            pw = main_pw
        else:
            pw = cands[rng.randint(3, len(cands) - 1)]
            meta["cipher"] = rng.choice(["aes-256-cbc", "aes-128-cbc", "camellia-256-cbc"])
            meta["iter"] = rng.choice([1000, 2000, 3000, 5000])  # every wrong guess pays the PBKDF2 rounds
            if i == 0:
                meta["cipher"] = rng.choice(["chacha20", "aes-256-ctr"])  # wrong passwords "succeed" here
                stream_pw = pw
        lines = [mark, f"topic: {topic}", f"owner: {rng.choice(['ops', 'finance', 'security', 'platform'])}"]
        for _ in range(rng.randint(2, 5)):
            lines.append(f"{rng.choice(['key', 'token', 'note', 'host'])}-{rng.randint(1, 99)}: "
                         f"{rng.getrandbits(64):016x}")
        if level == "hard" and i == 1:
            lines.append(f"next passphrase: {chain_pw}")
        if level == "hard" and i == 2:
            pw = chain_pw  # only learnable from file #1's plaintext
        plain = ("\n".join(lines) + "\n").encode()
        plains[name] = plain
        data = plain
        if level == "hard" and i == 3:
            data = gzip.compress(plain, mtime=0)
            meta["compressed"] = "gzip"
        enc = openssl_encrypt(data, meta["cipher"], pw, meta["iter"], rng.getrandbits(64).to_bytes(8, "big"))
        if level == "hard" and i in (2, 3):
            b64 = base64.b64encode(enc).decode()
            enc = ("\n".join(b64[j:j + 64] for j in range(0, len(b64), 64)) + "\n").encode()
            meta["armor"] = True
        files[f"vault/{name}.enc"] = enc
        manifest[f"{name}.enc"] = meta

    notes = [f"Every plaintext starts with the line `{mark}`; anything else is a wrong key."]
    if level == "easy":
        notes.insert(0, f"The vault passphrase: {main_pw}")
        notes.append(f"All files were made with `openssl enc -aes-256-cbc -pbkdf2 -iter {iters}` (salted).")
    else:
        notes.append("Each file used a different passphrase from /app/vault/candidates.txt"
                     + (" — except one, whose passphrase is written inside another vault file" if level == "hard" else "")
                     + ".")
        notes.append("/app/vault/manifest.json records each file's cipher and PBKDF2 iteration count "
                     "(`openssl enc -<cipher> -pbkdf2 -iter <iter>`, salted)"
                     + ("; `armor` means base64 (`-a`) and `compressed: gzip` means the plaintext was gzipped "
                        "before encryption" if level == "hard" else "") + ".")
    notes_md = "# Vault notes\n\n" + "\n".join(f"- {x}" for x in notes) + "\n"
    app_files: dict[str, str | bytes] = {"NOTES.md": notes_md, "vault/manifest.json": json.dumps(manifest, indent=2) + "\n"}
    app_files.update(files)
    if level != "easy":
        shuffled = cands[:]
        rng.shuffle(shuffled)
        # the stream-cipher file's real passphrase is never first: "openssl exited 0" proves nothing there
        if shuffled[0] == stream_pw:
            shuffled[0], shuffled[1] = shuffled[1], shuffled[0]
        app_files["vault/candidates.txt"] = "\n".join(shuffled) + "\n"

    intro = pick(rng, [
        "We lost access to the ops vault in /app/vault/. The hints we have are in /app/NOTES.md.",
        "/app/vault/ holds files encrypted with `openssl enc`; /app/NOTES.md has what we remember about the keys.",
        "Recover the contents of the encrypted files in /app/vault/ (see /app/NOTES.md for key hints).",
    ])
    ask = pick(rng, [
        "Write each decrypted file to /app/decrypted/ under its name without `.enc` (e.g. `x.txt.enc` -> "
        "/app/decrypted/x.txt), byte for byte.",
        "For every `NAME.enc`, put the exact plaintext in /app/decrypted/NAME.",
    ])
    extra = []
    if level == "hard":
        extra.append("For gzipped files, /app/decrypted/ must hold the decompressed plaintext.")
    instruction = f"{intro} {ask}" + (" " + " ".join(extra) if extra else "") + "\n"

    script = SCRIPT.replace("__MARK__", mark)
    if level == "easy":
        app_files["vault/manifest.json"] = json.dumps(manifest, indent=2) + "\n"
        wrong_script = swap(script, '"-pbkdf2", "-iter", str(meta["iter"]), ', '"-md", "sha256", ')
        wrong_script = swap(wrong_script, "if not data.startswith(MARK):\n                continue\n", "")
    elif level == "medium":
        wrong_script = swap(script, "if not data.startswith(MARK):\n                continue\n", "")
    else:
        wrong_script = swap(script, '''            if meta.get("compressed") == "gzip":
                try:
                    data = gzip.decompress(data)
                except OSError:
                    continue
            if not data.startswith(MARK):''', '''            if not (data.startswith(MARK) or data[:2] == b"\\x1f\\x8b"):''')
    solve = f"""# Read the hints and look at the vault
cat /app/NOTES.md
ls -la /app/vault/
cat /app/vault/manifest.json
head -c 16 /app/vault/{topics[0]}.txt.enc | od -c

# Try the known passphrase(s) per file with the recorded parameters; accept a key only when the
# plaintext starts with the marker (stream ciphers "succeed" with any key); learn new passphrases as we go
cat > /app/unlock.py <<'PYEOF'
{script.rstrip()}
PYEOF
python3 /app/unlock.py

# Check the results
ls -la /app/decrypted/
head -n 3 /app/decrypted/*
"""
    wrong = f"cat > /app/unlock.py <<'PYEOF'\n{wrong_script.rstrip()}\nPYEOF\npython3 /app/unlock.py\n"
    digests = {name: hashlib.sha256(p).hexdigest() for name, p in plains.items()}
    tests = f'''import hashlib
import json
import pathlib

DIGESTS = json.loads(r"""{json.dumps(digests, sort_keys=True)}""")


def test_all_files_present():
    got = sorted(p.name for p in pathlib.Path("/app/decrypted").iterdir())
    assert got == sorted(DIGESTS)


def test_plaintexts_exact():
    for name, digest in DIGESTS.items():
        data = pathlib.Path("/app/decrypted", name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == digest, name
'''
    if level == "hard":
        tests += '''

def test_chained_and_compressed_files():
    names = sorted(DIGESTS)
    for name in names:
        data = pathlib.Path("/app/decrypted", name).read_bytes()
        assert data[:2] != b"\\x1f\\x8b", name
'''
    return TaskDraft(instruction=instruction, app_files=app_files, solve=solve, wrong_solve=wrong, tests=tests,
                     tags=("openssl", "cryptography", "forensics"), requires=("openssl", "python3"))


FAMILY = TaskFamily(
    name="openssl-decrypt",
    description="decrypt openssl-enc vault files from key hints: candidates, chained passphrases, armour, gzip",
    generate=generate,
    requires=("openssl", "python3"),
)
