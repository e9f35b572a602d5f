"""Training data from trajectories: SFT rows (rejection-sampled) and their files.

Only passing trajectories become SFT data. Each export is written atomically.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import attrs

from litecore.rollout import jsonl, write_json_atomic
from litecore.trajectory import Trajectory


@attrs.frozen(kw_only=True)
class SFTDataset:
    rows: list[dict]
    sharegpt: list[dict]
    dropped: Counter[str]


def build_sft(trajectories: Sequence[Trajectory]) -> SFTDataset:
    """Rejection sampling: keep passing trajectories; count what was dropped and why."""
    rows, share = [], []
    dropped: Counter[str] = Counter()
    for t in sorted(trajectories, key=lambda t: t.id):
        if t.reward.reward is None:
            dropped["verifier error"] += 1
        elif not t.passed:
            dropped["did not pass"] += 1
        elif not t.steps:
            dropped["no steps"] += 1
        else:
            rows.append(t.to_sft_row())
            share.append(t.to_sharegpt())
    return SFTDataset(rows=rows, sharegpt=share, dropped=dropped)


def write_sft(ds: SFTDataset, out_dir: Path) -> dict[str, Path]:
    paths = {"messages": out_dir / "sft.jsonl", "sharegpt": out_dir / "sft_sharegpt.jsonl"}
    write_json_atomic(paths["messages"], jsonl(ds.rows))
    write_json_atomic(paths["sharegpt"], jsonl(ds.sharegpt))
    return paths
