"""Write a crontab from scheduling requirements; checked by simulating a year of firings."""

from __future__ import annotations

import json
import random

from litecore.records import TaskDraft, TaskFamily, TaskRequest
from litecore.wording import bullets

from litecore_plugin_system_admin.families._util import SERVICES, USERS, one_of

#: A small cron evaluator, pasted into the hidden tests (stdlib only). Semantics follow Vixie cron:
#: lists, ranges, steps, month/day names, 7 = Sunday, @macros, and day-of-month OR day-of-week
#: when both are restricted.
CRON_EVAL = r'''
import datetime

MACROS = {"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
          "@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *"}
MON = {m: i + 1 for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split())}
DOW = {d: i for i, d in enumerate("sun mon tue wed thu fri sat".split())}


def _num(tok, names):
    tok = tok.lower()
    return names[tok] if tok in names else int(tok)


def parse_field(text, lo, hi, names=None):
    names = names or {}
    out = set()
    for part in text.split(","):
        step = None
        if "/" in part:
            part, s = part.split("/")
            step = int(s)
        if part == "*":
            a, b = lo, hi
        elif "-" in part:
            x, y = part.split("-")
            a, b = _num(x, names), _num(y, names)
        else:
            a = _num(part, names)
            b = hi if step else a
        if a < lo or b > hi or a > b:
            raise ValueError(f"bad range {part}")
        out.update(range(a, b + 1, step or 1))
    return out


def parse_schedule(fields):
    minute = parse_field(fields[0], 0, 59)
    hour = parse_field(fields[1], 0, 23)
    dom = parse_field(fields[2], 1, 31)
    mon = parse_field(fields[3], 1, 12, MON)
    dow = {d % 7 for d in parse_field(fields[4], 0, 7, DOW)}
    either = not fields[2].startswith("*") and not fields[4].startswith("*")
    times = frozenset(h * 60 + m for h in hour for m in minute)
    return times, dom, mon, dow, either


def day_matches(sched, day):
    _times, dom, mon, dow, either = sched
    if day.month not in mon:
        return False
    a, b = day.day in dom, (day.isoweekday() % 7) in dow
    return (a or b) if either else (a and b)


def firing_calendar(schedules, year=2025):
    """For each day of the year, the sorted minutes-of-day when any of the schedules fires."""
    day = datetime.date(year, 1, 1)
    out, union = [], {}  # days with the same matching schedules share one sorted union
    while day.year == year:
        key = tuple(i for i, s in enumerate(schedules) if day_matches(s, day))
        if key not in union:
            union[key] = tuple(sorted(set().union(*(schedules[i][0] for i in key))))
        out.append(union[key])
        day += datetime.timedelta(days=1)
    return out


def split_line(line, with_user):
    """(schedule fields, user, command) of a crontab line."""
    if line.startswith("@"):
        macro, rest = line.split(None, 1)
        fields = MACROS[macro.lower()].split()
    else:
        parts = line.split(None, 5)
        fields, rest = parts[:5], parts[5] if len(parts) > 5 else ""
    user = None
    if with_user:
        user, rest = rest.split(None, 1)
    return fields, user, " ".join(rest.split())


def read_crontab(text, with_user):
    env, jobs = {}, []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        head = line.split(None, 1)[0]
        if "=" in head and not head[0].isdigit() and not head.startswith(("*", "@")):
            k, v = line.split("=", 1)
            env[k.strip()] = v.strip().strip('"').strip("'")
            continue
        jobs.append(split_line(line, with_user))
    return env, jobs
'''

_ns: dict = {}
exec(compile(CRON_EVAL, "cron_eval", "exec"), _ns)  # noqa: S102 - our own constant code


