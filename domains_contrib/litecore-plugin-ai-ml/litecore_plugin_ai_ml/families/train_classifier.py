"""Train a classifier on a CSV and ship a predict.py that beats an accuracy bar on a hidden set.

The hidden rows live only in the verifier's folder, so the agent has to build a
model that generalises (not memorise answers). Difficulty changes what the
data demands: easy is linear, medium hides most of the signal in a categorical
column, hard is non-linear with missing cells, so a linear model cannot pass.
"""

from __future__ import annotations

import math

from litecore.records import TaskDraft, TaskFamily, TaskRequest
from litecore.wording import bullets, pick, shuffled

from litecore_plugin_ai_ml.families._common import fmt_csv

# theme: (what, label column, positive/negative label, numeric features (name, mean, sd), categorical)
THEMES = (
    ("customer churn", "churned", ("yes", "no"),
     (("tenure_months", 30, 15), ("monthly_fee", 60, 20), ("support_calls", 3, 2), ("data_gb", 20, 9),
      ("logins_per_week", 5, 3), ("late_payments", 1.5, 1.2)),
     ("plan", ("basic", "plus", "pro", "family"))),
    ("machine failure", "status", ("fail", "ok"),
     (("temperature_c", 70, 8), ("vibration_mm_s", 4, 1.5), ("rpm", 1500, 300), ("pressure_kpa", 210, 25),
      ("age_days", 400, 150), ("load_pct", 65, 15)),
     ("line", ("north", "south", "east", "west"))),
    ("spam filtering", "verdict", ("spam", "ham"),
     (("num_links", 4, 3), ("caps_ratio", 0.2, 0.1), ("length_chars", 900, 400), ("exclaims", 2, 1.5),
      ("reply_depth", 1, 0.8), ("attachments", 0.6, 0.7)),
     ("sender_kind", ("known", "new", "bulk", "internal"))),
    ("loan default", "outcome", ("default", "repaid"),
     (("income_k", 55, 20), ("debt_ratio", 0.35, 0.12), ("credit_lines", 6, 3), ("loan_k", 18, 9),
      ("years_employed", 7, 5), ("inquiries", 2, 1.5)),
     ("purpose", ("car", "home", "study", "business"))),
)

SIZES = {"easy": (300, 3), "medium": (400, 4), "hard": (700, 5)}
MARGIN = {"easy": 0.08, "medium": 0.10, "hard": 0.15}


def _rows(rng, n, spec):
    """Rows of (row_id, numeric..., cat, label) plus whether the noiseless rule agrees with the label."""
    feats, weights, offsets, cats, kind, pair, labels, difficulty, id_base = spec
    rows, agree = [], []
    for i in range(n):
        z = [rng.gauss(0.0, 1.0) for _ in feats]
        cat = pick(rng, cats) if cats else ""
        if kind == "linear":
            s = sum(w * v for w, v in zip(weights, z))
        elif kind == "ring":
            s = 1.386 - (z[pair[0]] ** 2 + z[pair[1]] ** 2)
        else:  # xor
            s = z[pair[0]] * z[pair[1]]
        s += offsets.get(cat, 0.0)
        truth = s > 0
        noisy = truth if rng.random() >= 0.03 else not truth
        agree.append(truth == noisy)
        values = []
        for (name, mu, sd), v in zip(feats, z):
            if difficulty == "hard" and rng.random() < 0.04:
                values.append("")
            else:
                values.append(f"{mu + sd * v:.3f}")
        row = [id_base + i, *values]
        if cats:
            row.append(cat)
        row.append(labels[0] if noisy else labels[1])
        rows.append(row)
    return rows, agree


