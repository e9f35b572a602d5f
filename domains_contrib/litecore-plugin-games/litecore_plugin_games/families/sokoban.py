"""Solve a Sokoban level, with a provided CLI to play and inspect moves.

Levels are made by pulling boxes away from their goals (reverse play), so each
is solvable; the optimal number of pushes is computed here by a push-level
BFS. The agent can drive /app/sokoban.py to try moves; the verifier replays
the final move string on its own copy of the level.
"""

from __future__ import annotations

from collections import deque

from litecore.records import TaskDraft, TaskFamily, TaskRequest
from litecore.wording import bullets, pick


D = {"u": (-1, 0), "d": (1, 0), "l": (0, -1), "r": (0, 1)}

CLI = '''#!/usr/bin/env python3
"""Play Sokoban moves on /app/level.txt.

usage: sokoban.py show            print the level
       sokoban.py play MOVES      apply MOVES (letters u/d/l/r) and print the board, counts and status
"""
import sys

D = {"u": (-1, 0), "d": (1, 0), "l": (0, -1), "r": (0, 1)}


def load(path="/app/level.txt"):
    rows = open(path).read().rstrip("\\n").split("\\n")
    walls, goals, boxes, player = set(), set(), set(), None
    for r, row in enumerate(rows):
        for c, ch in enumerate(row):
            if ch == "#":
                walls.add((r, c))
            if ch in ".*+":
                goals.add((r, c))
            if ch in "$*":
                boxes.add((r, c))
            if ch in "@+":
                player = (r, c)
    return rows, walls, goals, boxes, player


def draw(rows, walls, goals, boxes, player):
    out = []
    for r, row in enumerate(rows):
        line = ""
        for c in range(len(row)):
            p = (r, c)
            if p in walls:
                line += "#"
            elif p in boxes:
                line += "*" if p in goals else "$"
            elif p == player:
                line += "+" if p in goals else "@"
            else:
                line += "." if p in goals else " "
        out.append(line)
    return "\\n".join(out)


def main():
    rows, walls, goals, boxes, player = load()
    if len(sys.argv) < 2 or sys.argv[1] not in ("show", "play"):
        print(__doc__)
        return 2
    moves = pushes = 0
    if sys.argv[1] == "play":
        for m in (sys.argv[2] if len(sys.argv) > 2 else "").lower():
            if m not in D:
                print(f"unknown move {m!r}")
                return 1
            dr, dc = D[m]
            nxt = (player[0] + dr, player[1] + dc)
            if nxt in walls:
                print(f"move {moves + 1} ({m}) bumps into a wall")
                break
            if nxt in boxes:
                beyond = (nxt[0] + dr, nxt[1] + dc)
                if beyond in walls or beyond in boxes:
                    print(f"move {moves + 1} ({m}) cannot push the box")
                    break
                boxes.remove(nxt)
                boxes.add(beyond)
                pushes += 1
            player = nxt
            moves += 1
    print(draw(rows, walls, goals, boxes, player))
    print(f"moves={moves} pushes={pushes}")
    print("SOLVED" if boxes == goals else "not solved")
    return 0


if __name__ == "__main__":
    sys.exit(main())
'''


def _reach(start, walls, boxes):
    seen = {start}
    q = deque([start])
    while q:
        r, c = q.popleft()
        for dr, dc in D.values():
            p = (r + dr, c + dc)
            if p not in seen and p not in walls and p not in boxes:
                seen.add(p)
                q.append(p)
    return seen


def min_pushes(walls, goals, boxes, player) -> int | None:
    """Push-level BFS; the player position is normalised to its reachable region."""
    start = (frozenset(boxes), min(_reach(player, walls, boxes)))
    dist = {start: 0}
    q = deque([(frozenset(boxes), player)])
    while q:
        bx, pl = q.popleft()
        key = (bx, min(_reach(pl, walls, bx)))
        k = dist[key]
        if bx == goals:
            return k
        region = _reach(pl, walls, bx)
        for b in bx:
            for dr, dc in D.values():
                stand, dest = (b[0] - dr, b[1] - dc), (b[0] + dr, b[1] + dc)
                if stand in region and dest not in walls and dest not in bx:
                    nb = (bx - {b}) | {dest}
                    nkey = (nb, min(_reach(b, walls, nb)))
                    if nkey not in dist:
                        dist[nkey] = k + 1
                        q.append((nb, b))
    return None


