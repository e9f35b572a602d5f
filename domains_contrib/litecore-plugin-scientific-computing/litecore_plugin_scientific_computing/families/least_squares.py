"""Fit a model to measurement files by least squares and report parameters to a tolerance.

easy: a straight line from one file with a comment header; medium: a weighted
quadratic over several run files with flagged rows to drop; hard: a nonlinear
exponential decay whose time column is in seconds in some files and milliseconds
in others. References are the exact minimisers, computed at generation time.
"""

from __future__ import annotations

import math
from fractions import Fraction

from litecore.records import TaskDraft, TaskFamily, TaskRequest
from litecore.wording import bullets, pick


def _solve(m: list[list[Fraction]], v: list[Fraction]) -> list[Fraction]:
    """Gauss-Jordan elimination in exact arithmetic (small normal equations)."""
    n = len(v)
    a = [row[:] + [v[i]] for i, row in enumerate(m)]
    for c in range(n):
        p = next(r for r in range(c, n) if a[r][c] != 0)
        a[c], a[p] = a[p], a[c]
        for r in range(n):
            if r != c and a[r][c] != 0:
                f = a[r][c] / a[c][c]
                a[r] = [x - f * y for x, y in zip(a[r], a[c])]
    return [a[i][n] / a[i][i] for i in range(n)]


def _wls(xs: list[float], ys: list[float], ws: list[float], deg: int) -> list[float]:
    X = [[Fraction(x) ** k for k in range(deg + 1)] for x in xs]
    W = [Fraction(w) for w in ws]
    Y = [Fraction(y) for y in ys]
    m = [[sum(W[i] * X[i][r] * X[i][c] for i in range(len(xs))) for c in range(deg + 1)] for r in range(deg + 1)]
    v = [sum(W[i] * X[i][r] * Y[i] for i in range(len(xs))) for r in range(deg + 1)]
    return [float(p) for p in _solve(m, v)]


def _exp_fit(ts: list[float], ys: list[float], guess: list[float]) -> list[float]:
    """Gauss-Newton for y = A exp(-k t) + C, started at the generating parameters."""
    A, k, C = guess
    for _ in range(100):
        J, r = [], []
        for t, y in zip(ts, ys):
            e = math.exp(-k * t)
            J.append([e, -A * t * e, 1.0])
            r.append(y - (A * e + C))
        jtj = [[Fraction(sum(J[i][a] * J[i][b] for i in range(len(ts)))) for b in range(3)] for a in range(3)]
        jtr = [Fraction(sum(J[i][a] * r[i] for i in range(len(ts)))) for a in range(3)]
        dA, dk, dC = (float(x) for x in _solve(jtj, jtr))
        A, k, C = A + dA, k + dk, C + dC
        if abs(dA) < 1e-15 * abs(A) and abs(dk) < 1e-15 * abs(k) and abs(dC) < 1e-14 * max(1.0, abs(C)):
            break
    return [A, k, C]


