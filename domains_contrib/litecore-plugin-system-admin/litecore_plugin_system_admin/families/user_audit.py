"""Audit accounts in a copied /etc tree (passwd, shadow, group, sudoers) and lock unsafe accounts."""

from __future__ import annotations

import json

from litecore.records import TaskDraft, TaskFamily, TaskRequest
from litecore.wording import bullets

from litecore_plugin_system_admin.families._util import USERS, one_of

SYSTEM = (("daemon", 1, "/usr/sbin/nologin"), ("bin", 2, "/usr/sbin/nologin"), ("sys", 3, "/usr/sbin/nologin"),
          ("www-data", 33, "/usr/sbin/nologin"), ("backup", 34, "/usr/sbin/nologin"), ("nobody", 65534, "/usr/sbin/nologin"),
          ("sshd", 105, "/usr/sbin/nologin"), ("postfix", 107, "/bin/false"))
SHELLS = ("/bin/bash", "/bin/zsh", "/bin/sh")
HASH = "$6$rounds=5000$saltsalt$"


REFERENCE = r'''import json, os, re
etc = '/app/etc'
passwd = [l.split(':') for l in open(f'{etc}/passwd').read().splitlines() if l and not l.startswith('#')]
shadow = [l.split(':') for l in open(f'{etc}/shadow').read().splitlines() if l and not l.startswith('#')]
groups = [l.split(':') for l in open(f'{etc}/group').read().splitlines() if l and not l.startswith('#')]
approved = {l.strip() for l in open('/app/approved_admins.txt') if l.strip() and not l.startswith('#')}
gid = {g[0]: g[2] for g in groups}
admin_groups = ADMIN_GROUPS
admins = set()
for g in groups:
    if g[0] in admin_groups:
        admins |= {m for m in g[3].split(',') if m}
if PRIMARY:
    admins |= {p[0] for p in passwd if any(p[3] == gid.get(a) for a in admin_groups)}
if SUDOERS:
    files = [f'{etc}/sudoers'] + sorted(os.path.join(f'{etc}/sudoers.d', f) for f in os.listdir(f'{etc}/sudoers.d')
                                        if '.' not in f and not f.endswith('~'))
    for path in files:
        for line in open(path):
            line = line.strip()
            if not line or (line.startswith('#') and not line.startswith('#include')) or line.startswith(('Defaults', '#include', '@include')):
                continue
            who = line.split()[0]
            if who.startswith('%'):
                g = who[1:]
                admins |= {m for gg in groups if gg[0] == g for m in gg[3].split(',') if m}
                admins |= {p[0] for p in passwd if p[3] == gid.get(g)}
            else:
                admins.add(who)
report = {
    'uid0_accounts': sorted(p[0] for p in passwd if p[2] == '0' and p[0] != 'root'),
    'empty_passwords': sorted(s[0] for s in shadow if s[1] == ''),
    'unauthorized_admins': sorted(admins - approved - {'root'}),
}
json.dump(report, open('/app/audit.json', 'w'), indent=2)
if LOCK:
    lines = open(f'{etc}/shadow').read().splitlines(keepends=True)
    out = []
    for l in lines:
        f = l.split(':')
        if len(f) > 1 and f[1] == '':
            f[1] = '!'
        out.append(':'.join(f))
    open(f'{etc}/shadow', 'w').write(''.join(out))
print(json.dumps(report, indent=2))
'''


