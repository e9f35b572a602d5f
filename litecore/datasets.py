"""Training data from trajectories: SFT rows and preference pairs, and their files.

SFT is rejection sampling: only passing trajectories, and of those only the ones
worth imitating (no malformed replies, no command loops, finished on purpose,
not a duplicate); every drop is counted by reason.

Preference pairs follow LiteCoder's DMPO recipe: two or more rollouts per
environment, each scored by the fraction of tests passed; where the scores
differ, the higher is chosen. A pair is multi-turn: the messages both rollouts
share (at least the task prompt) are the ``prompt``, the rest of each is
``chosen`` / ``rejected`` (TRL's conversational preference format). Environments
where every rollout failed are counted, since they never make a pair.

Everything is written atomically as JSONL and, when the ``datasets`` library is
installed, as a Hugging Face dataset (``save_to_disk``) with a dataset card.
"""

from __future__ import annotations

import itertools
import json
from collections import Counter, defaultdict
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from litecore.rollout import jsonl, write_json_atomic
from litecore.trajectory import Trajectory


# ---------------------------------------------------------------------------
# SFT
# ---------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class SFTFilters:
    """What rejection sampling keeps (``[datasets.sft]`` in pipeline.toml)."""

    #: The same keystrokes (or the same reply) this many turns in a row is a loop.
    loop_threshold: int = 3
    #: Keep only trajectories whose last turn declared the task complete.
    require_completion: bool = True
    #: Drop trajectories containing a reply that could not be parsed.
    drop_malformed: bool = True
    #: Drop trajectories longer than this many turns (None: no limit).
    max_turns: int | None = None
    #: Drop a trajectory whose messages equal an earlier kept one.
    dedupe: bool = True


@attrs.frozen(kw_only=True)
class SFTDataset:
    rows: list[dict]
    sharegpt: list[dict]
    dropped: Counter[str]
    considered: int = 0


def loop_length(t: Trajectory) -> int:
    """The longest run of consecutive turns sending the same keystrokes (or replying the same)."""
    best = run = 0
    prev: object = None
    for s in t.steps:
        key: object = tuple(c.keystrokes for c in s.action.commands) if s.action is not None else s.reply
        if s.action is not None and not s.action.commands and s.action.task_complete:
            key = ("<complete>",)
        run = run + 1 if key == prev else 1
        prev = key
        best = max(best, run)
    return best


def sft_drop_reason(t: Trajectory, filters: SFTFilters) -> str | None:
    """Why ``t`` is not SFT data, or None to keep it."""
    if t.sandbox_failed:
        return "sandbox failed"
    if t.reward.reward is None:
        return "verifier error"
    if not t.passed:
        return "did not pass"
    if not t.steps:
        return "no steps"
    if not any(s.action is not None and s.action.commands for s in t.steps):
        return "no commands run"
    if any(not s.reply.strip() for s in t.steps):
        return "empty reply"
    if filters.drop_malformed and any(s.action is None for s in t.steps):
        return "malformed reply"
    if loop_length(t) >= filters.loop_threshold:
        return "repeated command loop"
    last = t.steps[-1].action
    if filters.require_completion and (last is None or not last.task_complete):
        return "not declared complete"
    if filters.max_turns is not None and len(t.steps) > filters.max_turns:
        return "too many turns"
    return None


def build_sft(trajectories: Sequence[Trajectory], filters: SFTFilters | None = None) -> SFTDataset:
    """Rejection sampling: keep passing, well-formed, loop-free trajectories; count drops by reason."""
    filters = filters or SFTFilters()
    rows, share = [], []
    dropped: Counter[str] = Counter()
    seen: set[str] = set()
    ordered = sorted(trajectories, key=lambda t: t.id)
    for t in ordered:
        reason = sft_drop_reason(t, filters)
        if reason is None and filters.dedupe:
            key = json.dumps(t.to_messages(), sort_keys=True)
            if key in seen:
                reason = "duplicate"
            seen.add(key)
        if reason is not None:
            dropped[reason] += 1
            continue
        rows.append(t.to_sft_row())
        share.append(t.to_sharegpt())
    return SFTDataset(rows=rows, sharegpt=share, dropped=dropped, considered=len(ordered))


SFT_FORMATS = ("messages", "sharegpt", "hf")


def write_sft(ds: SFTDataset, out_dir: Path, *, formats: Collection[str] = ("messages", "sharegpt")) -> dict[str, Path]:
    """The requested exports (``messages``: ``sft.jsonl``, ``sharegpt``: ``sft_sharegpt.jsonl``,
    ``hf``: ``sft_hf/`` with a dataset card); ``sft_stats.json`` is always written."""
    unknown = set(formats) - set(SFT_FORMATS)
    if unknown:
        raise ValueError(f"unknown SFT format(s) {', '.join(sorted(unknown))}; available: {', '.join(SFT_FORMATS)}")
    paths: dict[str, Path] = {}
    if "messages" in formats:
        paths["messages"] = out_dir / "sft.jsonl"
        write_json_atomic(paths["messages"], jsonl(ds.rows))
    if "sharegpt" in formats:
        paths["sharegpt"] = out_dir / "sft_sharegpt.jsonl"
        write_json_atomic(paths["sharegpt"], jsonl(ds.sharegpt))
    stats = sft_stats(ds)
    write_json_atomic(out_dir / "sft_stats.json", json.dumps(stats, indent=2) + "\n")
    if "hf" in formats:
        hf_dir = save_hf(ds.rows, out_dir / "sft_hf", card=_sft_card(stats))
        if hf_dir is not None:
            paths["hf"] = hf_dir
    return paths


