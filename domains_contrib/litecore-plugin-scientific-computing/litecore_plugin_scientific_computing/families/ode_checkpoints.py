"""Integrate an initial value problem and report the state at hidden-checked times.

easy: a first-order system (Lotka-Volterra); medium: a second-order driven
pendulum given as one equation (rewrite it first) plus its energy; hard: a stiff-ish
Van der Pol oscillator with an event (zero crossings) to locate. The reference
values come from a fine fixed-step RK4 run at generation time; default solver
tolerances are not good enough to pass.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from litecore.records import TaskDraft, TaskFamily, TaskRequest
from litecore.wording import bullets, pick


Vec = list[float]


def _rk4_step(f: Callable[[float, Vec], Vec], t: float, y: Vec, h: float) -> Vec:
    k1 = f(t, y)
    k2 = f(t + h / 2, [a + h / 2 * b for a, b in zip(y, k1)])
    k3 = f(t + h / 2, [a + h / 2 * b for a, b in zip(y, k2)])
    k4 = f(t + h, [a + h * b for a, b in zip(y, k3)])
    return [a + h / 6 * (p + 2 * q + 2 * r + s) for a, p, q, r, s in zip(y, k1, k2, k3, k4)]


def _integrate(f, y0: Vec, times: list[float], h: float, event: Callable[[Vec], float] | None = None,
               n_events: int = 0) -> tuple[dict[float, Vec], list[float]]:
    """States at ``times`` (exact landing on each) and the first ``n_events`` downward zeros of ``event``."""
    out: dict[float, Vec] = {}
    events: list[float] = []
    t, y = 0.0, list(y0)
    for target in sorted(times):
        while t < target - 1e-12:
            step = min(h, target - t)
            y_new = _rk4_step(f, t, y, step)
            if event and len(events) < n_events and event(y) > 0 >= event(y_new):
                lo, hi = 0.0, step  # bisection on the step length: each trial is one RK4 step from t
                for _ in range(60):
                    mid = (lo + hi) / 2
                    if event(_rk4_step(f, t, y, mid)) > 0:
                        lo = mid
                    else:
                        hi = mid
                events.append(t + (lo + hi) / 2)
            t, y = t + step, y_new
        out[target] = list(y)
    return out, events


def generate(req: TaskRequest) -> TaskDraft:
    rng = req.rng
    level = req.difficulty
    out = rng.choice(["checkpoints.csv", "solution.csv", "trajectory.csv"])
    n_ck = {"easy": 6, "medium": 8, "hard": 8}[level]
    t_end = {"easy": rng.choice([10.0, 12.0, 15.0]), "medium": rng.choice([8.0, 10.0]), "hard": rng.choice([18.0, 20.0])}[level]
    times = sorted({round(rng.uniform(0.5, t_end), 2) for _ in range(n_ck)} | {t_end})
    h = 0.004  # RK4 global error ~1e-9 here: far below the 1e-6 the task asks for
    extra_rules: list[str] = []
    if level == "easy":
        a, b, c, d = (round(rng.uniform(0.8, 1.6), 2), round(rng.uniform(0.3, 0.7), 2),
                      round(rng.uniform(0.8, 1.6), 2), round(rng.uniform(0.2, 0.6), 2))
        y0 = [round(rng.uniform(2, 6), 1), round(rng.uniform(1, 4), 1)]
        cols = ["t", "prey", "predator"]
        model = (f"Predator-prey model (time in years):\n\n    dx/dt = {a}*x - {b}*x*y\n    dy/dt = {d}*x*y - {c}*y\n\n"
                 f"x is the prey population, y the predator population; x(0) = {y0[0]}, y(0) = {y0[1]}.\n")
        params = {"alpha": a, "beta": b, "gamma": c, "delta": d, "x0": y0[0], "y0": y0[1]}

        def f(t: float, y: Vec) -> Vec:
            return [a * y[0] - b * y[0] * y[1], d * y[0] * y[1] - c * y[1]]
        states, _ = _integrate(f, y0, times, h)
        expected = [[t] + states[t] for t in times]
        events: list[float] = []
    elif level == "medium":
        g, L = 9.81, round(rng.uniform(0.5, 2.0), 2)
        gamma, amp, om = round(rng.uniform(0.1, 0.5), 2), round(rng.uniform(0.5, 1.5), 2), round(rng.uniform(1.5, 3.0), 2)
        th0, w0 = round(rng.uniform(0.2, 1.2), 2), round(rng.uniform(-0.5, 0.5), 2)
        cols = ["t", "theta", "omega", "energy"]
        model = (f"A driven, damped pendulum (SI units, g = {g}, length L = {L} m):\n\n"
                 f"    theta'' + {gamma}*theta' + (g/L)*sin(theta) = {amp}*cos({om}*t)\n\n"
                 f"theta(0) = {th0} rad, theta'(0) = {w0} rad/s. omega is theta'. The energy per unit mass is\n"
                 f"E = 0.5*L**2*omega**2 + g*L*(1 - cos(theta)).\n")
        params = {"g": g, "L": L, "gamma": gamma, "A": amp, "Omega": om, "theta0": th0, "omega0": w0}

        def f(t: float, y: Vec) -> Vec:
            return [y[1], -gamma * y[1] - g / L * math.sin(y[0]) + amp * math.cos(om * t)]
        states, _ = _integrate(f, [th0, w0], times, h)
        expected = [[t, *states[t], 0.5 * L * L * states[t][1] ** 2 + g * L * (1 - math.cos(states[t][0]))]
                    for t in times]
        events = []
    else:
        mu = round(rng.uniform(1.5, 3.5), 2)  # period <= ~9, so two downward crossings happen before t_end
        x0 = round(rng.uniform(0.5, 2.0), 2)
        cols = ["t", "x", "v"]
        model = (f"The Van der Pol oscillator with mu = {mu}:\n\n    x'' - {mu}*(1 - x**2)*x' + x = 0\n\n"
                 f"x(0) = {x0}, x'(0) = 0. v is x'.\n")
        params = {"mu": mu, "x0": x0, "v0": 0.0}

        def f(t: float, y: Vec) -> Vec:
            return [y[1], mu * (1 - y[0] ** 2) * y[1] - y[0]]
        states, events = _integrate(f, [x0, 0.0], times, h, event=lambda y: y[0], n_events=2)
        assert len(events) == 2, events
        expected = [[t] + states[t] for t in times]
        extra_rules.append("Also write /app/crossings.txt: the first two times t > 0 at which x crosses zero going "
                           "downward (x changes from positive to negative), one per line, each accurate to 1e-6.")
    tol = 1e-6
    ck_name = rng.choice(["times.txt", "checkpoints.txt", "t_eval.txt"])
    rules = [
        f"/app/{ck_name} lists the checkpoint times, one per line. Write /app/{out} with the header "
        f"`{','.join(cols)}` and one row per checkpoint, in the order of that file.",
        f"Every reported value must be within {tol:g} x max(1, |value|) of the true solution; the solver's default "
        f"tolerances are usually not enough.",
    ] + extra_rules
    instruction = (
        pick(rng, ["Solve the following initial value problem numerically.\n\n",
                   "We need an accurate trajectory of this model.\n\n",
                   "Integrate the model below and report its state at given times.\n\n"])
        + model + "\nThe parameters are also in /app/params.json.\n\n" + bullets(rules) + "\n"
    )
    import json as _json
    app = {ck_name: "\n".join(f"{t:g}" for t in times) + "\n", "params.json": _json.dumps(params, indent=2) + "\n"}
    if level == "easy":
        rhs = "[p['alpha']*y[0] - p['beta']*y[0]*y[1], p['delta']*y[0]*y[1] - p['gamma']*y[1]]"
        derived = ""
    elif level == "medium":
        rhs = "[y[1], -p['gamma']*y[1] - p['g']/p['L']*np.sin(y[0]) + p['A']*np.cos(p['Omega']*t)]"
        derived = "    row.append(0.5*p['L']**2*y[1]**2 + p['g']*p['L']*(1 - np.cos(y[0])))\n"
    else:
        rhs = "[y[1], p['mu']*(1 - y[0]**2)*y[1] - y[0]]"
        derived = ""
    y0_expr = {"easy": "[p['x0'], p['y0']]", "medium": "[p['theta0'], p['omega0']]", "hard": "[p['x0'], p['v0']]"}[level]
    ev_def = ev_arg = ev = ""
    if level == "hard":  # the same run locates the events: solve_ivp root-finds on its dense interpolant
        ev_def = """def cross(t, y):
    return y[0]