def _job_templates(rng: random.Random, d: str) -> list[tuple[str, str, str]]:
    """(description, reference schedule, wrong schedule or '') for candidate jobs."""
    h, m = rng.randint(0, 5), rng.choice([0, 5, 10, 15, 20, 30, 40, 45, 50])
    n = rng.choice([5, 10, 15, 20, 30])
    h1, h2 = rng.randint(6, 9), rng.randint(16, 19)
    wd_h, wd_m = rng.randint(6, 22), rng.choice([0, 15, 30, 45])
    md = rng.randint(1, 28)
    q = rng.randint(1, 3)
    maint = rng.randint(1, 22)
    two = sorted(rng.sample(range(0, 24), 2))
    basic = [
        (f"every day at {h:02d}:{m:02d}", f"{m} {h} * * *", f"{h} {m} * * *"),
        (f"every {n} minutes, around the clock", f"*/{n} * * * *", f"{n} * * * *"),
        (f"Monday to Friday at {wd_h:02d}:{wd_m:02d} (not at weekends)", f"{wd_m} {wd_h} * * 1-5", f"{wd_m} {wd_h} * * *"),
        (f"on day {md} of every month at {h:02d}:00", f"0 {h} {md} * *", f"0 {h} * * {md % 7}"),
        (f"twice a day, at {two[0]:02d}:{m:02d} and {two[1]:02d}:{m:02d}", f"{m} {two[0]},{two[1]} * * *",
         f"{m} {two[0]}-{two[1]} * * *"),
        (f"on Saturdays and Sundays at {wd_h:02d}:{wd_m:02d}", f"{wd_m} {wd_h} * * 6,0", f"{wd_m} {wd_h} * * 6"),
    ]
    medium = [
        (f"every {n} minutes during business hours on weekdays: the first run at {h1:02d}:00, the last one at "
         f"{h2:02d}:{60 - n:02d}", f"*/{n} {h1}-{h2} * * 1-5", f"*/{n} {h1}-{h2 + 1} * * 1-5"),
        (f"quarterly, at 06:{m:02d} on the {q}. day of January, April, July and October",
         f"{m} 6 {q} 1,4,7,10 *", f"{m} 6 {q} */4 *" if q else ""),
    ]
    hard = [
        (f"at 03:{m:02d} on the {md}. of every month and also every Monday at that time",
         f"{m} 3 {md} * 1", f"{m} 3 {md} * *"),
        (f"every 10 minutes, except during the maintenance hour {maint:02d}:00-{maint:02d}:59 when it must not run",
         f"*/10 0-{maint - 1},{maint + 1}-23 * * *", "*/10 * * * *"),
    ]
    if d == "easy":
        return rng.sample(basic, 3)
    if d == "medium":
        return rng.sample(basic, 2) + [medium[0], rng.choice(medium)] if rng.random() < 0.5 else \
            rng.sample(basic, 2) + medium
    return rng.sample(basic, 2) + [rng.choice(medium)] + hard


