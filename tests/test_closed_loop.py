"""The CPU closed learning loop of ``examples/closed_loop``.

The fast tests prove the toy domain the loop learns on (every family's oracle
earns 1, the no-op agent and a plausible wrong solution 0) and that the loop's
pipeline files parse. The slow test runs the loop's short preset end to end on
the real sandboxes, trainers and HF policy: a model built from scratch is
evaluated untrained, after SFT on the oracle trajectories and after DMPO on
pairs from its own sampled rollouts; SFT must beat the untrained model on
held-out instances. (The full loop, with the figures, is
``benchmarks/closed_loop.py``.)
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

from litecore.testing import check_family

LOOP_DIR = Path(__file__).resolve().parents[1] / "examples" / "closed_loop"


def load_loop() -> ModuleType:
    """``examples/closed_loop/run_loop.py`` as a module (examples are not a package)."""
    name = "closed_loop_run_loop"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, LOOP_DIR / "run_loop.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("family", ["echo-words", "make-file"])
def test_toy_families_are_proven(family: str, local_backend, tmp_path: Path) -> None:
    from litecore_plugin_toy import domain

    check_family(domain(), family, local_backend, tmp_path, seeds=(3,), repeats=1)


def test_toy_instances_depend_on_the_seed() -> None:
    """A constant answer cannot pass: instances differ in the values the command must carry."""
    from litecore.records import TaskRequest
    from litecore_plugin_toy import domain

    for fam in domain().families:
        solutions = {fam.generate(TaskRequest(seed=seed, difficulty="easy")).solve for seed in range(40)}
        assert len(solutions) >= 30, fam.name


@pytest.mark.parametrize("name", ["envs.toml", "heldout.toml", "eval.toml", "sft.toml", "dmpo.toml"])
def test_loop_pipeline_files_parse(name: str) -> None:
    from litecore.pipeline import resolve_plugins
    from litecore.plugins import PluginManager

    loop = load_loop()
    cfg = loop.pipeline_config(name, {})
    resolve_plugins(cfg, PluginManager().load(warn=False))  # every plugin and option resolves


@pytest.mark.slow
def test_short_loop_sft_beats_untrained_on_heldout(tmp_path: Path) -> None:
    loop = load_loop()
    results = loop.run_loop(tmp_path / "loop", loop.PRESETS["short"])
    ev = results["eval"]
    data = results["data"]
    assert data["train_envs_proven"] == data["train_envs_generated"] > 0
    assert data["heldout_envs_proven"] == ev["untrained"]["tasks"] > 0
    # the held-out set is mostly instances no training task has
    assert data["heldout_novel"] >= 0.8 * data["heldout_envs_proven"]
    assert ev["untrained"]["pass_at_1"] == 0.0
    assert ev["sft"]["pass_at_1"] > ev["untrained"]["pass_at_1"]
    assert ev["sft"]["novel_pass_at_1"] > 0.0
    assert results["sft_train"]["loss"] < 0.2 * results["sft_train"]["first_loss"]
    # DMPO ran on pairs of the SFT model's own sampled rollouts and produced a model that was evaluated
    ro = results["dmpo_rollouts"]
    settings = loop.PRESETS["short"]
    acting = min(settings.dmpo_envs or data["train_envs_proven"], data["train_envs_proven"])
    assert ro["episodes"] == settings.attempts * acting
    assert ro["pairs"]["pairs"] > 0 and results["dmpo_train"]["steps"] > 0
    assert ev["dmpo"]["episodes"] == ev["sft"]["episodes"]
    saved = json.loads((tmp_path / "loop" / "results.json").read_text())
    assert saved["eval"]["sft"]["pass_at_1"] == ev["sft"]["pass_at_1"]
    assert "Held-out pass@1" in (tmp_path / "loop" / "results.md").read_text()
