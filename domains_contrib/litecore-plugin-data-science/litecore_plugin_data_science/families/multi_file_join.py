"""Join customers and orders whose keys are written inconsistently, then report per customer.

The work: discover that the same customer id is spelled several ways across files
(case, dashes, zero padding, whitespace), canonicalise it, join, apply status and
refund rules, and write a sorted CSV. Harder levels add cancelled orders, orphan
orders to list, a refunds file, currency-formatted amounts and duplicate
customer rows where the latest one wins.
"""

from __future__ import annotations

import csv
import io
import json

from litecore.records import TaskDraft, TaskFamily, TaskRequest
from litecore.wording import bullets, pick


FIRST = ["Ada", "Bruno", "Chen", "Dalia", "Emeka", "Farah", "Goran", "Hana", "Ivo", "Jun", "Kofi",
         "Lena", "Mateo", "Nia", "Oskar", "Priya", "Quinn", "Rosa", "Sami", "Tove", "Umar", "Vera"]
LAST = ["Okafor", "Lindqvist", "Moreau", "Tanaka", "Silva", "Novak", "Haddad", "Kowalski", "Reyes",
        "Fischer", "Mensah", "Ivanova", "Park", "Costa", "Nakamura", "Brennan"]
CITIES = ["Lisbon", "Oslo", "Accra", "Osaka", "Lima", "Graz", "Porto", "Tartu", "Cork", "Leeds"]
STATUSES = ["paid", "shipped", "delivered"]


def _messy_id(rng, num: int) -> str:
    """One of the spellings a customer id takes in the orders export."""
    forms = [f"C{num:04d}", f"c{num:04d}", f"C-{num:04d}", f"C{num}", f" C{num:04d} ", f"c-{num}",
             f"{num:04d}"]
    return rng.choice(forms)


def _money(rng, value: float, fancy: bool) -> str:
    if fancy and rng.random() < 0.5:
        return f"${value:,.2f}"
    return f"{value:.2f}"


