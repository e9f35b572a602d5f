"""Clean a sensor export by stated rules: invalid values, duplicates, per-sensor outliers.

The order of the rules matters and is stated; the hidden tests check exactly which
reading ids survive and the counts in a summary, so a solution must implement
each rule rather than eyeball the data.
"""

from __future__ import annotations

import csv
import io
import json
import statistics

from litecore.records import TaskDraft, TaskFamily, TaskRequest
from litecore.wording import pick


SENSORS = ["boiler", "intake", "pump", "chiller", "vent", "tank", "mixer", "dryer", "kiln", "valve"]
UNITS = [("temp_c", 20.0, 4.0), ("pressure_kpa", 101.0, 3.0), ("flow_lpm", 55.0, 6.0), ("humidity_pct", 45.0, 5.0)]
THRESHOLD = 5.0


def _mad_flags(values: list[float]) -> list[bool]:
    med = statistics.median(values)
    mad = statistics.median([abs(v - med) for v in values])
    return [abs(v - med) > THRESHOLD * mad for v in values]


def generate(req: TaskRequest) -> TaskDraft:
    rng = req.rng
    level = req.difficulty
    col, centre, spread = rng.choice(UNITS)
    sensors = sorted(rng.sample(SENSORS, {"easy": 2, "medium": 3, "hard": 4}[level]))
    n = {"easy": 40, "medium": 80, "hard": 140}[level]
    src = rng.choice(["readings.csv", "sensor_dump.csv", "plant_export.csv"])
    out = rng.choice(["clean.csv", "readings_clean.csv", "cleaned.csv"])
    summary_name = rng.choice(["summary.json", "cleaning_report.json"])
    # base readings: sensor, minute index -> value
    base = []
    for i in range(n):
        s = sensors[i % len(sensors)]
        offset = sensors.index(s) * spread
        base.append({"sensor": s, "minute": i // len(sensors), "value": round(rng.gauss(centre + offset, spread), 2)})
    rows = []  # (reading_id, sensor_text, ts, value_text)
    rid = rng.randint(100, 900)
    for b in base:
        rid += 1
        rows.append([rid, b["sensor"], b["minute"], f"{b['value']:.2f}"])
    bad_values = ("", "NaN", "err", "--")
    # invalid values
    for r in rng.sample(rows, 3 + (level != "easy")):
        r[3] = rng.choice(bad_values)
    spikes: set[int] = set()
    if level == "hard":
        for r in rng.sample([r for r in rows if r[3] not in bad_values], 3):
            r[3] = f"{float(r[3]) + rng.choice([-1, 1]) * spread * rng.uniform(12, 30):.2f}"
            spikes.add(r[0])
    if level != "easy":
        for r in rows:
            if rng.random() < 0.3:
                r[1] = rng.choice([r[1].upper(), f" {r[1]}", r[1].title()])
    # exact duplicated lines (the export repeated them)
    for r in rng.sample(rows, 3):
        rows.insert(rows.index(r) + rng.randint(1, 4), list(r))
    if level != "easy":
        # corrections: same sensor+timestamp, new reading id, new value; later in the file
        pool = [r for r in rows if r[3] not in bad_values and r[0] not in spikes]
        targets = {r[0]: r for r in pool}
        for key in rng.sample(sorted(targets), 4):
            r = targets[key]
            rid += 1
            rows.append([rid, r[1], r[2], f"{float(r[3]) + rng.choice([-1, 1]) * rng.uniform(0.3, 1.5):.2f}"])
        tail = rows[-8:]
        rng.shuffle(tail)
        rows[-8:] = tail
    t0_hour = rng.randint(0, 20)

    def ts(minute: int) -> str:
        return f"2024-0{rng_month}-1{rng_day}T{t0_hour + minute // 60:02d}:{minute % 60:02d}:00"
    rng_month, rng_day = rng.randint(1, 9), rng.randint(0, 9)
    text_rows = [[str(r[0]), r[1], ts(r[2]), r[3]] for r in rows]

    # --- the rules, applied in the stated order ------------------------------------
    def valid(v: str) -> bool:
        try:
            x = float(v)
        except ValueError:
            return False
        return x == x

    step1 = [r for r in text_rows if valid(r[3])]
    invalid_removed = len(text_rows) - len(step1)
    seen: set[tuple[str, ...]] = set()
    step2 = []
    for r in step1:
        key = tuple(r)
        if key not in seen:
            seen.add(key)
            step2.append(r)
    dup_removed = len(step1) - len(step2)
    step3 = step2
    corr_removed = 0
    if level != "easy":
        best: dict[tuple[str, str], int] = {}
        for r in step2:
            key = (r[1].strip().lower(), r[2])
            best[key] = max(best.get(key, -1), int(r[0]))
        step3 = [r for r in step2 if int(r[0]) == best[(r[1].strip().lower(), r[2])]]
        corr_removed = len(step2) - len(step3)
    step4 = step3
    outliers = 0
    if level == "hard":
        flagged: set[str] = set()
        for s in sensors:
            mine = [r for r in step3 if r[1].strip().lower() == s]
            for r, f in zip(mine, _mad_flags([float(r[3]) for r in mine])):
                if f:
                    flagged.add(r[0])
            # keep the instance robust: nothing sits near the threshold
            med = statistics.median(float(r[3]) for r in mine)
            mad = statistics.median(abs(float(r[3]) - med) for r in mine)
            for r in mine:
                ratio = abs(float(r[3]) - med) / mad
                if abs(ratio - THRESHOLD) < 0.15:
                    return generate(TaskRequest(seed=req.seed + 7919, difficulty=req.difficulty))
        step4 = [r for r in step3 if r[0] not in flagged]
        outliers = len(step3) - len(step4)
        assert outliers >= 3
    kept = [r[0] for r in step4]
    norm = level != "easy"
    expected_rows = [[r[0], r[1].strip().lower() if norm else r[1], r[2], r[3]] for r in step4]
    summary = {"input_rows": len(text_rows), "invalid_removed": invalid_removed,
               "duplicates_removed": dup_removed, "kept": len(step4)}
    if level != "easy":
        summary["superseded_removed"] = corr_removed
    if level == "hard":
        summary["outliers_removed"] = outliers

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["reading_id", "sensor", "ts", col])
    w.writerows(text_rows)

    rules = [
        f"1. Drop rows whose `{col}` is empty or not a finite number (e.g. `NaN`, `err`).",
        "2. Drop exact duplicate rows (all four fields identical), keeping the first occurrence.",
    ]
    if level != "easy":
        rules.append("3. Sensor names are case- and whitespace-insensitive; write them lower case and trimmed. "
                     "If several rows remain for the same sensor and timestamp, they are corrections: keep only the "
                     "one with the highest `reading_id`.")
    if level == "hard":
        rules.append(f"4. Then, per sensor, drop outliers: values v with |v - median| > {THRESHOLD:g} x MAD, where median "
                     "and MAD (the median of |v - median|) are computed over that sensor's remaining rows "
                     "(usual median: the mean of the two middle values for an even count).")
    keys = ", ".join(f'"{k}"' for k in summary)
    instruction = (
        pick(rng, [f"The plant's sensor export /app/{src} is dirty.",
                   f"Before analysis, /app/{src} has to be cleaned.",
                   f"/app/{src} is a raw export of sensor readings that needs cleaning."])
        + " Apply these rules in this order:\n\n" + "\n".join(rules) + "\n\n"
        + pick(rng, [f"Write the surviving rows to /app/{out} with the same header and columns, in their original "
                     f"order, values unchanged",
                     f"Save the kept rows, in input order and with the original header, to /app/{out}, leaving the "
                     f"values as they are"])
        + (", sensor names normalised" if level != "easy" else "")
        + f". Also write /app/{summary_name}: a JSON object with the integer keys {keys} "
        f"(rows in the input, rows removed by each rule, rows kept).\n"
    )

    solve = f"""# Look at the export: header, odd values, duplicated lines
head -5 /app/{src}; wc -l /app/{src}
cut -d, -f4 /app/{src} | sort | uniq -c | sort -rn | head -5
sort /app/{src} | uniq -d | head

# Apply the rules in order with the csv module (exact text kept for the values)
cat > /app/clean.py <<'PY'
import csv, json, math, statistics
LEVEL = {level!r}
rows = list(csv.reader(open('/app/{src}', newline='')))
header, rows = rows[0], rows[1:]
n_in = len(rows)
def ok(v):
    try:
        return math.isfinite(float(v))
    except ValueError:
        return False
s1 = [r for r in rows if ok(r[3])]
seen, s2 = set(), []
for r in s1:
    if tuple(r) not in seen:
        seen.add(tuple(r)); s2.append(r)
summary = {{'input_rows': n_in, 'invalid_removed': n_in - len(s1), 'duplicates_removed': len(s1) - len(s2)}}
s3 = s2
if LEVEL != 'easy':
    for r in s2:
        r[1] = r[1].strip().lower()
    best = {{}}
    for r in s2:
        best[(r[1], r[2])] = max(best.get((r[1], r[2]), -1), int(r[0]))
    s3 = [r for r in s2 if int(r[0]) == best[(r[1], r[2])]]
    summary['superseded_removed'] = len(s2) - len(s3)
s4 = s3
if LEVEL == 'hard':
    drop = set()
    for s in sorted({{r[1] for r in s3}}):
        mine = [r for r in s3 if r[1] == s]
        vals = [float(r[3]) for r in mine]
        med = statistics.median(vals)
        mad = statistics.median([abs(v - med) for v in vals])
        drop |= {{r[0] for r, v in zip(mine, vals) if abs(v - med) > {THRESHOLD} * mad}}
    s4 = [r for r in s3 if r[0] not in drop]
    summary['outliers_removed'] = len(s3) - len(s4)
summary['kept'] = len(s4)
with open('/app/{out}', 'w', newline='') as fh:
    w = csv.writer(fh, lineterminator='\\n'); w.writerow(header); w.writerows(s4)
json.dump(summary, open('/app/{summary_name}', 'w'), indent=2)
print(summary)
PY
python3 /app/clean.py

# Spot-check the result
head -3 /app/{out}; cat /app/{summary_name}
"""
    wrong_flaw = {
        "easy": "s1 = rows  # forgot the invalid-value rule",
        "medium": "s1 = s1  # corrections: keep the first row per sensor+timestamp",
        "hard": "s1 = s1  # outliers by mean +- 3 sd over all sensors",
    }[level]
    wrong = f"""python3 - <<'PY'
import csv, json, math, statistics
rows = list(csv.reader(open('/app/{src}', newline='')))
header, rows = rows[0], rows[1:]
n_in = len(rows)
def ok(v):
    try:
        return math.isfinite(float(v))
    except ValueError:
        return False
s1 = [r for r in rows if ok(r[3])]
{wrong_flaw}
seen, s2 = set(), []
for r in s1:
    if tuple(r) not in seen:
        seen.add(tuple(r)); s2.append(r)
s3 = s2
if {level != 'easy'}:
    for r in s2:
        r[1] = r[1].strip().lower()
    firsts, s3 = set(), []
    for r in s2:
        if (r[1], r[2]) not in firsts:
            firsts.add((r[1], r[2])); s3.append(r)
if {level == 'hard'}:
    vals = [float(r[3]) for r in s3]
    m, sd = statistics.mean(vals), statistics.pstdev(vals)
    s3 = [r for r in s3 if abs(float(r[3]) - m) <= 3 * sd]
summary = {{'input_rows': n_in, 'invalid_removed': n_in - len(s1), 'duplicates_removed': len(s1) - len(s2),
           'superseded_removed': 0, 'outliers_removed': 0, 'kept': len(s3)}}
with open('/app/{out}', 'w', newline='') as fh:
    w = csv.writer(fh, lineterminator='\\n'); w.writerow(header); w.writerows(s3)
json.dump(summary, open('/app/{summary_name}', 'w'))
PY
"""
    tests = f"""import csv
import json
import pathlib

HEADER = {json.dumps(["reading_id", "sensor", "ts", col])}
EXPECTED = {json.dumps(expected_rows)}
SUMMARY = {json.dumps(summary, sort_keys=True)}


def rows():
    with pathlib.Path("/app/{out}").open(newline="") as fh:
        return [r for r in csv.reader(fh) if r]


def test_header():
    assert [c.strip() for c in rows()[0]] == HEADER


def test_kept_reading_ids():
    assert sorted(int(r[0]) for r in rows()[1:]) == sorted(int(e[0]) for e in EXPECTED)


def test_original_order():
    assert [int(r[0]) for r in rows()[1:]] == [int(e[0]) for e in EXPECTED]


def test_values_unchanged():
    got = {{r[0].strip(): r for r in rows()[1:]}}
    for e in EXPECTED:
        r = got[e[0]]
        assert r[1] == e[1] and r[2].strip() == e[2], e
        assert abs(float(r[3]) - float(e[3])) < 1e-9, e


def test_summary():
    data = json.loads(pathlib.Path("/app/{summary_name}").read_text())
    for key, value in SUMMARY.items():
        assert int(data[key]) == value, key
"""
    return TaskDraft(instruction=instruction, app_files={src: buf.getvalue()}, solve=solve, wrong_solve=wrong,
                     tests=tests, tags=("csv", "data-cleaning", "deduplication", "outliers"))


FAMILY = TaskFamily(
    name="dedup-outliers",
    description="clean a sensor export by ordered rules: invalid values, duplicates, corrections, MAD outliers",
    generate=generate,
    requires=("python3",),
)
