"""Make a correct-but-quadratic function fast enough for a time budget, without changing its answers.

easy: one function, moderate input size.
medium: larger inputs with heavy duplicates and negative values (edge cases a quick rewrite gets wrong).
hard: two slow functions in the module must both be made fast, on the largest inputs.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from collections.abc import Callable

import attrs

from litecore.records import TaskDraft, TaskFamily, TaskRequest
from litecore.wording import pick

LCG = """def gen(seed, n, lo, hi):
    x = seed
    out = []
    for _ in range(n):
        x = (x * 6364136223846793005 + 1442695040888963407) % (1 << 64)
        out.append(lo + (x >> 33) % (hi - lo + 1))
    return out
"""
# fail-fast probe: every slow kernel needs >5 s on PROBE_N values (ldr, the cheapest, ~6 s; the others ~8-12 s),
# a linear one ~0.05 s with the interpreter's startup
PROBE_N = 25_000
PROBE_TIMEOUT = 1.0


def gen(seed: int, n: int, lo: int, hi: int) -> list[int]:
    x = seed
    out = []
    for _ in range(n):
        x = (x * 6364136223846793005 + 1442695040888963407) % (1 << 64)
        out.append(lo + (x >> 33) % (hi - lo + 1))
    return out


def _pairs(v: list[int], k: int) -> int:
    seen: Counter[int] = Counter()
    total = 0
    for x in v:
        total += seen[k - x]
        seen[x] += 1
    return total


def _inversions(v: list[int], k: int) -> int:
    ranks = sorted(set(v))
    tree = [0] * (len(ranks) + 1)
    total = 0
    for i, x in enumerate(v):
        r = bisect_left(ranks, x) + 1
        # count earlier elements <= x, the rest are inversions
        s, j = 0, r
        while j:
            s += tree[j]
            j -= j & -j
        total += i - s
        j = r
        while j <= len(ranks):
            tree[j] += 1
            j += j & -j
    return total


def _subarrays(v: list[int], k: int) -> int:
    seen: Counter[int] = Counter({0: 1})
    total = acc = 0
    for x in v:
        acc += x
        total += seen[acc - k]
        seen[acc] += 1
    return total


def _longest(v: list[int], k: int) -> int:
    last: dict[int, int] = {}
    left = best = 0
    for i, x in enumerate(v):
        if x in last and last[x] >= left:
            left = last[x] + 1
        last[x] = i
        best = max(best, i - left + 1)
    return best


@attrs.frozen
class Problem:
    func: str
    doc: str
    slow: str
    fast: str
    flaw: tuple[str, str]
    impl: Callable[[list[int], int], int]


PROBLEMS = (
    Problem("count_pairs", "Number of index pairs i < j with values[i] + values[j] == k.",
            "    total = 0\n    for i in range(len(values)):\n        for j in range(i + 1, len(values)):\n"
            "            if values[i] + values[j] == k:\n                total += 1\n    return total\n",
            "    seen = Counter()\n    total = 0\n    for x in values:\n        total += seen[k - x]\n"
            "        seen[x] += 1\n    return total\n",
            ("        total += seen[k - x]\n        seen[x] += 1\n", "        seen[x] += 1\n        total += seen[k - x]\n"),
            _pairs),
    Problem("count_inversions", "Number of index pairs i < j with values[i] > values[j] (k is unused).",
            "    total = 0\n    for i in range(len(values)):\n        for j in range(i + 1, len(values)):\n"
            "            if values[i] > values[j]:\n                total += 1\n    return total\n",
            "    ranks = sorted(set(values))\n    tree = [0] * (len(ranks) + 1)\n    total = 0\n"
            "    for i, x in enumerate(values):\n        r = bisect_left(ranks, x) + 1\n        s, j = 0, r\n"
            "        while j:\n            s += tree[j]\n            j -= j & -j\n        total += i - s\n"
            "        j = r\n        while j <= len(ranks):\n            tree[j] += 1\n            j += j & -j\n"
            "    return total\n",
            ("        r = bisect_left(ranks, x) + 1\n        s, j = 0, r\n", "        r = bisect_left(ranks, x) + 1\n        s, j = 0, r - 1\n"),
            _inversions),
    Problem("count_subarrays", "Number of contiguous non-empty slices values[i:j] whose sum is k.",
            "    total = 0\n    for i in range(len(values)):\n        acc = 0\n        for j in range(i, len(values)):\n"
            "            acc += values[j]\n            if acc == k:\n                total += 1\n    return total\n",
            "    seen = Counter({0: 1})\n    total = acc = 0\n    for x in values:\n        acc += x\n"
            "        total += seen[acc - k]\n        seen[acc] += 1\n    return total\n",
            ("    seen = Counter({0: 1})\n", "    seen = Counter()\n"),
            _subarrays),
    Problem("longest_distinct_run", "Length of the longest contiguous slice whose values are all different (k is unused).",
            # the run ending at j starts after the last repeat so far; each previous occurrence is found by a
            # full scan, so this is quadratic on any data (a scan that stops early would be fast on few values)
            "    best = left = 0\n    for j in range(len(values)):\n        prev = -1\n        for i in range(j):\n"
            "            if values[i] == values[j]:\n                prev = i\n        left = max(left, prev + 1)\n"
            "        best = max(best, j - left + 1)\n    return best\n",
            "    last = {}\n    left = best = 0\n    for i, x in enumerate(values):\n"
            "        if x in last and last[x] >= left:\n            left = last[x] + 1\n        last[x] = i\n"
            "        best = max(best, i - left + 1)\n    return best\n",
            ("        if x in last and last[x] >= left:\n", "        if x in last:\n"),
            _longest),
)


def generate(req: TaskRequest) -> TaskDraft:
    rng = req.rng
    d = req.difficulty
    probs = rng.sample(PROBLEMS, 2 if d == "hard" else 1)
    n_hidden = {"easy": 30_000, "medium": 120_000, "hard": 150_000}[d]
    limit = {"easy": 10, "medium": 10, "hard": 12}[d]
    lo, hi = (-rng.randint(5, 40), rng.randint(20, 60)) if d != "easy" else (0, rng.randint(200, 2000))
    header = "\"\"\"Analytics kernels (correct, but far too slow on real data).\"\"\"\n\nfrom bisect import bisect_left\nfrom collections import Counter\n"
    slow_src = header + "".join(f"\n\ndef {p.func}(values, k):\n    \"\"\"{p.doc}\"\"\"\n{p.slow}" for p in probs)
    n_input = rng.randint(8_000, 15_000)
    seed_in = rng.randrange(1 << 32)
    values_in = gen(seed_in, n_input, lo, hi)
    # k chosen so every plausible shortcut (self-pairs, missing empty prefix) changes the answer
    if any(p.func == "count_subarrays" for p in probs):
        k_in = sum(values_in[:rng.randint(1, 5)])
    else:
        k_in = 2 * rng.choice(values_in)
    answers = {p.func: p.impl(values_in, k_in) for p in probs}
    hidden = []
    for _ in range(3):
        s, n = rng.randrange(1 << 32), rng.randint(n_hidden // 2, n_hidden)
        k = rng.randint(lo, hi) if rng.random() < 0.7 else rng.randint(lo * 3, hi * 3)
        v = gen(s, n, lo, hi)
        hidden.append([s, n, k, {p.func: p.impl(v, k) for p in probs}])
    small = [[rng.randrange(1 << 32), rng.randint(0, 3), rng.randint(lo, hi)] for _ in range(3)]
    for row in small:
        v = gen(row[0], row[1], lo, hi)
        row.append({p.func: p.impl(v, row[2]) for p in probs})
    files = {"kernels.py": slow_src,
             "data/input.txt": f"{k_in}\n" + "\n".join(map(str, values_in)) + "\n",
             "run.py": ("\"\"\"Runs the kernels on data/input.txt (first line k, then one value per line).\"\"\"\n"
                        "import sys\n\nimport kernels\n\n"
                        "lines = open(sys.argv[1] if len(sys.argv) > 1 else 'data/input.txt').read().split()\n"
                        "k, values = int(lines[0]), [int(x) for x in lines[1:]]\n"
                        + "".join(f"print('{p.func}', kernels.{p.func}(values, k))\n" for p in probs))}
    names = " and ".join(f"`{p.func}`" for p in probs)
    instruction = pick(rng, [
        f"/app/kernels.py implements {names} correctly but with quadratic algorithms; `python3 run.py` on the "
        f"real data does not finish in reasonable time.",
        f"The functions {names} in /app/kernels.py are far too slow for production inputs.",
    ]) + (
        f"\n\nRewrite them in /app/kernels.py so that each call on a list of up to {n_hidden:,} integers "
        f"(values between {lo} and {hi}) returns in well under {limit} seconds, with exactly the same results "
        f"as the current code for every input (including empty or tiny lists and any k). Keep the names and "
        f"signatures; use only the standard library.\n\nThen write the output of `python3 run.py` for "
        f"/app/data/input.txt to /app/answers.txt (same format: one `name value` line per function).\n"
    )
    fast_src = header + "".join(f"\n\ndef {p.func}(values, k):\n    \"\"\"{p.doc}\"\"\"\n{p.fast}" for p in probs)
    fast_body = fast_src.replace("\n\n\n", "\n").replace("\n\n", "\n")
    solve = f"""# Read the slow code and the driver