cross.direction = -1
"""
        ev_arg = ", events=cross"
        ev = """down = [t for t in sol.t_events[0] if t > 0][:2]
open('/app/crossings.txt', 'w').write(''.join('%.10f\\n' % t for t in down))
print('crossings', down)
"""
    solve = f"""# Read the model parameters and the checkpoint times
cat /app/params.json; cat /app/{ck_name}

# Integrate with a high-order method and tight tolerances, evaluating exactly at the checkpoints
cat > /app/solve_ode.py <<'PY'
import json
import numpy as np
from scipy.integrate import solve_ivp
p = json.load(open('/app/params.json'))
ts = [float(l) for l in open('/app/{ck_name}') if l.strip()]
def f(t, y):
    return {rhs}
y0 = {y0_expr}
{ev_def}sol = solve_ivp(f, (0, max(ts)), y0, method='DOP853', rtol=1e-12, atol=1e-12, t_eval=sorted(set(ts)){ev_arg})
at = {{t: sol.y[:, i] for i, t in enumerate(sol.t)}}
rows = []
for t in ts:
    y = at[t]
    row = [t, y[0], y[1]]
{derived}    rows.append(row)
with open('/app/{out}', 'w') as fh:
    fh.write('{','.join(cols)}\\n')
    for r in rows:
        fh.write(','.join(repr(float(v)) for v in r) + '\\n')
{ev}PY
python3 /app/solve_ode.py

