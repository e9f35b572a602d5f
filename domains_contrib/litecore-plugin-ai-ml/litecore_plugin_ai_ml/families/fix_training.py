"""Debug a numpy logistic-regression training script whose bugs are silent, not crashes.

The script runs and writes model.json, but it learns the wrong thing: gradient
sign or sigmoid flipped, labels shuffled out of step with features, scaling
statistics leaking the test rows, or the reported metric computed against the
wrong labels. The verifier checks outcomes the bugs break: the train-split
statistics, the model's accuracy on hidden rows, and an honest reported metric.
"""

from __future__ import annotations

import json
import math

from litecore.records import TaskDraft, TaskFamily, TaskRequest
from litecore.wording import bullets, pick

from litecore_plugin_ai_ml.families._common import fmt_csv

THEMES = (
    ("credit approval", ("income", 52000, 18000), ("age", 41, 12), ("balance", 2400, 1500),
     ("open_accounts", 5, 2.5), ("utilisation", 0.4, 0.2)),
    ("pump failure", ("temperature", 68, 9), ("vibration", 3.5, 1.2), ("rpm", 1450, 260),
     ("pressure", 205, 30), ("hours", 5200, 2100)),
    ("click-through", ("dwell_ms", 8000, 4000), ("scroll_depth", 0.55, 0.2), ("position", 4, 2.5),
     ("prior_clicks", 3, 2), ("page_kb", 900, 350)),
    ("diabetes screening", ("glucose", 118, 30), ("bmi", 29, 6), ("age", 45, 14),
     ("blood_pressure", 76, 11), ("insulin", 110, 60)),
)

# slot -> (correct text, buggy text); every slot is one exact snippet of train.py
SLOTS = {
    "sigmoid": ("return 1.0 / (1.0 + np.exp(-z))", "return 1.0 / (1.0 + np.exp(z))"),
    "sign": ("    w -= LR * grad_w\n        b -= LR * grad_b", "    w += LR * grad_w\n        b += LR * grad_b"),
    "shuffle": ("y_train = y_train[perm]", "y_train = y_train[rng.permutation(len(y_train))]"),
    "leak": ("mean = X_train.mean(axis=0)\n    std = X_train.std(axis=0)",
             "mean = X.mean(axis=0)\n    std = X.std(axis=0)"),
    "scalar_std": ("mean = X_train.mean(axis=0)\n    std = X_train.std(axis=0)",
                   "mean = X_train.mean(axis=0)\n    std = X_train.std()"),
    "metric": ("acc = float(np.mean(pred == y_test))", "acc = float(np.mean(pred == y_train[:len(pred)]))"),
}

TEMPLATE = '''"""Train the {what} model: logistic regression by full-batch gradient descent.

Reads /app/data.csv (rows with split == "train" are for fitting, "test" for evaluation),
standardises features with the training rows' mean and population std, and writes
/app/model.json with the scaling statistics, weights, bias and the test accuracy.
"""
import csv
import json

import numpy as np

LR = {lr}
EPOCHS = {epochs}
FEATURES = {features!r}


def load(path):
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    X = np.array([[float(r[f]) for f in FEATURES] for r in rows])
    y = np.array([float(r["{label}"]) for r in rows])
    split = np.array([r["split"] for r in rows])
    return X, y, split


def sigmoid(z):
    SLOT_sigmoid


def main():
    X, y, split = load("/app/data.csv")
    is_train = split == "train"
    X_train, y_train = X[is_train], y[is_train]
    X_test, y_test = X[~is_train], y[~is_train]
    rng = np.random.default_rng(0)
    perm = rng.permutation(len(X_train))
    X_train = X_train[perm]
    SLOT_shuffle
    SLOT_scaling
    X_train = (X_train - mean) / std
    X_test = (X_test - mean) / std
    w = np.zeros(X.shape[1])
    b = 0.0
    for _ in range(EPOCHS):
        p = sigmoid(X_train @ w + b)
        grad_w = X_train.T @ (p - y_train) / len(y_train)
        grad_b = float(np.mean(p - y_train))
    SLOT_sign
    pred = (sigmoid(X_test @ w + b) >= 0.5).astype(float)
    SLOT_metric
    model = {{
        "features": FEATURES,
        "feature_means": mean.tolist(),
        "feature_stds": std.tolist(),
        "weights": w.tolist(),
        "bias": b,
        "test_accuracy": acc,
    }}
    with open("/app/model.json", "w") as fh:
        json.dump(model, fh, indent=2)
    print(f"trained on {{len(y_train)}} rows, test accuracy {{acc:.4f}}")


if __name__ == "__main__":
    main()
'''


