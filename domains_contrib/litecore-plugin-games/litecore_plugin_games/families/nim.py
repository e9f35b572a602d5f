"""Find winning moves in impartial heap games (Nim, subtraction games, remove-or-split).

Each line of the input is a position; the answer is `LOSE` for a position the
player to move loses with best play, otherwise any winning move. The verifier
recomputes Grundy values from the rules embedded in the tests, so every
winning move is accepted.
"""

from __future__ import annotations

from functools import reduce

from litecore.records import TaskDraft, TaskFamily, TaskRequest
from litecore.wording import bullets, pick


def grundy_table(limit: int, subtract: tuple[int, ...] | None, split: bool) -> list[int]:
    """g[n] for one heap; ``subtract=None`` means any positive amount (plain Nim)."""
    g = [0] * (limit + 1)
    for n in range(1, limit + 1):
        opts = set()
        for s in (range(1, n + 1) if subtract is None else subtract):
            if s <= n:
                opts.add(g[n - s])
        if split:
            for a in range(1, (n + 1) // 2):
                opts.add(g[a] ^ g[n - a])
        m = 0
        while m in opts:
            m += 1
        g[n] = m
    return g


def _first_win_heap(heaps: list[int], g: list[int], subtract, split: bool) -> int | None:
    total = reduce(lambda a, b: a ^ b, (g[h] for h in heaps), 0)
    if total == 0:
        return None
    for i, h in enumerate(heaps):
        rest = total ^ g[h]
        if any(s <= h and g[h - s] == rest for s in (range(1, h + 1) if subtract is None else subtract)):
            return i
        if split and any(g[a] ^ g[h - a] == rest for a in range(1, (h + 1) // 2)):
            return i
    raise AssertionError("N-position without a winning move")


def generate(req: TaskRequest) -> TaskDraft:
    rng = req.rng
    d = req.difficulty
    subtract: tuple[int, ...] | None = None
    split = d == "hard"
    if d != "easy":
        subtract = tuple(sorted(rng.sample(range(1, 8), rng.randint(2, 4))))
        if 1 not in subtract and rng.random() < 0.5:
            subtract = (1, *subtract)
    limit = {"easy": 15, "medium": 40, "hard": 30}[d]
    g = grundy_table(limit, subtract, split)
    n_pos = {"easy": 6, "medium": 8, "hard": 8}[d]
    while True:
        positions = [[rng.randint(1, limit) for _ in range(rng.randint(2, 4))] for _ in range(n_pos)]
        # a few losing positions on purpose: the last heap is chosen to cancel the others when possible
        for p in rng.sample(positions, 2):
            want = reduce(lambda a, b: a ^ b, (g[h] for h in p[:-1]), 0)
            options = [h for h in range(1, limit + 1) if g[h] == want]
            if options:
                p[-1] = pick(rng, options)
        wins = [_first_win_heap(p, g, subtract, split) for p in positions]
        if any(w == 0 for w in wins) and any(w is None for w in wins):
            break
    losing = [w is None for w in wins]

    game = {
        "easy": "Normal Nim: a move removes any positive number of tokens from one heap.",
        "medium": f"A move removes exactly s tokens from one heap, where s is one of {list(subtract or ())}.",
        "hard": f"A move either removes exactly s tokens from one heap, where s is one of {list(subtract or ())}, "
                "or splits one heap into two non-empty heaps of different sizes.",
    }[d]
    move_fmt = ("`take I K` (remove K tokens from heap I)" + (", or `split I A B` (heap I becomes heaps of sizes "
                                                            "A and B, A + B = its size, A != B)" if split else ""))
    rules = [
        "two players alternate moves; the player who cannot move loses",
        "heaps are numbered from 1 in the order they appear on the line",
        f"for a position the player to move loses against perfect play, write `LOSE`; otherwise write one "
        f"winning move as {move_fmt}",
        "write /app/answers.txt with one answer per position, in the input order",
    ]
    rng.shuffle(rules)
    intro = pick(rng, (
        "/app/positions.txt lists game positions, one per line as space-separated heap sizes.",
        "Each line of /app/positions.txt is a position of a heap game (the heap sizes, separated by spaces).",
        "We need an oracle for a token game. The positions to analyse are in /app/positions.txt, one per line.",
    ))
    instruction = f"{intro}\n\n{game}\n\n{bullets(rules)}\n"

    solver = f"""# Grundy values per heap size (mex over move results), then xor to decide and search a winning move
python3 - <<'PY'
from functools import reduce
SUB = {list(subtract) if subtract else None!r}
SPLIT = {split!r}
pos = [[int(x) for x in line.split()] for line in open('/app/positions.txt') if line.strip()]
top = max(max(p) for p in pos)
def takes(n):
    return [s for s in (SUB or range(1, n + 1)) if s <= n]
g = [0] * (top + 1)
for n in range(1, top + 1):
    opts = {{g[n - s] for s in takes(n)}}
    if SPLIT:
        opts |= {{g[a] ^ g[n - a] for a in range(1, (n + 1) // 2)}}
    g[n] = min(set(range(len(opts) + 1)) - opts)
out = []
for p in pos:
    x = reduce(lambda a, b: a ^ b, (g[h] for h in p), 0)
    if x == 0:
        out.append('LOSE')
        continue
    move = None
    for i, h in enumerate(p):
        rest = x ^ g[h]
        for s in takes(h):
            if g[h - s] == rest:
                move = f'take {{i + 1}} {{s}}'
                break
        if move is None and SPLIT:
            for a in range(1, (h + 1) // 2):
                if g[a] ^ g[h - a] == rest:
                    move = f'split {{i + 1}} {{a}} {{h - a}}'
                    break
        if move:
            break
    out.append(move)
open('/app/answers.txt', 'w').write('\\n'.join(out) + '\\n')
print(g[:20])
PY"""
    solve = f"""# Look at the positions
cat /app/positions.txt

{solver}

# Check: one answer per position
paste -d'|' /app/positions.txt /app/answers.txt
"""
    wrong = solver.replace("{i + 1}", "{i}")
    tests = f"""import pathlib
from functools import reduce

POSITIONS = {positions!r}
LOSING = {losing!r}
SUB = {list(subtract) if subtract else None!r}
SPLIT = {split!r}
LIMIT = {limit * 2}


def table():
    g = [0] * (LIMIT + 1)
    for n in range(1, LIMIT + 1):
        opts = {{g[n - s] for s in (SUB or range(1, n + 1)) if s <= n}}
        if SPLIT:
            opts |= {{g[a] ^ g[n - a] for a in range(1, (n + 1) // 2)}}
        m = 0
        while m in opts:
            m += 1
        g[n] = m
    return g


G = table()


def answers():
    return [l.strip() for l in pathlib.Path("/app/answers.txt").read_text().splitlines() if l.strip()]


def apply(heaps, move):
    parts = move.split()
    heaps = list(heaps)
    if parts[0] == "take" and len(parts) == 3:
        i, k = int(parts[1]), int(parts[2])
        assert 1 <= i <= len(heaps), "no such heap"
        assert k <= heaps[i - 1] and (k in SUB if SUB else k >= 1), "illegal take"
        heaps[i - 1] -= k
        return heaps
    if parts[0] == "split" and len(parts) == 4 and SPLIT:
        i, a, b = int(parts[1]), int(parts[2]), int(parts[3])
        assert 1 <= i <= len(heaps), "no such heap"
        assert a > 0 and b > 0 and a != b and a + b == heaps[i - 1], "illegal split"
        return heaps[: i - 1] + [a, b] + heaps[i:]
    raise AssertionError(f"unreadable move {{move!r}}")


def value(heaps):
    return reduce(lambda x, y: x ^ y, (G[h] for h in heaps), 0)


def test_one_answer_per_position():
    assert len(answers()) == len(POSITIONS)


def test_losing_positions_identified():
    got = answers()
    for i, lose in enumerate(LOSING):
        assert (got[i] == "LOSE") == lose, (i, POSITIONS[i], got[i])


def test_moves_are_legal_and_winning():
    got = answers()
    for i, lose in enumerate(LOSING):
        if not lose:
            after = apply(POSITIONS[i], got[i])
            assert value(after) == 0, (POSITIONS[i], got[i])
"""
    return TaskDraft(
        instruction=instruction,
        app_files={"positions.txt": "\n".join(" ".join(map(str, p)) for p in positions) + "\n"},
        solve=solve,
        wrong_solve=wrong,
        tests=tests,
        tags=("combinatorial-games", "sprague-grundy", "nim"),
    )


FAMILY = TaskFamily(
    name="nim-strategy",
    description="decide heap-game positions and give winning moves (Nim, subtraction sets, splits)",
    generate=generate,
    requires=("python3",),
)
