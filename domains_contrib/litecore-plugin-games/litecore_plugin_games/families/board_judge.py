"""Implement a game-rule engine: judge m,n,k-game boards (tic-tac-toe up to gravity connect-k).

The agent writes /app/judge.py; the verifier runs it on hidden boards whose
verdicts were computed here. Easy is tic-tac-toe, medium generalises the board
and line length and adds impossible piece counts, hard adds gravity (pieces
stack from the bottom) and the full set of impossible positions.
"""

from __future__ import annotations

from litecore.records import TaskDraft, TaskFamily, TaskRequest
from litecore.wording import bullets, pick


DIRS = ((0, 1), (1, 0), (1, 1), (1, -1))


def _has_line(b: list[str], p: str, k: int, dirs=DIRS) -> bool:
    rows, cols = len(b), len(b[0])
    for r in range(rows):
        for c in range(cols):
            for dr, dc in dirs:
                if all(0 <= r + i * dr < rows and 0 <= c + i * dc < cols and b[r + i * dr][c + i * dc] == p
                       for i in range(k)):
                    return True
    return False


def _line_through(b, r: int, c: int, k: int) -> bool:
    """Does the piece just played at (r, c) complete k in a row? (cheaper than a full scan)"""
    p, rows, cols = b[r][c], len(b), len(b[0])
    for dr, dc in DIRS:
        run = 1
        for sign in (1, -1):
            i = 1
            while 0 <= r + sign * i * dr < rows and 0 <= c + sign * i * dc < cols and \
                    b[r + sign * i * dr][c + sign * i * dc] == p:
                run += 1
                i += 1
        if run >= k:
            return True
    return False


def judge(b: list[str], k: int, gravity: bool) -> str:
    nx = sum(row.count("X") for row in b)
    no = sum(row.count("O") for row in b)
    if nx - no not in (0, 1):
        return "invalid"
    if gravity:
        for r in range(len(b) - 1):
            for c in range(len(b[0])):
                if b[r][c] != "." and b[r + 1][c] == ".":
                    return "invalid"
    wx, wo = _has_line(b, "X", k), _has_line(b, "O", k)
    if wx and wo:
        return "invalid"
    if wx:
        return "X" if nx == no + 1 else "invalid"
    if wo:
        return "O" if nx == no else "invalid"
    return "draw" if all("." not in row for row in b) else "ongoing"


def _play(rng, rows: int, cols: int, k: int, gravity: bool, stop: float) -> list[str]:
    b = [["."] * cols for _ in range(rows)]
    player = "X"
    while True:
        if gravity:
            free = [(max(r for r in range(rows) if b[r][c] == "."), c) for c in range(cols) if b[0][c] == "."]
        else:
            free = [(r, c) for r in range(rows) for c in range(cols) if b[r][c] == "."]
        if not free:
            break
        r, c = pick(rng, free)
        b[r][c] = player
        if _line_through(b, r, c, k) or rng.random() < stop:
            break
        player = "O" if player == "X" else "X"
    return ["".join(x) for x in b]


def _anti_diagonal_win(rng, rows: int, cols: int, k: int, gravity: bool) -> list[str] | None:
    """X wins only by an anti-diagonal line; O has one piece fewer and no line."""
    for _ in range(200):
        b = [["."] * cols for _ in range(rows)]
        r0 = rng.randrange(k - 1, rows) if not gravity else rows - 1
        c0 = rng.randrange(0, cols - k + 1)
        cells = [(r0 - i, c0 + i) for i in range(k)]
        if any(r < 0 for r, _ in cells):
            continue
        for r, c in cells:
            b[r][c] = "X"
        if gravity:  # support every X from below with O pieces first
            for r, c in cells:
                for r2 in range(r + 1, rows):
                    if b[r2][c] == ".":
                        b[r2][c] = "O"
        no = sum(row.count("O") for row in b)
        free = [(r, c) for r in range(rows) for c in range(cols) if b[r][c] == "."]
        while no < k - 1 and free:
            if gravity:
                free = [(max(r for r in range(rows) if b[r][c] == "."), c) for c in range(cols) if b[0][c] == "."]
            r, c = pick(rng, free)
            b[r][c] = "O"
            no += 1
            free = [(r, c) for r in range(rows) for c in range(cols) if b[r][c] == "."]
        nx = sum(row.count("X") for row in b)
        while nx < no + 1 and free:
            if gravity:
                free = [(max(r for r in range(rows) if b[r][c] == "."), c) for c in range(cols) if b[0][c] == "."]
            r, c = pick(rng, free)
            b[r][c] = "X"
            nx += 1
            free = [(r, c) for r in range(rows) for c in range(cols) if b[r][c] == "."]
        cur = ["".join(x) for x in b]
        if (judge(cur, k, gravity) == "X" and not _has_line(cur, "X", k, DIRS[:3])):
            return cur
    return None