def generate(req: TaskRequest) -> TaskDraft:
    rng = req.rng
    d = req.difficulty
    what, label_col, labels, pool, (cat_name, cat_values) = pick(rng, THEMES)
    n_train, k = SIZES[d]
    feats = rng.sample(list(pool), k)
    weights = [pick(rng, (-1, 1)) * rng.uniform(0.6, 1.4) for _ in feats]
    kind = "linear" if d != "hard" else pick(rng, ("ring", "xor"))
    pair = tuple(rng.sample(range(k), 2))
    cats: tuple[str, ...] = ()
    offsets: dict[str, float] = {}
    if d != "easy":
        cats = tuple(rng.sample(list(cat_values), len(cat_values)))
        strength = (-2.6, -0.9, 0.9, 2.6) if d == "medium" else (-0.5, -0.2, 0.2, 0.5)
        offsets = dict(zip(cats, strength))
    spec = (feats, weights, offsets, cats, kind, pair, labels, d, 0)
    train, _ = _rows(rng, n_train, (*spec[:-1], rng.randrange(1000, 5000)))
    hidden, agree = _rows(rng, 500, (*spec[:-1], 90000 + rng.randrange(1000)))
    header = ["row_id", *[f[0] for f in feats], *([cat_name] if cats else []), label_col]
    bayes = sum(agree) / len(agree)
    threshold = round(math.floor((bayes - MARGIN[d]) * 100) / 100, 2)
    hidden_features = fmt_csv(header[:-1], [r[:-1] for r in hidden])
    expected = {r[0]: r[-1] for r in hidden}

    notes = []
    if cats:
        notes.append(f"`{cat_name}` is a categorical column (text values).")
    if d == "hard":
        notes.append("Some numeric cells are empty (missing measurements); the hidden rows have them too.")
    intro = pick(rng, (
        f"We are building a {what} model. The labelled training data is /app/train.csv (target column "
        f"`{label_col}`, values `{labels[0]}` / `{labels[1]}`).",
        f"/app/train.csv holds {n_train} labelled examples for a {what} problem; the column to predict is "
        f"`{label_col}` (`{labels[0]}` or `{labels[1]}`).",
        f"Your job is a small {what} classifier. Training examples are in /app/train.csv and the label is "
        f"the `{label_col}` column, either `{labels[0]}` or `{labels[1]}`.",
    ))
    contract = shuffled(rng, [
        "Write /app/predict.py. It is run as `python3 /app/predict.py INPUT.csv OUTPUT.csv`, where INPUT.csv "
        f"has the same columns as train.csv except `{label_col}`.",
        f"OUTPUT.csv must have the header `row_id,prediction` and one line per input row, with the predicted "
        f"label spelled exactly like in train.csv (`{labels[0]}` or `{labels[1]}`).",
        f"On a hidden test set of {len(hidden)} rows from the same distribution, accuracy must be at least "
        f"{threshold:.2f}.",
        "predict.py may load anything you save under /app (e.g. a pickled model), must not need the network, "
        "and must finish within a minute. numpy, pandas, scipy and scikit-learn are installed.",
    ])
    instruction = intro + "\n\n" + bullets(contract) + ("\n\nNotes:\n" + bullets(notes) if notes else "") + "\n"

    num_cols = [f[0] for f in feats]
    cat_col = cat_name if cats else ""
    predict_py = """cat > /app/predict.py <<'PY'
\"\"\"Predict labels for a CSV with the training columns (minus the label) from /app/model.json:
a logistic regression on (optionally quadratic) features of the median-imputed, standardised numeric
columns plus a one-hot categorical column. Only numpy is needed here.\"\"\"
import csv
import json
import sys
import numpy as np
def features(rows, m):
    x = np.array([[float(r[c]) if r[c].strip() else np.nan for c in m['num']] for r in rows],
                 dtype=float).reshape(len(rows), len(m['num']))
    x = np.where(np.isnan(x), np.array(m['median']), x)
    z = (x - np.array(m['mean'])) / np.array(m['scale'])
    f = np.prod(z[:, None, :] ** np.array(m['powers'], dtype=float)[None], axis=2)
    if m['cat']:
        f = np.hstack([f, np.array([[r[m['cat']] == v for v in m['levels']] for r in rows], dtype=float)])
    return f
def predict(rows, m):
    score = features(rows, m) @ np.array(m['coef']) + m['intercept']
    return [m['classes'][1] if s > 0 else m['classes'][0] for s in score]
if __name__ == '__main__':
    with open('/app/model.json') as fh:
        model = json.load(fh)
    with open(sys.argv[1], newline='') as fh:
        rows = list(csv.DictReader(fh))
    with open(sys.argv[2], 'w', newline='') as fh:
        out = csv.writer(fh)
        out.writerow(['row_id', 'prediction'])
        out.writerows(zip((r['row_id'] for r in rows), predict(rows, model)))
PY"""
    fit_py = f"""export OMP_NUM_THREADS=1  # one CPU here: avoid OpenMP thread oversubscription
python3 - <<'PY'
import csv
import json
import sys
from collections import Counter
import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import PolynomialFeatures, StandardScaler
sys.path.insert(0, '/app')
from predict import predict
with open('/app/train.csv', newline='') as fh:
    rows = list(csv.DictReader(fh))
num, cat, label = {num_cols!r}, {cat_col!r}, {label_col!r}
# the data: size, empty cells per column, label balance, categorical levels
print(len(rows), 'rows; empty cells:', {{c: sum(not r[c].strip() for r in rows) for c in num}})
print('labels:', dict(Counter(r[label] for r in rows)))
levels = sorted({{r[cat] for r in rows}}) if cat else []
if cat:
    print(cat, 'levels:', dict(Counter(r[cat] for r in rows)))
x = np.array([[float(r[c]) if r[c].strip() else np.nan for c in num] for r in rows], dtype=float)
onehot = np.array([[r[cat] == v for v in levels] for r in rows], dtype=float).reshape(len(rows), len(levels))
X = np.hstack([x, onehot])
y = np.array([r[label] for r in rows])
def model(degree):
    steps = [SimpleImputer(strategy='median'), StandardScaler(), PolynomialFeatures(degree, include_bias=False)]
    parts = [('num', make_pipeline(*steps), list(range(len(num))))]
    if levels:
        parts.append(('cat', 'passthrough', list(range(len(num), X.shape[1]))))
    return make_pipeline(ColumnTransformer(parts), LogisticRegression(max_iter=2000))
# a linear model against one on quadratic features (rings, XOR-like interactions), by 4-fold CV
scores = {{degree: cross_val_score(model(degree), X, y, cv=4).mean() for degree in (1, 2)}}
for degree, s in scores.items():
    print(f'degree {{degree}} cv accuracy {{s:.3f}}')
best = max(scores, key=scores.get)
fitted = model(best).fit(X, y)
print('chosen: degree', best)
num_steps = fitted[0].named_transformers_['num']
clf = fitted[-1]
saved = {{
    'num': num, 'cat': cat, 'levels': levels,
    'median': num_steps[0].statistics_.tolist(),
    'mean': num_steps[1].mean_.tolist(), 'scale': num_steps[1].scale_.tolist(),
    'powers': num_steps[2].powers_.tolist(),
    'coef': clf.coef_[0].tolist(), 'intercept': float(clf.intercept_[0]), 'classes': clf.classes_.tolist(),
}}
# the exported parameters must reproduce the fitted pipeline
agree = np.mean(np.array(predict(rows, saved)) == fitted.predict(X))
assert agree > 0.995, agree
with open('/app/model.json', 'w') as fh:
    json.dump(saved, fh)
# a probe input for the smoke test: the training rows without the label
with open('/tmp/probe.csv', 'w', newline='') as fh:
    out = csv.DictWriter(fh, [c for c in rows[0] if c != label], extrasaction='ignore')
    out.writeheader()
    out.writerows(rows)
PY"""
    solve = f"""# Look at the training data
head -5 /app/train.csv
wc -l /app/train.csv

# The prediction script the hidden test will run: it applies parameters exported to /app/model.json
{predict_py}

# Summarise the data, compare a linear and a quadratic logistic regression by 4-fold CV, keep the
# best, export its parameters to JSON (and check they reproduce the fitted model)
{fit_py}

# Smoke test on the training rows (without the label) and check the output format
python3 /app/predict.py /tmp/probe.csv /tmp/probe_out.csv && head -3 /tmp/probe_out.csv && wc -l /tmp/probe_out.csv
"""
    if d == "easy":
        wrong = f"""# predict the majority class of the training data for every row
cat > /app/predict.py <<'PY'
import sys
import pandas as pd
top = pd.read_csv('/app/train.csv')[{label_col!r}].mode()[0]
d = pd.read_csv(sys.argv[1])
pd.DataFrame({{'row_id': d['row_id'], 'prediction': top}}).to_csv(sys.argv[2], index=False)
PY
"""
    else:
        wrong = f"""# a linear model on the numeric columns only (categorical dropped, gaps filled with 0)
cat > /app/predict.py <<'PY'
import sys
import pandas as pd
from sklearn.linear_model import LogisticRegression
num = {num_cols!r}
df = pd.read_csv('/app/train.csv')
m = LogisticRegression(max_iter=2000).fit(df[num].fillna(0), df[{label_col!r}])
d = pd.read_csv(sys.argv[1])
pd.DataFrame({{'row_id': d['row_id'], 'prediction': m.predict(d[num].fillna(0))}}).to_csv(sys.argv[2], index=False)
PY
"""
    tests = f"""import csv
import functools
import pathlib
import subprocess
import tempfile

EXPECTED = {expected!r}
LABELS = {list(labels)!r}
THRESHOLD = {threshold!r}


@functools.lru_cache(maxsize=1)
def predictions():
    out = pathlib.Path(tempfile.mkdtemp()) / "pred.csv"
    proc = subprocess.run(["python3", "/app/predict.py", "/tests/hidden_features.csv", str(out)],
                          capture_output=True, text=True, timeout=180, cwd="/app")
    assert proc.returncode == 0, proc.stderr[-2000:]
    with open(out, newline="") as fh:
        reader = csv.DictReader(fh)
        assert reader.fieldnames is not None and [f.strip() for f in reader.fieldnames] == ["row_id", "prediction"]
        return {{int(float(r["row_id"])): r["prediction"].strip() for r in reader}}


def test_predict_script_exists():
    assert pathlib.Path("/app/predict.py").is_file()


def test_one_prediction_per_hidden_row():
    assert sorted(predictions()) == sorted(EXPECTED)


def test_labels_are_spelled_like_training():
    assert set(predictions().values()) <= set(LABELS)


def test_hidden_accuracy_meets_threshold():
    got = predictions()
    acc = sum(got.get(k) == v for k, v in EXPECTED.items()) / len(EXPECTED)
    assert acc >= THRESHOLD, f"accuracy {{acc:.3f}} < {{THRESHOLD}}"
"""
    return TaskDraft(
        instruction=instruction,
        app_files={"train.csv": fmt_csv(header, train)},
        solve=solve,
        wrong_solve=wrong,
        tests=tests,
        test_files={"hidden_features.csv": hidden_features},
        tags=("classification", "scikit-learn", "model-selection"),
        verifier_timeout_sec=240.0,
    )


FAMILY = TaskFamily(
    name="train-classifier",
    description="train a classifier from a CSV and ship predict.py that beats a hidden-test accuracy bar",
    generate=generate,
    requires=("python3",),
)
