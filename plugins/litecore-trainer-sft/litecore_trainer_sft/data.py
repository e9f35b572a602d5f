"""Loading the export stage's datasets: SFT ``messages`` rows and preference pairs.

Accepted: a JSONL file, a folder holding one of the known file names, or a
folder written by ``datasets.Dataset.save_to_disk``. Rows are checked and cut
down to the columns the trainers read, so a malformed row fails with its line
number instead of deep inside TRL.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from litecore.errors import LitecoreError

if TYPE_CHECKING:
    from datasets import Dataset

ROLES = frozenset({"system", "user", "assistant"})
SFT_NAMES = ("sft.jsonl", "sft", "messages.jsonl")
PREFERENCE_NAMES = ("preferences.jsonl", "preferences", "pairs.jsonl", "dmpo.jsonl")


class DataFormatError(LitecoreError):
    """A training dataset does not have the shape the export stage writes."""


def _is_saved_dataset(folder: Path) -> bool:
    return (folder / "dataset_info.json").is_file() or (folder / "dataset_dict.json").is_file()


def resolve(path: Path, names: Sequence[str]) -> Path:
    """The file or saved-dataset folder to read for ``path``."""
    path = Path(path)
    if path.is_file() or (path.is_dir() and _is_saved_dataset(path)):
        return path
    if path.is_dir():
        for name in names:
            cand = path / name
            if cand.is_file() or (cand.is_dir() and _is_saved_dataset(cand)):
                return cand
        raise DataFormatError(f"{path}: no dataset found (looked for {', '.join(names)})")
    raise DataFormatError(f"{path}: no such file or folder")


def _read_rows(path: Path) -> list[dict[str, Any]]:
    if path.is_dir():
        import datasets

        ds = datasets.load_from_disk(str(path))
        if isinstance(ds, datasets.DatasetDict):
            if "train" not in ds:
                raise DataFormatError(f"{path}: saved DatasetDict has no 'train' split")
            ds = ds["train"]
        return [dict(row) for row in ds]
    rows = []
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataFormatError(f"{path}:{lineno}: not JSON ({exc.msg})") from None
            if not isinstance(row, dict):
                raise DataFormatError(f"{path}:{lineno}: expected a JSON object")
            row["_where"] = f"{path}:{lineno}"
            rows.append(row)
    return rows


def clean_messages(value: Any, where: str, field: str) -> list[dict[str, str]]:
    """Check a message list and keep only ``role`` and ``content``."""
    if not isinstance(value, list) or not value:
        raise DataFormatError(f"{where}: '{field}' must be a non-empty list of messages")
    out = []
    for i, msg in enumerate(value):
        if not isinstance(msg, Mapping):
            raise DataFormatError(f"{where}: {field}[{i}] is not an object")
        role, content = msg.get("role"), msg.get("content")
        if role not in ROLES:
            raise DataFormatError(f"{where}: {field}[{i}].role is {role!r}; expected one of {sorted(ROLES)}")
        if not isinstance(content, str):
            raise DataFormatError(f"{where}: {field}[{i}].content must be a string")
        out.append({"role": role, "content": content})
    return out


def _check_continuation(msgs: list[dict[str, str]], where: str, field: str) -> None:
    for i, msg in enumerate(msgs):
        want = "assistant" if i % 2 == 0 else "user"
        if msg["role"] != want:
            raise DataFormatError(
                f"{where}: {field}[{i}] is a {msg['role']} turn; a continuation alternates "
                "assistant, user, assistant, ... starting with assistant"
            )


def sft_rows(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for n, row in enumerate(rows):
        where = str(row.get("_where", f"row {n}"))
        msgs = clean_messages(row.get("messages"), where, "messages")
        if not any(m["role"] == "assistant" for m in msgs):
            raise DataFormatError(f"{where}: no assistant turn to learn from")
        out.append({"messages": msgs})
    return out


def preference_rows(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for n, row in enumerate(rows):
        where = str(row.get("_where", f"row {n}"))
        prompt = clean_messages(row.get("prompt"), where, "prompt")
        if prompt[-1]["role"] == "assistant":
            raise DataFormatError(f"{where}: prompt must end with a user (observation) turn")
        chosen = clean_messages(row.get("chosen"), where, "chosen")
        rejected = clean_messages(row.get("rejected"), where, "rejected")
        _check_continuation(chosen, where, "chosen")
        _check_continuation(rejected, where, "rejected")
        out.append({"prompt": prompt, "chosen": chosen, "rejected": rejected})
    return out


def load_sft(path: Path) -> Dataset:
    """SFT rows as a ``datasets.Dataset`` with one column, ``messages``."""
    from datasets import Dataset

    src = resolve(path, SFT_NAMES)
    rows = sft_rows(_read_rows(src))
    if not rows:
        raise DataFormatError(f"{src}: empty dataset")
    return Dataset.from_list(rows)


def load_preferences(path: Path) -> Dataset:
    """Preference pairs as a ``datasets.Dataset`` with ``prompt``, ``chosen``, ``rejected``."""
    from datasets import Dataset

    src = resolve(path, PREFERENCE_NAMES)
    rows = preference_rows(_read_rows(src))
    if not rows:
        raise DataFormatError(f"{src}: empty dataset")
    return Dataset.from_list(rows)
