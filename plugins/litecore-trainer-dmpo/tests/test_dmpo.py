"""DMPO against real TRL on a tiny offline model."""

from __future__ import annotations

import copy
import math
from pathlib import Path

import pytest
import torch

from litecore.plugins import PluginManager
from litecore_trainer_dmpo.config import DMPOTrainConfig
from litecore_trainer_dmpo.loss import per_turn_logps, turn_weights
from litecore_trainer_sft.config import structure
from litecore_trainer_sft.samples import preference_rows, write_jsonl


def _config(tiny_model: Path, **over: object) -> DMPOTrainConfig:
    cfg = {"model": str(tiny_model), "max_steps": 8, "learning_rate": 2e-3, "batch_size": 4,
           "per_device_batch_size": 4, "max_length": 1024, "logging_steps": 1, "warmup_ratio": 0.0,
           "gamma": 0.9, "beta": 0.5}
    cfg.update(over)
    return structure(DMPOTrainConfig, cfg)


def _trainer(tiny_model: Path, tmp_path: Path, rows: list[dict], *, ref_model=None, policy=None, **over):
    from datasets import Dataset

    from litecore_trainer_dmpo.trainer import DMPORunner
    from litecore_trainer_sft import runtime

    runner = DMPORunner(_config(tiny_model, **over))
    tok = runtime.load_tokenizer(runner.config)
    return runner.make_trainer(policy if policy is not None else str(tiny_model), tok,
                               Dataset.from_list(rows), tmp_path / "t", ref_model=ref_model)


def _batch(trainer) -> dict:
    ds = trainer.train_dataset
    batch = trainer.data_collator([ds[i] for i in range(len(ds))])
    return trainer._prepare_inputs(batch)


def _perturbed(tiny_model: Path, seed: int):
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tiny_model)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.05 * torch.randn(p.shape, generator=g))
    return model


def test_plugin_registers_dmpo(plugin_manager: PluginManager) -> None:
    import litecore_trainer_dmpo
    from litecore.train import Trainer

    plugin_manager.register(litecore_trainer_dmpo, "litecore-trainer-dmpo")
    rec = plugin_manager.get("trainer", "dmpo")
    assert rec.config is DMPOTrainConfig
    assert isinstance(rec.factory(DMPOTrainConfig(model="x")), Trainer)


def test_loss_is_log2_at_step_0_with_reference_equal_to_policy(tiny_model: Path, tmp_path: Path, one_thread) -> None:
    trainer = _trainer(tiny_model, tmp_path, preference_rows(4))
    trainer.model.eval()
    with torch.no_grad():
        loss = trainer.compute_loss(trainer.model, _batch(trainer))
    assert loss.item() == pytest.approx(math.log(2), abs=1e-6)


def test_weighted_sum_equals_phi_weighted_per_turn_log_probs(tiny_model: Path, tmp_path: Path, one_thread) -> None:
    """The trainer's sequence score is sum_t phi(t, T) * (sum of turn t's token log-probs)."""
    rows = preference_rows(3, seed=5)
    trainer = _trainer(tiny_model, tmp_path, rows)
    batch = _batch(trainer)
    got = trainer._reference_logps(batch, trainer.ref_model)
    ref = trainer.ref_model
    with torch.no_grad():
        logits = ref(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], use_cache=False).logits
    lp = torch.log_softmax(logits.float(), -1)[:, :-1].gather(-1, batch["input_ids"][:, 1:, None])[..., 0]
    for row in range(batch["input_ids"].size(0)):
        mask = (batch["token_weights"][row] > 0).long().tolist()
        token_lp = [0.0] + lp[row].tolist()  # token j's log-prob, aligned with input_ids
        turns = per_turn_logps(token_lp, mask)
        T = int((batch["chosen_turns"].tolist() + batch["rejected_turns"].tolist())[row])
        assert len(turns) == T
        want = sum(w * x for w, x in zip(turn_weights(T, 0.9), turns))
        assert got[row].item() == pytest.approx(want, rel=1e-4, abs=1e-3)


def test_equals_dpo_sigmoid_loss_for_single_turn_pairs(tiny_model: Path, tmp_path: Path, one_thread) -> None:
    from trl import DPOConfig, DPOTrainer

    from litecore_trainer_sft import runtime

    rows = preference_rows(4, seed=3, max_turns=1)
    assert all(len(r["chosen"]) == len(r["rejected"]) == 1 for r in rows)
    policy = _perturbed(tiny_model, 1)
    ref = _perturbed(tiny_model, 2)
    ours = _trainer(tiny_model, tmp_path, rows, policy=copy.deepcopy(policy), ref_model=copy.deepcopy(ref))
    cfg = ours.args.to_dict()
    stock_args = DPOConfig(**{k: cfg[k] for k in ("output_dir", "beta", "max_length", "use_cpu", "report_to",
                                                  "per_device_train_batch_size", "seed", "bf16")})
    from datasets import Dataset

    stock = DPOTrainer(model=copy.deepcopy(policy), ref_model=copy.deepcopy(ref), args=stock_args,
                       train_dataset=Dataset.from_list(rows),
                       processing_class=runtime.load_tokenizer(_config(tiny_model)))
    losses = []
    for tr in (ours, stock):
        tr.model.eval()
        ds = tr.train_dataset
        with torch.no_grad():
            losses.append(tr.compute_loss(tr.model, tr._prepare_inputs(tr.data_collator([ds[i] for i in range(4)]))))
    assert abs(losses[0].item() - math.log(2)) > 1e-3  # the models differ, so this is not the trivial case
    assert losses[0].item() == pytest.approx(losses[1].item(), rel=1e-5)


def test_dmpo_loss_decreases_and_writes_checkpoint(tiny_model: Path, tmp_path: Path, one_thread) -> None:
    from litecore_trainer_dmpo import make_trainer

    write_jsonl(tmp_path / "preferences.jsonl", preference_rows(8))
    result = make_trainer(_config(tiny_model)).train(tmp_path, tmp_path / "out")
    assert result.metrics["first_loss"] == pytest.approx(math.log(2), abs=1e-5)
    assert result.metrics["loss"] < 0.5 * math.log(2)
    assert result.metrics["rewards/accuracies"] == 1.0
    from transformers import AutoModelForCausalLM

    AutoModelForCausalLM.from_pretrained(result.checkpoint)


def test_lora_reference_is_the_adapter_disabled(tiny_model: Path, tmp_path: Path, one_thread) -> None:
    from transformers import AutoModelForCausalLM

    write_jsonl(tmp_path / "preferences.jsonl", preference_rows(8))
    trainer = _trainer(tiny_model, tmp_path, preference_rows(8), max_steps=3, lora={"r": 4, "alpha": 16})
    assert trainer.ref_model is None
    trainer.train()
    batch = _batch(trainer)
    ref = trainer._reference_logps(batch, None)
    base = AutoModelForCausalLM.from_pretrained(tiny_model)
    from trl.trainer.utils import add_fused_lm_head

    add_fused_lm_head(base)
    with torch.no_grad():
        out = base(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
                   labels=batch["input_ids"].masked_fill(batch["token_weights"] == 0, -100), fused_lm_head=True)
    from litecore_trainer_dmpo.loss import weighted_logps

    torch.testing.assert_close(ref, weighted_logps(out.log_probs, batch["token_weights"]), rtol=1e-5, atol=1e-4)
    trainer.model.eval()
    with torch.no_grad():
        assert trainer.compute_loss(trainer.model, batch).item() < math.log(2)
