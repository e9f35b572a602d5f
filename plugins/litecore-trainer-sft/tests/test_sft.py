from __future__ import annotations

import json
from pathlib import Path

import pytest
from litecore_trainer_sft.samples import sft_rows, write_jsonl

from litecore.plugins import PluginManager
from litecore.train import Trainer, TrainResult
from litecore_trainer_sft.config import SFTTrainConfig, structure


def test_tiny_model_loads_and_masks_assistant_turns(tiny_model: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(tiny_model)
    tok = AutoTokenizer.from_pretrained(tiny_model)
    assert model.config.model_type == "qwen3"
    assert sum(p.numel() for p in model.parameters()) < 200_000
    msgs = sft_rows(3)[2]["messages"]
    enc = tok.apply_chat_template(msgs, tokenize=True, return_dict=True, return_assistant_tokens_mask=True)
    kept = tok.decode([i for i, m in zip(enc["input_ids"], enc["assistant_masks"]) if m])
    want = "".join(m["content"] + "<|im_end|>\n" for m in msgs if m["role"] == "assistant")
    assert kept == want


def test_plugin_registers_sft(plugin_manager: PluginManager) -> None:
    import litecore_trainer_sft

    plugin_manager.register(litecore_trainer_sft, "litecore-trainer-sft")
    rec = plugin_manager.get("trainer", "sft")
    assert rec.config is SFTTrainConfig
    assert isinstance(rec.factory(SFTTrainConfig(model="x")), Trainer)


def _runner(tiny_model: Path, **over: object):
    from litecore_trainer_sft.trainer import SFTRunner

    cfg = {"model": str(tiny_model), "max_steps": 12, "learning_rate": 3e-3, "batch_size": 4,
           "per_device_batch_size": 4, "max_length": 512, "logging_steps": 1, "warmup_ratio": 0.0,
           "lr_scheduler": "constant"}
    cfg.update(over)
    return SFTRunner(structure(SFTTrainConfig, cfg))


@pytest.mark.parametrize("packing", ["on", "off"])
def test_only_assistant_tokens_carry_labels(tiny_model: Path, tmp_path: Path, packing: str, one_thread) -> None:
    from litecore_trainer_sft import runtime
    from litecore_trainer_sft.data import load_sft

    rows = sft_rows(5)
    write_jsonl(tmp_path / "sft.jsonl", rows)
    runner = _runner(tiny_model, packing=packing)
    tok = runtime.load_tokenizer(runner.config)
    trainer = runner.make_trainer(str(tiny_model), tok, load_sft(tmp_path), tmp_path / "t",
                                  packing=runner.use_packing())
    want = sorted(m["content"] + "<|im_end|>\n" for r in rows for m in r["messages"] if m["role"] == "assistant")
    batch = trainer.data_collator([trainer.train_dataset[i] for i in range(len(trainer.train_dataset))])
    labels, ids = batch["labels"], batch["input_ids"]
    assert (labels[labels != -100] == ids[labels != -100]).all()
    # every labelled run decodes to one assistant message and its end-of-turn
    got = []
    for row_labels in labels.tolist():
        run: list[int] = []
        for lab in row_labels + [-100]:
            if lab != -100:
                run.append(lab)
            elif run:
                got.append(tok.decode(run))
                run = []
    # adjacent runs of two packed sequences are separated by a masked prompt, so runs are turns
    assert sorted(got) == want
    if packing == "on":
        assert "position_ids" in batch and "attention_mask" not in batch
        assert ids.size(0) == len(trainer.train_dataset) > 1  # packed rows stay rows (sdpa)


def test_packed_forward_matches_separate_sequences(tiny_model: Path) -> None:
    """Packing is only safe if packed rows see no other sequence: compare log-probs."""
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tiny_model, attn_implementation="sdpa").eval()
    torch.manual_seed(0)
    from litecore_trainer_sft.trainer import PackedRowsCollator

    seqs = [torch.randint(3, 300, (n,)).tolist() for n in (17, 9, 30, 12, 20)]
    rows = [{"input_ids": seqs[0] + seqs[1] + seqs[2], "labels": seqs[0] + seqs[1] + seqs[2],
             "seq_lengths": [17, 9, 30]},
            {"input_ids": seqs[3] + seqs[4], "labels": seqs[3] + seqs[4], "seq_lengths": [12, 20]}]
    batch = PackedRowsCollator(pad_token_id=0)(rows)
    assert batch["input_ids"].shape == (2, 56) and (batch["labels"] != -100).sum() == 88 - 5
    assert batch["real_tokens"].tolist() == [56, 32]
    with torch.no_grad():
        alone = [model(input_ids=torch.tensor(s)[None], use_cache=False).logits[0] for s in seqs]
        # use_cache=False as in training: with a cache transformers does not look for packed rows
        logits = model(input_ids=batch["input_ids"], position_ids=batch["position_ids"], use_cache=False).logits
    torch.testing.assert_close(logits[0], torch.cat(alone[:3]), rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(logits[1, :32], torch.cat(alone[3:]), rtol=1e-4, atol=1e-4)


def test_sft_loss_decreases_and_checkpoint_loads(tiny_model: Path, tmp_path: Path, one_thread) -> None:
    write_jsonl(tmp_path / "sft.jsonl", sft_rows(12))
    result = _runner(tiny_model).train(tmp_path, tmp_path / "out")
    assert isinstance(result, TrainResult) and result.steps == 12
    assert result.metrics["loss"] < 0.7 * result.metrics["first_loss"]
    assert result.metrics["packing"] == 1.0 and result.timings["tokens_per_s"] > 0
    assert json.loads((tmp_path / "out" / "train_result.json").read_text())["steps"] == 12
    from transformers import AutoModelForCausalLM, AutoTokenizer

    AutoModelForCausalLM.from_pretrained(result.checkpoint)
    assert "generation" in AutoTokenizer.from_pretrained(result.checkpoint).chat_template


def test_sft_lora_merges_into_a_plain_checkpoint(tiny_model: Path, tmp_path: Path, one_thread) -> None:
    write_jsonl(tmp_path / "sft.jsonl", sft_rows(6))
    result = _runner(tiny_model, max_steps=4, lora={"r": 4, "alpha": 8}).train(tmp_path, tmp_path / "out")
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(result.checkpoint)
    assert not any("lora" in n for n, _ in model.named_parameters())
    assert not (result.checkpoint / "adapter_config.json").exists()
