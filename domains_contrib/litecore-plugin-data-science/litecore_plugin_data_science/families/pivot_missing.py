"""Pivot long-format station readings into a station x month table with stated missing-value rules.

The instructive part is the missing data: months with no readings at all, stations
silent for a while, unparseable values, and (hard) forward filling that must not
leak into the statistics computed from real observations.
"""

from __future__ import annotations

import csv
import io
import statistics

from litecore.records import TaskDraft, TaskFamily, TaskRequest
from litecore.wording import bullets, pick


STATIONS = ["alder", "birch", "cedar", "dune", "elm", "fjord", "glen", "heath", "islet", "juniper", "knoll"]
METRICS = {"easy": ("rain_mm", "total rainfall"), "medium": ("temp_c", "mean temperature"),
           "hard": ("temp_c", "mean temperature")}


def _months(y: int, m: int, n: int) -> list[str]:
    out = []
    for _ in range(n):
        out.append(f"{y}-{m:02d}")
        m += 1
        if m == 13:
            y, m = y + 1, 1
    return out


def generate(req: TaskRequest) -> TaskDraft:
    rng = req.rng
    level = req.difficulty
    metric, meaning = METRICS[level]
    stations = sorted(rng.sample(STATIONS, {"easy": 3, "medium": 4, "hard": 5}[level]))
    months = _months(rng.choice([2022, 2023, 2024]), rng.randint(1, 12), {"easy": 5, "medium": 7, "hard": 8}[level])
    src = rng.choice(["readings_long.csv", "station_data.csv", "observations.csv"])
    out = rng.choice(["pivot.csv", "monthly_table.csv", "station_by_month.csv"])
    empty_month = rng.randrange(1, len(months) - 1) if level != "easy" else -1
    # which station-months have data
    have: dict[tuple[str, str], list[float]] = {}
    silent = {(s, months[rng.randrange(len(months))]) for s in stations}
    if level == "hard":  # an interior gap of two months for one station, and a late starter
        s0, s1 = rng.sample(stations, 2)
        k = rng.randrange(1, len(months) - 2)
        silent |= {(s0, months[k]), (s0, months[k + 1]), (s1, months[0])}
    lines = []
    for s in stations:
        base = rng.uniform(-5, 25)
        for mi, mo in enumerate(months):
            if mi == empty_month or (s, mo) in silent:
                continue
            for _ in range(rng.randint(1, 4)):
                day = rng.randint(1, 28)
                if level == "easy":
                    v = round(rng.uniform(0, 30), 1)
                else:
                    v = round(base + 6 * (mi - len(months) / 2) / len(months) + rng.gauss(0, 2), 1)
                have.setdefault((s, mo), []).append(v)
                date = f"{mo}-{day:02d}"
                if level == "hard" and rng.random() < 0.35:
                    date = f"{day:02d}/{mo[5:7]}/{mo[:4]}"
                name = s
                if level != "easy" and rng.random() < 0.3:
                    name = rng.choice([s.upper(), f" {s} ", s.title()])
                lines.append([name, date, f"{v:.1f}"])
    if level != "easy":  # unusable values that must be ignored
        for _ in range(3):
            s = rng.choice(stations)
            lines.append([s, f"{rng.choice(months)}-{rng.randint(1, 28):02d}", rng.choice(["NA", "", "n/a"])])
    rng.shuffle(lines)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["station", "date", metric])
    w.writerows(lines)

    def cell(s: str, mo: str) -> float | None:
        vals = have.get((s, mo))
        if not vals:
            return None
        return round(sum(vals), 2) if level == "easy" else round(statistics.fmean(vals), 2)

    header = ["station"] + months
    table: list[list] = []
    for s in stations:
        row: list = [s]
        observed = []
        last = None
        for mo in months:
            c = cell(s, mo)
            if c is not None:
                observed.append(c)
            if level == "easy":
                row.append(0.0 if c is None else c)
            elif level == "medium":
                row.append(c)
            else:
                last = c if c is not None else last
                row.append(last)
        if level == "hard":
            row += [len(observed), round(statistics.fmean(observed), 2)]
        table.append(row)
    if level == "hard":
        header += ["observed_months", "mean_observed"]
    if level == "medium":
        all_row: list = ["ALL"]
        for mo in months:
            vals = [v for s in stations for v in have.get((s, mo), [])]
            all_row.append(round(statistics.fmean(vals), 2) if vals else None)
        table.append(all_row)

    rules = [
        f"One row per station (lower-case name, trimmed), sorted by name; one column per month from "
        f"{months[0]} to {months[-1]} inclusive, named `YYYY-MM`, in calendar order. The first column is `station`.",
        f"A cell holds the station's {meaning} ({metric}) for that month, rounded to 2 decimals.",
    ]
    if level == "easy":
        rules.append("A station-month without readings has a total of 0.")
    else:
        rules.append("Values that are not numbers (`NA`, empty, `n/a`) are ignored. Station names appear with mixed "
                     "case and stray spaces.")
    if level == "medium":
        rules.append("A station-month without readings stays empty (an empty field, not 0 or NA). Every month of the "
                     "range gets a column, even one without any readings.")
        rules.append("Add a last row named `ALL` whose cells are the mean of all individual readings of that month "
                     "across stations (empty if there are none).")
    if level == "hard":
        rules.append("Dates are written either `YYYY-MM-DD` or `DD/MM/YYYY`.")
        rules.append("A station-month without readings repeats the station's previous month value (forward fill); "
                     "before a station's first reading the cells stay empty. Every month of the range gets a column.")
        rules.append("Two extra columns close each row: `observed_months` (months with real readings) and "
                     "`mean_observed` (the mean of the monthly means of those months only, filled cells excluded; "
                     "2 decimals).")
    instruction = (
        pick(rng, [f"Weather stations report into /app/{src} in long format (one reading per line). ",
                   f"/app/{src} has one row per station reading. ",
                   f"Reshape the station readings in /app/{src} for a monthly dashboard. "])
        + pick(rng, [f"Build a wide station x month table and save it as /app/{out}.",
                     f"Write the pivoted table to /app/{out} (CSV with a header row)."])
        + "\n\n" + bullets(rules) + "\n"
    )
    solve = f"""# Inspect the long table: columns, station spellings, date formats, odd values
head -5 /app/{src}
cut -d, -f1 /app/{src} | sort | uniq -c
cut -d, -f3 /app/{src} | grep -v '^[-0-9.]*$' | sort | uniq -c
cut -d, -f2 /app/{src} | cut -c1-7 | sort | uniq -c | head -20

# Pivot with pandas, then apply the missing-value rules for this table
cat > /app/pivot.py <<'PY'
import pandas as pd
LEVEL = {level!r}
MONTHS = {months!r}
df = pd.read_csv('/app/{src}', dtype=str, keep_default_na=False)
df['station'] = df['station'].str.strip().str.lower()
df['v'] = pd.to_numeric(df['{metric}'], errors='coerce')
df = df.dropna(subset=['v'])
iso = df['date'].str.contains('-')
df['month'] = ''
df.loc[iso, 'month'] = df.loc[iso, 'date'].str[:7]
dmy = df.loc[~iso, 'date'].str.split('/')
df.loc[~iso, 'month'] = dmy.str[2] + '-' + dmy.str[1]
agg = 'sum' if LEVEL == 'easy' else 'mean'
p = df.pivot_table(index='station', columns='month', values='v', aggfunc=agg).reindex(columns=MONTHS).round(2)
p = p.sort_index()
if LEVEL == 'easy':
    p = p.fillna(0.0)
elif LEVEL == 'medium':
    p.loc['ALL'] = df.groupby('month')['v'].mean().reindex(MONTHS).round(2)
else:
    p['observed_months'] = p[MONTHS].notna().sum(axis=1)
    p['mean_observed'] = p[MONTHS].mean(axis=1).round(2)
    p[MONTHS] = p[MONTHS].ffill(axis=1)
p.index.name = 'station'
p.to_csv('/app/{out}', float_format='%.2f')
PY
python3 /app/pivot.py

# Look at the table
cat /app/{out}
"""
    flaw = {"easy": "p = p  # missing months left empty",
            "medium": "p = p.reindex(columns=sorted(df['month'].unique()))  # only months seen",
            "hard": "p[MONTHS] = p[MONTHS].fillna(0.0)  # zero instead of forward fill"}[level]
    wrong = f"""python3 - <<'PY'
import pandas as pd
MONTHS = {months!r}
df = pd.read_csv('/app/{src}', dtype=str, keep_default_na=False)
df['station'] = df['station'].str.strip().str.lower()
df['v'] = pd.to_numeric(df['{metric}'], errors='coerce')
df = df.dropna(subset=['v'])
iso = df['date'].str.contains('-')
df['month'] = ''
df.loc[iso, 'month'] = df.loc[iso, 'date'].str[:7]
dmy = df.loc[~iso, 'date'].str.split('/')
df.loc[~iso, 'month'] = dmy.str[2] + '-' + dmy.str[1]
p = df.pivot_table(index='station', columns='month', values='v', aggfunc={'"sum"' if level == 'easy' else '"mean"'}).reindex(columns=MONTHS).round(2).sort_index()
{flaw}
if {level == 'medium'}:
    p.loc['ALL'] = df.groupby('month')['v'].mean().round(2)
if {level == 'hard'}:
    p['observed_months'] = (p[MONTHS] != 0).sum(axis=1)
    p['mean_observed'] = p[MONTHS].replace(0.0, float('nan')).mean(axis=1).round(2)
p.index.name = 'station'
p.to_csv('/app/{out}', float_format='%.2f')
PY
"""
    tests = f"""import csv
import pathlib

HEADER = {header!r}
TABLE = {table!r}


OUT = pathlib.Path("/app/{out}")


def rows():
    assert OUT.is_file(), "/app/{out} was not written"
    with OUT.open(newline="") as fh:
        return [r for r in csv.reader(fh) if r]


def test_header():
    assert [c.strip() for c in rows()[0]] == HEADER


def test_row_labels():
    assert [r[0].strip() for r in rows()[1:]] == [t[0] for t in TABLE]


def test_filled_cells():
    got = {{r[0].strip(): r for r in rows()[1:]}}
    for want in TABLE:
        row = got[want[0]]
        assert len(row) == len(want), row
        for g, w in zip(row[1:{1 + len(months)}], want[1:{1 + len(months)}]):
            if w is not None:
                assert g.strip() != "" and abs(float(g) - w) <= 0.0101, (want[0], g, w)


def test_missing_cells_empty():
    got = {{r[0].strip(): r for r in rows()[1:]}}
    for want in TABLE:
        for g, w in zip(got[want[0]][1:], want[1:]):
            if w is None:
                assert g.strip() == "", (want[0], g)
"""
    if level == "hard":
        tests += """

def test_observed_statistics():
    got = {r[0].strip(): r for r in rows()[1:]}
    for want in TABLE:
        row = got[want[0]]
        assert int(float(row[-2])) == want[-2], want[0]
        assert abs(float(row[-1]) - want[-1]) <= 0.0101, want[0]
"""
    return TaskDraft(instruction=instruction, app_files={src: buf.getvalue()}, solve=solve, wrong_solve=wrong,
                     tests=tests, tags=("csv", "pivot", "missing-values", "pandas"))


FAMILY = TaskFamily(
    name="pivot-missing",
    description="pivot long station readings into a station x month table with stated missing-value rules",
    generate=generate,
    requires=("python3",),
)