def generate(req: TaskRequest) -> TaskDraft:
    rng = req.rng
    d = req.difficulty
    humans = rng.sample(USERS, {"easy": 7, "medium": 8, "hard": 10}[d] + rng.randint(0, 3))
    admin_groups = ["sudo"] if d == "easy" else ["sudo", rng.choice(["wheel", "admin"])]
    passwd, shadow = [("root", 0, 0, "/root", "/bin/bash")], [("root", HASH + "rootpw")]
    groups: dict[str, tuple[int, list[str]]] = {"root": (0, []), "sudo": (27, []), "users": (100, [])}
    for g in admin_groups[1:]:
        groups[g] = ({"wheel": 10, "admin": 115}[g], [])
    for name, uid, sh in rng.sample(SYSTEM, 5):
        passwd.append((name, uid, uid, "/nonexistent", sh))
        shadow.append((name, "*"))
    uid = 1000 + rng.randint(0, 20)
    for h in humans:
        uid += rng.randint(1, 5)
        passwd.append((h, uid, 100, f"/home/{h}", rng.choice(SHELLS)))
        shadow.append((h, HASH + h[::-1]))
    approved = rng.sample(humans, 3)
    others = [h for h in humans if h not in approved]
    rng.shuffle(others)
    # plant the findings
    uid0 = others.pop()
    passwd = [(n, 0 if n == uid0 else u, g, hm, sh) for n, u, g, hm, sh in passwd]
    empty = [others.pop(), rng.choice(approved)]
    shadow = [(n, "" if n in empty else pw) for n, pw in shadow]
    rogue = others.pop()
    for a in approved[:2]:
        groups["sudo"][1].append(a)
    groups["sudo"][1].append(rogue)
    unauthorized = {rogue}
    primary_rogue = via_sudoers = group_via_sudoers = None
    if d != "easy":
        g2 = admin_groups[1]
        groups[g2][1].append(approved[2])
        primary_rogue = others.pop()
        passwd = [(n, u, groups[g2][0] if n == primary_rogue else g, hm, sh) for n, u, g, hm, sh in passwd]
        unauthorized.add(primary_rogue)
    ops_members: list[str] = []
    if d == "hard":
        via_sudoers = others.pop()
        unauthorized.add(via_sudoers)
        group_via_sudoers = others.pop()
        groups["ops"] = (2000 + rng.randint(0, 50), [group_via_sudoers])
        unauthorized.add(group_via_sudoers)
        ops_members = [group_via_sudoers]
    groups["users"][1].extend(sorted(rng.sample(humans, 3)))
    expected = {"uid0_accounts": [uid0], "empty_passwords": sorted(empty), "unauthorized_admins": sorted(unauthorized)}
    files: dict[str, str] = {
        "etc/passwd": "".join(f"{n}:x:{u}:{g}:{n}:{hm}:{sh}\n" for n, u, g, hm, sh in passwd),
        "etc/shadow": "".join(f"{n}:{pw}:19700:0:99999:7:::\n" for n, pw in shadow),
        "etc/group": "".join(f"{g}:x:{gid}:{','.join(m)}\n" for g, (gid, m) in groups.items()),
        "approved_admins.txt": "# people allowed to have admin rights\n" + "\n".join(sorted(approved)) + "\n",
    }
    sudoers = ["Defaults\tenv_reset", "Defaults\tsecure_path=\"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin\"",
               "root\tALL=(ALL:ALL) ALL", "%sudo\tALL=(ALL:ALL) ALL"]
    if d != "easy":
        sudoers.append(f"%{admin_groups[1]}\tALL=(ALL) ALL")
    if d == "hard":
        sudoers.append("#includedir /etc/sudoers.d")
        files["etc/sudoers.d/90-deploy"] = f"# deploy access\n{via_sudoers} ALL=(ALL) NOPASSWD: ALL\n"
        files["etc/sudoers.d/ops"] = "%ops ALL=(root) /usr/bin/systemctl restart *\n"
        files["etc/sudoers.d/old.disabled"] = f"{others[0] if others else approved[0]} ALL=(ALL) ALL\n"
        files["etc/sudoers.d/README"] = ("# Files in this directory whose names contain a '.' or end in '~' are "
                                         "ignored by sudo.\n")
    files["etc/sudoers"] = "\n".join(sudoers) + "\n"
    keys = ["`uid0_accounts`: accounts other than `root` with UID 0",
            "`empty_passwords`: accounts whose password field in `shadow` is empty (login without a password)",
            "`unauthorized_admins`: accounts with administrative rights that are not listed in "
            "`/app/approved_admins.txt` (`root` itself is fine)"]
    admin_def = ("an account has administrative rights when it is a member of the `sudo` group"
                 if d == "easy" else
                 f"an account has administrative rights when it is a member of `sudo` or `{admin_groups[1]}`; "
                 "membership counts both through the member list in `group` and through the account's primary "
                 "group in `passwd`")
    if d == "hard":
        admin_def += ("; it also has them when the sudoers configuration grants it any command, directly or through "
                      "a `%group` rule — read `etc/sudoers` and the files it includes from `etc/sudoers.d/` (which "
                      "maps to /app/etc/sudoers.d here), following sudo's rules about which file names are read")
    reqs = [f"write `/app/audit.json`: a JSON object with these keys, each a sorted list of account names:\n  - "
            + "\n  - ".join(keys), admin_def]
    lock = d != "easy"
    if lock:
        reqs.append("lock every account with an empty password by setting its `shadow` password field to `!`; "
                    "all other lines of `/app/etc/shadow` must stay byte-for-byte the same")
    intro = one_of(rng, "A copy of a server's account database is in /app/etc (the server itself is offline).",
                   "Before the compliance review we need an account audit of the host whose /etc was copied to /app/etc.",
                   "Audit the user accounts of the machine snapshot in /app/etc.")
    instruction = f"{intro}\n\n{bullets(reqs)}\n"
    ref = (REFERENCE.replace("ADMIN_GROUPS", repr(sorted(set(admin_groups))))
           .replace("PRIMARY", repr(d != "easy")).replace("SUDOERS", repr(d == "hard")).replace("LOCK", repr(lock)))
    solve = f"""# Look at the account files and the policy
cd /app && ls -R etc && cat etc/group etc/sudoers approved_admins.txt && head -5 etc/passwd etc/shadow

# Compute the findings (group lists, primary groups, sudoers grants) and lock empty-password accounts
python3 - <<'PY'
{ref.rstrip()}
PY

# Double-check the shadow file
grep -n ':!:' /app/etc/shadow; true
"""
    if d == "easy":
        bad = ref.replace("p[2] == '0' and p[0] != 'root'", "p[2] == '0'")
    elif d == "medium":
        # forgets that a primary group in passwd also makes an account a member
        bad = ref.replace("if True:\n    admins |= {p[0] for p in passwd if any(",
                          "if False:\n    admins |= {p[0] for p in passwd if any(")
    else:
        bad = ref.replace("if '.' not in f and not f.endswith('~')", "if True")
    assert bad != ref
    wrong = f"python3 - <<'PY'\n{bad.rstrip()}\nPY\n"
    orig_shadow = files["etc/shadow"]
    locked = "".join(f"{n}:{'!' if n in empty else pw}:19700:0:99999:7:::\n" for n, pw in shadow)
    tests = f"""import json
import pathlib

EXPECTED = {json.dumps(expected)}
LOCK = {lock!r}
LOCKED_SHADOW = {json.dumps(locked)}
ORIG_SHADOW = {json.dumps(orig_shadow)}


def report():
    return json.loads(pathlib.Path("/app/audit.json").read_text())


def test_uid0():
    assert report()["uid0_accounts"] == EXPECTED["uid0_accounts"]


def test_empty_passwords():
    assert report()["empty_passwords"] == EXPECTED["empty_passwords"]


def test_unauthorized_admins():
    assert report()["unauthorized_admins"] == EXPECTED["unauthorized_admins"]


def test_shadow_file():
    text = pathlib.Path("/app/etc/shadow").read_text()
    if LOCK:
        assert text == LOCKED_SHADOW
    else:
        assert text in (ORIG_SHADOW, LOCKED_SHADOW)
"""
    return TaskDraft(
        instruction=instruction,
        app_files=files,
        solve=solve,
        wrong_solve=wrong,
        tests=tests,
        tags=("accounts", "sudo", "audit", "security"),
    )


FAMILY = TaskFamily(
    name="user-audit",
    description="audit passwd/shadow/group/sudoers in a copied /etc and lock unsafe accounts",
    generate=generate,
    requires=("python3",),
)