def _fmt(b: list[str], k: int, gravity: bool, hard: bool) -> str:
    head = f"{len(b)} {len(b[0])} {k}" + (f" {'gravity' if gravity else 'free'}" if hard else "")
    return head + "\n" + "\n".join(b) + "\n"


def generate(req: TaskRequest) -> TaskDraft:
    rng = req.rng
    d = req.difficulty
    cases: list[tuple[str, str]] = []
    n_cases = {"easy": 24, "medium": 30, "hard": 36}[d]
    while len(cases) < n_cases:
        if d == "easy":
            rows = cols = k = 3
            gravity = False
        else:
            rows, cols = rng.randint(3, 7), rng.randint(3, 7)
            k = rng.randint(3, min(5, max(rows, cols)))
            gravity = d == "hard" and rng.random() < 0.5
        b = _play(rng, rows, cols, k, gravity, pick(rng, (0.0, 0.05, 0.15)))
        if d != "easy" and rng.random() < 0.3:  # damage: extra piece, swapped turn, floating piece
            b = [list(row) for row in b]
            r, c = rng.randrange(rows), rng.randrange(cols)
            b[r][c] = pick(rng, ("X", "O", "."))
            b = ["".join(row) for row in b]
        cases.append((_fmt(b, k, gravity, d == "hard"), judge(b, k, gravity)))
    specials: list[tuple[str, str]] = []
    while len(specials) < 2:  # wins only along an anti-diagonal: a judge that skips it must fail
        rows, cols, k = (3, 3, 3) if d == "easy" else (rng.randint(4, 6), rng.randint(4, 6), rng.randint(3, 4))
        b = _anti_diagonal_win(rng, rows, cols, k, d == "hard")
        if b:
            specials.append((_fmt(b, k, d == "hard", d == "hard"), "X"))
    rng.shuffle(cases)
    examples = cases[:4]
    hidden = specials + cases[4:]
    rng.shuffle(hidden)

    verdicts = "`X`, `O`, `draw`, `ongoing`" + (" or `invalid`" if d != "easy" else "")
    rules = [
        "X always moves first and the players alternate",
        "a player wins with k of their pieces in a row: horizontally, vertically or diagonally (both diagonal "
        "directions)",
        "`draw` means the board is full and nobody has won; `ongoing` means nobody has won and cells are free",
    ]
    if d != "easy":
        rules.append("a position that cannot arise in a real game is `invalid`: wrong piece counts for the turn "
                     "order, both players having a line, or a winner who was not the last to move (play stops "
                     "at the first win)")
    if d == "hard":
        rules.append("in `gravity` games pieces drop to the lowest free cell of a column (the last board line is "
                     "the bottom), so a piece above an empty cell is `invalid`; `free` games have no gravity")
    rng.shuffle(rules)
    fmt = ("a first line `ROWS COLS K" + (" MODE" if d == "hard" else "") + "`, then ROWS lines of COLS "
           "characters: `X`, `O` or `.` (empty)") if d != "easy" else (
        "a first line `3 3 3`, then 3 lines of 3 characters: `X`, `O` or `.` (empty)")
    intro = pick(rng, (
        "Write a referee for our board-game server.",
        "We need a position judge for k-in-a-row games." if d != "easy" else "We need a tic-tac-toe position judge.",
        "Implement the rule engine that scores finished and unfinished board positions.",
    ))
    instruction = (
        f"{intro} Create /app/judge.py: `python3 /app/judge.py BOARD_FILE` reads a board file and prints "
        f"exactly one verdict: {verdicts}.\n\nBoard file: {fmt}.\n\nRules:\n{bullets(rules)}\n\n"
        "Example boards with their expected verdicts are in /app/examples/ (`*.txt` and `*.expected`); the "
        "judge will be run on many other boards.\n"
    )
    app = {}
    for i, (text, verdict) in enumerate(examples):
        app[f"examples/board{i + 1}.txt"] = text
        app[f"examples/board{i + 1}.expected"] = verdict + "\n"

    judge_py = """cat > /app/judge.py <<'PY'
\"\"\"Judge a k-in-a-row position: X, O, draw, ongoing or invalid.\"\"\"
import sys
def line(b, p, k):
    R, C = len(b), len(b[0])
    for r in range(R):
        for c in range(C):
            for dr, dc in ((0, 1), (1, 0), (1, 1), (1, -1)):
                if all(0 <= r + i * dr < R and 0 <= c + i * dc < C and b[r + i * dr][c + i * dc] == p for i in range(k)):
                    return True
    return False
def verdict(path):
    lines = open(path).read().split('\\n')
    head = lines[0].split()
    R, C, K = int(head[0]), int(head[1]), int(head[2])
    gravity = len(head) > 3 and head[3] == 'gravity'
    b = [l.strip() for l in lines[1:1 + R]]
    nx = sum(r.count('X') for r in b)
    no = sum(r.count('O') for r in b)
    if nx - no not in (0, 1):
        return 'invalid'
    if gravity and any(b[r][c] != '.' and b[r + 1][c] == '.' for r in range(R - 1) for c in range(C)):
        return 'invalid'
    wx, wo = line(b, 'X', K), line(b, 'O', K)
    if wx and wo:
        return 'invalid'
    if wx:
        return 'X' if nx == no + 1 else 'invalid'
    if wo:
        return 'O' if nx == no else 'invalid'
    return 'draw' if all('.' not in r for r in b) else 'ongoing'
print(verdict(sys.argv[1]))
PY"""
    solve = f"""# Look at the example boards and their verdicts
ls /app/examples
for f in /app/examples/*.txt; do echo "== $f -> $(cat ${{f%.txt}}.expected)"; cat "$f"; done

# Write the judge: counts and turn order, gravity support, lines in all four directions
{judge_py}

# Check the judge against every example
for f in /app/examples/*.txt; do got=$(python3 /app/judge.py "$f"); want=$(cat ${{f%.txt}}.expected); echo "$f $got $want"; done
"""
    wrong = judge_py.replace("((0, 1), (1, 0), (1, 1), (1, -1))", "((0, 1), (1, 0), (1, 1))")
    tests = f"""import json
import pathlib
import subprocess
import tempfile

CASES = {hidden!r}
# One interpreter compiles /app/judge.py once and forks a child per board; each child runs it as
# `python3 /app/judge.py BOARD` would (argv, sys.path[0], a fresh __main__, stdout on fd 1) without
# paying an interpreter start per board.
RUNNER = '''
import json, os, signal, sys, traceback, types
JUDGE = "/app/judge.py"
try:
    with open(JUDGE, "rb") as f:
        code = compile(f.read(), JUDGE, "exec")
except BaseException:
    traceback.print_exc()
    code = None
got = []
for path in sys.argv[1:]:
    if code is None:
        got.append("")
        continue
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        os.dup2(w, 1)
        os.close(w)
        signal.alarm(30)
        main = types.ModuleType("__main__")
        main.__file__, main.__cached__ = JUDGE, None
        sys.modules["__main__"] = main
        sys.argv, sys.path[0], status = [JUDGE, path], "/app", 0
        try:
            exec(code, main.__dict__)
        except SystemExit as e:
            status = e.code if isinstance(e.code, int) else int(e.code is not None)
        except BaseException:
            traceback.print_exc()
            status = 1
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass
        os._exit(status & 255)
    os.close(w)
    with os.fdopen(r, "rb") as f:
        got.append(f.read().decode(errors="replace").strip())
    os.waitpid(pid, 0)
print(json.dumps(got))
'''


def run_all():
    tmp = pathlib.Path(tempfile.mkdtemp())
    files = []
    for i, (text, _) in enumerate(CASES):
        f = tmp / f"b{{i}}.txt"
        f.write_text(text)
        files.append(str(f))
    p = subprocess.run(["python3", "-c", RUNNER, *files], capture_output=True, text=True, timeout=30 * len(files))
    assert p.returncode == 0, p.stderr[-1000:]
    return json.loads(p.stdout)


RESULTS = None


def results():
    global RESULTS
    if RESULTS is None:
        RESULTS = run_all()
    return RESULTS


def check(kind):
    bad = [(CASES[i][0], want, got) for i, ((_, want), got) in enumerate(zip(CASES, results())) if kind(want)
           and got != want]
    assert not bad, bad[:3]


def test_judge_exists():
    assert pathlib.Path("/app/judge.py").is_file()


def test_wins():
    check(lambda v: v in ("X", "O"))


def test_draws_and_ongoing():
    check(lambda v: v in ("draw", "ongoing"))


def test_invalid_positions():
    check(lambda v: v == "invalid")
"""
    return TaskDraft(
        instruction=instruction,
        app_files=app,
        solve=solve,
        wrong_solve=wrong,
        tests=tests,
        tags=("rule-engine", "tic-tac-toe", "connect-four" if d == "hard" else "k-in-a-row"),
    )


FAMILY = TaskFamily(
    name="board-judge",
    description="write a referee for k-in-a-row games (tic-tac-toe to gravity connect-k, invalid positions)",
    generate=generate,
    requires=("python3",),
)