cd /app && cat kernels.py run.py && wc -l data/input.txt

# Replace the quadratic loops with linear / n log n versions (hash counts, prefix sums, Fenwick tree)
cp kernels.py /tmp/kernels_slow.py && cat > /app/kernels.py <<'EOF'
{fast_body.rstrip()}
EOF

# Cross-check against the slow version on small random inputs, including edge cases
cd /app && python3 - <<'EOF'
import random, sys
sys.path.insert(0, "/tmp")
import kernels, kernels_slow
rnd = random.Random(1)
for _ in range(300):
    v = [rnd.randint({lo}, {hi}) for _ in range(rnd.randint(0, 40))]
    k = rnd.randint({lo} * 2, {hi} * 2)
    for name in {[p.func for p in probs]!r}:
        assert getattr(kernels, name)(v, k) == getattr(kernels_slow, name)(v, k), (name, v, k)
print("all equal")
EOF

# Produce the answers for the real input
cd /app && time python3 run.py > answers.txt && cat answers.txt
"""
    wrong = solve
    for p in probs:
        wrong = wrong.replace(p.flaw[0].replace("\n\n", "\n"), p.flaw[1])
    wrong = wrong.replace("assert getattr", "getattr")
    assert wrong != solve
    tests = f"""import json
import subprocess
import sys