def _level(rng, h: int, w: int, n_boxes: int):
    walls = {(r, c) for r in range(h + 2) for c in range(w + 2) if r in (0, h + 1) or c in (0, w + 1)}
    inner = [(r, c) for r in range(1, h + 1) for c in range(1, w + 1)]
    for p in rng.sample(inner, len(inner) // 8):
        walls.add(p)
    floor = [p for p in inner if p not in walls]
    if len(_reach(floor[0], walls, set())) != len(floor):
        return None
    goals = set(rng.sample(floor, n_boxes))
    boxes = set(goals)
    player = pick(rng, [p for p in floor if p not in boxes])
    for _ in range(rng.randint(40, 90)):  # reverse play: walk, and sometimes pull a box
        dr, dc = D[pick(rng, "udlr")]
        nxt = (player[0] + dr, player[1] + dc)
        if nxt in walls or nxt in boxes:
            continue
        behind = (player[0] - dr, player[1] - dc)
        if behind in boxes and rng.random() < 0.7:
            boxes.remove(behind)
            boxes.add(player)
        player = nxt
    if boxes == goals or len(boxes & goals) > n_boxes // 2:
        return None
    return walls, goals, boxes, player


def _render(h, w, walls, goals, boxes, player) -> list[str]:
    rows = []
    for r in range(h + 2):
        line = ""
        for c in range(w + 2):
            p = (r, c)
            if p in walls:
                line += "#"
            elif p in boxes:
                line += "*" if p in goals else "$"
            elif p == player:
                line += "+" if p in goals else "@"
            else:
                line += "." if p in goals else " "
        rows.append(line)
    return rows


def generate(req: TaskRequest) -> TaskDraft:
    rng = req.rng
    d = req.difficulty
    h, w = {"easy": (4, 5), "medium": (5, 6), "hard": (6, 6)}[d]
    n_boxes = {"easy": 1, "medium": 2, "hard": 2}[d]
    while True:
        lvl = _level(rng, h, w, n_boxes)
        if lvl is None:
            continue
        walls, goals, boxes, player = lvl
        best = min_pushes(walls, frozenset(goals), boxes, player)
        if best is not None and best >= (2 if d == "easy" else 4):
            break
    rows = _render(h, w, walls, goals, boxes, player)
    legend = "`#` wall, `@` you, `$` box, `.` goal, `*` box on a goal, `+` you on a goal, space = floor"
    rules = [
        "you move one cell at a time (u, d, l, r); walking into a box pushes it one cell if the cell beyond is "
        "free; boxes cannot be pulled and you cannot push two boxes at once",
        "the level is solved when every box is on a goal",
        "write your solution to /app/solution.txt as one line of move letters (u, d, l, r)",
    ]
    if d == "hard":
        rules.append("the solution must use the minimum possible number of pushes (walking moves are free)")
    rng.shuffle(rules)
    intro = pick(rng, (
        "Solve the Sokoban level in /app/level.txt.",
        "/app/level.txt is a Sokoban puzzle; find a move sequence that solves it.",
        "Our warehouse robot must park every box on a goal square: the map is /app/level.txt.",
    ))
    instruction = (
        f"{intro} Legend: {legend}.\n\n{bullets(rules)}\n\n`python3 /app/sokoban.py show` prints the level and "
        "`python3 /app/sokoban.py play MOVES` replays a move string and tells you whether it solves the level.\n"
    )
    solver = """# Push-level BFS (fewest pushes); walking segments between pushes come from a plain BFS
cat > /tmp/push_bfs.py <<'PY'
from collections import deque
D = {'u': (-1, 0), 'd': (1, 0), 'l': (0, -1), 'r': (0, 1)}
rows = open('/app/level.txt').read().rstrip('\\n').split('\\n')
walls = {(r, c) for r, row in enumerate(rows) for c, ch in enumerate(row) if ch == '#'}
goals = frozenset((r, c) for r, row in enumerate(rows) for c, ch in enumerate(row) if ch in '.*+')
boxes = frozenset((r, c) for r, row in enumerate(rows) for c, ch in enumerate(row) if ch in '$*')
player = next((r, c) for r, row in enumerate(rows) for c, ch in enumerate(row) if ch in '@+')
def walk(src, dst, bx):
    prev = {src: None}
    q = deque([src])
    while q:
        p = q.popleft()
        if p == dst:
            path = ''
            while prev[p]:
                p, m = prev[p]
                path = m + path
            return path
        for m, (dr, dc) in D.items():
            n = (p[0] + dr, p[1] + dc)
            if n not in prev and n not in walls and n not in bx:
                prev[n] = (p, m)
                q.append(n)
    return None
def walk_all(p, bx):
    seen, q = {p}, deque([p])
    while q:
        a = q.popleft()
        for dr, dc in D.values():
            n = (a[0] + dr, a[1] + dc)
            if n not in seen and n not in walls and n not in bx:
                seen.add(n); q.append(n)
    return seen
start = (boxes, min(walk_all(player, boxes)))
parent = {start: None}
q = deque([(boxes, player, start)])
found = None
while q:
    bx, pl, key = q.popleft()
    if bx == goals:
        found = key
        break
    reach = walk_all(pl, bx)
    for b in sorted(bx):
        for m, (dr, dc) in D.items():
            stand, dest = (b[0] - dr, b[1] - dc), (b[0] + dr, b[1] + dc)
            if stand in reach and dest not in walls and dest not in bx:
                nb = (bx - {b}) | {dest}
                nkey = (nb, min(walk_all(b, nb)))
                if nkey not in parent:
                    parent[nkey] = (key, walk(pl, stand, bx) + m)
                    q.append((nb, b, nkey))
steps = []
while parent[found]:
    found, seg = parent[found]
    steps.append(seg)
moves = ''.join(reversed(steps))
open('/app/solution.txt', 'w').write(moves + '\\n')
print(len(moves), 'moves', len(steps), 'pushes:', moves)
PY
python3 /tmp/push_bfs.py"""
    solve = f"""# Look at the level and the CLI
cat /app/level.txt
python3 /app/sokoban.py show

{solver}

# Replay the answer with the provided CLI
python3 /app/sokoban.py play "$(cat /app/solution.txt)"
"""
    wrong = solver + """
# drop the final push: it looked redundant
python3 -c "s = open('/app/solution.txt').read().strip(); open('/app/solution.txt', 'w').write(s[:-1] + '\\n')"
"""
    tests = f"""import pathlib

ROWS = {rows!r}
OPTIMAL_PUSHES = {best!r}
HARD = {d == "hard"!r}
D = {{"u": (-1, 0), "d": (1, 0), "l": (0, -1), "r": (0, 1)}}


def replay():
    moves = pathlib.Path("/app/solution.txt").read_text().strip().lower()
    walls = {{(r, c) for r, row in enumerate(ROWS) for c, ch in enumerate(row) if ch == "#"}}
    goals = {{(r, c) for r, row in enumerate(ROWS) for c, ch in enumerate(row) if ch in ".*+"}}
    boxes = {{(r, c) for r, row in enumerate(ROWS) for c, ch in enumerate(row) if ch in "$*"}}
    p = next((r, c) for r, row in enumerate(ROWS) for c, ch in enumerate(row) if ch in "@+")
    pushes = 0
    for m in moves:
        assert m in D, f"bad move {{m!r}}"
        n = (p[0] + D[m][0], p[1] + D[m][1])
        assert n not in walls, "walked into a wall"
        if n in boxes:
            beyond = (n[0] + D[m][0], n[1] + D[m][1])
            assert beyond not in walls and beyond not in boxes, "blocked push"
            boxes.remove(n)
            boxes.add(beyond)
            pushes += 1
        p = n
    return boxes == goals, pushes


def test_solution_file_is_moves():
    text = pathlib.Path("/app/solution.txt").read_text().strip().lower()
    assert text and set(text) <= set("udlr")


def test_level_solved():
    assert replay()[0]


def test_push_count():
    solved, pushes = replay()
    assert solved
    if HARD:
        assert pushes == OPTIMAL_PUSHES, (pushes, OPTIMAL_PUSHES)
    else:
        assert pushes >= OPTIMAL_PUSHES
"""
    return TaskDraft(
        instruction=instruction,
        app_files={"level.txt": "\n".join(rows) + "\n", "sokoban.py": CLI},
        executables=("sokoban.py",),
        solve=solve,
        wrong_solve=wrong,
        tests=tests,
        tags=("sokoban", "bfs", "puzzle", "cli-game"),
    )


FAMILY = TaskFamily(
    name="sokoban",
    description="solve a Sokoban level (optionally with minimum pushes), with a CLI to play moves",
    generate=generate,
    requires=("python3",),
)
