"""Turn a noisy request log into fixed time buckets per service (resampling + rolling stats).

An expert must find which lines are requests, parse timestamps (hard: with UTC
offsets), floor them to N-minute buckets, and aggregate; medium adds empty buckets
that must still appear, hard a rolling window across buckets.
"""

from __future__ import annotations

import datetime as dt
import json

from litecore.records import TaskDraft, TaskFamily, TaskRequest
from litecore.wording import bullets, pick


SERVICES = ["api", "auth", "billing", "search", "cart", "media", "geo", "mail", "feed"]
NOISE = [
    "DEBUG cache warmup step={n}",
    "INFO health check ok",
    "WARN slow disk io on /var/lib/data ({n} ms)",
    "INFO config reloaded version={n}",
]
OFFSETS = [0, 60, 120, -300, -240, 330, 540]


def _fmt(t: dt.datetime, offset_min: int, hard: bool) -> str:
    if not hard or offset_min == 0:
        return t.strftime("%Y-%m-%dT%H:%M:%SZ")
    local = t + dt.timedelta(minutes=offset_min)
    sign = "+" if offset_min >= 0 else "-"
    a = abs(offset_min)
    return local.strftime("%Y-%m-%dT%H:%M:%S") + f"{sign}{a // 60:02d}:{a % 60:02d}"


