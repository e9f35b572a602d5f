"""litecore domain plugin: games and puzzles."""

from __future__ import annotations

import litecore
from litecore.records import Domain, DomainSpec

from litecore_plugin_games.families import board_judge, maze, nim, sliding_puzzle, sokoban, sudoku

SPEC = DomainSpec(
    description=(
        "Games and puzzles solved from the terminal: reading puzzle files in ad-hoc text formats, choosing "
        "the right search (BFS, Dijkstra over augmented states, A*, backtracking with constraint "
        "propagation, push-level search), proving optimality when asked, detecting unsolvable or corrupt "
        "inputs, analysing impartial games with Sprague-Grundy theory, playing a game through a provided "
        "command-line tool, and writing rule engines that judge positions exactly as specified."
    ),
    skills=("parse grid and puzzle formats", "breadth-first and Dijkstra search over augmented state",
            "A* with admissible heuristics", "backtracking with most-constrained-first ordering",
            "parity and invariant arguments (solvability)", "Grundy values and mex",
            "replay and validate move sequences", "implement game rules and edge cases"),
    topics=("mazes with keys and doors", "weighted grids", "sudoku variants", "8- and 15-puzzles",
            "Sokoban", "Nim and subtraction games", "tic-tac-toe and connect-k referees"),
    tools=("python3", "bash", "cat/grep/uniq", "provided game CLIs"),
    packages=("python3",),
)


def domain() -> Domain:
    return Domain(
        name="games",
        spec=SPEC,
        category="games",
        description="puzzles and games: mazes, sudoku, sliding puzzles, Sokoban, heap games, board referees",
        families=(
            maze.FAMILY,
            sudoku.FAMILY,
            nim.FAMILY,
            board_judge.FAMILY,
            sliding_puzzle.FAMILY,
            sokoban.FAMILY,
        ),
    )


@litecore.hookimpl
def litecore_domains():
    return [domain()]
