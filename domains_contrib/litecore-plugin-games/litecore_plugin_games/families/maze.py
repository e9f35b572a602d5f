"""Find an optimal route through a maze file: plain BFS, then keys/doors, then weighted terrain.

Medium mazes are built so the door-blind shortest route is illegal (the key
detour is forced); hard mazes add mud that costs more to cross, so the fewest
steps is not the cheapest route. Any optimal route is accepted: the verifier
replays the moves on its own copy of the maze.
"""

from __future__ import annotations

import heapq

from litecore.records import TaskDraft, TaskFamily, TaskRequest
from litecore.wording import bullets, pick


MOVES = {"U": (-1, 0), "D": (1, 0), "L": (0, -1), "R": (0, 1)}
SIZES = {"easy": (6, 9), "medium": (7, 11), "hard": (8, 12)}


def _carve(rng, h: int, w: int) -> list[list[str]]:
    """A perfect maze by randomized DFS, then a few extra openings so routes differ in length."""
    g = [["#"] * (2 * w + 1) for _ in range(2 * h + 1)]
    stack = [(0, 0)]
    seen = {(0, 0)}
    g[1][1] = "."
    while stack:
        r, c = stack[-1]
        nbrs = [(r + dr, c + dc) for dr, dc in ((0, 1), (1, 0), (0, -1), (-1, 0))
                if 0 <= r + dr < h and 0 <= c + dc < w and (r + dr, c + dc) not in seen]
        if not nbrs:
            stack.pop()
            continue
        nr, nc = pick(rng, nbrs)
        g[r + nr + 1][c + nc + 1] = "."
        g[2 * nr + 1][2 * nc + 1] = "."
        seen.add((nr, nc))
        stack.append((nr, nc))
    inner = [(r, c) for r in range(1, 2 * h) for c in range(1, 2 * w) if g[r][c] == "#" and (r + c) % 2 == 1]
    for r, c in rng.sample(inner, len(inner) // 6):
        g[r][c] = "."
    return g


def _cost(ch: str) -> int:
    return 3 if ch == "~" else 1


def solve_maze(grid: list[str], doors: bool = True, steps_first: bool = False) -> tuple[int, str] | None:
    """Cheapest route S->E (cost of entering each cell), keys open doors of the same letter.

    ``steps_first`` ranks routes by (moves, cost): the cheapest among the shortest routes.
    """
    start = next((r, c) for r, row in enumerate(grid) for c, ch in enumerate(row) if ch == "S")
    pq: list = [((0, 0), "", start, "")]
    best: dict = {}
    while pq:
        cost, path, (r, c), keys = heapq.heappop(pq)
        if grid[r][c] == "E":
            return cost[1], path
        if best.get(((r, c), keys), (1 << 30, 0)) < cost:
            continue
        for mv, (dr, dc) in MOVES.items():
            nr, nc = r + dr, c + dc
            ch = grid[nr][nc]
            if ch == "#" or (doors and ch.isupper() and ch not in "SE" and ch.lower() not in keys):
                continue
            nk = "".join(sorted(set(keys + ch))) if ch.islower() and ch.isalpha() else keys
            ncost = (cost[0] + (1 if steps_first else _cost(ch)), cost[1] + _cost(ch))
            if ncost < best.get(((nr, nc), nk), (1 << 30, 0)):
                best[((nr, nc), nk)] = ncost
                heapq.heappush(pq, (ncost, path + mv, (nr, nc), nk))
    return None


def generate(req: TaskRequest) -> TaskDraft:
    rng = req.rng
    d = req.difficulty
    h, w = SIZES[d]
    while True:
        g = _carve(rng, h, w)
        cells = [(r, c) for r in range(len(g)) for c in range(len(g[0])) if g[r][c] == "."]
        picks = rng.sample(cells, 6)
        (sr, sc), (er, ec) = picks[0], picks[1]
        g[sr][sc], g[er][ec] = "S", "E"
        if d == "hard":
            for r, c in rng.sample(cells, len(cells) // 5):
                if g[r][c] == ".":
                    g[r][c] = "~"
        if d != "easy":
            plain = ["".join(row) for row in g]
            route = solve_maze(plain)
            assert route is not None
            # doors on cells of the current best route, keys somewhere else
            r, c = sr, sc
            on_route = []
            for mv in route[1]:
                r, c = r + MOVES[mv][0], c + MOVES[mv][1]
                on_route.append((r, c))
            candidates = [p for p in on_route[2:-2] if g[p[0]][p[1]] in ".~"]
            if len(candidates) < 2:
                continue
            door_cells = rng.sample(candidates, 2 if d == "hard" else pick(rng, (1, 2)))
            free = [p for p in cells if g[p[0]][p[1]] in ".~" and p not in door_cells]
            for letter, (dr_, dc_) in zip("ab", door_cells):
                g[dr_][dc_] = letter.upper()
                kr, kc = pick(rng, free)
                free.remove((kr, kc))
                g[kr][kc] = letter
        grid = ["".join(row) for row in g]
        best = solve_maze(grid)
        if best is None:
            continue
        if d != "easy":
            blind = solve_maze(grid, doors=False)
            if blind is None or blind[0] >= best[0]:
                continue
        if d == "hard":
            shortest = solve_maze(grid, steps_first=True)
            if shortest is None or shortest[0] <= best[0]:
                continue  # some fewest-moves route is also cheapest: mud would not matter
        break
    cost, route = best
    legend = ["`#` is a wall, `.` is open floor, `S` is the start and `E` the exit"]
    if d != "easy":
        legend.append("a lower-case letter is a key; stepping on it picks it up (keys are never used up)")
        legend.append("an upper-case letter other than S/E is a door you can only step on once you hold the key "
                      "with the same letter in lower case")
    if d == "hard":
        legend.append("`~` is mud: stepping onto a mud cell costs 3, stepping onto any other cell costs 1")
    goal = ("the route must be as short as possible (fewest moves)" if d != "hard"
            else "the route must have the smallest possible total cost")
    rules = [
        "write the route to /app/path.txt as a single line of moves, each one of `U`, `D`, `L`, `R` "
        "(up = previous line)",
        goal,
        "the route may not enter walls or leave the grid, and must end on `E`",
    ]
    rng.shuffle(rules)
    intro = pick(rng, (
        "/app/maze.txt is a maze map. Find a route from S to E.",
        "A robot has to get from S to E through the grid in /app/maze.txt. Plan its route.",
        "Solve the maze stored in /app/maze.txt (start S, exit E).",
    ))
    instruction = f"{intro}\n\nMap legend:\n{bullets(legend)}\n\nRequirements:\n{bullets(rules)}\n"

    solver = """# Dijkstra over (position, keys held); cost of a step = cost of the cell entered
cat > /tmp/route.py <<'PY'
import heapq
grid = open('/app/maze.txt').read().split()
moves = {'U': (-1, 0), 'D': (1, 0), 'L': (0, -1), 'R': (0, 1)}
start = next((r, c) for r, row in enumerate(grid) for c, ch in enumerate(row) if ch == 'S')
pq, done = [(0, '', start, frozenset())], set()
while pq:
    cost, path, (r, c), keys = heapq.heappop(pq)
    if (r, c, keys) in done:
        continue
    done.add((r, c, keys))
    if grid[r][c] == 'E':
        print('cost', cost, 'moves', len(path))
        open('/app/path.txt', 'w').write(path + '\\n')
        break
    for m, (dr, dc) in moves.items():
        nr, nc = r + dr, c + dc
        if not (0 <= nr < len(grid) and 0 <= nc < len(grid[nr])):
            continue
        ch = grid[nr][nc]
        if ch == '#' or (ch.isupper() and ch not in 'SE' and ch.lower() not in keys):
            continue
        nk = keys | {ch} if ch.islower() else keys
        heapq.heappush(pq, (cost + (3 if ch == '~' else 1), path + m, (nr, nc), nk))
PY
python3 /tmp/route.py"""
    solve = f"""# Look at the map: size, start/exit, special cells
cat /app/maze.txt
grep -o '[^#.]' /app/maze.txt | sort | uniq -c

{solver}

# Check the answer
cat /app/path.txt
"""
    if d == "easy":
        wrong = solver + "\n# stop next to the exit\npython3 -c \"p = open('/app/path.txt').read().strip(); open('/app/path.txt', 'w').write(p[:-1] + '\\n')\"\n"
    elif d == "medium":
        wrong = solver.replace("ch.isupper() and ch not in 'SE' and ch.lower() not in keys", "False")
    else:
        wrong = solver.replace("(3 if ch == '~' else 1)", "1")
    tests = f"""import pathlib

GRID = {grid!r}
OPTIMAL = {cost!r}
MOVES = {{"U": (-1, 0), "D": (1, 0), "L": (0, -1), "R": (0, 1)}}


def route():
    return pathlib.Path("/app/path.txt").read_text().strip()


def walk():
    r, c = next((r, c) for r, row in enumerate(GRID) for c, ch in enumerate(row) if ch == "S")
    keys, cost = set(), 0
    for m in route():
        assert m in MOVES, f"bad move {{m!r}}"
        r, c = r + MOVES[m][0], c + MOVES[m][1]
        assert 0 <= r < len(GRID) and 0 <= c < len(GRID[r]), "left the grid"
        ch = GRID[r][c]
        assert ch != "#", f"walked into a wall at {{(r, c)}}"
        if ch.isupper() and ch not in "SE":
            assert ch.lower() in keys, f"door {{ch}} without key at {{(r, c)}}"
        if ch.islower():
            keys.add(ch)
        cost += 3 if ch == "~" else 1
    return (r, c), cost


def test_route_file_has_only_moves():
    assert route() and set(route()) <= set("UDLR")


def test_route_is_legal_and_reaches_exit():
    (r, c), _ = walk()
    assert GRID[r][c] == "E"


def test_route_is_optimal():
    _, cost = walk()
    assert cost == OPTIMAL, f"cost {{cost}}, optimal {{OPTIMAL}}"
"""
    return TaskDraft(
        instruction=instruction,
        app_files={"maze.txt": "\n".join(grid) + "\n"},
        solve=solve,
        wrong_solve=wrong,
        tests=tests,
        tags=("maze", "bfs", "dijkstra" if d == "hard" else "shortest-path"),
    )


FAMILY = TaskFamily(
    name="maze-route",
    description="optimal route through a maze file (walls, keys and doors, weighted mud)",
    generate=generate,
    requires=("python3",),
)
