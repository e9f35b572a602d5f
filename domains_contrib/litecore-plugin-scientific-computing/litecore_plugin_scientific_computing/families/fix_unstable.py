"""Repair numerically unstable routines in a small library without changing their interface.

The shipped module computes textbook formulas that lose all precision on
realistic inputs (cancellation, overflow). Hidden tests import the agent's module
and call it on inputs that only live in the tests, against reference values
computed exactly (fractions) or by stable formulas at generation time.
"""

from __future__ import annotations

import math
import random
from fractions import Fraction

from litecore.records import TaskDraft, TaskFamily, TaskRequest
from litecore.wording import bullets, pick


NAIVE = {
    "variance": '''def {name}(xs):
    """Sample variance (divides by n - 1)."""
    n = len(xs)
    s = sum(xs)
    s2 = sum(x * x for x in xs)
    return (s2 - s * s / n) / (n - 1)
''',
    "logsumexp": '''def {name}(xs):
    """log(sum(exp(x) for x in xs))."""
    return math.log(sum(math.exp(x) for x in xs))
''',
    "quadratic": '''def {name}(a, b, c):
    """Both real roots of a*x**2 + b*x + c = 0, smallest first (assumes b*b > 4*a*c)."""
    d = math.sqrt(b * b - 4 * a * c)
    r1 = (-b - d) / (2 * a)
    r2 = (-b + d) / (2 * a)
    return (min(r1, r2), max(r1, r2))
''',
    "versine_ratio": '''def {name}(x):
    """(1 - cos(x)) / x**2, for x != 0."""
    return (1 - math.cos(x)) / (x * x)
''',
    "sigmoid": '''def {name}(x):
    """Logistic function 1 / (1 + exp(-x))."""
    return 1 / (1 + math.exp(-x))
''',
}
NAMES = {
    "variance": ["sample_variance", "var_unbiased", "variance"],
    "logsumexp": ["log_sum_exp", "logsumexp", "lse"],
    "quadratic": ["quad_roots", "solve_quadratic", "roots2"],
    "versine_ratio": ["one_minus_cos_over_x2", "versine_ratio", "cos_defect"],
    "sigmoid": ["sigmoid", "logistic", "expit"],
}


def _variance_exact(xs: list[float]) -> float:
    fx = [Fraction(x) for x in xs]
    m = sum(fx) / len(fx)
    return float(sum((x - m) ** 2 for x in fx) / (len(fx) - 1))


def _lse(xs: list[float]) -> float:
    m = max(xs)
    return m + math.log(math.fsum(math.exp(x - m) for x in xs))


def _quad(a: float, b: float, c: float) -> tuple[float, float]:
    d = math.sqrt(b * b - 4 * a * c)
    q = -0.5 * (b + math.copysign(d, b))
    r1, r2 = q / a, c / q
    return (min(r1, r2), max(r1, r2))


def _versine(x: float) -> float:
    s = math.sin(x / 2)
    return 2 * s * s / (x * x)


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1 / (1 + math.exp(-x))
    e = math.exp(x)
    return e / (1 + e)


def _cases(rng: random.Random, kind: str) -> list:
    """Inputs where the naive formula fails, plus an ordinary one (both must work)."""
    if kind == "variance":
        out = []
        for _ in range(3):
            # offsets where the one-pass formula cancels completely, but a two-pass one keeps ~1e-12
            off = rng.choice([1, -1]) * 10 ** rng.uniform(7, 8.9)
            out.append([off + rng.gauss(0, rng.uniform(0.1, 3)) for _ in range(rng.randint(5, 40))])
        out.append([round(rng.uniform(-10, 10), 3) for _ in range(12)])
        return out
    if kind == "logsumexp":
        return [[rng.uniform(700, 1000) for _ in range(rng.randint(3, 9))],
                [-rng.uniform(800, 1100) for _ in range(rng.randint(3, 9))],
                [rng.uniform(-3, 3) for _ in range(6)],
                [rng.uniform(-5, 5)] + [rng.uniform(750, 760)]]
    if kind == "quadratic":
        out = []
        for _ in range(3):
            a, c = rng.uniform(0.5, 3) * rng.choice([1, -1]), rng.uniform(0.5, 3)
            b = rng.choice([1, -1]) * 10 ** rng.uniform(7, 9)
            out.append([a, b, c])
        out.append([1.0, -float(rng.randint(3, 9)), float(rng.randint(1, 2))])
        return out
    if kind == "versine_ratio":
        return [10 ** -rng.uniform(5, 9), -(10 ** -rng.uniform(4, 8)), 10 ** -rng.uniform(9, 12), rng.uniform(0.5, 3)]
    return [-rng.uniform(720, 900), -rng.uniform(40, 60), rng.uniform(1, 30), -rng.uniform(710, 740)]


REFERENCE = {"variance": _variance_exact, "logsumexp": _lse, "quadratic": lambda abc: _quad(*abc),
             "versine_ratio": _versine, "sigmoid": _sigmoid}
