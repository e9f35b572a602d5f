"""Make a Monte Carlo estimator reproducible, unbiased and honest about its error.

The shipped simulation ignores its --seed, misreports the standard error and
(medium+) samples the wrong distribution; hard adds a sequential stopping rule.
The exact probability is known at generation time (dynamic programming or a
product formula), so the hidden tests run the agent's script with unseen seeds
and sample sizes and check reproducibility, bias and the reported error.
"""

from __future__ import annotations

from fractions import Fraction

from litecore.records import TaskDraft, TaskFamily, TaskRequest
from litecore.wording import bullets, pick


def _dice_exact(k: int, d: int, t: int) -> float:
    dist = {0: Fraction(1)}
    for _ in range(k):
        nxt: dict[int, Fraction] = {}
        for s, p in dist.items():
            for face in range(1, d + 1):
                nxt[s + face] = nxt.get(s + face, Fraction(0)) + p / d
        dist = nxt
    return float(sum(p for s, p in dist.items() if s >= t))


def _birthday_exact(k: int, d: int) -> float:
    q = Fraction(1)
    for i in range(k):
        q *= Fraction(d - i, d)
    return float(1 - q)


def _source(scenario: str, p: dict, *, seeded: bool, se_ok: bool, bias1: bool, bias2: bool, target: bool) -> str:
    """The simulation script, with or without each of its defects."""
    rng_line = "rng = random.Random(args.seed)" if seeded else "rng = random.Random()  # TODO: seed"
    if scenario == "dice":
        hi = "SIDES - 1" if bias1 else "SIDES"
        cmp = ">" if bias2 else ">="
        trial = (f"def trial(rng):\n    total = sum(rng.randint(1, {hi}) for _ in range(DICE))\n"
                 f"    return total {cmp} THRESHOLD\n")
        consts = f"DICE, SIDES, THRESHOLD = {p['k']}, {p['d']}, {p['t']}\n"
        doc = (f"Estimate P(sum of {p['k']} fair {p['d']}-sided dice >= {p['t']}).")
    else:
        people = "PEOPLE - 1" if bias1 else "PEOPLE"
        need = "len(days) - 1" if bias2 else "len(days)"
        trial = (f"def trial(rng):\n    days = [rng.randrange(DAYS) for _ in range({people})]\n"
                 f"    return len(set(days)) < {need}\n")
        consts = f"PEOPLE, DAYS = {p['k']}, {p['d']}\n"
        doc = (f"Estimate P(at least two of {p['k']} people share a birthday, {p['d']} equally likely days).")
    se = "math.sqrt(est * (1 - est) / n)" if se_ok else "math.sqrt(est * (1 - est)) / n"
    body = f'''"""{doc}

Usage: python3 sim.py --seed S --samples N{' | --target-se E' if target else ''}
Prints one JSON object: {{"estimate": ..., "stderr": ..., "samples": ...}}.
"""
import argparse
import json
import math
import random

{consts}

{trial}

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--samples", type=int, default=10000)
'''
    if target:
        body += '    ap.add_argument("--target-se", type=float, default=None)\n'
    body += f'''    args = ap.parse_args()
    {rng_line}
    hits = n = 0
'''
    if target:
        body += f'''    if args.target_se is not None:
        while True:
            for _ in range(1000):
                hits += trial(rng)
            n += 1000
            est = hits / n
            if n >= 2000 and {se} <= args.target_se:
                break
    else:
        for _ in range(args.samples):
            hits += trial(rng)
        n = args.samples
'''
    else:
        body += '''    for _ in range(args.samples):
        hits += trial(rng)
    n = args.samples
'''
    body += f'''    est = hits / n
    print(json.dumps({{"estimate": est, "stderr": {se}, "samples": n}}))


if __name__ == "__main__":
    main()
'''
    return body


