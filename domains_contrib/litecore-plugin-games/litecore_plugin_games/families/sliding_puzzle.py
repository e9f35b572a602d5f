"""Solve sliding-tile puzzles: any solution, then provably optimal ones, then mixed sizes with unsolvables.

Puzzles are scrambled from the goal by random walks (so solvable ones really
are), optimal lengths are computed here with A*, and unsolvable ones are made
by swapping two tiles (a parity flip). The verifier replays each move string.
"""

from __future__ import annotations

import heapq

from litecore.records import TaskDraft, TaskFamily, TaskRequest
from litecore.wording import bullets, pick


DELTA = {"U": (-1, 0), "D": (1, 0), "L": (0, -1), "R": (0, 1)}
OPPOSITE = {"U": "D", "D": "U", "L": "R", "R": "L"}


def goal(n: int) -> tuple[int, ...]:
    return tuple(list(range(1, n * n)) + [0])


def step(state: tuple[int, ...], n: int, m: str) -> tuple[int, ...] | None:
    i = state.index(0)
    r, c = divmod(i, n)
    nr, nc = r + DELTA[m][0], c + DELTA[m][1]
    if not (0 <= nr < n and 0 <= nc < n):
        return None
    j = nr * n + nc
    s = list(state)
    s[i], s[j] = s[j], s[i]
    return tuple(s)


def scramble(rng, n: int, length: int) -> tuple[int, ...]:
    s, last = goal(n), ""
    done = 0
    while done < length:
        m = pick(rng, "UDLR")
        if m == OPPOSITE.get(last):
            continue
        t = step(s, n, m)
        if t is None:
            continue
        s, last, done = t, m, done + 1
    return s


def optimal_length(start: tuple[int, ...], n: int) -> int:
    """A* with Manhattan distance (admissible, consistent)."""
    target = goal(n)
    where = {v: divmod(i, n) for i, v in enumerate(target)}

    def h(s):
        return sum(abs(r - where[v][0]) + abs(c - where[v][1])
                   for i, v in enumerate(s) if v for r, c in [divmod(i, n)])

    pq = [(h(start), 0, start)]
    seen = {start: 0}
    while pq:
        f, g, s = heapq.heappop(pq)
        if s == target:
            return g
        if seen.get(s, 1 << 30) < g:
            continue
        for m in "UDLR":
            t = step(s, n, m)
            if t is not None and g + 1 < seen.get(t, 1 << 30):
                seen[t] = g + 1
                heapq.heappush(pq, (g + 1 + h(t), g + 1, t))
    raise ValueError("unsolvable")


SOLVER = r"""cat > /tmp/slide.py <<'PY'
import heapq, math
D = {'U': (-1, 0), 'D': (1, 0), 'L': (0, -1), 'R': (0, 1)}
def solvable(s, n):
    tiles = [v for v in s if v]
    inv = sum(1 for i in range(len(tiles)) for j in range(i + 1, len(tiles)) if tiles[i] > tiles[j])
    if n % 2:
        return inv % 2 == 0
    return (inv + n - s.index(0) // n) % 2 == 1
def astar(s, n):
    goal = tuple(list(range(1, n * n)) + [0])
    pos = {v: divmod(i, n) for i, v in enumerate(goal)}
    h = lambda t: sum(abs(i // n - pos[v][0]) + abs(i % n - pos[v][1]) for i, v in enumerate(t) if v)
    pq, best = [(h(s), 0, s, '')], {s: 0}
    while pq:
        f, g, t, path = heapq.heappop(pq)
        if t == goal:
            return path
        if best[t] < g:
            continue
        z = t.index(0)
        r, c = divmod(z, n)
        for m, (dr, dc) in D.items():
            nr, nc = r + dr, c + dc
            if 0 <= nr < n and 0 <= nc < n:
                u = list(t); j = nr * n + nc; u[z], u[j] = u[j], u[z]; u = tuple(u)
                if g + 1 < best.get(u, 1 << 30):
                    best[u] = g + 1
                    heapq.heappush(pq, (g + 1 + h(u), g + 1, u, path + m))
PY"""


