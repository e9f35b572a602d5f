"""Grid-search polynomial ridge regression by K-fold CV within a stated search space, and report.

Easy gives a CV evaluator to drive; medium gives only a per-fold evaluator (the
agent averages) and a search space with excluded configurations; hard gives
only the model code, so the agent writes the cross-validation (folds by row id,
not file order) and refits the winner to predict a test file. Expected scores
are computed here in pure Python, independently of the numpy code in /app.
"""

from __future__ import annotations

import json
import math

from litecore.records import TaskDraft, TaskFamily, TaskRequest
from litecore.wording import bullets, pick

from litecore_plugin_ai_ml.families._common import fmt_csv

RIDGE_PY = '''"""Polynomial ridge regression on one input: features x**0 .. x**degree (pure Python, no numpy).

The intercept (x**0) is not penalised: w solves (X^T X + alpha * P) w = X^T y, P = diag(0, 1, ..., 1).
"""
import math


def design(x, degree):
    return [[float(v) ** j for j in range(degree + 1)] for v in x]


def fit(x, y, degree, alpha):
    X = design(x, degree)
    p = degree + 1
    A = [[math.fsum(r[i] * r[j] for r in X) + (alpha if i == j and i > 0 else 0.0) for j in range(p)]
         for i in range(p)]
    b = [math.fsum(r[i] * float(t) for r, t in zip(X, y)) for i in range(p)]
    # Gauss-Jordan elimination with partial pivoting
    M = [A[i] + [b[i]] for i in range(p)]
    for c in range(p):
        piv = max(range(c, p), key=lambda r: abs(M[r][c]))
        M[c], M[piv] = M[piv], M[c]
        for r in range(p):
            if r != c and M[r][c]:
                f = M[r][c] / M[c][c]
                M[r] = [u - f * v for u, v in zip(M[r], M[c])]
    return [M[i][p] / M[i][i] for i in range(p)]


def predict(w, x):
    return [sum(c * float(v) ** j for j, c in enumerate(w)) for v in x]


def mse(y_true, y_pred):
    return sum((float(t) - float(q)) ** 2 for t, q in zip(y_true, y_pred)) / len(y_true)
'''

CV_EVAL_PY = '''"""Evaluate one ridge configuration on /app/train.csv.

Folds: a row belongs to fold (row_id % {k}). Validation MSE of fold f = MSE on the rows
of fold f of the model fitted on all other rows.
"""
import argparse
import csv
import sys

sys.path.insert(0, "/app")
import ridge  # noqa: E402

K = {k}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--degree", type=int, required=True)
    ap.add_argument("--alpha", type=float, required=True)
    {fold_arg}
    args = ap.parse_args()
    rows = list(csv.DictReader(open("/app/train.csv", newline="")))
    ids = [int(r["row_id"]) for r in rows]
    x = [float(r["x"]) for r in rows]
    y = [float(r["y"]) for r in rows]
    scores = []
    for f in {folds}:
        tr = [i for i in range(len(rows)) if ids[i] % K != f]
        va = [i for i in range(len(rows)) if ids[i] % K == f]
        w = ridge.fit([x[i] for i in tr], [y[i] for i in tr], args.degree, args.alpha)
        scores.append(ridge.mse([y[i] for i in va], ridge.predict(w, [x[i] for i in va])))
    print("{label} %.12g" % (sum(scores) / len(scores)))


if __name__ == "__main__":
    main()
'''


# How the solutions drive /app/cv_eval.py: as `python3 /app/cv_eval.py ARGS` would, but inside one
# process (a python3 start per configuration and fold costs far more than the evaluation itself).
EVALUATE_PY = """import contextlib, csv, io, json, runpy, sys
def evaluate(*args):
    sys.argv = ['/app/cv_eval.py', *args]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        runpy.run_path('/app/cv_eval.py', run_name='__main__')
    return out.getvalue()
"""


def _solve(a: list[list[float]], b: list[float]) -> list[float]:
    """Gaussian elimination with partial pivoting (small dense systems)."""
    n = len(b)
    m = [row[:] + [b[i]] for i, row in enumerate(a)]
    for col in range(n):
        piv = max(range(col, n), key=lambda r: abs(m[r][col]))
        m[col], m[piv] = m[piv], m[col]
        for r in range(col + 1, n):
            f = m[r][col] / m[col][col]
            if f:
                for c in range(col, n + 1):
                    m[r][c] -= f * m[col][c]
    out = [0.0] * n
    for r in range(n - 1, -1, -1):
        out[r] = (m[r][n] - sum(m[r][c] * out[c] for c in range(r + 1, n))) / m[r][r]
    return out