def generate(req: TaskRequest) -> TaskDraft:
    rng = req.rng
    hard = req.difficulty == "hard"
    medium_plus = req.difficulty in ("medium", "hard")
    n_cust = {"easy": 8, "medium": 14, "hard": 20}[req.difficulty]
    n_orders = {"easy": 30, "medium": 70, "hard": 120}[req.difficulty]
    nums = sorted(rng.sample(range(1, 400), n_cust))
    names = {n: f"{rng.choice(FIRST)} {rng.choice(LAST)}" for n in nums}
    cities = {n: rng.choice(CITIES) for n in nums}
    cust_file = "customers.csv"
    orders_file = rng.choice(["orders.csv", "orders_export.csv", "sales_orders.csv"])
    cust_col = rng.choice(["customer", "cust_id", "customer_ref"])
    out_name = rng.choice(["customer_totals.csv", "spend_by_customer.csv", "report.csv"])

    # customers.csv (hard: some customers appear twice; the later `updated` date wins)
    cust_rows = []
    final_names = dict(names)
    for n in nums:
        cust_rows.append([f"C{n:04d}", names[n], cities[n], f"2023-{rng.randint(1, 6):02d}-{rng.randint(1, 28):02d}"])
    if hard:
        for n in rng.sample(nums, 4):
            newer = f"{rng.choice(FIRST)} {names[n].split()[1]}"
            old_date = next(r[3] for r in cust_rows if r[0] == f"C{n:04d}")
            new_date = f"2023-{rng.randint(7, 12):02d}-{rng.randint(1, 28):02d}"
            spelled = rng.choice([f"c{n:04d}", f"C-{n:04d}", f"C{n}"])
            row = [spelled, newer, cities[n], new_date]
            if rng.random() < 0.5:  # the newer row is not always the later line
                cust_rows.insert(0, row)
            else:
                cust_rows.append(row)
            final_names[n] = newer
            assert new_date > old_date
    cust_out = io.StringIO()
    w = csv.writer(cust_out, lineterminator="\n")
    w.writerow(["customer_id", "name", "city"] + (["updated"] if hard else []))
    for r in cust_rows:
        w.writerow(r if hard else r[:3])

    # orders
    orphans_nums = [n for n in rng.sample(range(400, 999), 3)] if medium_plus else []
    orders = []
    next_id = rng.randint(1000, 8000)
    for i in range(n_orders):
        next_id += rng.randint(1, 4)
        oid = f"O{next_id}"
        num = rng.choice(nums)
        status = rng.choice(STATUSES)
        if medium_plus and rng.random() < 0.15:
            status = rng.choice(["cancelled", "Cancelled", "CANCELLED"])
        if orphans_nums and i % 17 == 5:  # orphans are never cancelled, so the rules don't overlap
            num = orphans_nums[(i // 17) % len(orphans_nums)]
            status = rng.choice(STATUSES)
        amount = round(rng.uniform(5, 2500 if hard else 400), 2)
        orders.append({"oid": oid, "num": num, "status": status, "amount": amount, "spelled": _messy_id(rng, num)})
    # guarantees that make every rule matter in every instance
    orders[0]["spelled"] = f"C{orders[0]['num']}"  # unpadded: naive joins miss it
    orders[1]["spelled"] = f" c-{orders[1]['num']:04d} "
    if orders[0]["num"] not in nums:
        orders[0]["num"] = nums[0]
        orders[0]["spelled"] = f"C{nums[0]}"
    if orders[1]["num"] not in nums:
        orders[1]["num"] = nums[1]
        orders[1]["spelled"] = f" c-{nums[1]:04d} "
    if medium_plus:
        orders[2]["status"] = "Cancelled"
    refunds: dict[str, float] = {}
    if hard:
        candidates = [o for o in orders if o["num"] in nums and o["status"].lower() != "cancelled"]
        for o in rng.sample(candidates, 6):
            refunds[o["oid"]] = round(min(o["amount"], rng.uniform(1, o["amount"])), 2)
    ord_out = io.StringIO()
    w = csv.writer(ord_out, lineterminator="\n")
    w.writerow(["order_id", cust_col, "amount", "status"])
    for o in orders:
        w.writerow([o["oid"], o["spelled"], _money(rng, o["amount"], hard), o["status"]])
    app_files: dict[str, str] = {cust_file: cust_out.getvalue(), orders_file: ord_out.getvalue()}
    if hard:
        ref_out = io.StringIO()
        w = csv.writer(ref_out, lineterminator="\n")
        w.writerow(["order_id", "refund"])
        for oid, amt in sorted(refunds.items()):
            w.writerow([oid, _money(rng, amt, True)])
        app_files["refunds.csv"] = ref_out.getvalue()

    # expected results
    totals: dict[int, float] = {n: 0.0 for n in nums}
    counts: dict[int, int] = {n: 0 for n in nums}
    unmatched = []
    for o in orders:
        if medium_plus and o["status"].lower() == "cancelled":
            continue
        if o["num"] not in totals:
            unmatched.append(o["oid"])
            continue
        totals[o["num"]] += o["amount"] - refunds.get(o["oid"], 0.0)
        counts[o["num"]] += 1
    include_zero = medium_plus
    rows = [(f"C{n:04d}", final_names[n], counts[n], round(totals[n], 2)) for n in nums
            if include_zero or counts[n] > 0]
    rows.sort(key=lambda r: (-r[3], r[0]))
    expected = [list(r) for r in rows]

    rules = [
        "A customer id is identified by its number: `C0042`, `c-42`, ` C42 ` and `0042` are all customer "
        "C0042. Always write ids in the canonical form `C` followed by four digits.",
        "Columns, in this order: `customer_id,name,orders,total` (header row first). `orders` counts the "
        "orders that contribute to `total`; `total` has exactly two decimals.",
        "Sort rows by `total` descending, breaking ties by `customer_id` ascending.",
    ]
    if not medium_plus:
        rules.append("Only list customers that have at least one order.")
    else:
        rules.append("List every customer from customers.csv, including those with no orders (0 orders, total 0.00).")
        rules.append("Orders whose status is cancelled (any capitalisation) do not count at all.")
        rules.append("Orders that reference a customer who is not in customers.csv must not appear in the report; "
                     "write their order ids, one per line, sorted, to /app/unmatched.txt.")
    if hard:
        rules.append("Amounts may carry a `$` sign and thousands separators. Subtract each refund in refunds.csv "
                     "from the amount of the order it belongs to.")
        rules.append("customers.csv can list a customer more than once; the row with the latest `updated` date "
                     "holds the current name.")
    intro = pick(rng, [
        f"Finance needs spend per customer. The customer master is /app/{cust_file} and the orders export is "
        f"/app/{orders_file} (the `{cust_col}` column points at a customer).",
        f"Two exports need to be reconciled: /app/{cust_file} (customers) and /app/{orders_file} (orders; "
        f"its `{cust_col}` column refers to customers, but the ids were typed by hand).",
        f"Build a per-customer spending report by joining /app/{orders_file} to /app/{cust_file} through "
        f"the `{cust_col}` column.",
    ])
    task = pick(rng, [f"Write the report to /app/{out_name}.", f"Save the result as /app/{out_name}.",
                      f"The report goes to /app/{out_name}."])
    instruction = f"{intro} {task}\n\nRules:\n{bullets(rules, rng)}\n"

    solve = f"""# Inspect both files: headers, id spellings, status values
head -5 /app/{cust_file} /app/{orders_file}{' /app/refunds.csv' if hard else ''}
cut -d, -f2 /app/{orders_file} | sort | uniq | head -20
cut -d, -f4 /app/{orders_file} | sort | uniq -c

# Canonicalise ids, apply the rules and write the report with pandas
python3 - <<'PY'
import re
import pandas as pd
def canon(v):
    return 'C%04d' % int(re.sub(r'\\D', '', str(v)))
def money(v):
    return float(str(v).replace('$', '').replace(',', ''))
cust = pd.read_csv('/app/{cust_file}', dtype=str)
cust['customer_id'] = cust['customer_id'].map(canon)
if 'updated' in cust.columns:
    cust = cust.sort_values('updated').drop_duplicates('customer_id', keep='last')
orders = pd.read_csv('/app/{orders_file}', dtype=str)
orders['customer_id'] = orders['{cust_col}'].map(canon)
orders['amount'] = orders['amount'].map(money)
MEDIUM = {medium_plus!r}
if MEDIUM:
    orders = orders[orders['status'].str.lower() != 'cancelled']
try:
    ref = pd.read_csv('/app/refunds.csv', dtype=str)
    ref['refund'] = ref['refund'].map(money)
    orders = orders.merge(ref, on='order_id', how='left')
    orders['amount'] = orders['amount'] - orders['refund'].fillna(0.0)
except FileNotFoundError:
    pass
known = set(cust['customer_id'])
if MEDIUM:
    bad = sorted(orders.loc[~orders['customer_id'].isin(known), 'order_id'])
    open('/app/unmatched.txt', 'w').write(''.join(b + '\\n' for b in bad))
orders = orders[orders['customer_id'].isin(known)]
agg = orders.groupby('customer_id').agg(orders=('order_id', 'count'), total=('amount', 'sum')).reset_index()
rep = cust[['customer_id', 'name']].merge(agg, on='customer_id', how='left' if MEDIUM else 'inner')
rep['orders'] = rep['orders'].fillna(0).astype(int)
rep['total'] = rep['total'].fillna(0.0).round(2)
rep = rep.sort_values(['total', 'customer_id'], ascending=[False, True])
rep.to_csv('/app/{out_name}', index=False, float_format='%.2f')
PY

# Check the output
head -5 /app/{out_name}; wc -l /app/{out_name}{' /app/unmatched.txt' if medium_plus else ''}
"""
    # wrong: easy ignores zero padding (strips case/dash only); medium+ also counts cancelled orders
    wrong = f"""python3 - <<'PY'
import pandas as pd
def canon(v):
    return str(v).strip().upper().replace('-', '')
def money(v):
    return float(str(v).replace('$', '').replace(',', ''))
cust = pd.read_csv('/app/{cust_file}', dtype=str)
cust['customer_id'] = cust['customer_id'].map(canon)
cust = cust.drop_duplicates('customer_id', keep='last')
orders = pd.read_csv('/app/{orders_file}', dtype=str)
orders['customer_id'] = orders['{cust_col}'].map(canon)
orders['amount'] = orders['amount'].map(money)
known = set(cust['customer_id'])
bad = sorted(orders.loc[~orders['customer_id'].isin(known), 'order_id'])
open('/app/unmatched.txt', 'w').write(''.join(b + '\\n' for b in bad))
agg = orders.groupby('customer_id').agg(orders=('order_id', 'count'), total=('amount', 'sum')).reset_index()
rep = cust[['customer_id', 'name']].merge(agg, on='customer_id', how='{'left' if medium_plus else 'inner'}')
rep['orders'] = rep['orders'].fillna(0).astype(int)
rep['total'] = rep['total'].fillna(0.0).round(2)
rep = rep.sort_values(['total', 'customer_id'], ascending=[False, True])
rep.to_csv('/app/{out_name}', index=False, float_format='%.2f')
PY
"""
    tests = f"""import csv
import pathlib

OUT = pathlib.Path("/app/{out_name}")
EXPECTED = {json.dumps(expected)}
UNMATCHED = {json.dumps(sorted(unmatched)) if medium_plus else 'None'}


def rows():
    assert OUT.is_file(), f"{{OUT}} was not written"
    with OUT.open(newline="") as fh:
        return list(csv.reader(fh))


def test_header():
    assert [c.strip() for c in rows()[0]] == ["customer_id", "name", "orders", "total"]


def test_customer_set():
    got = sorted(r[0].strip() for r in rows()[1:] if r)
    assert got == sorted(e[0] for e in EXPECTED)


def test_names_and_counts():
    got = {{r[0].strip(): (r[1].strip(), int(r[2])) for r in rows()[1:] if r}}
    for cid, name, n, _ in EXPECTED:
        assert got[cid] == (name, n), cid


def test_totals_two_decimals():
    got = {{r[0].strip(): r[3].strip() for r in rows()[1:] if r}}
    for cid, _, _, total in EXPECTED:
        text = got[cid]
        assert "." in text and len(text.split(".")[1]) == 2, text
        assert abs(float(text) - total) <= 0.006, cid


def test_order():
    assert [r[0].strip() for r in rows()[1:] if r] == [e[0] for e in EXPECTED]
"""
    if medium_plus:
        tests += """

def test_unmatched_orders():
    path = pathlib.Path("/app/unmatched.txt")
    assert path.is_file(), "/app/unmatched.txt was not written"
    lines = [l.strip() for l in path.read_text().splitlines() if l.strip()]
    assert lines == UNMATCHED
"""
    return TaskDraft(
        instruction=instruction,
        app_files=app_files,
        solve=solve,
        wrong_solve=wrong,
        tests=tests,
        tags=("csv", "join", "data-cleaning", "pandas"),
    )


FAMILY = TaskFamily(
    name="multi-file-join",
    description="join customers to orders whose keys are spelled inconsistently and report spend per customer",
    generate=generate,
    requires=("python3",),
)
