"""Evaluate a multi-class predictions file by stated rules (precision/recall/F1 and friends).

The numbers are standard, the traps are in the rules: zero-division, which rows
count, label spelling, argmax ties over score columns, an abstain threshold and
classes that are predicted but never true. Expected values are computed here,
at generation time, by an implementation independent of the reference solve.
"""

from __future__ import annotations

import json

from litecore.records import TaskDraft, TaskFamily, TaskRequest
from litecore.wording import bullets, pick

from litecore_plugin_ai_ml.families._common import fmt_csv

POOLS = (
    ("image", ("cat", "dog", "bird", "horse", "sheep", "fox", "deer")),
    ("intent", ("billing", "refund", "login", "shipping", "cancel", "upgrade", "other")),
    ("defect", ("scratch", "dent", "crack", "stain", "bubble", "chip", "warp")),
    ("sentiment", ("negative", "neutral", "positive", "mixed", "sarcastic", "angry", "happy")),
)
ABSTAIN = "abstain"


def _metrics(y_true: list[str], y_pred: list[str], classes: list[str], hard: bool) -> dict:
    """Reference numbers: per class, accuracy, averages over classes that occur in y_true."""
    per: dict[str, dict[str, float]] = {}
    for c in classes:
        tp = sum(t == c and p == c for t, p in zip(y_true, y_pred))
        npred = sum(p == c for p in y_pred)
        sup = sum(t == c for t in y_true)
        prec = tp / npred if npred else 0.0
        rec = tp / sup if sup else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        per[c] = {"precision": prec, "recall": rec, "f1": f1, "support": sup}
    present = [c for c in classes if per[c]["support"] > 0]
    out: dict = {
        "accuracy": sum(t == p for t, p in zip(y_true, y_pred)) / len(y_true),
        "per_class": per,
        "macro_f1": sum(per[c]["f1"] for c in present) / len(present),
        "macro_precision": sum(per[c]["precision"] for c in present) / len(present),
        "macro_recall": sum(per[c]["recall"] for c in present) / len(present),
        "weighted_f1": sum(per[c]["f1"] * per[c]["support"] for c in present) / len(y_true),
    }
    if hard:
        cols = classes + [ABSTAIN]
        out["confusion"] = [[sum(t == r and p == c for t, p in zip(y_true, y_pred)) for c in cols]
                            for r in present]
        out["abstained"] = sum(p == ABSTAIN for p in y_pred)
    return out


def _messy(rng, label: str) -> str:
    return pick(rng, (label, label.upper(), label.title(), f" {label}", f"{label} ", f" {label.title()} "))