def _fit(xs: list[float], ys: list[float], degree: int, alpha: float) -> list[float]:
    p = degree + 1
    pows = [[x ** j for j in range(p)] for x in xs]
    a = [[math.fsum(r[i] * r[j] for r in pows) + (alpha if i == j and i > 0 else 0.0) for j in range(p)]
         for i in range(p)]
    b = [math.fsum(r[i] * y for r, y in zip(pows, ys)) for i in range(p)]
    return _solve(a, b)


def _pred(w: list[float], x: float) -> float:
    return sum(c * x ** j for j, c in enumerate(w))


def _cv(ids, xs, ys, k, degree, alpha) -> float:
    scores = []
    for f in range(k):
        tr = [i for i in range(len(ids)) if ids[i] % k != f]
        va = [i for i in range(len(ids)) if ids[i] % k == f]
        w = _fit([xs[i] for i in tr], [ys[i] for i in tr], degree, alpha)
        scores.append(sum((ys[i] - _pred(w, xs[i])) ** 2 for i in va) / len(va))
    return sum(scores) / k


def generate(req: TaskRequest) -> TaskDraft:
    rng = req.rng
    d = req.difficulty
    k = pick(rng, (4, 5))
    n = {"easy": 40, "medium": 50, "hard": 60}[d]
    amp, freq, quad, shift = rng.uniform(0.5, 2), rng.uniform(1.5, 4), rng.uniform(-1, 1), rng.uniform(-1, 1)
    noise = rng.uniform(0.05, 0.3)
    while True:
        xs = [round(rng.uniform(-1, 1), 4) for _ in range(n)]
        ys = [round(amp * math.sin(freq * x + shift) + quad * x * x + rng.gauss(0, noise), 4) for x in xs]
        ids = rng.sample(range(1, 10 * n), n)
        if d != "hard":
            order = sorted(range(n), key=lambda i: ids[i])
            xs, ys, ids = [xs[i] for i in order], [ys[i] for i in order], [ids[i] for i in order]
        degrees = sorted(rng.sample(range(1, 8), {"easy": 4, "medium": 4, "hard": 5}[d]))
        alphas = sorted(rng.sample([0.0001, 0.001, 0.01, 0.1, 1.0, 10.0], 4))
        grid = [(g, a) for g in degrees for a in alphas]
        exclude: list[tuple[int, float]] = []
        if d == "medium":
            exclude = sorted(rng.sample(grid, 4))
        configs = [c for c in grid if c not in exclude]
        scores = {c: _cv(ids, xs, ys, k, *c) for c in configs}
        ranked = sorted(configs, key=lambda c: (scores[c], c))
        gap = (scores[ranked[1]] - scores[ranked[0]]) / scores[ranked[0]]
        if gap > 1e-5 and ranked != configs:
            break
    best = ranked[0]
    test_x = [round(rng.uniform(-1, 1), 4) for _ in range(12)] if d == "hard" else []
    test_ids = rng.sample(range(10 * n, 20 * n), len(test_x))
    w_best = _fit(xs, ys, *best) if d == "hard" else []
    test_pred = {i: _pred(w_best, x) for i, x in zip(test_ids, test_x)}

    space = {"degrees": degrees, "alphas": alphas}
    if exclude:
        space["exclude"] = [[g, a] for g, a in exclude]
    app = {
        "train.csv": fmt_csv(["row_id", "x", "y"], [[i, x, y] for i, x, y in zip(ids, xs, ys)]),
        "search_space.json": json.dumps(space, indent=2) + "\n",
        "ridge.py": RIDGE_PY,
    }
    if d == "easy":
        app["cv_eval.py"] = CV_EVAL_PY.format(k=k, fold_arg="", folds="range(K)", label="cv_mse")
    elif d == "medium":
        app["cv_eval.py"] = CV_EVAL_PY.format(
            k=k, fold_arg='ap.add_argument("--fold", type=int, required=True)', folds="[args.fold]",
            label="val_mse")
    else:
        app["test_x.csv"] = fmt_csv(["row_id", "x"], list(zip(test_ids, test_x)))

    tool = {
        "easy": "`python3 /app/cv_eval.py --degree D --alpha A` prints the mean validation MSE over the "
                f"{k} folds for one configuration.",
        "medium": "`python3 /app/cv_eval.py --degree D --alpha A --fold F` prints the validation MSE of one "
                  f"fold (F = 0..{k - 1}); the CV score of a configuration is the mean over the {k} folds.",
        "hard": f"/app/ridge.py has the model (fit / predict / mse); there is no evaluation script, so write the "
                f"{k}-fold cross-validation yourself: row r belongs to fold `row_id % {k}` (the file is not "
                "sorted by row_id), each fold is scored by the MSE of a model fitted on the other folds, and the "
                "CV score is the mean of the fold MSEs.",
    }[d]
    reqs = [
        "/app/results.csv: header `degree,alpha,cv_mse`, one row per evaluated configuration, sorted by "
        "`cv_mse` ascending",
        "/app/best.json: `{\"degree\": ..., \"alpha\": ..., \"cv_mse\": ...}` for the configuration with the "
        "lowest CV score",
    ]
    if d == "medium":
        reqs.append("configurations listed under `exclude` in search_space.json are off-limits: do not evaluate "
                    "or report them (they are over our compute budget)")
    if d == "hard":
        reqs.append("refit the best configuration on all of train.csv and write /app/test_pred.csv with header "
                    "`row_id,y_pred`, one row per row of /app/test_x.csv")
    rng.shuffle(reqs)
    intro = pick(rng, (
        "Tune a polynomial ridge regression on /app/train.csv (columns row_id, x, y). The search space (every "
        "degree x alpha combination) is in /app/search_space.json.",
        "We need the best degree/alpha for the ridge model in /app/ridge.py, trained on /app/train.csv. Search "
        "the grid in /app/search_space.json by cross-validation.",
        "Run a hyperparameter grid search for polynomial ridge regression: data in /app/train.csv, grid "
        "(degrees x alphas) in /app/search_space.json.",
    ))
    instruction = f"{intro}\n\n{tool}\n\nDeliverables:\n{bullets(reqs)}\n"

    if d == "easy":
        work = """# Evaluate every configuration of the grid with the provided evaluator (run in this one process)
python3 - <<'PY'
""" + EVALUATE_PY + """space = json.load(open('/app/search_space.json'))
res = []
for g in space['degrees']:
    for a in space['alphas']:
        out = evaluate('--degree', str(g), '--alpha', repr(a))
        res.append((g, a, float(out.split()[-1])))
res.sort(key=lambda r: r[2])
with open('/app/results.csv', 'w', newline='') as fh:
    w = csv.writer(fh); w.writerow(['degree', 'alpha', 'cv_mse']); w.writerows(res)
json.dump({'degree': res[0][0], 'alpha': res[0][1], 'cv_mse': res[0][2]}, open('/app/best.json', 'w'))
PY"""
    elif d == "medium":
        work = f"""# Evaluate each allowed configuration fold by fold and average the {k} fold scores
python3 - <<'PY'
{EVALUATE_PY}space = json.load(open('/app/search_space.json'))
skip = {{(g, a) for g, a in space.get('exclude', [])}}
res = []
for g in space['degrees']:
    for a in space['alphas']:
        if (g, a) in skip:
            continue
        folds = []
        for f in range({k}):
            out = evaluate('--degree', str(g), '--alpha', repr(a), '--fold', str(f))
            folds.append(float(out.split()[-1]))
        res.append((g, a, sum(folds) / len(folds)))
res.sort(key=lambda r: r[2])
with open('/app/results.csv', 'w', newline='') as fh:
    w = csv.writer(fh); w.writerow(['degree', 'alpha', 'cv_mse']); w.writerows(res)
json.dump({{'degree': res[0][0], 'alpha': res[0][1], 'cv_mse': res[0][2]}}, open('/app/best.json', 'w'))
print(len(res), 'configurations evaluated')
PY"""
    else:
        work = f"""# Write the K-fold CV (folds by row_id % {k}), search the grid, refit the winner, predict the test file
python3 - <<'PY'
import csv, json, sys
sys.path.insert(0, '/app')
import ridge
K = {k}
rows = list(csv.DictReader(open('/app/train.csv', newline='')))
ids = [int(r['row_id']) for r in rows]; x = [float(r['x']) for r in rows]; y = [float(r['y']) for r in rows]
def cv(g, a):
    s = []
    for f in range(K):
        tr = [i for i in range(len(rows)) if ids[i] % K != f]
        va = [i for i in range(len(rows)) if ids[i] % K == f]
        w = ridge.fit([x[i] for i in tr], [y[i] for i in tr], g, a)
        s.append(ridge.mse([y[i] for i in va], ridge.predict(w, [x[i] for i in va])))
    return sum(s) / K
space = json.load(open('/app/search_space.json'))
res = sorted(((g, a, cv(g, a)) for g in space['degrees'] for a in space['alphas']), key=lambda r: r[2])
with open('/app/results.csv', 'w', newline='') as fh:
    w = csv.writer(fh); w.writerow(['degree', 'alpha', 'cv_mse']); w.writerows(res)
g, a, s = res[0]
json.dump({{'degree': g, 'alpha': a, 'cv_mse': s}}, open('/app/best.json', 'w'))
wb = ridge.fit(x, y, g, a)
test = list(csv.DictReader(open('/app/test_x.csv', newline='')))
pred = ridge.predict(wb, [float(r['x']) for r in test])
with open('/app/test_pred.csv', 'w', newline='') as fh:
    w = csv.writer(fh); w.writerow(['row_id', 'y_pred'])
    w.writerows((r['row_id'], repr(float(p))) for r, p in zip(test, pred))
PY"""
    solve = f"""# Look at the data, the search space and the tools provided
head -5 /app/train.csv
cat /app/search_space.json
ls /app
{"sed -n 1,20p /app/cv_eval.py" if d != "hard" else "cat /app/ridge.py"}

{work}

# Check the report
head -5 /app/results.csv
cat /app/best.json
"""
    if d == "easy":
        wrong = work.replace("res.sort(key=lambda r: r[2])", "best = min(res, key=lambda r: r[2])").replace(
            "json.dump({'degree': res[0][0], 'alpha': res[0][1], 'cv_mse': res[0][2]}",
            "json.dump({'degree': best[0], 'alpha': best[1], 'cv_mse': best[2]}")
    elif d == "medium":
        wrong = work.replace(f"for f in range({k}):", "for f in range(1):")
    else:
        wrong = work.replace("ids[i] % K != f", "i % K != f").replace("ids[i] % K == f", "i % K == f")
    assert wrong != work
    expected_rows = [[g, a, scores[(g, a)]] for g, a in ranked]
    tests = f"""import csv
import json
import math
import pathlib

EXPECTED = {expected_rows!r}
BEST = {[best[0], best[1], scores[best]]!r}
TEST_PRED = {test_pred!r}


def close(a, b):
    return math.isclose(float(a), b, rel_tol=1e-6, abs_tol=1e-9)


def results():
    with open("/app/results.csv", newline="") as fh:
        reader = csv.DictReader(fh)
        assert [f.strip() for f in reader.fieldnames] == ["degree", "alpha", "cv_mse"]
        return [(int(float(r["degree"])), float(r["alpha"]), float(r["cv_mse"])) for r in reader]


def test_results_cover_exactly_the_allowed_grid():
    got = sorted((g, a) for g, a, _ in results())
    want = sorted((g, a) for g, a, _ in EXPECTED)
    assert len(got) == len(want)
    for (g1, a1), (g2, a2) in zip(got, want):
        assert g1 == g2 and math.isclose(a1, a2, rel_tol=1e-9), ((g1, a1), (g2, a2))


def test_cv_scores_are_correct():
    want = {{(g, a): s for g, a, s in EXPECTED}}
    for g, a, s in results():
        key = next(k for k in want if k[0] == g and math.isclose(k[1], a, rel_tol=1e-9))
        assert close(s, want[key]), (g, a, s, want[key])


def test_results_sorted_by_score():
    scores = [s for _, _, s in results()]
    assert scores == sorted(scores)


def test_best_configuration():
    best = json.loads(pathlib.Path("/app/best.json").read_text())
    assert int(best["degree"]) == BEST[0]
    assert math.isclose(float(best["alpha"]), BEST[1], rel_tol=1e-9)
    assert close(best["cv_mse"], BEST[2])
"""
    if d == "hard":
        tests += """

def test_refit_predictions():
    with open("/app/test_pred.csv", newline="") as fh:
        got = {int(r["row_id"]): float(r["y_pred"]) for r in csv.DictReader(fh)}
    assert sorted(got) == sorted(TEST_PRED)
    for rid, want in TEST_PRED.items():
        assert math.isclose(got[rid], want, rel_tol=1e-6, abs_tol=1e-6), (rid, got[rid], want)
"""
    return TaskDraft(
        instruction=instruction,
        app_files=app,
        solve=solve,
        wrong_solve=wrong,
        tests=tests,
        tags=("hyperparameter-search", "cross-validation", "ridge-regression"),
    )


FAMILY = TaskFamily(
    name="hyperparameter-search",
    description="grid-search ridge regression by K-fold CV within a stated search space and report results",
    generate=generate,
    requires=("python3",),
)