def generate(req: TaskRequest) -> TaskDraft:
    rng = req.rng
    level = req.difficulty
    width = rng.choice([5, 10, 15])
    services = sorted(rng.sample(SERVICES, {"easy": 1, "medium": 2, "hard": 3}[level]))
    n_req = {"easy": 60, "medium": 150, "hard": 240}[level]
    n_buckets = {"easy": 6, "medium": 9, "hard": 10}[level]
    start = dt.datetime(2024, rng.randint(1, 12), rng.randint(1, 28), rng.randint(0, 22), 0, 0)
    start += dt.timedelta(minutes=width * rng.randint(0, 60 // width - 1))
    log_name = rng.choice(["app.log", "gateway.log", "access.log", "requests.log"])
    out_name = rng.choice(["buckets.csv", "latency_buckets.csv", "timeseries.csv"])
    # each service skips some buckets entirely (medium+: those must still be reported)
    gaps = {s: set(rng.sample(range(1, n_buckets - 1), 2)) if level != "easy" else set() for s in services}
    events = []
    for _ in range(n_req):
        s = rng.choice(services)
        b = rng.randrange(n_buckets)
        while b in gaps[s]:
            b = rng.randrange(n_buckets)
        t = start + dt.timedelta(seconds=b * width * 60 + rng.randrange(width * 60))
        lat = int(rng.lognormvariate(4.2, 0.5))
        status = rng.choice([200] * 12 + [201, 204, 301, 404, 500, 502, 503])
        events.append((t, s, lat, status))
    # make sure the first and last buckets exist for every service, so the range is unambiguous
    for s in services:
        events.append((start + dt.timedelta(seconds=rng.randrange(width * 60)), s, 50 + rng.randrange(100), 200))
        events.append((start + dt.timedelta(seconds=(n_buckets - 1) * width * 60 + rng.randrange(width * 60)), s,
                       50 + rng.randrange(100), 500))
    events.sort()
    lines = []
    for t, s, lat, status in events:
        off = rng.choice(OFFSETS) if level == "hard" else 0
        lines.append(f"{_fmt(t, off, level == 'hard')} INFO request svc={s} status={status} latency_ms={lat}")
        if rng.random() < 0.25:
            lines.append(f"{_fmt(t, 0, False)} " + rng.choice(NOISE).format(n=rng.randint(1, 999)))
    if level != "easy":
        # a few lines are cut off by log rotation: they are not valid requests
        for i in rng.sample(range(len(lines)), 3):
            lines[i] = lines[i][: rng.randint(8, 24)]
        if level == "hard":
            rng.shuffle(lines)
    text = "\n".join(lines) + "\n"
    # recompute from the lines that stayed intact
    kept = []
    for line in lines:
        parts = line.split()
        if len(parts) == 6 and parts[2] == "request" and parts[5].startswith("latency_ms="):
            ts = dt.datetime.fromisoformat(parts[0].replace("Z", "+00:00")).astimezone(dt.timezone.utc)
            kept.append((ts.replace(tzinfo=None), parts[3][4:], int(parts[5][11:]), int(parts[4][7:])))
    agg: dict[tuple[int, str], list[tuple[int, int]]] = {}
    for t, s, lat, status in kept:
        b = int((t - start).total_seconds() // (width * 60))
        agg.setdefault((b, s), []).append((lat, status))
    b_lo, b_hi = min(b for b, _ in agg), max(b for b, _ in agg)
    expected = []
    for b in range(b_lo, b_hi + 1):
        for s in services:
            items = agg.get((b, s), [])
            if not items and level == "easy":
                continue
            bstart = (start + dt.timedelta(minutes=b * width)).strftime("%Y-%m-%dT%H:%M:%SZ")
            row = {"bucket_start": bstart, "service": s, "requests": len(items),
                   "mean_latency_ms": round(sum(x for x, _ in items) / len(items), 2) if items else None,
                   "max_latency_ms": max((x for x, _ in items), default=None),
                   "errors": sum(1 for _, st in items if st >= 500)}
            if level == "hard":
                window = [x for bb in (b - 2, b - 1, b) for x in agg.get((bb, s), [])]
                row["rolling_requests_3"] = len(window)
                row["rolling_mean_latency_3"] = round(sum(x for x, _ in window) / len(window), 2) if window else None
            expected.append(row)
    cols = list(expected[0])

    rules = [
        f"A bucket covers {width} minutes; buckets are aligned so that minute 0 of every hour starts a bucket "
        f"(floor each timestamp to its bucket). `bucket_start` is written as `YYYY-MM-DDTHH:MM:SSZ` in UTC.",
        "Only `request` lines count; every other line (debug, health checks, truncated lines) is ignored.",
        "`errors` counts requests with status 500 or above; `mean_latency_ms` is rounded to 2 decimals.",
        "Rows are sorted by `bucket_start`, then `service`.",
    ]
    if level == "easy":
        rules.append("Only buckets that contain at least one request appear.")
    else:
        rules.append("Every service gets a row for every bucket from the earliest to the latest bucket in the log, "
                     "even when it had no requests (then `requests` and `errors` are 0 and the two latency "
                     "columns are empty).")
    if level == "hard":
        rules.append("Timestamps carry different UTC offsets (`Z`, `+02:00`, `-05:00`, ...): convert them to UTC "
                     "before bucketing. The file is not in time order.")
        rules.append("`rolling_requests_3` and `rolling_mean_latency_3` cover the bucket itself and the two buckets "
                     "before it for the same service (the mean is over all requests in those buckets, 2 decimals; "
                     "empty when there are none).")
    instruction = (
        pick(rng, [f"/app/{log_name} is a service log. ",
                   f"Our gateway writes request lines into /app/{log_name}, mixed with other messages. ",
                   f"Resample the request log /app/{log_name} into fixed time buckets. "])
        + pick(rng, [f"Produce /app/{out_name}, a CSV with the header `{','.join(cols)}`, one row per "
                     f"bucket and service.",
                     f"Write a per-service time series to /app/{out_name} with columns `{','.join(cols)}` "
                     f"(header row first)."])
        + "\n\n" + bullets(rules, rng) + "\n"
    )
    solve = f"""# See what the log lines look like and which kinds exist
head -8 /app/{log_name}
awk '{{print $2, $3}}' /app/{log_name} | sort | uniq -c | sort -rn | head
awk 'NF < 6' /app/{log_name} | head -5

# Parse request lines, convert to UTC, floor to {width}-minute buckets and aggregate
cat > /app/resample.py <<'PY'
import csv, datetime as dt
LEVEL, WIDTH = {level!r}, {width}
SERVICES = set()
data = {{}}
for line in open('/app/{log_name}'):
    p = line.split()
    if len(p) != 6 or p[2] != 'request' or not p[5].startswith('latency_ms='):
        continue
    t = dt.datetime.fromisoformat(p[0].replace('Z', '+00:00')).astimezone(dt.timezone.utc)
    t = t.replace(minute=t.minute - t.minute % WIDTH, second=0, microsecond=0)
    svc = p[3].split('=', 1)[1]
    SERVICES.add(svc)
    data.setdefault((t, svc), []).append((int(p[5].split('=')[1]), int(p[4].split('=')[1])))
times = sorted({{t for t, _ in data}})
if LEVEL != 'easy':
    t, allt = times[0], []
    while t <= times[-1]:
        allt.append(t); t += dt.timedelta(minutes=WIDTH)
    times = allt
def mean(xs):
    return '%.2f' % (sum(xs) / len(xs)) if xs else ''
with open('/app/{out_name}', 'w', newline='') as fh:
    w = csv.writer(fh, lineterminator='\\n')
    cols = ['bucket_start', 'service', 'requests', 'mean_latency_ms', 'max_latency_ms', 'errors']
    if LEVEL == 'hard':
        cols += ['rolling_requests_3', 'rolling_mean_latency_3']
    w.writerow(cols)
    for t in times:
        for s in sorted(SERVICES):
            it = data.get((t, s), [])
            if not it and LEVEL == 'easy':
                continue
            lat = [x for x, _ in it]
            row = [t.strftime('%Y-%m-%dT%H:%M:%SZ'), s, len(it), mean(lat), max(lat) if lat else '',
                   sum(st >= 500 for _, st in it)]
            if LEVEL == 'hard':
                win = [x for k in range(3) for x, _ in data.get((t - dt.timedelta(minutes=WIDTH * k), s), [])]
                row += [len(win), mean(win)]
            w.writerow(row)
PY
python3 /app/resample.py

# Check the series
head -5 /app/{out_name}; wc -l /app/{out_name}
"""
    flaw = {"easy": "t = t.replace(second=0, microsecond=0); t = t.replace(minute=(t.minute + WIDTH // 2) // WIDTH * WIDTH % 60)",
            "medium": "pass  # empty buckets are skipped",
            "hard": "t = t.replace(tzinfo=None)  # offsets ignored"}[level]
    wrong = f"""python3 - <<'PY'
import csv, datetime as dt
WIDTH = {width}
data, SERVICES = {{}}, set()
for line in open('/app/{log_name}'):
    p = line.split()
    if len(p) != 6 or p[2] != 'request':
        continue
    t = dt.datetime.fromisoformat(p[0].replace('Z', '+00:00'))
    {flaw if level != 'easy' else ''}
    t = t.replace(tzinfo=None)
    {flaw if level == 'easy' else 't = t.replace(minute=t.minute - t.minute % WIDTH, second=0, microsecond=0)'}
    svc = p[3].split('=', 1)[1]
    SERVICES.add(svc)
    data.setdefault((t, svc), []).append((int(p[5].split('=')[1]), int(p[4].split('=')[1])))
def mean(xs):
    return '%.2f' % (sum(xs) / len(xs)) if xs else ''
with open('/app/{out_name}', 'w', newline='') as fh:
    w = csv.writer(fh, lineterminator='\\n')
    w.writerow({cols!r})
    for t in sorted({{t for t, _ in data}}):
        for s in sorted(SERVICES):
            it = data.get((t, s), [])
            if not it:
                continue
            lat = [x for x, _ in it]
            row = [t.strftime('%Y-%m-%dT%H:%M:%SZ'), s, len(it), mean(lat), max(lat), sum(st >= 500 for _, st in it)]
            if {level == 'hard'}:
                win = [x for k in range(3) for x, _ in data.get((t - dt.timedelta(minutes=WIDTH * k), s), [])]
                row += [len(win), mean(win)]
            w.writerow(row)
PY
"""
    tests = f"""import csv
import pathlib

COLS = {json.dumps(cols)}
EXPECTED = {expected!r}


def rows():
    with pathlib.Path("/app/{out_name}").open(newline="") as fh:
        return [r for r in csv.reader(fh) if r]


def cell(text):
    text = text.strip()
    return None if text == "" else float(text)


def test_header():
    assert [c.strip() for c in rows()[0]] == COLS


def test_bucket_keys_and_order():
    got = [(r[0].strip(), r[1].strip()) for r in rows()[1:]]
    assert got == [(e["bucket_start"], e["service"]) for e in EXPECTED]


def test_counts():
    for r, e in zip(rows()[1:], EXPECTED):
        assert int(float(r[2])) == e["requests"] and int(float(r[5])) == e["errors"], e


def test_latency_stats():
    for r, e in zip(rows()[1:], EXPECTED):
        for i, key in ((3, "mean_latency_ms"), (4, "max_latency_ms")):
            got = cell(r[i])
            if e[key] is None:
                assert got is None, (key, e)
            else:
                assert got is not None and abs(got - e[key]) <= 0.0101, (key, e)
"""
    if level == "hard":
        tests += """

def test_rolling_window():
    for r, e in zip(rows()[1:], EXPECTED):
        assert int(float(r[6])) == e["rolling_requests_3"], e
        got = cell(r[7])
        want = e["rolling_mean_latency_3"]
        assert (got is None) == (want is None) and (want is None or abs(got - want) <= 0.0101), e
"""
    return TaskDraft(instruction=instruction, app_files={log_name: text}, solve=solve, wrong_solve=wrong,
                     tests=tests, tags=("logs", "time-series", "resampling", "rolling-window"))


FAMILY = TaskFamily(
    name="log-resample",
    description="resample a noisy request log into per-service time buckets with rolling statistics",
    generate=generate,
    requires=("python3", "awk"),
)