def sft_stats(ds: SFTDataset) -> dict[str, Any]:
    turns = [sum(1 for m in r["messages"] if m["role"] == "assistant") for r in ds.rows]
    return {
        "considered": ds.considered,
        "kept": len(ds.rows),
        "dropped": dict(sorted(ds.dropped.items())),
        "mean_turns": sum(turns) / len(turns) if turns else 0.0,
        "by_category": dict(sorted(Counter(r["category"] for r in ds.rows).items())),
        "by_difficulty": dict(sorted(Counter(r["difficulty"] for r in ds.rows).items())),
    }


# ---------------------------------------------------------------------------
# Preference pairs
# ---------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class PairOptions:
    """How pairs are formed (``[datasets.pairs]`` in pipeline.toml)."""

    #: Rollouts an environment needs (scored ones) to take part.
    min_rollouts: int = 2
    #: ``best_worst``: one pair per environment (highest vs lowest score, as the paper's two
    #: rollouts give); ``all``: every pair of rollouts whose scores differ.
    mode: str = "best_worst"
    #: Scores must differ by more than this.
    min_margin: float = 0.0

    def __attrs_post_init__(self) -> None:
        if self.mode not in ("best_worst", "all"):
            raise ValueError(f"pairs mode must be 'best_worst' or 'all', not {self.mode!r}")
        if self.min_rollouts < 2:
            raise ValueError("a pair needs at least 2 rollouts per environment")


@attrs.frozen(kw_only=True)
class PairsDataset:
    rows: list[dict]
    stats: dict[str, Any]


def score(t: Trajectory) -> float | None:
    """A rollout's score: the fraction of tests passed (None when verification failed)."""
    if t.reward.reward is None:
        return None
    return t.reward.partial


def split_shared_prefix(a: list[dict[str, str]], b: list[dict[str, str]]) -> int:
    """How many leading messages form the shared prompt: equal in both and ending on a user turn."""
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    while n > 0 and a[n - 1]["role"] != "user":
        n -= 1
    return n


def make_pair(chosen: Trajectory, rejected: Trajectory) -> dict[str, Any] | None:
    """A multi-turn preference row, or None when both continuations are identical."""
    cm, rm = chosen.to_messages(), rejected.to_messages()
    n = split_shared_prefix(cm, rm)
    if n == 0:
        return None  # not the same task prompt: never pair
    c_rest, r_rest = cm[n:], rm[n:]
    if not c_rest or not r_rest or c_rest == r_rest:
        return None
    return {
        "id": f"{chosen.id}>{rejected.id}",
        "task_id": chosen.task_id,
        "prompt": cm[:n],
        "chosen": c_rest,
        "rejected": r_rest,
        "score_chosen": score(chosen),
        "score_rejected": score(rejected),
        "category": chosen.category,
        "difficulty": chosen.difficulty,
    }


def build_pairs(trajectories: Sequence[Trajectory], options: PairOptions | None = None) -> PairsDataset:
    """Pairs where rollout scores differ, higher = chosen; counts of what made no pair and why."""
    options = options or PairOptions()
    by_task: dict[str, list[Trajectory]] = defaultdict(list)
    stats: Counter[str] = Counter()
    for t in trajectories:
        if t.sandbox_failed:
            stats["rollouts whose sandbox failed"] += 1
        else:
            by_task[t.task_id].append(t)
    rows: list[dict] = []
    for task_id in sorted(by_task):
        group = sorted(by_task[task_id], key=lambda t: t.id)
        scored = [(score(t), t) for t in group if score(t) is not None]
        stats["environments"] += 1
        if len(group) > len(scored):
            stats["rollouts with verifier errors"] += len(group) - len(scored)
        if len(scored) < options.min_rollouts:
            stats["environments with too few scored rollouts"] += 1
            continue
        if not any(t.passed for _, t in scored):
            stats["environments where all rollouts failed"] += 1
        if all(t.passed for _, t in scored):
            stats["environments where all rollouts passed"] += 1
        values = [s for s, _ in scored]
        if max(values) - min(values) <= options.min_margin:
            stats["environments with equal scores"] += 1
            continue
        if options.mode == "best_worst":
            # highest score; among equals the shorter rollout (fewer turns) is preferred as chosen
            best = max(scored, key=lambda st: (st[0], -len(st[1].steps)))
            worst = min(scored, key=lambda st: (st[0], -len(st[1].steps)))
            candidates = [(best[1], worst[1])]
        else:
            candidates = []
            for (sa, a), (sb, b) in itertools.combinations(scored, 2):
                if abs(sa - sb) > options.min_margin:
                    candidates.append((a, b) if sa > sb else (b, a))
        made = 0
        for chosen, rejected in candidates:
            row = make_pair(chosen, rejected)
            if row is None:
                stats["identical continuations"] += 1
                continue
            rows.append(row)
            made += 1
        if made:
            stats["environments with pairs"] += 1
    stats["pairs"] = len(rows)
    return PairsDataset(rows=rows, stats=dict(sorted(stats.items())))


