"""Solve sudoku puzzle files: one pretty-printed grid, a batch file, then mixed sizes with bad puzzles.

Puzzles are cut from a randomly permuted valid grid, so each has at least one
solution; the verifier accepts any valid completion that keeps the givens.
Hard batches mix 4x4, 6x6 (2x3 boxes) and 9x9 grids and include puzzles whose
givens already break a rule, which must be reported instead of "solved".
"""

from __future__ import annotations

from litecore.records import TaskDraft, TaskFamily, TaskRequest
from litecore.wording import bullets, pick


BOXES = {4: (2, 2), 6: (2, 3), 9: (3, 3)}  # size -> (box rows, box cols)


def _grid(rng, n: int) -> list[list[int]]:
    br, bc = BOXES[n]
    base = [[(bc * (r % br) + r // br + c) % n + 1 for c in range(n)] for r in range(n)]
    digits = list(range(1, n + 1))
    rng.shuffle(digits)
    bands = rng.sample(range(n // br), n // br)
    rows = [b * br + r for b in bands for r in rng.sample(range(br), br)]
    stacks = rng.sample(range(n // bc), n // bc)
    cols = [s * bc + c for s in stacks for c in rng.sample(range(bc), bc)]
    return [[digits[base[r][c] - 1] for c in cols] for r in rows]


def _valid_givens(p: list[list[int]], n: int) -> bool:
    br, bc = BOXES[n]
    units = [[(r, c) for c in range(n)] for r in range(n)] + [[(r, c) for r in range(n)] for c in range(n)]
    units += [[(r0 + r, c0 + c) for r in range(br) for c in range(bc)]
              for r0 in range(0, n, br) for c0 in range(0, n, bc)]
    for u in units:
        vals = [p[r][c] for r, c in u if p[r][c]]
        if len(vals) != len(set(vals)):
            return False
    return True


def _puzzle(rng, n: int, blanks: float, broken: bool = False) -> list[list[int]]:
    sol = _grid(rng, n)
    p = [row[:] for row in sol]
    cells = [(r, c) for r in range(n) for c in range(n)]
    for r, c in rng.sample(cells, int(blanks * n * n)):
        p[r][c] = 0
    if broken:  # copy a given into an empty cell of the same row
        while _valid_givens(p, n):
            r = rng.randrange(n)
            givens = [c for c in range(n) if p[r][c]]
            empty = [c for c in range(n) if not p[r][c]]
            if givens and empty:
                p[r][pick(rng, empty)] = p[r][pick(rng, givens)]
    return p


def _pretty(p: list[list[int]]) -> str:
    lines = []
    for r, row in enumerate(p):
        if r and r % 3 == 0:
            lines.append("------+-------+------")
        cells = ["." if v == 0 else str(v) for v in row]
        lines.append(" | ".join(" ".join(cells[i:i + 3]) for i in range(0, 9, 3)))
    return "\n".join(lines) + "\n"


SOLVER = r"""cat > /tmp/sudoku.py <<'PY'
import sys
BOX = {4: (2, 2), 6: (2, 3), 9: (3, 3)}
def units(n):
    br, bc = BOX[n]
    us = [[(r, c) for c in range(n)] for r in range(n)] + [[(r, c) for r in range(n)] for c in range(n)]
    us += [[(r0 + r, c0 + c) for r in range(br) for c in range(bc)] for r0 in range(0, n, br) for c0 in range(0, n, bc)]
    return us
def givens_ok(g, n):
    for u in units(n):
        v = [g[r][c] for r, c in u if g[r][c]]
        if len(v) != len(set(v)):
            return False
    return True
def solve(g, n):
    br, bc = BOX[n]
    def cands(r, c):
        used = set(g[r]) | {g[i][c] for i in range(n)}
        r0, c0 = r - r % br, c - c % bc
        used |= {g[r0 + i][c0 + j] for i in range(br) for j in range(bc)}
        return [d for d in range(1, n + 1) if d not in used]
    empty = [(r, c) for r in range(n) for c in range(n) if not g[r][c]]
    if not empty:
        return True
    r, c = min(empty, key=lambda rc: len(cands(*rc)))
    for d in cands(r, c):
        g[r][c] = d
        if solve(g, n):
            return True
    g[r][c] = 0
    return False
def parse(text, n):
    cells = [0 if ch in '0.' else int(ch) for ch in text if ch in '0123456789.']
    return [cells[i * n:(i + 1) * n] for i in range(n)]
PY"""


def generate(req: TaskRequest) -> TaskDraft:
    rng = req.rng
    d = req.difficulty
    if d == "easy":
        puzzles = [(9, _puzzle(rng, 9, rng.uniform(0.5, 0.6)), True)]
    elif d == "medium":
        puzzles = [(9, _puzzle(rng, 9, rng.uniform(0.55, 0.65)), True) for _ in range(rng.randint(4, 6))]
    else:
        puzzles = []
        sizes = [9, 9, 6, 6, 4] + [pick(rng, (4, 6, 9))]
        rng.shuffle(sizes)
        bad = set(rng.sample(range(len(sizes)), 2))
        for i, n in enumerate(sizes):
            puzzles.append((n, _puzzle(rng, n, rng.uniform(0.45, 0.6), broken=i in bad), i not in bad))
    if d == "easy":
        app = {"puzzle.txt": _pretty(puzzles[0][1])}
        out_path = "/app/solution.txt"
        fmt = ("Write the completed grid to /app/solution.txt as 9 lines of 9 digits (no spaces or separators).")
        intro = pick(rng, ("/app/puzzle.txt holds a sudoku (blank cells are `.`). Solve it.",
                           "Solve the classic 9x9 sudoku printed in /app/puzzle.txt (`.` marks an empty cell).",
                           "There is a sudoku in /app/puzzle.txt with `.` for the empty cells; fill it in."))
        rules = ["every row, column and 3x3 box must contain the digits 1-9 exactly once",
                 "the given digits must stay where they are"]
    else:
        lines = []
        dot_line = rng.randrange(len(puzzles))
        for i, (n, p, _) in enumerate(puzzles):
            blank = "." if (i == dot_line or rng.random() < 0.5) else "0"
            body = "".join(blank if v == 0 else str(v) for row in p for v in row)
            lines.append(f"{n}:{body}" if d == "hard" else body)
        app = {"puzzles.txt": "\n".join(lines) + "\n"}
        out_path = "/app/solutions.txt"
        fmt = ("Write /app/solutions.txt with one line per puzzle, in the same order, each the completed grid "
               "read row by row as one string of digits" + (" prefixed with its size and a colon like the input"
                                                             if d == "hard" else "") + ".")
        intro = pick(rng, (
            f"/app/puzzles.txt contains {len(puzzles)} sudoku puzzles, one per line, read row by row.",
            f"Solve the batch of {len(puzzles)} sudoku puzzles in /app/puzzles.txt (one puzzle per line, row by "
            "row).",
            f"Our puzzle generator wrote {len(puzzles)} sudokus to /app/puzzles.txt, one per line in row-major "
            "order. Solve them all.",
        ))
        rules = ["empty cells are written as `0` or `.` (both occur)",
                 "the given digits must stay where they are",
                 "every row, column and box contains each digit exactly once"]
        if d == "hard":
            rules += [
                "each line starts with the grid size N and a colon (`4:`, `6:` or `9:`), then N*N cells; digits "
                "run 1..N",
                "box shapes: 4x4 grids have 2x2 boxes, 6x6 grids have boxes 2 rows high and 3 columns wide, 9x9 "
                "grids have 3x3 boxes",
                "some puzzles are corrupt: their givens already repeat a digit within a row, column or box; for "
                "those write the line `INVALID` instead of a solution",
            ]
    rng.shuffle(rules)
    instruction = f"{intro}\n\nRules:\n{bullets(rules)}\n\n{fmt}\n"

    if d == "easy":
        run = """# Parse the pretty grid and solve it with backtracking (most constrained cell first)
python3 - <<'PY'
import sys
sys.path.insert(0, '/tmp')
from sudoku import parse, solve
g = parse(open('/app/puzzle.txt').read(), 9)
assert solve(g, 9)
open('/app/solution.txt', 'w').write(''.join(''.join(map(str, row)) + '\\n' for row in g))
PY"""
    else:
        run = f"""# Solve each line; {"check the givens first and report corrupt puzzles" if d == "hard" else "keep the input order"}
python3 - <<'PY'
import sys
sys.path.insert(0, '/tmp')
from sudoku import givens_ok, parse, solve
out = []
for line in open('/app/puzzles.txt').read().split():
    n, body = (int(line.split(':')[0]), line.split(':')[1]) if ':' in line else (9, line)
    g = parse(body, n)
    if not givens_ok(g, n) or not solve(g, n):
        out.append('INVALID')
        continue
    cells = ''.join(str(v) for row in g for v in row)
    out.append(f'{{n}}:{{cells}}' if ':' in line else cells)
open('/app/solutions.txt', 'w').write('\\n'.join(out) + '\\n')
print(out)
PY"""
    look = "cat /app/puzzle.txt" if d == "easy" else "cat /app/puzzles.txt\nwc -l /app/puzzles.txt"
    solve_sh = f"""# Look at the puzzle file format
{look}

# A reusable solver: units per grid size, validity check of the givens, MRV backtracking
{SOLVER}

{run}

# Show the result
cat {out_path}
"""
    if d == "easy":
        wrong = """# fill every row with its missing digits in increasing order
python3 - <<'PY'
cells = [0 if ch == '.' else int(ch) for ch in open('/app/puzzle.txt').read() if ch in '.123456789']
rows = [cells[i * 9:(i + 1) * 9] for i in range(9)]
out = []
for row in rows:
    missing = iter(sorted(set(range(1, 10)) - set(row)))
    out.append(''.join(str(v or next(missing)) for v in row))
open('/app/solution.txt', 'w').write('\\n'.join(out) + '\\n')
PY
"""
    elif d == "medium":
        wrong = SOLVER.replace("ch in '0.'", "ch == '0'").replace("'0123456789.'", "'0123456789'") + "\n" + run
    else:
        wrong = SOLVER + "\n" + run.replace("out.append(f'{n}:{cells}' if ':' in line else cells)", "out.append(cells)")
    assert wrong != SOLVER + "\n" + run
    expect = [(n, [row[:] for row in p], ok) for n, p, ok in puzzles]
    tests = f"""import pathlib

PUZZLES = {expect!r}
BOX = {{4: (2, 2), 6: (2, 3), 9: (3, 3)}}
EASY = {d == "easy"!r}
HARD = {d == "hard"!r}


def answers():
    path = "/app/solution.txt" if EASY else "/app/solutions.txt"
    lines = [l.strip() for l in pathlib.Path(path).read_text().splitlines() if l.strip()]
    if EASY:
        return ["".join(lines)]
    return lines


def check(n, givens, text):
    if HARD:
        prefix, _, text = text.partition(":")
        assert prefix == str(n), "size prefix"
    assert len(text) == n * n and all(ch.isdigit() for ch in text), "shape"
    g = [[int(text[r * n + c]) for c in range(n)] for r in range(n)]
    for r in range(n):
        for c in range(n):
            if givens[r][c]:
                assert g[r][c] == givens[r][c], f"given moved at {{(r, c)}}"
    br, bc = BOX[n]
    units = [[(r, c) for c in range(n)] for r in range(n)] + [[(r, c) for r in range(n)] for c in range(n)]
    units += [[(r0 + r, c0 + c) for r in range(br) for c in range(bc)] for r0 in range(0, n, br) for c0 in range(0, n, bc)]
    for u in units:
        assert sorted(g[r][c] for r, c in u) == list(range(1, n + 1)), f"unit {{u[:2]}}..."


def test_one_answer_per_puzzle():
    assert len(answers()) == len(PUZZLES)


def test_solvable_puzzles_are_solved():
    got = answers()
    for i, (n, givens, ok) in enumerate(PUZZLES):
        if ok:
            check(n, givens, got[i])
"""
    if d == "hard":
        tests += """

def test_corrupt_puzzles_reported():
    got = answers()
    for i, (n, givens, ok) in enumerate(PUZZLES):
        assert (got[i] == "INVALID") == (not ok), i
"""
    return TaskDraft(
        instruction=instruction,
        app_files=app,
        solve=solve_sh,
        wrong_solve=wrong,
        tests=tests,
        tags=("sudoku", "backtracking", "constraint-satisfaction"),
    )


FAMILY = TaskFamily(
    name="sudoku",
    description="solve sudoku files: pretty grid, batches, mixed sizes with corrupt puzzles",
    generate=generate,
    requires=("python3",),
)