def generate(req: TaskRequest) -> TaskDraft:
    rng = req.rng
    d = req.difficulty
    jobs = []
    used: set[str] = set()
    templates = _job_templates(rng, d)
    # de-duplicate templates that may repeat in the medium mix
    uniq = []
    for t in templates:
        if t[1] not in {u[1] for u in uniq}:
            uniq.append(t)
    for desc, ref, bad in uniq:
        svc = rng.choice([s for s in SERVICES if s not in used])
        used.add(svc)
        action = rng.choice(["backup", "sync", "cleanup", "report", "rotate", "check"])
        cmd = f"/opt/{svc}/bin/{action}.sh --quiet >> /var/log/{svc}-{action}.log 2>&1"
        jobs.append({"desc": desc, "ref": ref, "bad": bad, "cmd": cmd, "user": rng.choice(USERS)})
    system = d == "hard"
    mailto = f"{rng.choice(USERS)}@{rng.choice(['example.com', 'ops.example.net', 'corp.example.org'])}"
    env = {}
    if d != "easy":
        env["MAILTO"] = mailto
    if d == "hard":
        env["SHELL"] = "/bin/bash"
    target = "/app/cron.d/jobs" if system else "/app/crontab"
    lines = []
    for j in jobs:
        who = f" as user `{j['user']}`" if system else ""
        lines.append(f"{j['desc']}{who}: `{j['cmd']}`")
    extra = []
    if "MAILTO" in env:
        extra.append(f"mail about job output must go to {mailto} (set `MAILTO`)")
    if "SHELL" in env:
        extra.append("jobs must run under `/bin/bash` (set `SHELL`)")
    fmt = ("It is a system crontab (the /etc/cron.d format): every job line has a user name field between the "
           "schedule and the command." if system else "It is a user crontab (the format `crontab -e` edits: five "
           "schedule fields, then the command).")
    intro = one_of(rng, f"Our jobs are moving to a new host. Write {target} with the schedule below.",
                   f"Create the cron table {target} for the following recurring jobs.",
                   f"Operations handed over these scheduling requirements; turn them into {target}.")
    instruction = (f"{intro} {fmt} Commands must be exactly as given. The times are the server's local time.\n\n"
                   + "Jobs:\n" + bullets(lines, rng) + ("\n\nAlso:\n" + bullets(extra, rng) if extra else "")
                   + "\n\nThe cron daemon is not running here; only the file is checked.\n")

    def render(which: str) -> str:
        out = [f"{k}={v}" for k, v in env.items()]
        for j in jobs:
            sched = j[which] or j["ref"]
            out.append(f"{sched} {j['user'] + ' ' if system else ''}{j['cmd']}")
        return "\n".join(out) + "\n"

    cal = _ns["firing_calendar"]
    sched = _ns["parse_schedule"]

    def differs(j: dict) -> bool:
        try:
            return cal([sched(j["bad"].split())]) != cal([sched(j["ref"].split())])
        except ValueError:
            return True

    wrong_pick = rng.choice([i for i, j in enumerate(jobs) if j["bad"] and differs(j)])
    wrong_jobs_render = render("ref").splitlines()
    wrong_jobs_render[len(env) + wrong_pick] = (f"{jobs[wrong_pick]['bad']} "
                                                f"{jobs[wrong_pick]['user'] + ' ' if system else ''}"
                                                f"{jobs[wrong_pick]['cmd']}")
    wrong_text = "\n".join(wrong_jobs_render) + "\n"
    solve = f"""# Check what already exists and write the schedule down field by field
ls -la /app; ls /app/cron.d 2>/dev/null; true

# Write the crontab: minute hour day-of-month month day-of-week{' user' if system else ''} command
mkdir -p "$(dirname {target})" && cat > {target} <<'CRON'
{render("ref").rstrip()}
CRON

# Review the result
cat {target}
"""
    wrong = f"mkdir -p \"$(dirname {target})\" && cat > {target} <<'CRON'\n{wrong_text.rstrip()}\nCRON\n"
    spec = [{"ref": j["ref"], "cmd": " ".join(j["cmd"].split()), "user": j["user"]} for j in jobs]
    tests = CRON_EVAL + f"""

import pathlib

import pytest

TARGET = pathlib.Path({target!r})
SYSTEM = {system!r}
JOBS = {json.dumps(spec, indent=1)}
ENV = {json.dumps(env)}


def load():
    if not TARGET.is_file():
        pytest.fail(f"{{TARGET}} does not exist", pytrace=False)
    return read_crontab(TARGET.read_text(), SYSTEM)


def test_file_parses():
    env, jobs = load()
    assert jobs
    for fields, user, cmd in jobs:
        parse_schedule(fields)
        assert cmd


def test_exactly_the_required_commands():
    _env, jobs = load()
    assert sorted({{cmd for _f, _u, cmd in jobs}}) == sorted(j["cmd"] for j in JOBS)


def test_environment():
    env, _jobs = load()
    for k, v in ENV.items():
        assert env.get(k) == v, k


def test_users():
    _env, jobs = load()
    for j in JOBS:
        users = {{u for _f, u, cmd in jobs if cmd == j["cmd"]}}
        assert users == ({{j["user"]}} if SYSTEM else {{None}}), j["cmd"]
"""
    for i, j in enumerate(jobs):
        tests += f"""

def test_schedule_{i}():
    _env, jobs = load()
    job = JOBS[{i}]
    mine = [parse_schedule(f) for f, _u, cmd in jobs if cmd == job["cmd"]]
    assert mine, "job missing"
    want = firing_calendar([parse_schedule(job["ref"].split())])
    assert firing_calendar(mine) == want
"""
    assert _ns["firing_calendar"]([_ns["parse_schedule"](j["ref"].split()) for j in jobs])  # generator sanity
    return TaskDraft(
        instruction=instruction,
        app_files={"README.ops": one_of(rng, "Cron files for the new host live here.\n",
                                        "Handover notes: schedules are in local time.\n",
                                        "Put the cron table next to this file.\n")},
        solve=solve,
        wrong_solve=wrong,
        tests=tests,
        tags=("cron", "scheduling"),
    )


FAMILY = TaskFamily(
    name="cron-schedule",
    description="write a (user or system) crontab from scheduling requirements",
    generate=generate,
    requires=("python3",),
)