def write_pairs(ds: PairsDataset, out_dir: Path, *, hf: bool = True) -> dict[str, Path]:
    """``pairs.jsonl``, ``pairs_stats.json`` and ``pairs_hf/``."""
    paths = {"pairs": out_dir / "pairs.jsonl", "stats": out_dir / "pairs_stats.json"}
    write_json_atomic(paths["pairs"], jsonl(ds.rows))
    write_json_atomic(paths["stats"], json.dumps(ds.stats, indent=2) + "\n")
    if hf:
        hf_dir = save_hf(ds.rows, out_dir / "pairs_hf", card=_pairs_card(ds.stats))
        if hf_dir is not None:
            paths["hf"] = hf_dir
    return paths


# ---------------------------------------------------------------------------
# Hugging Face datasets and dataset cards
# ---------------------------------------------------------------------------


def save_hf(rows: Sequence[Mapping[str, Any]], out_dir: Path, *, card: str) -> Path | None:
    """``Dataset.save_to_disk`` into a temp folder, then rename; None if ``datasets`` is missing."""
    try:
        import datasets
    except ImportError:
        return None
    import shutil
    import tempfile

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        data = [dict(r) for r in rows]
        ds = datasets.Dataset.from_list(data) if data else datasets.Dataset.from_dict({"id": []})
        ds.save_to_disk(str(tmp / "data"))
        # save_to_disk wants an empty folder; the card sits beside the arrow files
        for child in (tmp / "data").iterdir():
            child.rename(tmp / child.name)
        (tmp / "data").rmdir()
        (tmp / "README.md").write_text(card)
        if out_dir.exists():
            shutil.rmtree(out_dir)
        tmp.rename(out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir


def _front_matter(task: str, size: int) -> str:
    bucket = "n<1K" if size < 1000 else "1K<n<10K" if size < 10_000 else "10K<n<100K"
    return (
        "---\nlicense: apache-2.0\nlanguage:\n- en\n"
        f"task_categories:\n- {task}\ntags:\n- terminal-agents\n- litecore\n- terminus-2\n"
        f"size_categories:\n- {bucket}\n---\n"
    )


def _table(counts: Mapping[str, Any]) -> str:
    if not counts:
        return "(none)\n"
    return "| | count |\n|---|---|\n" + "".join(f"| {k} | {v} |\n" for k, v in counts.items())


def _sft_card(stats: Mapping[str, Any]) -> str:
    return (
        _front_matter("text-generation", int(stats["kept"]))
        + "\n# litecore SFT trajectories\n\n"
        "Multi-turn terminal-agent trajectories in the Terminus-2 protocol (the assistant answers JSON with "
        "`analysis`, `plan`, `commands`, `task_complete`; user turns are terminal output), collected by "
        "litecore in sandboxes and kept only when the task's tests passed (rejection sampling).\n\n"
        "Columns: `messages` (chat format for TRL `SFTTrainer`), `id`, `task_id`, `reward`, `policy`, "
        "`category`, `difficulty`.\n\n"
        f"- trajectories considered: {stats['considered']}\n- kept: {stats['kept']}\n"
        f"- mean assistant turns: {stats['mean_turns']:.1f}\n\n"
        "## Dropped, by reason\n\n" + _table(stats["dropped"])
        + "\n## Kept, by category\n\n" + _table(stats["by_category"])
        + "\n## Kept, by difficulty\n\n" + _table(stats["by_difficulty"])
    )


def _pairs_card(stats: Mapping[str, Any]) -> str:
    return (
        _front_matter("reinforcement-learning", int(stats.get("pairs", 0)))
        + "\n# litecore preference pairs (multi-turn)\n\n"
        "Pairs of rollouts of the same environment, each scored by the fraction of its tests that passed; "
        "only environments whose rollout scores differ give a pair, and the higher-scoring rollout is "
        "`chosen`. `prompt` holds the messages both rollouts share (at least the task prompt); `chosen` and "
        "`rejected` continue it with assistant replies and terminal observations (TRL's conversational "
        "preference format, suitable for DPO and for DMPO's turn-weighted loss).\n\n"
        "Columns: `prompt`, `chosen`, `rejected`, `score_chosen`, `score_rejected`, `id`, `task_id`, "
        "`category`, `difficulty`.\n\n## Statistics\n\n" + _table(stats)
    )
