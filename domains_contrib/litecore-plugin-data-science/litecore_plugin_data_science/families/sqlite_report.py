"""Answer a business question from a SQLite database and (medium+) ship the query itself.

The agent explores an unknown schema with the sqlite3 shell, writes a report CSV,
and from medium on saves the SELECT to a file that the hidden tests run against a
*different* database with the same schema: hard-coding the numbers cannot pass.
"""

from __future__ import annotations

import datetime as dt
import random
import sqlite3

from litecore.records import TaskDraft, TaskFamily, TaskRequest
from litecore.wording import bullets, pick


CATEGORIES = ["garden", "kitchen", "toys", "books", "audio", "sports", "office", "pets", "tools"]
NOUNS = ["lamp", "kettle", "hose", "drone", "novel", "speaker", "racket", "stapler", "leash", "drill",
         "mug", "puzzle", "atlas", "headset", "ball", "binder", "bowl", "saw", "rake", "pan"]
ADJ = ["red", "compact", "deluxe", "basic", "pro", "mini", "classic", "smart", "eco", "retro"]
COUNTRIES = ["PT", "NO", "GH", "JP", "PE", "AT", "IE", "EE"]
GOOD = ["paid", "shipped", "delivered"]
BAD = ["cancelled", "refunded"]


def _build(rng: random.Random, level: str, month: tuple[int, int]) -> tuple[bytes, dict]:
    """Make one shop database and the facts needed to answer the question about ``month``."""
    cats = sorted(rng.sample(CATEGORIES, 5))
    con = sqlite3.connect(":memory:")
    con.executescript("""
        CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, country TEXT);
        CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT NOT NULL, category TEXT NOT NULL,
                               list_price REAL NOT NULL);
        CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers(id),
                             ordered_at TEXT NOT NULL, status TEXT NOT NULL);
        CREATE TABLE order_items (order_id INTEGER REFERENCES orders(id), product_id INTEGER REFERENCES products(id),
                                  quantity INTEGER NOT NULL, unit_price REAL);
    """)
    products = []
    names = set()
    for pid in range(1, 21):
        name = f"{rng.choice(ADJ)} {rng.choice(NOUNS)}"
        while name in names:
            name = f"{rng.choice(ADJ)} {rng.choice(NOUNS)}"
        names.add(name)
        products.append((pid, name, cats[pid % len(cats)], round(rng.uniform(3, 200), 2)))
    con.executemany("INSERT INTO products VALUES (?,?,?,?)", products)
    con.executemany("INSERT INTO customers VALUES (?,?,?)",
                    [(c, f"customer {c}", rng.choice(COUNTRIES)) for c in range(1, 31)])
    y, m = month
    orders, items = [], []
    for oid in range(1, 161):
        mm = m if rng.random() < 0.6 else rng.choice([m - 1 or 12, m % 12 + 1])
        yy = y if not (mm == 12 and m == 1) and not (mm == 1 and m == 12) else (y - 1 if mm == 12 else y + 1)
        day = rng.randint(1, 28)
        t = dt.datetime(yy, mm, day, rng.randint(0, 23), rng.randint(0, 59), tzinfo=dt.timezone.utc)
        if level == "hard" and rng.random() < 0.3:
            stamp: str | int = int(t.timestamp())
        else:
            stamp = t.strftime("%Y-%m-%d %H:%M:%S")
        status = rng.choice(GOOD * 4 + BAD)
        orders.append((oid, rng.randint(1, 30), stamp, status, (yy, mm)))
        for _ in range(rng.randint(1, 3)):
            p = rng.choice(products)
            price = None if rng.random() < 0.2 else round(p[3] * rng.choice([1, 1, 0.9, 0.8]), 2)
            items.append((oid, p[0], rng.randint(1, 5), price))
    # guarantee the traps exist inside the month: a cancelled order and a NULL price
    orders[0] = (1, 1, orders[0][2] if orders[0][4] == (y, m) else f"{y}-{m:02d}-15 12:00:00", "cancelled", (y, m))
    items.append((2, products[3][0], 2, None))
    orders[1] = (2, 2, f"{y}-{m:02d}-{rng.randint(1, 28):02d} 09:30:00", "paid", (y, m))
    con.executemany("INSERT INTO orders VALUES (?,?,?,?)", [o[:4] for o in orders])
    con.executemany("INSERT INTO order_items VALUES (?,?,?,?)", items)
    con.commit()
    data = con.serialize()
    con.close()
    # the answer, computed in Python from the same rows
    pinfo = {p[0]: p for p in products}
    in_month = {o[0] for o in orders if o[4] == (y, m) and o[3] in GOOD}
    per_cat: dict[str, dict] = {c: {"orders": set(), "units": 0, "revenue": 0.0} for c in cats}
    per_prod: dict[int, float] = {}
    for oid, pid, q, price in items:
        if oid not in in_month:
            continue
        p = pinfo[pid]
        unit = p[3] if price is None else price
        d = per_cat[p[2]]
        d["orders"].add(oid)
        d["units"] += q
        d["revenue"] += q * unit
        per_prod[pid] = per_prod.get(pid, 0.0) + q * unit
    cat_rows = sorted(([c, len(d["orders"]), d["units"], round(d["revenue"], 2)] for c, d in per_cat.items()),
                      key=lambda r: (-r[3], r[0]))
    top = []
    for c in cats:
        mine = sorted(((round(v, 2), pinfo[pid][1]) for pid, v in per_prod.items() if pinfo[pid][2] == c),
                      key=lambda x: (-x[0], x[1]))[:2]
        for rank, (rev, name) in enumerate(mine, 1):
            top.append([c, rank, name, rev])
    return data, {"categories": cat_rows, "top": top}