def generate(req: TaskRequest) -> TaskDraft:
    rng = req.rng
    d = req.difficulty
    puzzles: list[tuple[int, tuple[int, ...], int | None]] = []  # (n, state, optimal or None if unsolvable)
    if d == "easy":
        s = scramble(rng, 3, rng.randint(18, 30))
        puzzles.append((3, s, optimal_length(s, 3)))
    elif d == "medium":
        for _ in range(3):
            s = scramble(rng, 3, rng.randint(14, 24))
            puzzles.append((3, s, optimal_length(s, 3)))
    else:
        sizes = [3, 3, 4, 4, pick(rng, (3, 4))]
        bad = set(rng.sample(range(len(sizes)), 2))
        for i, n in enumerate(sizes):
            s = scramble(rng, n, rng.randint(12, 22) if n == 3 else rng.randint(10, 16))
            if i in bad:
                tiles = [k for k, v in enumerate(s) if v]
                a, b = rng.sample(tiles, 2)
                t = list(s)
                t[a], t[b] = t[b], t[a]
                puzzles.append((n, tuple(t), None))
            else:
                puzzles.append((n, s, optimal_length(s, n) if n == 3 else None))
    for n, s, _ in puzzles:
        assert s != goal(n)
    solvable = [not (d == "hard" and i in bad) for i in range(len(puzzles))] if d == "hard" else [True] * len(
        puzzles)
    limit4 = 45

    def grid_text(n, s):
        return "\n".join(" ".join(f"{v:2d}" if v else " _" for v in s[r * n:(r + 1) * n]) for r in range(n))

    if d == "easy":
        app = {"puzzle.txt": grid_text(3, puzzles[0][1]) + "\n"}
        src = "/app/puzzle.txt shows an 8-puzzle (3x3, `_` is the empty slot)."
    else:
        app = {"puzzles.txt": "\n".join(" ".join(str(v) for v in s) for _, s, _ in puzzles) + "\n"}
        src = ("/app/puzzles.txt lists sliding puzzles, one per line: the tiles row by row, `0` for the empty "
               "slot" + (" (9 numbers for a 3x3 puzzle, 16 for a 4x4)." if d == "hard" else " (3x3 puzzles)."))
    rules = [
        "the goal has the tiles in increasing order row by row with the empty slot in the bottom-right corner",
        "a move names the direction the EMPTY SLOT moves: `U` swaps it with the tile above it, `D` below, `L` left, "
        "`R` right",
    ]
    if d == "easy":
        rules.append("write the moves as one line of letters to /app/moves.txt (at most 200 moves)")
    else:
        rules.append("write /app/moves.txt with one line of move letters per puzzle, in input order")
    if d == "medium":
        rules.append("every solution must be optimal (no shorter solution exists)")
    if d == "hard":
        rules += [
            "3x3 solutions must be optimal; 4x4 solutions may use at most "
            f"{limit4} moves",
            "some puzzles cannot be solved at all: write `UNSOLVABLE` on their line",
        ]
    rng.shuffle(rules)
    intro = pick(rng, ("Solve the sliding-tile puzzles we were given.", "Find move sequences for sliding puzzles.",
                       "A puzzle robot needs move lists for its sliding-tile boards."))
    instruction = f"{intro} {src}\n\nRules:\n{bullets(rules)}\n"

    if d == "easy":
        run = """# Parse the grid and search with A* (Manhattan distance)
python3 - <<'PY'
import sys
sys.path.insert(0, '/tmp')
from slide import astar
cells = open('/app/puzzle.txt').read().split()
s = tuple(0 if c == '_' else int(c) for c in cells)
path = astar(s, 3)
open('/app/moves.txt', 'w').write(path + '\\n')
print(len(path), path)
PY"""
    else:
        run = """# Decide solvability by parity, then A* (optimal) for each puzzle
python3 - <<'PY'
import math, sys
sys.path.insert(0, '/tmp')
from slide import astar, solvable
out = []
for line in open('/app/puzzles.txt'):
    if not line.strip():
        continue
    s = tuple(int(v) for v in line.split())
    n = math.isqrt(len(s))
    out.append(astar(s, n) if solvable(s, n) else 'UNSOLVABLE')
    print(n, out[-1])
open('/app/moves.txt', 'w').write('\\n'.join(out) + '\\n')
PY"""
    look = "cat /app/puzzle.txt" if d == "easy" else "cat /app/puzzles.txt"
    solve = f"""# Look at the puzzle input
{look}

# Solver helpers: parity test and A* search over board states
{SOLVER}

{run}

# Show the answer
cat /app/moves.txt
"""
    wrong = SOLVER.replace("for m, (dr, dc) in D.items():", "for m, (dr, dc) in [(k, (-a, -b)) for k, (a, b) in D.items()]:") + "\n" + run
    expected = [(n, list(s), opt, ok) for (n, s, opt), ok in zip(puzzles, solvable)]
    tests = f"""import pathlib

PUZZLES = {expected!r}
EASY = {d == "easy"!r}
LIMIT4 = {limit4}
D = {{"U": (-1, 0), "D": (1, 0), "L": (0, -1), "R": (0, 1)}}


def answers():
    lines = [l.strip() for l in pathlib.Path("/app/moves.txt").read_text().splitlines()]
    return [l for l in lines if l] if not EASY else ["".join(lines)]


def replay(n, state, moves):
    s = list(state)
    for m in moves:
        assert m in D, f"bad move {{m!r}}"
        z = s.index(0)
        r, c = divmod(z, n)
        nr, nc = r + D[m][0], c + D[m][1]
        assert 0 <= nr < n and 0 <= nc < n, "moved off the board"
        j = nr * n + nc
        s[z], s[j] = s[j], s[z]
    return s


def test_one_line_per_puzzle():
    assert len(answers()) == len(PUZZLES)


def test_solutions_reach_the_goal():
    got = answers()
    for (n, state, _, ok), moves in zip(PUZZLES, got):
        if ok:
            assert replay(n, state, moves) == list(range(1, n * n)) + [0], moves


def test_move_counts():
    got = answers()
    for (n, state, opt, ok), moves in zip(PUZZLES, got):
        if not ok:
            continue
        if EASY:
            assert len(moves) <= 200
        elif opt is not None:
            assert len(moves) == opt, (len(moves), opt)
        else:
            assert len(moves) <= LIMIT4
"""
    if d == "hard":
        tests += """

def test_unsolvable_reported():
    got = answers()
    for (n, state, opt, ok), moves in zip(PUZZLES, got):
        assert (moves == "UNSOLVABLE") == (not ok)
"""
    return TaskDraft(
        instruction=instruction,
        app_files=app,
        solve=solve,
        wrong_solve=wrong,
        tests=tests,
        tags=("sliding-puzzle", "a-star", "search"),
    )


FAMILY = TaskFamily(
    name="sliding-puzzle",
    description="solve 8/15 sliding puzzles: any solution, optimal solutions, unsolvable detection",
    generate=generate,
    requires=("python3",),
)
