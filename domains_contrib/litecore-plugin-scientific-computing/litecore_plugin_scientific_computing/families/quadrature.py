"""Evaluate a list of definite integrals to a stated tolerance.

Every integrand has a closed form, so the exact values are known at generation
time; the agent only sees the expressions. Harder levels add high-frequency
oscillation, endpoint singularities and infinite ranges, where naive rules or
default quadrature settings miss the tolerance.
"""

from __future__ import annotations

import math
import random

from litecore.records import TaskDraft, TaskFamily, TaskRequest
from litecore.wording import bullets, pick


def _f(v: float) -> str:
    return f"{v:g}"


def _poly_exp(rng: random.Random) -> tuple[str, float, float, float]:
    n, c = rng.randint(1, 4), round(rng.uniform(0.3, 2.5), 2)
    a, b = 0.0, round(rng.uniform(1, 6), 2)

    def anti(x: float) -> float:  # -e^{-cx} sum_k n!/(n-k)! x^{n-k} / c^{k+1}
        s = sum(math.factorial(n) / math.factorial(n - k) * x ** (n - k) / c ** (k + 1) for k in range(n + 1))
        return -math.exp(-c * x) * s
    return f"x**{n} * exp(-{_f(c)}*x)", a, b, anti(b) - anti(a)


def _damped_sine(rng: random.Random) -> tuple[str, float, float, float]:
    c, w = round(rng.uniform(0.1, 1.5), 2), round(rng.uniform(1, 6), 2)
    a, b = round(rng.uniform(0, 1), 2), round(rng.uniform(3, 9), 2)

    def anti(x: float) -> float:
        return math.exp(-c * x) * (-c * math.sin(w * x) - w * math.cos(w * x)) / (c * c + w * w)
    return f"exp(-{_f(c)}*x) * sin({_f(w)}*x)", a, b, anti(b) - anti(a)


def _lorentz(rng: random.Random) -> tuple[str, float, float, float]:
    c = round(rng.uniform(0.5, 30), 2)
    a, b = round(rng.uniform(-3, 0), 2), round(rng.uniform(0.5, 4), 2)
    r = math.sqrt(c)
    return f"1 / (1 + {_f(c)}*x**2)", a, b, (math.atan(r * b) - math.atan(r * a)) / r


def _oscillatory(rng: random.Random) -> tuple[str, float, float, float]:
    w = rng.randint(150, 400) + 0.5
    b = round(rng.uniform(2, 5), 2)
    # x*cos(wx): antiderivative cos(wx)/w^2 + x sin(wx)/w
    val = (math.cos(w * b) / w**2 + b * math.sin(w * b) / w) - (1 / w**2)
    return f"x * cos({_f(w)}*x)", 0.0, b, val


def _inv_sqrt(rng: random.Random) -> tuple[str, float, float, float]:
    c, b = round(rng.uniform(0.3, 3), 2), round(rng.uniform(0.5, 4), 2)
    return f"exp(-{_f(c)}*x) / sqrt(x)", 0.0, b, math.sqrt(math.pi / c) * math.erf(math.sqrt(c * b))


def _log_poly(rng: random.Random) -> tuple[str, float, float, float]:
    n, b = rng.randint(0, 3), round(rng.uniform(0.5, 3), 2)
    val = b ** (n + 1) * (math.log(b) / (n + 1) - 1 / (n + 1) ** 2)
    return (f"x**{n} * log(x)" if n else "log(x)"), 0.0, b, val


def _gamma_tail(rng: random.Random) -> tuple[str, float, float, float]:
    n, c = rng.randint(1, 5), round(rng.uniform(0.4, 2.0), 2)
    return f"x**{n} * exp(-{_f(c)}*x)", 0.0, math.inf, math.factorial(n) / c ** (n + 1)


def _cauchy_tail(rng: random.Random) -> tuple[str, float, float, float]:
    c = round(rng.uniform(0.2, 9), 2)
    return f"1 / (1 + {_f(c)}*x**2)", 0.0, math.inf, math.pi / (2 * math.sqrt(c))


