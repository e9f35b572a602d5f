"""The local Hugging Face policy with a tiny random model built offline."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from litecore.rollout import run_episode
from litecore.task import Task
from litecore.testing import generate, materialize
from litecore.verify import HarborVerifier
from litecore_agent_hf import HFConfig, HFPolicy, litecore_policies

tiny = pytest.importorskip("litecore_trainer_sft.tiny")


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny.build_tiny_model(tmp_path_factory.mktemp("tiny"), seed=1)


@pytest.fixture(scope="module")
def policy(tiny_model: Path):
    p = HFPolicy(HFConfig(model=str(tiny_model), device="cpu", max_new_tokens=8, batch_size=4,
                          batch_wait_ms=200, context_window=1024))
    yield p
    p.close()


def test_registered(plugin_manager) -> None:
    import litecore_agent_hf

    plugin_manager.register(litecore_agent_hf, "litecore-agent-hf")
    assert plugin_manager.get("policy", "hf").config is HFConfig
    assert [r.name for r in litecore_policies()] == ["hf"]


def test_greedy_is_deterministic_and_uses_the_chat_template(policy: HFPolicy) -> None:
    msgs = [{"role": "user", "content": "list the files"}]
    a, _ = policy.generate(msgs)
    b, _ = policy.generate(msgs)
    assert a.text == b.text
    templated = policy.tokenizer.apply_chat_template(msgs, add_generation_prompt=True, tokenize=True)
    ids = templated["input_ids"] if hasattr(templated, "keys") else templated
    assert a.prompt_tokens == len(ids)
    assert 0 < a.completion_tokens <= 8 + 1


def test_concurrent_requests_are_batched(policy: HFPolicy) -> None:
    before = len(policy.batch_sizes)
    results: dict[int, str] = {}

    def one(i: int) -> None:
        results[i] = policy.generate([{"role": "user", "content": f"task {i} " * (i + 1)}])[0].text

    threads = [threading.Thread(target=one, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 4
    assert max(policy.batch_sizes[before:]) >= 2  # several episodes shared one generate call
    # left padding keeps each continuation identical to generating it alone
    alone, _ = policy.generate([{"role": "user", "content": "task 2 " * 3}])
    assert alone.text == results[2]


def test_long_conversations_are_fitted(policy: HFPolicy) -> None:
    msgs = [{"role": "user", "content": "task"}]
    for i in range(6):
        msgs += [{"role": "assistant", "content": "{}"}, {"role": "user", "content": f"output {i} " * 120}]
    gen, note = policy.generate(msgs)
    assert note is not None and "elided" in note
    assert gen.prompt_tokens <= 1024 - 8


def test_an_episode_records_malformed_replies(policy: HFPolicy, local_backend, tmp_path: Path) -> None:
    from litecore_plugin_data_science import domain

    task: Task = materialize(generate(domain(), "csv-groupby", 2, "easy"), tmp_path)
    with local_backend.open(task) as sandbox:
        traj = run_episode(task, sandbox, policy, HarborVerifier(), max_turns=2)
    # random weights never answer valid JSON: each turn is recorded with its error and tokens
    assert len(traj.steps) == 2 and traj.error == "agent used all 2 turns"
    assert all(s.action is None and s.note and s.prompt_tokens > 0 for s in traj.steps)
    assert traj.reward.reward == 0.0