FIXES = {
    "variance": '''def {name}(xs):
    """Sample variance (divides by n - 1), two-pass so large offsets do not cancel."""
    n = len(xs)
    m = math.fsum(xs) / n
    return math.fsum((x - m) ** 2 for x in xs) / (n - 1)
''',
    "logsumexp": '''def {name}(xs):
    """log(sum(exp(x) for x in xs)), shifted by the maximum so exp never overflows."""
    m = max(xs)
    return m + math.log(math.fsum(math.exp(x - m) for x in xs))
''',
    "quadratic": '''def {name}(a, b, c):
    """Both real roots of a*x**2 + b*x + c = 0, smallest first; no cancellation in -b +- d."""
    d = math.sqrt(b * b - 4 * a * c)
    q = -0.5 * (b + math.copysign(d, b))
    r1, r2 = q / a, c / q
    return (min(r1, r2), max(r1, r2))
''',
    "versine_ratio": '''def {name}(x):
    """(1 - cos(x)) / x**2 via 1 - cos x = 2 sin(x/2)**2 (no cancellation near 0)."""
    s = math.sin(x / 2)
    return 2 * s * s / (x * x)
''',
    "sigmoid": '''def {name}(x):
    """Logistic function, never evaluating exp of a large positive number."""
    if x >= 0:
        return 1 / (1 + math.exp(-x))
    e = math.exp(x)
    return e / (1 + e)
''',
}


def generate(req: TaskRequest) -> TaskDraft:
    rng = req.rng
    level = req.difficulty
    kinds = {"easy": ["variance", "logsumexp"], "medium": ["variance", "logsumexp", "quadratic"],
             "hard": ["variance", "logsumexp", "quadratic", "versine_ratio", "sigmoid"]}[level]
    rng.shuffle(kinds)
    names = {k: rng.choice(NAMES[k]) for k in kinds}
    module = rng.choice(["numlib", "stable_math", "mathutil", "numerics"])
    header = '"""Small numeric helpers used by the lab\'s analysis scripts."""\n\nimport math\n\n\n'
    naive_src = header + "\n\n".join(NAIVE[k].format(name=names[k]) for k in kinds)
    fixed_src = header + "\n\n".join(FIXES[k].format(name=names[k]) for k in kinds)
    cases = {k: _cases(rng, k) for k in kinds}
    expected = {k: [REFERENCE[k](c) for c in cases[k]] for k in kinds}
    demo_kind = kinds[0]
    demo_args = cases[demo_kind][0] if demo_kind != "quadratic" else cases[demo_kind][0]
    report = (f"python3 -c 'import {module}; print({module}.{names[demo_kind]}("
              + (", ".join(repr(v) for v in demo_args) if demo_kind == "quadratic" else repr(demo_args)) + "))'")
    rules = [
        "Keep every function's name, parameters and return type; the module must stay importable with only the "
        "Python standard library (no numpy).",
        "Results must match the mathematically exact value to a relative error of about 1e-9 for all finite inputs "
        "where the exact result is a normal float, including inputs with large offsets, huge or tiny magnitudes.",
        "Ordinary inputs must of course still work.",
    ]
    if level == "hard":
        rules.append("No function may raise OverflowError or return inf/nan for such inputs.")
    instruction = (
        pick(rng, [f"/app/{module}.py gives wrong answers on real data. ",
                   f"Users report that the helpers in /app/{module}.py return garbage (or crash) for some inputs. ",
                   f"The numeric helpers in /app/{module}.py are numerically unstable. "])
        + f"For example, this is far off or fails:\n\n    cd /app && {report}\n\n"
        + pick(rng, [f"Fix all {len(kinds)} functions in the module.", "Make every function in the module robust."])
        + "\n\n" + bullets(rules, rng) + "\n"
    )
    compact = fixed_src.rstrip()
    while "\n\n" in compact:  # solve.sh blocks end at blank lines
        compact = compact.replace("\n\n", "\n")
    solve = f"""# Read the module and reproduce the reported failure
cat /app/{module}.py
cd /app && {report} || true

# Rewrite each formula in a stable form (two-pass variance, shifted log-sum-exp, etc.)
cat > /app/{module}.py <<'PY'
{compact}
PY

# Re-run the failing example and a quick ordinary case
cd /app && {report}
python3 -c 'import sys; sys.path.insert(0, "/app"); import {module}; print(sorted(n for n in dir({module}) if not n.startswith("_")))'
"""
    # wrong: fixes everything except the last function listed
    last = kinds[-1]
    wrong_src = header + "\n\n".join((NAIVE if k == last else FIXES)[k].format(name=names[k]) for k in kinds)
    if level == "easy":  # easy wrong: fixes both but uses the population variance
        wrong_src = fixed_src.replace("/ (n - 1)\n", "/ n\n")
    wrong = f"""cat > /app/{module}.py <<'PY'
{wrong_src}
PY
"""
    tests = f"""import importlib.util
import math

CASES = {cases!r}
EXPECTED = {expected!r}
NAMES = {names!r}


def mod():
    spec = importlib.util.spec_from_file_location("{module}", "/app/{module}.py")
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    return m


def close(got, want):
    return math.isfinite(got) and abs(got - want) <= 1e-9 * abs(want) + 1e-300

"""
    for k in kinds:
        call = "fn(*case)" if k == "quadratic" else "fn(case)"
        check = ("got = tuple(float(v) for v in got)\n        assert close(got[0], want[0]) and close(got[1], want[1]), (case, got, want)"
                 if k == "quadratic" else "assert close(float(got), want), (case, got, want)")
        tests += f"""

def test_{k}():
    fn = getattr(mod(), NAMES["{k}"])
    for case, want in zip(CASES["{k}"], EXPECTED["{k}"]):
        got = {call}
        {check}
"""
    return TaskDraft(instruction=instruction, app_files={f"{module}.py": naive_src}, solve=solve, wrong_solve=wrong,
                     tests=tests, tags=("numerical-stability", "floating-point", "debugging", "python"))


FAMILY = TaskFamily(
    name="fix-unstable",
    description="repair numerically unstable routines (cancellation, overflow) behind a fixed interface",
    generate=generate,
    requires=("python3",),
)
