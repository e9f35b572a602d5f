from __future__ import annotations

import json
from pathlib import Path

import pytest
from litecore_trainer_sft.samples import sft_rows, write_jsonl

from litecore.errors import ConfigError
from litecore_trainer_sft.config import LoraOptions, SFTTrainConfig, structure
from litecore_trainer_sft.data import DataFormatError, load_preferences, load_sft


def test_config_structures_strictly() -> None:
    cfg = structure(SFTTrainConfig, {"model": "m", "epochs": 2, "learning_rate": 1e-5,
                                     "lora": {"r": 8, "target_modules": ["q_proj"]}})
    assert cfg.epochs == 2.0 and isinstance(cfg.epochs, float)
    assert cfg.lora == LoraOptions(r=8, target_modules=("q_proj",))
    with pytest.raises(ConfigError, match="lerning_rate"):
        structure(SFTTrainConfig, {"model": "m", "lerning_rate": 1e-5})
    with pytest.raises(ConfigError, match="batch_size"):
        structure(SFTTrainConfig, {"model": "m", "batch_size": "64"})
    with pytest.raises(ConfigError, match="packing"):
        structure(SFTTrainConfig, {"model": "m", "packing": "sometimes"})
    with pytest.raises(ConfigError, match="learning_rate must be > 0"):
        structure(SFTTrainConfig, {"model": "m", "learning_rate": 0.0})


def test_sft_loads_jsonl_folder_and_saved_dataset(tmp_path: Path) -> None:
    rows = sft_rows(4)
    write_jsonl(tmp_path / "sft.jsonl", rows)
    (tmp_path / "sft_sharegpt.jsonl").write_text("not what we read\n")
    from_folder = load_sft(tmp_path)
    assert from_folder.column_names == ["messages"]
    assert from_folder[0]["messages"] == rows[0]["messages"]

    from datasets import Dataset

    Dataset.from_list(rows).save_to_disk(str(tmp_path / "saved"))
    from_disk = load_sft(tmp_path / "saved")
    assert [r["messages"] for r in from_disk] == [r["messages"] for r in rows]


def test_bad_rows_name_their_line(tmp_path: Path) -> None:
    rows = sft_rows(2)
    rows[1]["messages"][0]["role"] = "tool"
    write_jsonl(tmp_path / "sft.jsonl", rows)
    with pytest.raises(DataFormatError, match=r"sft.jsonl:2: messages\[0\].role"):
        load_sft(tmp_path)
    pair = {"id": "p", "task_id": "t", "prompt": [{"role": "user", "content": "x"}],
            "chosen": [{"role": "user", "content": "y"}], "rejected": [{"role": "assistant", "content": "z"}],
            "chosen_score": 1.0, "rejected_score": 0.0}
    (tmp_path / "preferences.jsonl").write_text(json.dumps(pair) + "\n")
    with pytest.raises(DataFormatError, match=r"chosen\[0\] is a user turn"):
        load_preferences(tmp_path)