def generate(req: TaskRequest) -> TaskDraft:
    rng = req.rng
    d = req.difficulty
    kind, pool = pick(rng, POOLS)
    n_cls = {"easy": 3, "medium": 4, "hard": 4}[d]
    classes = sorted(rng.sample(pool, n_cls + (1 if d == "hard" else 0)))
    ghost = classes[rng.randrange(len(classes))] if d == "hard" else None  # predicted, never true
    true_classes = [c for c in classes if c != ghost]
    n = {"easy": 60, "medium": 120, "hard": 150}[d]
    prior = [rng.uniform(0.5, 2.0) for _ in true_classes]
    skill = rng.uniform(0.55, 0.8)
    tau = round(rng.uniform(0.3, 0.4), 2)
    order = rng.sample(classes, len(classes))  # score column order, deliberately not alphabetical
    rows, y_true, y_pred = [], [], []
    for i in range(n):
        t = rng.choices(true_classes, weights=prior)[0]
        p = t if rng.random() < skill else pick(rng, [c for c in classes if c != t])
        if d != "hard":
            y_true.append(t)
            y_pred.append(p)
            if d == "medium" and rng.random() < 0.06:
                rows.append([i + 1, pick(rng, ("", "?")), _messy(rng, p)])
                y_true.pop()
                y_pred.pop()
            else:
                rows.append([i + 1, _messy(rng, t) if d == "medium" else t, _messy(rng, p) if d == "medium" else p])
            continue
        scores = {c: round(rng.uniform(0.0, 0.3), 2) for c in classes}
        r = rng.random()
        if r < 0.1:  # low-confidence row: abstain
            top = round(tau - rng.uniform(0.02, 0.1), 2)
            scores = {c: min(v, top) for c, v in scores.items()}
            scores[p] = top
        else:
            scores[p] = round(rng.uniform(tau + 0.05, 0.95), 2)
            if r < 0.2:  # exact tie at the top between p and another class
                other = pick(rng, [c for c in classes if c != p])
                scores[other] = scores[p]
        best = max(scores.values())
        pred = ABSTAIN if best < tau else min(c for c in classes if scores[c] == best)
        y_true.append(t)
        y_pred.append(pred)
        rows.append([i + 1, t, *[f"{scores[c]:.2f}" for c in order]])
    if d == "hard" and ghost not in y_pred:  # make sure the never-true class is predicted somewhere
        j = next(k for k, t in enumerate(y_true) if y_pred[k] != ABSTAIN)
        y_pred[j] = ghost
        rows[j][2:] = ["0.99" if c == ghost else "0.10" for c in order]
    expected = _metrics(y_true, y_pred, classes if d == "hard" else sorted(set(y_true) | set(y_pred)), d == "hard")

    if d == "hard":
        header = ["id", "y_true", *[f"score_{c}" for c in order]]
    else:
        header = ["id", "y_true", "y_pred"]
    keys = ["accuracy", "macro_f1"] + (["macro_precision", "macro_recall", "weighted_f1"] if d != "easy" else [])
    rules = [
        "precision, recall or F1 with a zero denominator count as 0.0",
        "macro averages are the unweighted mean over the classes that occur in `y_true`",
        "round every float to 4 decimals",
    ]
    if d != "easy":
        rules.append("labels are compared case-insensitively and without surrounding spaces; report them in "
                     "lower case")
        rules.append("`weighted_f1` weights each class's F1 by its support (rows where it is the true class)")
    if d == "medium":
        rules.append("rows whose `y_true` is empty or `?` are not labelled: leave them out entirely")
    if d == "hard":
        rules += [
            "the prediction of a row is the class with the highest score; ties go to the alphabetically first "
            "class name",
            f"if the highest score is below {tau} the model abstains: the row counts as wrong (it still counts "
            f"for accuracy and for the recall of its true class) but as a prediction of no class",
            "`per_class` lists every class that has a score column, even if it never occurs in `y_true` "
            "(support 0)",
            "`confusion` is a list of rows, one per class occurring in `y_true` (alphabetical); each row counts "
            f"predictions per class in alphabetical order followed by a last column for `{ABSTAIN}`",
            "`abstained` is the number of rows where the model abstained",
        ]
        keys += ["confusion", "abstained"]
    rng.shuffle(rules)
    source = ("/app/predictions.csv (columns `id`, `y_true` and one `score_<class>` column per class)"
              if d == "hard" else "/app/predictions.csv (columns `id`, `y_true`, `y_pred`)")
    intro = pick(rng, (
        f"Our {kind} classifier's evaluation run left {source}. Compute its evaluation metrics and write "
        f"them to /app/metrics.json.",
        f"Score the {kind} model whose outputs are in {source}: write /app/metrics.json with the metrics below.",
        f"Write /app/metrics.json summarising how well the {kind} classifier did, from {source}.",
    ))
    layout = ("/app/metrics.json must be a JSON object with keys " + ", ".join(f"`{k}`" for k in keys)
              + " and `per_class`, which maps each class name to an object with `precision`, `recall`, `f1` "
              "and `support` (an integer).")
    instruction = f"{intro}\n\n{layout}\n\nRules:\n{bullets(rules)}\n"

    solve = f"""# Look at the file: columns, label spellings, odd rows
head -5 /app/predictions.csv
wc -l /app/predictions.csv
cut -d, -f2 /app/predictions.csv | sort | uniq -c

# Compute the metrics with plain Python, following the stated rules one by one
python3 - <<'PY'
import csv, json
HARD = {d == "hard"!r}
TAU = {tau!r}
rows = list(csv.DictReader(open('/app/predictions.csv', newline='')))
norm = lambda s: s.strip().lower()
pairs = []
score_cols = [c for c in rows[0] if c.startswith('score_')]
classes = set(c[len('score_'):] for c in score_cols)
for r in rows:
    t = norm(r['y_true'])
    if t in ('', '?'):
        continue
    if HARD:
        scores = {{c[len('score_'):]: float(r[c]) for c in score_cols}}
        top = max(scores.values())
        p = 'abstain' if top < TAU else sorted(c for c, v in scores.items() if v == top)[0]
    else:
        p = norm(r['y_pred'])
        classes.update([t, p])
    pairs.append((t, p))
classes = sorted(classes)
truth = sorted(set(t for t, _ in pairs))
per = {{}}
for c in classes:
    tp = sum(1 for t, p in pairs if t == c and p == c)
    npred = sum(1 for _, p in pairs if p == c)
    sup = sum(1 for t, _ in pairs if t == c)
    pr = tp / npred if npred else 0.0
    rc = tp / sup if sup else 0.0
    f1 = 2 * pr * rc / (pr + rc) if pr + rc else 0.0
    per[c] = {{'precision': round(pr, 4), 'recall': round(rc, 4), 'f1': round(f1, 4), 'support': sup, '_f1': f1, '_p': pr, '_r': rc}}
mean = lambda xs: sum(xs) / len(xs)
out = {{
    'accuracy': round(sum(t == p for t, p in pairs) / len(pairs), 4),
    'macro_f1': round(mean([per[c]['_f1'] for c in truth]), 4),
    'macro_precision': round(mean([per[c]['_p'] for c in truth]), 4),
    'macro_recall': round(mean([per[c]['_r'] for c in truth]), 4),
    'weighted_f1': round(sum(per[c]['_f1'] * per[c]['support'] for c in truth) / len(pairs), 4),
}}
if HARD:
    cols = classes + ['abstain']
    out['confusion'] = [[sum(1 for t, p in pairs if t == r and p == c) for c in cols] for r in truth]
    out['abstained'] = sum(1 for _, p in pairs if p == 'abstain')
out['per_class'] = {{c: {{k: v for k, v in m.items() if not k.startswith('_')}} for c, m in per.items()}}
json.dump(out, open('/app/metrics.json', 'w'), indent=2)
PY

# Review the result
cat /app/metrics.json
"""
    if d == "easy":
        wrong = """# macro F1 as the harmonic mean of macro precision and macro recall
python3 - <<'PY'
import csv, json
rows = list(csv.DictReader(open('/app/predictions.csv')))
pairs = [(r['y_true'], r['y_pred']) for r in rows]
classes = sorted(set(t for t, _ in pairs) | set(p for _, p in pairs))
per = {}
for c in classes:
    tp = sum(t == c and p == c for t, p in pairs); np_ = sum(p == c for _, p in pairs); sup = sum(t == c for t, _ in pairs)
    pr = tp / np_ if np_ else 0.0; rc = tp / sup if sup else 0.0
    per[c] = {'precision': pr, 'recall': rc, 'f1': 2 * pr * rc / (pr + rc) if pr + rc else 0.0, 'support': sup}
mp = sum(v['precision'] for v in per.values()) / len(per); mr = sum(v['recall'] for v in per.values()) / len(per)
json.dump({'accuracy': sum(t == p for t, p in pairs) / len(pairs), 'macro_f1': 2 * mp * mr / (mp + mr), 'per_class': per}, open('/app/metrics.json', 'w'))
PY
"""
    elif d == "medium":
        wrong = solve.replace("norm = lambda s: s.strip().lower()", "norm = lambda s: s.strip()")
    else:
        wrong = solve.replace("truth = sorted(set(t for t, _ in pairs))", "truth = classes")
    tests = f"""import json
import math
import pathlib

EXPECTED = json.loads({json.dumps(json.dumps(expected, sort_keys=True))})
KEYS = {keys!r}


def load():
    return json.loads(pathlib.Path("/app/metrics.json").read_text())


def close(got, want):
    return isinstance(got, (int, float)) and math.isclose(float(got), want, abs_tol=1.01e-4)


def test_top_level_keys():
    got = load()
    for k in KEYS + ["per_class"]:
        assert k in got, k


def test_class_set():
    assert sorted(load()["per_class"]) == sorted(EXPECTED["per_class"])


def test_per_class_scores():
    got = load()["per_class"]
    for c, want in EXPECTED["per_class"].items():
        for k in ("precision", "recall", "f1"):
            assert close(got[c][k], want[k]), (c, k, got[c][k], want[k])
        assert int(got[c]["support"]) == want["support"], c


def test_accuracy():
    assert close(load()["accuracy"], EXPECTED["accuracy"])


def test_averages():
    got = load()
    for k in KEYS:
        if k in ("accuracy", "confusion", "abstained"):
            continue
        assert close(got[k], EXPECTED[k]), (k, got[k], EXPECTED[k])
"""
    if d == "hard":
        tests += """

def test_confusion_and_abstained():
    got = load()
    assert got["confusion"] == EXPECTED["confusion"]
    assert int(got["abstained"]) == EXPECTED["abstained"]
"""
    return TaskDraft(
        instruction=instruction,
        app_files={"predictions.csv": fmt_csv(header, rows)},
        solve=solve,
        wrong_solve=wrong,
        tests=tests,
        tags=("evaluation", "metrics", "f1"),
    )


FAMILY = TaskFamily(
    name="classification-metrics",
    description="precision/recall/F1, averages and a confusion matrix from a predictions file by stated rules",
    generate=generate,
    requires=("python3",),
)
