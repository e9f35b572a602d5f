"""Group a messy sales CSV by a key and report totals in a stated JSON format."""

from __future__ import annotations

import csv
import io
import json

from litecore.records import TaskDraft, TaskFamily, TaskRequest

REGIONS = ["north", "south", "east", "west", "central", "coastal", "highland"]
PRODUCTS = ["widget", "gadget", "sprocket", "gizmo", "doohickey", "flange", "bracket"]


def generate(req: TaskRequest) -> TaskDraft:
    rng = req.rng
    n_rows = {"easy": 40, "medium": 120, "hard": 300}[req.difficulty]
    regions = rng.sample(REGIONS, rng.randint(3, 5))
    rows = []
    for i in range(n_rows):
        region = rng.choice(regions)
        qty = rng.randint(1, 20)
        price = round(rng.uniform(1, 99), 2)
        rows.append({"order_id": 1000 + i, "region": region, "product": rng.choice(PRODUCTS),
                     "qty": qty, "unit_price": price})
    # mess it up: casing/whitespace (medium+), missing qty rows to drop (hard)
    messy = []
    dropped = set()
    for r in rows:
        region = r["region"]
        if req.difficulty != "easy" and rng.random() < 0.4:
            region = rng.choice([region.upper(), f" {region.title()} ", region.capitalize()])
        qty = str(r["qty"])
        if req.difficulty == "hard" and rng.random() < 0.08:
            qty = rng.choice(["", "n/a"])
            dropped.add(r["order_id"])
        messy.append([r["order_id"], region, r["product"], qty, f"{r['unit_price']:.2f}"])
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["order_id", "region", "product", "qty", "unit_price"])
    w.writerows(messy)
    expected: dict[str, float] = {}
    for r in rows:
        if r["order_id"] in dropped:
            continue
        expected[r["region"]] = round(expected.get(r["region"], 0.0) + r["qty"] * r["unit_price"], 2)
    rules = [
        "Region names must be reported in lower case with surrounding whitespace removed"
        if req.difficulty != "easy" else "Use the region names exactly as they appear",
    ]
    if req.difficulty == "hard":
        rules.append("Rows whose quantity is missing or not a number must be ignored")
    instruction = (
        f"The file /app/sales.csv holds {n_rows} order lines. Compute the revenue (qty x unit_price) "
        f"per region and write it to /app/revenue.json as a JSON object mapping each region to its "
        f"total revenue rounded to 2 decimals.\n\n" + "\n".join(f"- {r}" for r in rules) + "\n"
    )
    solve = """# Look at the data first
head -5 /app/sales.csv

# Aggregate with pandas, normalising the region names and skipping bad quantities
python3 - <<'PY'
import json, pandas as pd
df = pd.read_csv('/app/sales.csv', dtype=str)
df['qty'] = pd.to_numeric(df['qty'], errors='coerce')
df = df.dropna(subset=['qty'])
df['region'] = df['region'].str.strip().str.lower()
df['rev'] = df['qty'] * df['unit_price'].astype(float)
out = {k: round(float(v), 2) for k, v in df.groupby('region')['rev'].sum().items()}
json.dump(out, open('/app/revenue.json', 'w'), indent=2)
PY

# Check the result
cat /app/revenue.json
"""
    wrong = """python3 - <<'PY'
import json, pandas as pd
df = pd.read_csv('/app/sales.csv', dtype=str)
df['rev'] = pd.to_numeric(df['qty'], errors='coerce').fillna(0) * df['unit_price'].astype(float)
json.dump({k: round(float(v), 2) for k, v in df.groupby('region')['rev'].sum().items()}, open('/app/revenue.json', 'w'))
PY
""" if req.difficulty != "easy" else """echo '{}' > /app/revenue.json
"""
    tests = f"""import json
import pathlib

EXPECTED = {json.dumps(expected, sort_keys=True)}


OUT = pathlib.Path("/app/revenue.json")


def load():
    assert OUT.is_file(), "/app/revenue.json was not written"
    return json.loads(OUT.read_text())


def test_file_is_json_object():
    assert isinstance(load(), dict)


def test_regions_match():
    assert sorted(load()) == sorted(EXPECTED)


def test_totals_match():
    got = load()
    for region, total in EXPECTED.items():
        assert abs(float(got[region]) - total) <= 0.011, region
"""
    return TaskDraft(
        instruction=instruction,
        app_files={"sales.csv": out.getvalue()},
        solve=solve,
        wrong_solve=wrong,
        tests=tests,
        tags=("csv", "pandas", "aggregation"),
    )


FAMILY = TaskFamily(
    name="csv-groupby",
    description="revenue per region from a messy sales CSV, written as JSON",
    generate=generate,
    requires=("python3",),
)