def generate(req: TaskRequest) -> TaskDraft:
    rng = req.rng
    level = req.difficulty
    makers = [_poly_exp, _damped_sine, _lorentz]
    if level != "easy":
        makers += [_oscillatory, _poly_exp]
    if level == "hard":
        makers += [_inv_sqrt, _log_poly, _gamma_tail, _cauchy_tail]
    rng.shuffle(makers)
    tol = {"easy": 1e-6, "medium": 1e-8, "hard": 1e-9}[level]
    prefix = rng.choice(["I", "J", "Q", "int_"])
    items = []
    for i, mk in enumerate(makers, 1):
        expr, a, b, val = mk(rng)
        items.append((f"{prefix}{i}", expr, a, b, val))
    fname = rng.choice(["integrals.txt", "quadrature_jobs.txt", "problems.txt"])
    out = rng.choice(["results.json", "integrals.json", "answers.json"])

    def bound(v: float) -> str:
        return "inf" if v == math.inf else _f(v)
    sep = rng.choice([" on ", " over "])
    lines = ["# name: integrand(x)" + sep + "[a, b]", "# functions: exp, sin, cos, sqrt, log (natural) as in Python's math"]
    for name, expr, a, b, _ in items:
        lines.append(f"{name}: {expr}{sep}[{bound(a)}, {bound(b)}]")
    exact = {name: val for name, _, _, _, val in items}
    rules = [
        f"Each answer must be within {tol:g} x max(1, |exact value|) of the exact integral.",
        f"Write /app/{out}: a JSON object mapping each integral's name to its value (a number).",
    ]
    if level != "easy":
        rules.append("Some integrands oscillate quickly; a fixed coarse grid will not reach the tolerance.")
    if level == "hard":
        rules.append("Some integrals are improper: an infinite upper limit (`inf`) or an integrand that is singular "
                     "at x = 0 (the integral still converges).")
    instruction = (
        pick(rng, [f"/app/{fname} lists {len(items)} definite integrals, one per line. ",
                   f"A colleague needs the {len(items)} integrals in /app/{fname} evaluated numerically. ",
                   f"Evaluate every definite integral listed in /app/{fname}. "])
        + pick(rng, ["Compute them to the stated accuracy.", "Accuracy matters more than speed here."])
        + "\n\n" + bullets(rules, rng) + "\n"
    )
    solve = f"""# Read the job list and its format
cat /app/{fname}

# Parse each line and integrate adaptively with tight tolerances (scipy's QUADPACK)
cat > /app/integrate.py <<'PY'
import json, math, re
from scipy.integrate import quad
env = {{k: getattr(math, k) for k in ('exp', 'sin', 'cos', 'sqrt', 'log')}}
res = {{}}
for line in open('/app/{fname}'):
    line = line.strip()
    if not line or line.startswith('#'):
        continue
    m = re.match(r'(\\S+):\\s*(.+?)\\s+(?:on|over)\\s+\\[(.+),(.+)\\]$', line)
    name, expr, a, b = m.group(1), m.group(2), float(m.group(3)), float(m.group(4))
    f = eval('lambda x: ' + expr, env)
    val, err = quad(f, a, b, epsabs=1e-13, epsrel=1e-13, limit=5000)
    res[name] = val
    print(name, repr(val), err)
# Confirm every listed integral got a finite value before writing the answers
assert res and all(math.isfinite(v) for v in res.values()), res
json.dump(res, open('/app/{out}', 'w'), indent=1)
PY
python3 /app/integrate.py
cat /app/{out}
"""
    wrong = f"""python3 - <<'PY'
import json, math, re
import numpy as np
env = {{k: getattr(np, k) for k in ('exp', 'sin', 'cos', 'sqrt', 'log')}}
res = {{}}
for line in open('/app/{fname}'):
    line = line.strip()
    if not line or line.startswith('#'):
        continue
    m = re.match(r'(\\S+):\\s*(.+?)\\s+(?:on|over)\\s+\\[(.+),(.+)\\]$', line)
    name, expr, a, b = m.group(1), m.group(2), float(m.group(3)), min(float(m.group(4)), 60.0)
    f = eval('lambda x: ' + expr, env)
    x = np.linspace(max(a, 1e-9), b, 2001)
    res[name] = float(np.trapz(f(x), x))
json.dump(res, open('/app/{out}', 'w'))
PY
"""
    tests = f"""import json
import math
import pathlib

EXACT = {exact!r}
TOL = {tol!r}


OUT = pathlib.Path("/app/{out}")


def load():
    assert OUT.is_file(), "/app/{out} was not written"
    return json.loads(OUT.read_text())


def test_all_integrals_present():
    got = load()
    assert isinstance(got, dict) and sorted(got) == sorted(EXACT)


"""
    for name in exact:
        tests += f"""def test_{name}_accuracy():
    got = float(load()["{name}"])
    assert math.isfinite(got)
    assert abs(got - EXACT["{name}"]) <= TOL * max(1.0, abs(EXACT["{name}"])), got


"""
    return TaskDraft(instruction=instruction, app_files={fname: "\n".join(lines) + "\n"}, solve=solve,
                     wrong_solve=wrong, tests=tests.rstrip() + "\n", tags=("numerical-integration", "scipy", "tolerance"))


FAMILY = TaskFamily(
    name="quadrature",
    description="evaluate definite integrals (oscillatory, singular, improper) to a stated tolerance",
    generate=generate,
    requires=("python3",),
)