HIDDEN = {hidden!r}
SMALL = {small!r}
ANSWERS = {answers!r}
LIMIT = {limit}
PROBE_N, PROBE_TIMEOUT = {PROBE_N}, {PROBE_TIMEOUT}
GEN = {LCG!r}
SCRIPT = GEN + '''
import json, sys, time
sys.path.insert(0, "/app")
import kernels
lo, hi, jobs = json.loads(sys.argv[1])
res = []
for seed, n, k, names in jobs:
    values = gen(seed, n, lo, hi)
    row = []
    for name in names:
        t = time.perf_counter()
        out = getattr(kernels, name)(list(values), k)
        row.append([out, time.perf_counter() - t])
    res.append(row)
print(json.dumps(res))
'''


TOO_SLOW = set()  # kernels that already missed the budget: later checks fail at once
PROBED = set()  # kernels that passed the fail-fast probe


def run(jobs, timeout):
    \"\"\"Run [seed, n, k, names] jobs in one fresh interpreter; per job, [result, seconds] per name.\"\"\"
    r = subprocess.run([sys.executable, "-c", SCRIPT, json.dumps([{lo}, {hi}, jobs])],
                       capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, r.stderr[-500:]
    return json.loads(r.stdout.splitlines()[-1])


def probe(name, seed, k):
    \"\"\"Fail fast: a linear kernel does PROBE_N values in ~0.05 s, a quadratic one needs many seconds.\"\"\"
    assert name not in TOO_SLOW, f"{{name}} too slow (an earlier input timed out)"
    if name not in PROBED:
        try:
            run([[seed, PROBE_N, k, [name]]], PROBE_TIMEOUT)
        except subprocess.TimeoutExpired:
            TOO_SLOW.add(name)
            raise AssertionError(f"{{name}} too slow: {{PROBE_N}} values took over {{PROBE_TIMEOUT}} s")
        PROBED.add(name)


def test_small_and_edge_inputs():
    got = run([[seed, n, k, list(want)] for seed, n, k, want in SMALL], 20)
    for (seed, n, k, want), row in zip(SMALL, got):
        for (name, value), (out, _) in zip(want.items(), row):
            assert out == value, (name, n)


def test_answers_file():
    got = {{}}
    for line in open("/app/answers.txt"):
        if line.strip():
            name, value = line.split()
            got[name] = int(value)
    assert got == ANSWERS
"""
    for i in range(len(hidden)):
        tests += f"""

def test_large_input_{i}():
    seed, n, k, want = HIDDEN[{i}]
    names = list(want)
    for name in names:
        probe(name, seed, k)
    try:
        row = run([[seed, n, k, names]], LIMIT * len(names) + 5)[0]
    except subprocess.TimeoutExpired:
        TOO_SLOW.update(names)
        raise AssertionError(f"{{names}} too slow")
    for name, (out, seconds) in zip(names, row):
        assert out == want[name], name
        assert seconds < LIMIT, (name, seconds)
"""
    return TaskDraft(instruction=instruction, app_files=files, solve=solve, wrong_solve=wrong, tests=tests,
                     tags=("python", "performance", "algorithms"), requires=("python3",),
                     verifier_timeout_sec=240.0)


FAMILY = TaskFamily(
    name="optimize-slow",
    description="replace quadratic kernels with fast equivalents that give identical answers under a time budget",
    generate=generate,
    requires=("python3",),
)