def generate(req: TaskRequest) -> TaskDraft:
    rng = req.rng
    level = req.difficulty
    scenario = rng.choice(["dice", "birthday"])
    if scenario == "dice":
        k, d = rng.randint(2, 4), rng.choice([4, 6, 8, 10])
        mean = k * (d + 1) / 2
        t = int(mean) + rng.randint(-1, 2)
        params = {"k": k, "d": d, "t": t}
        exact = _dice_exact(k, d, t)
        n_acc = 100000
    else:
        k, d = rng.randint(15, 30), rng.choice([365, 100, 200, 52])
        while not 0.15 < _birthday_exact(k, d) < 0.85:
            k = rng.randint(8, 30)
        params = {"k": k, "d": d}
        exact = _birthday_exact(k, d)
        n_acc = 40000
    script = rng.choice(["sim.py", "mc_estimate.py", "estimate.py"])
    target = level == "hard"
    buggy = _source(scenario, params, seeded=False, se_ok=False, bias1=level != "easy", bias2=level == "hard",
                    target=target)
    fixed = _source(scenario, params, seeded=True, se_ok=True, bias1=False, bias2=False, target=target)
    seeds = [rng.randint(1, 10**6) for _ in range(3)]
    target_se = round(rng.uniform(0.004, 0.007), 4)
    rules = [
        f"`python3 /app/{script} --seed S --samples N` must be reproducible: the same S and N always print the same "
        f"result, and different seeds give different samples.",
        "`stderr` must be the standard error of the estimate (the binomial standard error for N samples).",
        "The estimate must be unbiased: with many samples it must converge to the exact probability described in the "
        "script's docstring.",
        "Keep the command-line interface and the JSON output keys (`estimate`, `stderr`, `samples`); use only the "
        "standard library.",
    ]
    if target:
        rules.append("`--target-se E` (instead of `--samples`) must keep drawing batches of 1000 samples until the "
                     "standard error is at most E (at least 2000 samples), then print the result for all samples "
                     "drawn.")
    instruction = (
        pick(rng, [f"/app/{script} is a Monte Carlo estimator that our report depends on, but its numbers cannot "
                   f"be trusted. ",
                   f"Reviewers could not reproduce the numbers produced by /app/{script}. ",
                   f"Audit and repair the simulation /app/{script}. "])
        + pick(rng, ["Fix it so that:", "Make it meet these requirements:"])
        + "\n\n" + bullets(rules) + "\n"
    )
    if scenario == "dice":
        exact_code = (f"import itertools; k, d, t = {params['k']}, {params['d']}, {params['t']}; "
                      f"print(sum(sum(c) >= t for c in itertools.product(range(1, d + 1), repeat=k)) / d ** k)")
    else:
        exact_code = (f"import math; k, d = {params['k']}, {params['d']}; "
                      f"print(1 - math.prod((d - i) / d for i in range(k)))")
    compact = fixed.rstrip()
    while "\n\n" in compact:
        compact = compact.replace("\n\n", "\n")
    solve = f"""# Read the script; compute the exact answer independently
cat /app/{script}
python3 -c "{exact_code}"

# Run it twice with the same seed: the results differ (not reproducible) and sit off the exact value (bias)
python3 /app/{script} --seed 1 --samples 5000; python3 /app/{script} --seed 1 --samples 5000

# Rewrite the estimator: seeded generator, correct sampler, binomial standard error
cat > /app/{script} <<'PY'
{compact}
PY

# Verify reproducibility and convergence
python3 /app/{script} --seed 1 --samples 5000; python3 /app/{script} --seed 1 --samples 5000
"""
    if level == "easy":  # seeded, unbiased, but the standard error is still wrong
        wrong_src = _source(scenario, params, seeded=True, se_ok=False, bias1=False, bias2=False, target=target)
    else:  # seeded, right error formula, but the sampler is still biased
        wrong_src = _source(scenario, params, seeded=True, se_ok=True, bias1=True, bias2=level == "hard",
                            target=target)
    wrong = f"""cat > /app/{script} <<'PY'
{wrong_src}
PY
"""
    tests = f"""import json
import math
import subprocess

EXACT = {exact!r}
SEEDS = {seeds!r}
N_ACC = {n_acc}


def run(*args):
    out = subprocess.run(["python3", "/app/{script}", *args], capture_output=True, text=True, timeout=300, cwd="/app")
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


FIRST = []


def first_run():
    \"\"\"The seed-0 run, shared by the two tests that need one (each repeat is a fresh process).\"\"\"
    if not FIRST:
        FIRST.append(run("--seed", str(SEEDS[0]), "--samples", "3000"))
    return FIRST[0]


def test_same_seed_same_result():
    a = first_run()
    b = run("--seed", str(SEEDS[0]), "--samples", "3000")
    assert a == b


def test_different_seeds_differ():
    a = first_run()
    b = run("--seed", str(SEEDS[1]), "--samples", "3000")
    assert a["estimate"] != b["estimate"]


def test_unbiased_and_error_reported():
    r = run("--seed", str(SEEDS[2]), "--samples", str(N_ACC))
    se_true = math.sqrt(EXACT * (1 - EXACT) / N_ACC)
    assert int(r["samples"]) == N_ACC
    assert abs(float(r["estimate"]) - EXACT) <= 5 * se_true, (r, EXACT)
    assert abs(float(r["stderr"]) - se_true) <= 0.1 * se_true, (r, se_true)
"""
    if target:
        tests += f"""

TARGET = {target_se!r}


def test_sequential_stopping_rule():
    r = run("--seed", str(SEEDS[1]), "--target-se", str(TARGET))
    n = int(r["samples"])
    need = EXACT * (1 - EXACT) / TARGET ** 2
    assert n % 1000 == 0 and n >= 2000
    assert 0.8 * need <= n <= 1.25 * need + 1000, (n, need)
    assert float(r["stderr"]) <= TARGET
    assert abs(float(r["estimate"]) - EXACT) <= 5 * TARGET
"""
    return TaskDraft(instruction=instruction, app_files={script: buggy}, solve=solve, wrong_solve=wrong, tests=tests,
                     tags=("monte-carlo", "reproducibility", "statistics", "debugging"), verifier_timeout_sec=300.0)


FAMILY = TaskFamily(
    name="monte-carlo",
    description="make a Monte Carlo estimator reproducible, unbiased and correct about its standard error",
    generate=generate,
    requires=("python3",),
)