# Check the written checkpoints
head -3 /app/{out}
"""
    wrong = solve.replace("method='DOP853', rtol=1e-12, atol=1e-12", "method='RK45'")
    assert wrong != solve
    tests = f"""import csv
import math
import pathlib

COLS = {cols!r}
EXPECTED = {expected!r}
EVENTS = {events!r}
TOL = {tol!r}


OUT = pathlib.Path("/app/{out}")


def rows():
    assert OUT.is_file(), "/app/{out} was not written"
    with OUT.open(newline="") as fh:
        return [r for r in csv.reader(fh) if r]


def close(got, want):
    return math.isfinite(got) and abs(got - want) <= TOL * max(1.0, abs(want))


def test_header_and_times():
    r = rows()
    assert [c.strip() for c in r[0]] == COLS
    assert [round(float(x[0]), 6) for x in r[1:]] == [round(e[0], 6) for e in EXPECTED]


def test_first_component():
    for got, want in zip(rows()[1:], EXPECTED):
        assert close(float(got[1]), want[1]), (got, want)


def test_second_component():
    for got, want in zip(rows()[1:], EXPECTED):
        assert close(float(got[2]), want[2]), (got, want)
"""
    if level == "medium":
        tests += """

def test_energy():
    for got, want in zip(rows()[1:], EXPECTED):
        assert close(float(got[3]), want[3]), (got, want)
"""
    if level == "hard":
        tests += """

def test_downward_crossings():
    path = pathlib.Path("/app/crossings.txt")
    assert path.is_file(), "/app/crossings.txt was not written"
    vals = [float(l) for l in path.read_text().split()]
    assert len(vals) == 2
    for got, want in zip(vals, EVENTS):
        assert abs(got - want) <= 1e-6, (got, want)
"""
    return TaskDraft(instruction=instruction, app_files=app, solve=solve, wrong_solve=wrong, tests=tests,
                     tags=("ode", "scipy", "initial-value-problem", "tolerance"))


FAMILY = TaskFamily(
    name="ode-checkpoints",
    description="integrate an ODE model (first-order, second-order, with events) to a tolerance at checkpoints",
    generate=generate,
    requires=("python3",),
)