def generate(req: TaskRequest) -> TaskDraft:
    rng = req.rng
    level = req.difficulty
    month = (rng.choice([2023, 2024]), rng.randint(1, 12))
    mstr = f"{month[0]}-{month[1]:02d}"
    db_name = rng.choice(["shop.db", "store.sqlite", "sales.db"])
    hidden_rng = random.Random(rng.getrandbits(64))  # the second database the query must also work on
    db, facts = _build(rng, level, month)
    hidden_db, hidden_facts = _build(hidden_rng, level, month)
    want = "top" if level == "hard" else "categories"
    cols = ["category", "rank", "product", "revenue"] if level == "hard" else ["category", "orders", "units", "revenue"]
    out = rng.choice(["report.csv", f"revenue_{mstr}.csv", "month_report.csv"])
    rules = [
        f"Only orders placed in {mstr} count (`ordered_at`, UTC) and only with status paid, shipped or delivered.",
        "A line's revenue is quantity x unit_price; where `unit_price` is NULL the product's `list_price` applies.",
        "Revenue is rounded to 2 decimals.",
    ]
    if level == "hard":
        rules.append("`ordered_at` is usually text (`YYYY-MM-DD HH:MM:SS`) but some rows hold Unix epoch seconds.")
        rules.append("For each category list its two best-selling products by revenue in the month (rank 1 and 2; "
                     "ties broken by product name ascending; a category with fewer products sold lists fewer). "
                     "Rows sorted by category, then rank.")
    else:
        rules.append("One row per category that exists in `products`, including categories with no sales "
                     "(0 orders, 0 units, revenue 0). `orders` counts distinct qualifying orders that contain the "
                     "category. Sort by revenue descending, then category ascending.")
    if level != "easy":
        rules.append("Save the single SELECT statement that produces exactly these rows (in this order, without a "
                     "header) to /app/report.sql: it will be run with `sqlite3` against other databases with the "
                     "same schema, so it must not depend on this database's contents.")
    instruction = (
        pick(rng, [f"/app/{db_name} is the shop's SQLite database. ",
                   f"The sales database lives at /app/{db_name} (SQLite). ",
                   f"Management wants a monthly figure from the SQLite file /app/{db_name}. "])
        + pick(rng, [f"Write /app/{out}, a CSV with header `{','.join(cols)}`",
                     f"Produce the CSV /app/{out} (columns `{','.join(cols)}`, header row first)"])
        + (" with revenue per product category." if level != "hard" else " with the top products per category.")
        + "\n\n" + bullets(rules, rng) + "\n"
    )
    # TEXT affinity stores the epoch values as digit strings: tell them apart by the missing dashes
    month_expr = ("strftime('%Y-%m', CASE WHEN instr(o.ordered_at, '-') = 0 THEN datetime(o.ordered_at, "
                  "'unixepoch') ELSE o.ordered_at END)")
    if level == "hard":
        sql = (f"WITH s AS (SELECT p.category, p.name, ROUND(SUM(i.quantity * COALESCE(i.unit_price, p.list_price)), 2) AS rev "
               f"FROM orders o JOIN order_items i ON i.order_id = o.id JOIN products p ON p.id = i.product_id "
               f"WHERE {month_expr} = '{mstr}' AND o.status IN ('paid', 'shipped', 'delivered') "
               f"GROUP BY p.id), r AS (SELECT category, ROW_NUMBER() OVER (PARTITION BY category ORDER BY rev DESC, name) AS rk, "
               f"name, rev FROM s) SELECT category, rk, name, rev FROM r WHERE rk <= 2 ORDER BY category, rk")
    else:
        sql = (f"SELECT c.category, COUNT(DISTINCT x.order_id), COALESCE(SUM(x.quantity), 0), "
               f"ROUND(COALESCE(SUM(x.rev), 0), 2) AS revenue FROM (SELECT DISTINCT category FROM products) c LEFT JOIN "
               f"(SELECT p.category, i.order_id, i.quantity, i.quantity * COALESCE(i.unit_price, p.list_price) AS rev "
               f"FROM orders o JOIN order_items i ON i.order_id = o.id JOIN products p ON p.id = i.product_id "
               f"WHERE {month_expr} = '{mstr}' AND o.status IN ('paid', 'shipped', 'delivered')) x "
               f"ON x.category = c.category GROUP BY c.category ORDER BY revenue DESC, c.category")
    solve = f"""# Explore the schema and the values that matter (status, timestamps, NULL prices)
sqlite3 /app/{db_name} '.tables' '.schema'
sqlite3 /app/{db_name} 'SELECT status, COUNT(*) FROM orders GROUP BY status;' 'SELECT typeof(ordered_at), COUNT(*), MIN(ordered_at) FROM orders GROUP BY 1;' 'SELECT COUNT(*) FROM order_items WHERE unit_price IS NULL;'

# Write the query once, keep it in a file, and use it for the CSV
cat > /app/report.sql <<'SQL'
{sql};
SQL
{{ echo '{','.join(cols)}'; sqlite3 -csv /app/{db_name} < /app/report.sql; }} > /app/{out}

# Check the report
cat /app/{out}
"""
    wrong_sql = sql.replace("COALESCE(i.unit_price, p.list_price)", "i.unit_price").replace(month_expr, "strftime('%Y-%m', o.ordered_at)")
    if level == "easy":
        wrong_sql = wrong_sql.replace(" AND o.status IN ('paid', 'shipped', 'delivered')", "")
    wrong = f"""cat > /app/report.sql <<'SQL'
{wrong_sql};
SQL
{{ echo '{','.join(cols)}'; sqlite3 -csv /app/{db_name} < /app/report.sql; }} > /app/{out}
"""
    expected = facts[want]
    hidden_expected = hidden_facts[want]
    tests = f"""import csv
import pathlib
import sqlite3

COLS = {cols!r}
EXPECTED = {expected!r}
HIDDEN_EXPECTED = {hidden_expected!r}


def same(got, want):
    assert len(got) == len(want), (got, want)
    for g, w in zip(got, want):
        assert len(g) == 4, g
        assert str(g[0]).strip() == w[0], (g, w)
        for i in (1, 2):
            if isinstance(w[i], int):
                assert int(float(g[i])) == w[i], (g, w)
            else:
                assert str(g[i]).strip() == w[i], (g, w)
        assert abs(float(g[3]) - w[3]) <= 0.011, (g, w)


def rows():
    with pathlib.Path("/app/{out}").open(newline="") as fh:
        return [r for r in csv.reader(fh) if r]


def test_header():
    assert [c.strip() for c in rows()[0]] == COLS


def test_report_rows():
    same(rows()[1:], EXPECTED)
"""
    if level != "easy":
        tests += """

def run_query(db):
    sql = pathlib.Path("/app/report.sql").read_text().strip().rstrip(";")
    con = sqlite3.connect(db)
    try:
        return [list(r) for r in con.execute(sql).fetchall()]
    finally:
        con.close()


def test_query_reproduces_report():
    same(run_query("/tests/check_a.db"), EXPECTED)


def test_query_on_other_database():
    same(run_query("/tests/check_b.db"), HIDDEN_EXPECTED)
"""
    test_files = {"check_a.db": db, "check_b.db": hidden_db} if level != "easy" else {}
    return TaskDraft(instruction=instruction, app_files={db_name: db}, solve=solve, wrong_solve=wrong, tests=tests,
                     test_files=test_files, tags=("sqlite", "sql", "report", "window-functions"),
                     requires=("sqlite3",))


FAMILY = TaskFamily(
    name="sqlite-report",
    description="answer a monthly revenue question from a SQLite shop database and ship the reusable query",
    generate=generate,
    requires=("python3", "sqlite3"),
)
