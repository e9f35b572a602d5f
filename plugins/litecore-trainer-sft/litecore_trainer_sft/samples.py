"""Small Terminus-2-shaped datasets in the export stage's formats.

For tests, the tiny-model corpus and the throughput benchmark; not for training
anything real.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable
from pathlib import Path
from typing import Any

SYSTEM = "You are a terminal agent. Reply with JSON."


def action(cmd: str, done: bool) -> str:
    """A Terminus-2 style JSON action."""
    return json.dumps({"analysis": "Look at the data.", "plan": "Run it.",
                       "commands": [{"keystrokes": cmd + "\n", "duration": 0.1}], "task_complete": done})


def trajectory(rng: random.Random, i: int, turns: int, cmd: str) -> list[dict[str, str]]:
    """``turns`` assistant actions with terminal output between them (starts with assistant)."""
    msgs = []
    for k in range(turns):
        msgs.append({"role": "assistant", "content": action(cmd, k == turns - 1)})
        if k < turns - 1:
            msgs.append({"role": "user", "content": f"New Terminal Output:\n{rng.randint(1, 99)} data{i}.csv"})
    return msgs


def prompt(i: int) -> list[dict[str, str]]:
    return [{"role": "system", "content": SYSTEM},
            {"role": "user", "content": f"Task: count the lines of data{i}.csv\nroot@box:/app# "}]


def sft_rows(n: int = 12, seed: int = 0) -> list[dict[str, Any]]:
    """SFT rows (``messages``) of 1 to 3 assistant turns."""
    rng = random.Random(seed)
    return [{"id": f"r{i}", "task_id": f"t{i}", "reward": 1.0,
             "messages": prompt(i) + trajectory(rng, i, rng.randint(1, 3), f"wc -l data{i}.csv")}
            for i in range(n)]


def preference_rows(n: int = 8, seed: int = 1, *, max_turns: int = 3) -> list[dict[str, Any]]:
    """Pairs: chosen runs ``wc -l``, rejected ``cat``; turn counts differ between the two."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        rows.append({
            "id": f"p{i}", "task_id": f"t{i}", "prompt": prompt(i),
            "chosen": trajectory(rng, i, rng.randint(1, max_turns), f"wc -l data{i}.csv"),
            "rejected": trajectory(rng, i, rng.randint(1, max_turns), f"cat data{i}.csv"),
            "chosen_score": 1.0, "rejected_score": 0.0,
        })
    return rows


def write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def corpus() -> list[str]:
    """Text for the tiny tokenizer that covers the samples above."""
    return [json.dumps(r["messages"]) for r in sft_rows(6)] + [json.dumps(r["chosen"] + r["rejected"])
                                                                for r in preference_rows(4)]