def generate(req: TaskRequest) -> TaskDraft:
    rng = req.rng
    level = req.difficulty
    out = rng.choice(["fit.json", "fit_result.json", "parameters.json"])
    files: dict[str, str] = {}
    if level == "easy":
        a, b = rng.uniform(-5, 5), rng.uniform(0.5, 4)
        xs = sorted(round(rng.uniform(0, 20), 3) for _ in range(rng.randint(25, 40)))
        ys = [round(a + b * x + rng.gauss(0, 0.4), 4) for x in xs]
        name = rng.choice(["calibration.dat", "measurements.dat", "sensor_cal.txt"])
        body = [f"# calibration run {rng.randint(1, 99)}", "# columns: voltage_V  reading", "voltage_V reading"]
        body += [f"{x:.3f} {y:.4f}" for x, y in zip(xs, ys)]
        files[name] = "\n".join(body) + "\n"
        params = dict(zip(["a", "b"], _wls(xs, ys, [1.0] * len(xs), 1)))
        model = "reading = a + b * voltage_V"
        rules = [f"The data are in /app/{name} (whitespace separated; lines starting with `#` are comments, then a "
                 f"header line).", "Use ordinary least squares over all data rows."]
        keys = ["a", "b"]
    elif level == "medium":
        c0, c1, c2 = rng.uniform(-3, 3), rng.uniform(-2, 2), rng.uniform(0.05, 0.6)
        xs, ys, ws = [], [], []
        for run in range(1, rng.randint(3, 4) + 1):
            lines = ["x,y,sigma,flag"]
            for _ in range(rng.randint(12, 20)):
                x = round(rng.uniform(-6, 6), 3)
                sig = round(rng.uniform(0.05, 1.5), 3)
                y = round(c0 + c1 * x + c2 * x * x + rng.gauss(0, sig), 4)
                flag = "ok" if rng.random() > 0.15 else rng.choice(["saturated", "bad", "ok?"])
                if flag != "ok":
                    y = round(y + rng.choice([-1, 1]) * rng.uniform(5, 20), 4)
                else:
                    xs.append(x); ys.append(y); ws.append(1 / (sig * sig))
                lines.append(f"{x},{y},{sig},{flag}")
            files[f"runs/run_{run:02d}.csv"] = "\n".join(lines) + "\n"
        params = dict(zip(["c0", "c1", "c2"], _wls(xs, ys, ws, 2)))
        model = "y = c0 + c1*x + c2*x**2"
        rules = ["The measurements are spread over the CSV files in /app/runs/; use all of them.",
                 "Only rows whose `flag` is exactly `ok` are valid.",
                 "Each y has its own standard deviation `sigma`: minimise the weighted sum of squares "
                 "sum(((y - model) / sigma)**2)."]
        keys = ["c0", "c1", "c2"]
    else:
        A, k, C = rng.uniform(2, 10), rng.uniform(0.2, 1.5), rng.uniform(-1, 1)
        ts_all, ys_all = [], []
        for i in range(1, 4):
            ms = i % 2 == 0
            lines = ["time_ms,counts" if ms else "time_s,counts"]
            for _ in range(rng.randint(15, 25)):
                t = round(rng.uniform(0, 6 / k), 3)
                y = round(A * math.exp(-k * t) + C + rng.gauss(0, 0.05), 5)
                ts_all.append(t); ys_all.append(y)
                lines.append(f"{t * 1000:.0f},{y}" if ms else f"{t},{y}")
                if ms:
                    ts_all[-1] = round(t * 1000) / 1000
            files[f"decay_{i}.csv"] = "\n".join(lines) + "\n"
        params = dict(zip(["A", "k", "C"], _exp_fit(ts_all, ys_all, [A, k, C])))
        model = "counts = A * exp(-k * t) + C   (t in seconds, k in 1/s)"
        rules = ["The data are in /app/decay_*.csv. Look at each file's header: some give time in seconds "
                 "(`time_s`), others in milliseconds (`time_ms`).",
                 "Fit all points together by (unweighted) nonlinear least squares."]
        keys = ["A", "k", "C"]
    tol = 1e-6
    rules.append(f"Write /app/{out}: a JSON object with the keys {', '.join(keys)} (numbers). Each must be within "
                 f"{tol:g} x max(1, |value|) of the exact least-squares solution.")
    instruction = (
        pick(rng, [f"Fit the model `{model}` to the lab data. ",
                   f"We need best-fit parameters of `{model}`. ",
                   f"Estimate the parameters of `{model}` from the measurements. "])
        + "\n\n" + bullets(rules) + "\n"
    )
    if level == "easy":
        fit = (f"d = np.loadtxt('/app/{name}', comments='#', skiprows=3)\n"
               "X = np.column_stack([np.ones(len(d)), d[:, 0]])\n"
               "p, *_ = np.linalg.lstsq(X, d[:, 1], rcond=None)\n"
               "res = {'a': p[0], 'b': p[1]}")
        look = f"head -6 /app/{name}; wc -l /app/{name}"
        wrong_fit = fit.replace("skiprows=3", "skiprows=4")
    elif level == "medium":
        fit = ("import glob, csv\n"
               "rows = [r for f in sorted(glob.glob('/app/runs/*.csv')) for r in csv.DictReader(open(f)) if r['flag'] == 'ok']\n"
               "x = np.array([float(r['x']) for r in rows]); y = np.array([float(r['y']) for r in rows])\n"
               "w = 1 / np.array([float(r['sigma']) for r in rows])\n"
               "X = np.column_stack([np.ones_like(x), x, x * x])\n"
               "p, *_ = np.linalg.lstsq(X * w[:, None], y * w, rcond=None)\n"
               "res = {'c0': p[0], 'c1': p[1], 'c2': p[2]}")
        look = "ls /app/runs; head -5 /app/runs/*.csv | head -20; cut -d, -f4 /app/runs/*.csv | sort | uniq -c"
        wrong_fit = fit.replace("w = 1 / np.array", "w = 0 * np.array").replace("* w", "* (w + 1)")
    else:
        fit = ("import glob, csv\n"
               "from scipy.optimize import least_squares\n"
               "t, y = [], []\n"
               "for f in sorted(glob.glob('/app/decay_*.csv')):\n"
               "    r = csv.reader(open(f)); head = next(r)\n"
               "    scale = 1e-3 if head[0] == 'time_ms' else 1.0\n"
               "    for row in r:\n"
               "        t.append(float(row[0]) * scale); y.append(float(row[1]))\n"
               "t, y = np.array(t), np.array(y)\n"
               "p0 = [y.max() - y.min(), 1.0 / (t.mean() + 1e-9), y.min()]\n"
               "fit = least_squares(lambda q: q[0] * np.exp(-q[1] * t) + q[2] - y, p0, xtol=1e-15, ftol=1e-15, gtol=1e-15)\n"
               "res = {'A': fit.x[0], 'k': fit.x[1], 'C': fit.x[2]}")
        look = "head -4 /app/decay_*.csv; wc -l /app/decay_*.csv"
        wrong_fit = fit.replace("1e-3 if head[0] == 'time_ms' else 1.0", "1.0")
    tmpl = """# Look at the data files: format, headers, units, flags
{look}

# Fit by least squares
cat > /app/fit.py <<'PY'
import json
import numpy as np
{fit}
res = {{k: float(v) for k, v in res.items()}}
json.dump(res, open('/app/{out}', 'w'), indent=1)
print(res)
PY
python3 /app/fit.py

# Look at the fitted parameters
cat /app/{out}
"""
    solve = tmpl.format(look=look, fit=fit, out=out)
    wrong = tmpl.format(look=look, fit=wrong_fit, out=out)
    tests = f"""import json
import math
import pathlib

EXPECTED = {params!r}
TOL = {tol!r}


def load():
    return json.loads(pathlib.Path("/app/{out}").read_text())


def test_keys():
    assert sorted(load()) == sorted(EXPECTED)

"""
    for key in keys:
        tests += f"""

def test_param_{key}():
    got = float(load()["{key}"])
    want = EXPECTED["{key}"]
    assert math.isfinite(got) and abs(got - want) <= TOL * max(1.0, abs(want)), (got, want)
"""
    return TaskDraft(instruction=instruction, app_files=files, solve=solve, wrong_solve=wrong, tests=tests,
                     tags=("least-squares", "curve-fitting", "numpy", "scipy"))


FAMILY = TaskFamily(
    name="least-squares",
    description="fit linear, weighted polynomial or nonlinear decay models to measurement files",
    generate=generate,
    requires=("python3",),
)
