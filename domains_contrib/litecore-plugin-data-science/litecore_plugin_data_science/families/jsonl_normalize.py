"""Flatten a JSON-lines event stream into normalised CSV tables following schema rules.

Real event streams mix timestamp encodings, nest fields, repeat events and (hard)
carry an older schema version with different field names and units; the
instructions state the target schema, and the tests compare the tables row by row.
"""

from __future__ import annotations

import datetime as dt
import json

from litecore.records import TaskDraft, TaskFamily, TaskRequest
from litecore.wording import bullets, pick


TYPES = ["view", "click", "signup", "purchase", "refund", "search", "logout"]
DOMAINS = ["example.com", "mail.test", "corp.example", "shop.test"]
USERS = ["ana", "bo", "cy", "dee", "eli", "fay", "gus", "hal", "ivy", "jo", "kai", "lu", "max", "ned"]
TAGS = ["Promo", "mobile", "Desktop", "beta", "EU", "us", "returning", "new"]
EPOCH0 = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)


def _iso(t: dt.datetime, offset_min: int) -> str:
    tz = dt.timezone(dt.timedelta(minutes=offset_min))
    return t.astimezone(tz).isoformat().replace("+00:00", "Z")


def generate(req: TaskRequest) -> TaskDraft:
    rng = req.rng
    level = req.difficulty
    n = {"easy": 25, "medium": 45, "hard": 70}[level]
    allowed = sorted(rng.sample(TYPES, 5))
    src = rng.choice(["events.jsonl", "stream.jsonl", "tracking.ndjson"])
    out = rng.choice(["events.csv", "events_flat.csv", "normalized_events.csv"])
    base = rng.randint(0, 300) * 86400 + rng.randint(0, 80000)
    users = {u: (1000 + i * 7 + rng.randint(0, 6), f"{u}@{rng.choice(DOMAINS)}")
             for i, u in enumerate(rng.sample(USERS, 8))}
    lines: list[str] = []
    rows: list[dict] = []
    tag_rows: set[tuple[str, str]] = set()
    rejects: list[str] = []
    used_ids: set[str] = set()
    for i in range(n):
        eid = f"ev-{rng.randint(10000, 99999)}"
        while eid in used_ids:
            eid = f"ev-{rng.randint(10000, 99999)}"
        used_ids.add(eid)
        uname = rng.choice(sorted(users))
        uid, email = users[uname]
        shown_email = rng.choice([email, email.upper(), email.title(), f" {email}"])
        t = EPOCH0 + dt.timedelta(seconds=base + rng.randint(0, 5 * 86400))
        etype = rng.choice(allowed)
        amount = round(rng.uniform(1, 300), 2) if etype in ("purchase", "refund") or rng.random() < 0.2 else None
        tags = rng.sample(TAGS, rng.randint(0, 3))
        if level != "easy" and tags and rng.random() < 0.3:
            tags.append(f" {tags[0].upper()} ")  # same tag again, other spelling
        v1 = level == "hard" and rng.random() < 0.3
        reject = level == "hard" and i % 9 == 4
        if v1:
            rec: dict = {"schema": 1, "event_id": eid, "event_type": etype, "userId": uid, "userEmail": shown_email,
                         "time_ms": int(t.timestamp()) * 1000}
            if amount is not None:
                rec["amount_cents"] = int(round(amount * 100))
            if tags:
                rec["labels"] = ",".join(tags)
        else:
            ts_repr: int | str = int(t.timestamp()) if rng.random() < 0.5 else _iso(
                t, rng.choice([0, 60, -300, 330]) if level != "easy" else 0)
            rec = {"id": eid, "ts": ts_repr, "type": etype, "user": {"id": uid, "email": shown_email}}
            if level == "hard":
                rec["schema"] = 2
            if amount is not None:
                a: float | str = amount
                if level == "hard" and rng.random() < 0.5:
                    a = rng.choice([f"{amount:.2f}", f"${amount:.2f}"])
                rec["props"] = {"amount": a, "page": rng.choice(["/", "/cart", "/search", "/home"])}
            else:
                rec["props"] = {"page": rng.choice(["/", "/cart", "/search"])}
            if tags:
                rec["tags"] = tags
        if reject:
            if rng.random() < 0.5:
                rec["type" if not v1 else "event_type"] = rng.choice(["bounce", "unknown", "ping"])
            elif v1:
                rec.pop("userId")
            else:
                rec["user"].pop("id")
        line = json.dumps(rec, separators=(", ", ": ") if rng.random() < 0.5 else (",", ":"))
        lines.append(line)
        if reject:
            rejects.append(line)
            continue
        rows.append({"event_id": eid, "user_id": uid, "email": email, "event_type": etype,
                     "timestamp": t.strftime("%Y-%m-%dT%H:%M:%SZ"),
                     "amount": None if amount is None else round(amount, 2)})
        for tag in tags:
            tag_rows.add((eid, tag.strip().lower()))
    if level != "easy":
        # duplicates (identical re-sends) and a couple of corrupt lines
        for j in rng.sample(range(len(lines)), 4):
            if lines[j] in rejects:
                continue
            lines.insert(rng.randint(j + 1, len(lines)), lines[j])
        for _ in range(2):
            k = rng.randrange(len(lines))
            bad = lines[k][: len(lines[k]) // 2]
            lines.insert(k, bad)
            if level == "hard":
                rejects.append(bad)
    # rejects must be listed in file order: rebuild from the final file
    if level == "hard":
        rej_set = set(rejects)
        rejects = [x for x in lines if x in rej_set]
    rows.sort(key=lambda r: (r["timestamp"], r["event_id"]))
    cols = ["event_id", "user_id", "email", "event_type", "timestamp", "amount"]
    tag_list = sorted(tag_rows)

    rules = [
        "`timestamp` is UTC in the form `YYYY-MM-DDTHH:MM:SSZ`; input `ts` values are either Unix epoch seconds or "
        "ISO-8601 strings" + (" with a UTC offset" if level != "easy" else ""),
        "`email` is trimmed and lower-cased; `amount` comes from `props.amount`, written with two decimals, empty "
        "when absent",
        "rows are sorted by `timestamp`, then `event_id`",
    ]
    if level != "easy":
        rules.append("some lines are corrupt (not valid JSON): skip them; an event id seen again is a re-send: keep "
                     "only its first occurrence")
        rules.append("also write /app/event_tags.csv with header `event_id,tag`: one row per distinct tag of each "
                     "event (tags trimmed and lower-cased), sorted by event_id then tag")
    if level == "hard":
        rules.append("records with `\"schema\": 1` use the old layout: `event_id`, `event_type`, `userId`, "
                     "`userEmail`, `time_ms` (epoch milliseconds), `amount_cents` (integer cents) and `labels` "
                     "(comma separated tags); map them to the same columns")
        rules.append("`props.amount` may be a number or a string, possibly with a leading `$`")
        rules.append(f"a record is rejected when it is not valid JSON, has no user id, or its event type is not one "
                     f"of {', '.join(allowed)}; rejected lines are not in the CSVs and are copied verbatim, in file "
                     f"order, to /app/rejects.jsonl (a re-sent duplicate is not a reject)")
    instruction = (
        pick(rng, [f"The tracking pipeline dumped events to /app/{src} (one JSON object per line). ",
                   f"/app/{src} holds analytics events as JSON lines. ",
                   f"Analysts want the JSON-lines event log /app/{src} as flat CSV. "])
        + pick(rng, [f"Convert it to /app/{out} with the header `{','.join(cols)}`.",
                     f"Write a normalised table to /app/{out}; its columns are `{','.join(cols)}` in that order."])
        + "\n\nSchema rules:\n" + bullets(rules, rng) + "\n"
    )
    app = {src: "\n".join(lines) + "\n"}
    solve = f"""# Look at a few records and at the shapes of the ts / amount fields
head -3 /app/{src}; wc -l /app/{src}
python3 -c "
import json, collections
c = collections.Counter()
for l in open('/app/{src}'):
    try:
        r = json.loads(l)
    except ValueError:
        c['bad json'] += 1; continue
    c[(r.get('schema'), type(r.get('ts', r.get('time_ms'))).__name__)] += 1
print(c)"

# Normalise every record into the target schema
cat > /app/normalize.py <<'PY'
import csv, datetime as dt, json
LEVEL = {level!r}
ALLOWED = {allowed!r}
rows, tags, rejects, seen = [], set(), [], set()
def utc(v, ms=False):
    if isinstance(v, (int, float)):
        t = dt.datetime.fromtimestamp(v / 1000 if ms else v, dt.timezone.utc)
    else:
        t = dt.datetime.fromisoformat(v.replace('Z', '+00:00')).astimezone(dt.timezone.utc)
    return t.strftime('%Y-%m-%dT%H:%M:%SZ')
for line in open('/app/{src}'):
    line = line.rstrip('\\n')
    if not line.strip():
        continue
    try:
        r = json.loads(line)
    except ValueError:
        rejects.append(line); continue
    if r.get('schema') == 1:
        eid, et, uid, email = r['event_id'], r['event_type'], r.get('userId'), r['userEmail']
        ts = utc(r['time_ms'], ms=True)
        amount = r['amount_cents'] / 100 if 'amount_cents' in r else None
        tg = [x for x in r.get('labels', '').split(',') if x.strip()]
    else:
        eid, et, uid, email = r['id'], r['type'], r['user'].get('id'), r['user']['email']
        ts = utc(r['ts'])
        a = r.get('props', {{}}).get('amount')
        amount = None if a is None else float(str(a).lstrip('$'))
        tg = r.get('tags', [])
    if LEVEL == 'hard' and (uid is None or et not in ALLOWED):
        rejects.append(line); continue
    if eid in seen:
        continue
    seen.add(eid)
    rows.append([eid, uid, email.strip().lower(), et, ts, '' if amount is None else '%.2f' % amount])
    tags |= {{(eid, x.strip().lower()) for x in tg}}
rows.sort(key=lambda r: (r[4], r[0]))
with open('/app/{out}', 'w', newline='') as fh:
    w = csv.writer(fh, lineterminator='\\n'); w.writerow({cols!r}); w.writerows(rows)
if LEVEL != 'easy':
    with open('/app/event_tags.csv', 'w', newline='') as fh:
        w = csv.writer(fh, lineterminator='\\n'); w.writerow(['event_id', 'tag']); w.writerows(sorted(tags))
if LEVEL == 'hard':
    open('/app/rejects.jsonl', 'w').write(''.join(x + '\\n' for x in rejects))
print(len(rows), 'rows', len(rejects), 'rejected')
PY
python3 /app/normalize.py

# Check the outputs
head -4 /app/{out}{' /app/event_tags.csv' if level != 'easy' else ''}
"""
    wrong = f"""python3 - <<'PY'
import csv, datetime as dt, json
rows, tags, rejects = [], set(), []
for line in open('/app/{src}'):
    line = line.rstrip('\\n')
    try:
        r = json.loads(line)
    except ValueError:
        rejects.append(line); continue
    if 'id' not in r or 'id' not in r['user']:
        rejects.append(line); continue
    ts = r['ts']
    if isinstance(ts, int):
        ts = dt.datetime.fromtimestamp(ts, dt.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')
    else:
        ts = ts[:19] + 'Z'
    a = r.get('props', {{}}).get('amount')
    amount = '' if a is None else '%.2f' % float(str(a).lstrip('$'))
    rows.append([r['id'], r['user']['id'], r['user']['email'].strip().lower(), r['type'], ts, amount])
    tags |= {{(r['id'], x.strip().lower()) for x in r.get('tags', [])}}
rows.sort(key=lambda r: (r[4], r[0]))
with open('/app/{out}', 'w', newline='') as fh:
    w = csv.writer(fh, lineterminator='\\n'); w.writerow({cols!r}); w.writerows(rows)
with open('/app/event_tags.csv', 'w', newline='') as fh:
    w = csv.writer(fh, lineterminator='\\n'); w.writerow(['event_id', 'tag']); w.writerows(sorted(tags))
open('/app/rejects.jsonl', 'w').write(''.join(x + '\\n' for x in rejects))
PY
"""
    if level == "easy":  # easy wrong: epoch read as local time of a UTC+1 server
        wrong = wrong.replace("fromtimestamp(ts, dt.timezone.utc)", "fromtimestamp(ts + 3600, dt.timezone.utc)")
    tests = f"""import csv
import json
import pathlib

COLS = {cols!r}
ROWS = {rows!r}
TAGS = {tag_list!r}
REJECTS = {rejects!r}
LEVEL = {level!r}


def table(name):
    with pathlib.Path("/app/" + name).open(newline="") as fh:
        return [r for r in csv.reader(fh) if r]


def test_header():
    assert [c.strip() for c in table("{out}")[0]] == COLS


def test_event_ids_in_order():
    assert [r[0].strip() for r in table("{out}")[1:]] == [r["event_id"] for r in ROWS]


def test_users_and_types():
    for got, want in zip(table("{out}")[1:], ROWS):
        assert int(float(got[1])) == want["user_id"], want
        assert got[2] == want["email"] and got[3].strip() == want["event_type"], want


def test_timestamps_utc():
    for got, want in zip(table("{out}")[1:], ROWS):
        assert got[4].strip() == want["timestamp"], want


def test_amounts():
    for got, want in zip(table("{out}")[1:], ROWS):
        text = got[5].strip()
        if want["amount"] is None:
            assert text == "", want
        else:
            assert text == "%.2f" % want["amount"] or (text.count(".") == 1 and len(text.split(".")[1]) == 2
                                                      and abs(float(text) - want["amount"]) < 0.006), want
"""
    if level != "easy":
        tests += """

def test_tags_table():
    t = table("event_tags.csv")
    assert [c.strip() for c in t[0]] == ["event_id", "tag"]
    assert [(a.strip(), b) for a, b in t[1:]] == [tuple(x) for x in TAGS]
"""
    if level == "hard":
        tests += """

def test_rejects_verbatim():
    lines = [l for l in pathlib.Path("/app/rejects.jsonl").read_text().splitlines() if l.strip()]
    assert lines == REJECTS
"""
    return TaskDraft(instruction=instruction, app_files=app, solve=solve, wrong_solve=wrong, tests=tests,
                     tags=("json", "jsonl", "csv", "schema", "normalization"))


FAMILY = TaskFamily(
    name="jsonl-normalize",
    description="flatten a JSON-lines event stream into normalised CSV tables by schema rules",
    generate=generate,
    requires=("python3",),
)