def _script(what: str, label: str, features: list[str], lr: float, epochs: int, bugs: list[str]) -> str:
    text = TEMPLATE.format(what=what, label=label, features=features, lr=lr, epochs=epochs)
    scaling = "scalar_std" if "scalar_std" in bugs else "leak"
    for slot, key in (("sigmoid", "sigmoid"), ("shuffle", "shuffle"), ("scaling", scaling), ("sign", "sign"),
                      ("metric", "metric")):
        good, bad = SLOTS[key]
        use = bad if key in bugs else good
        text = text.replace(("    " if slot == "sign" else "") + f"SLOT_{slot}",
                            ("    " if slot == "sign" else "") + use)
    return text


def _stats(rows: list[list[float]]) -> tuple[list[float], list[float]]:
    n = len(rows)
    means = [math.fsum(r[j] for r in rows) / n for j in range(len(rows[0]))]
    stds = [math.sqrt(math.fsum((r[j] - means[j]) ** 2 for r in rows) / n) for j in range(len(rows[0]))]
    return means, stds


def generate(req: TaskRequest) -> TaskDraft:
    rng = req.rng
    d = req.difficulty
    what, *pool = pick(rng, THEMES)
    k = {"easy": 3, "medium": 4, "hard": 5}[d]
    feats = rng.sample(pool, k)
    names = [f[0] for f in feats]
    label = pick(rng, ("label", "target", "y", "outcome"))
    weights = [pick(rng, (-1, 1)) * rng.uniform(0.7, 1.5) for _ in feats]
    drift = [rng.uniform(-0.4, 0.4) for _ in feats]

    def draw(n: int, shift: bool) -> tuple[list[list[float]], list[int], int]:
        xs, ys, agree = [], [], 0
        for _ in range(n):
            z = [rng.gauss(dr if shift else 0.0, 1.0) for dr in drift]
            truth = sum(w * v for w, v in zip(weights, z)) > 0
            noisy = truth if rng.random() >= 0.03 else not truth
            agree += truth == noisy
            xs.append([float(f"{mu + sd * v:.4f}") for (_, mu, sd), v in zip(feats, z)])
            ys.append(int(noisy))
        return xs, ys, agree

    n_train, n_test = {"easy": (200, 60), "medium": (260, 80), "hard": (320, 100)}[d]
    xtr, ytr, _ = draw(n_train, False)
    xte, yte, _ = draw(n_test, True)
    xhid, yhid, agree = draw(400, True)
    threshold = math.floor((agree / 400 - 0.10) * 100) / 100
    rows = [(x, y, "train") for x, y in zip(xtr, ytr)] + [(x, y, "test") for x, y in zip(xte, yte)]
    rng.shuffle(rows)
    data = fmt_csv(["id", *names, label, "split"],
                   [[i + 1, *x, y, s] for i, (x, y, s) in enumerate(rows)])
    train_x = [x for x, _, s in rows if s == "train"]
    test_rows = [(x, y) for x, y, s in rows if s == "test"]
    means, stds = _stats(train_x)

    dynamics = pick(rng, ("sign", "sigmoid", "shuffle"))
    scaling = pick(rng, ("leak", "scalar_std"))
    if d == "easy":
        bugs = [dynamics]
    elif d == "medium":
        bugs = [dynamics, scaling]
    else:
        bugs = [pick(rng, ("sign", "sigmoid")), "shuffle", scaling, "metric"]
    lr, epochs = pick(rng, (0.5, 0.3, 0.8)), pick(rng, (300, 400, 500))
    script = _script(what, label, names, lr, epochs, bugs)

    hint = {"easy": "There is one bug.", "medium": "More than one thing is wrong.",
            "hard": "Several independent things are wrong; the printed accuracy cannot be trusted either."}[d]
    instruction = pick(rng, (
        f"/app/train.py trains our {what} classifier (logistic regression, plain numpy) on /app/data.csv, "
        f"but the model it produces is no good. {hint} Find and fix the bugs in train.py, then run it so "
        f"that /app/model.json holds a correctly trained model.",
        f"A colleague's training script /app/train.py for the {what} model runs without errors, yet the "
        f"results are wrong. {hint} Debug it, fix it, and re-run it to regenerate /app/model.json.",
        f"The {what} model written by /app/train.py to /app/model.json is broken even though the script "
        f"exits cleanly. {hint} Repair the script and produce a good /app/model.json by running it.",
    ))
    rules = [
        "Rows with `split` = `train` are the only rows the model (and the feature scaling statistics) "
        "may learn from; `test` rows are for the reported accuracy only.",
        "Keep the method as designed: logistic regression, features standardised with the training rows' "
        "mean and population standard deviation (ddof=0), and the same model.json keys.",
        "`feature_means` / `feature_stds` must be lists with one number per feature, in FEATURES order.",
        "`test_accuracy` must be the model's real accuracy on the `test` rows.",
        "The model will also be scored on hidden rows from the same source, so it has to actually work.",
    ]
    rng.shuffle(rules)
    instruction += "\n\nRequirements:\n" + bullets(rules) + "\n"

    fixes = "\n".join(f"    ({SLOTS[b][1]!r}, {SLOTS[b][0]!r}),  # {b}" for b in bugs)
    solve = f"""# Read the script and the data layout before touching anything
cat /app/train.py
head -5 /app/data.csv
cut -d, -f$(head -1 /app/data.csv | tr ',' '\\n' | grep -n '^split$' | cut -d: -f1) /app/data.csv | sort | uniq -c

# Patch each silent bug with an exact replacement (fail loudly if a snippet is not there)
python3 - <<'PY'
src = open('/app/train.py').read()
fixes = [
{fixes}
]
for bad, good in fixes:
    assert bad in src, bad
    src = src.replace(bad, good)
open('/app/train.py', 'w').write(src)
PY

# Re-train and check: sensible accuracy, per-feature statistics from the train rows only
python3 /app/train.py
cat /app/model.json
"""
    if d == "easy":
        wrong = "# the script ran without errors, so just run it\npython3 /app/train.py\n"
    else:
        partial = [b for b in bugs if b not in ("leak", "scalar_std")]
        fixes_wrong = "\n".join(f"    ({SLOTS[b][1]!r}, {SLOTS[b][0]!r})," for b in partial)
        wrong = f"""# fix the training-loop bugs but keep the scaling as it was
python3 - <<'PY'
src = open('/app/train.py').read()
for bad, good in [
{fixes_wrong}
]:
    src = src.replace(bad, good)
open('/app/train.py', 'w').write(src)
PY
python3 /app/train.py
"""
    tests = f"""import json
import math
import pathlib

FEATURES = {names!r}
MEANS = {means!r}
STDS = {stds!r}
TEST_ROWS = json.loads({json.dumps(json.dumps(test_rows))})
HIDDEN = json.loads({json.dumps(json.dumps(list(zip(xhid, yhid))))})
THRESHOLD = {threshold!r}
MODEL = pathlib.Path("/app/model.json")


def model():
    assert MODEL.is_file(), "/app/model.json was not written"
    return json.loads(MODEL.read_text())


def accuracy(rows, m):
    w, b = [float(v) for v in m["weights"]], float(m["bias"])
    hits = 0
    for x, y in rows:
        z = sum(wj * (xj - mu) / sd for wj, xj, mu, sd in zip(w, x, MEANS, STDS)) + b
        hits += int(z >= 0) == y
    return hits / len(rows)


def test_model_json_has_the_documented_keys():
    m = model()
    for key in ("features", "feature_means", "feature_stds", "weights", "bias", "test_accuracy"):
        assert key in m, key
    assert m["features"] == FEATURES
    assert len(m["weights"]) == len(FEATURES)


def test_scaling_statistics_come_from_train_rows_only():
    m = model()
    assert isinstance(m["feature_means"], list) and isinstance(m["feature_stds"], list)
    assert len(m["feature_means"]) == len(MEANS) and len(m["feature_stds"]) == len(STDS)
    for got, want in zip(m["feature_means"], MEANS):
        assert math.isclose(float(got), want, rel_tol=1e-6, abs_tol=1e-6), (got, want)
    for got, want in zip(m["feature_stds"], STDS):
        assert math.isclose(float(got), want, rel_tol=1e-6, abs_tol=1e-6), (got, want)


def test_model_works_on_hidden_rows():
    acc = accuracy(HIDDEN, model())
    assert acc >= THRESHOLD, f"hidden accuracy {{acc:.3f}} < {{THRESHOLD}}"


def test_reported_accuracy_is_honest():
    m = model()
    assert abs(float(m["test_accuracy"]) - accuracy(TEST_ROWS, m)) < 1e-9
"""
    return TaskDraft(
        instruction=instruction,
        app_files={"train.py": script, "data.csv": data},
        solve=solve,
        wrong_solve=wrong,
        tests=tests,
        tags=("debugging", "numpy", "logistic-regression", "data-leakage"),
    )


FAMILY = TaskFamily(
    name="fix-training-script",
    description="find and fix silent bugs (gradient, shuffling, scaling leak, metric) in a numpy training script",
    generate=generate,
    requires=("python3",),
)
