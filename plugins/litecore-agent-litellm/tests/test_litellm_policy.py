"""The litellm policy against a scripted OpenAI-compatible server on loopback.

litellm's real HTTP path runs in every test (nothing is patched); the server
decides what the "model" says, when it fails and how long it takes.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from litecore.llmserver import Delay, HTTPFault, ScriptedLLM
from litecore.rollout import run_episode, split_solution
from litecore.task import Task
from litecore.terminal import tmux_terminal
from litecore.testing import generate, materialize
from litecore.trajectory import Action, Command
from litecore.verify import HarborVerifier
from litecore.llm import model_gate
from litecore_agent_litellm import LiteLLMConfig, LiteLLMPolicy, PolicyError, litecore_policies
from litecore_plugin_data_science import domain


@pytest.fixture(scope="module")
def ds_task(tmp_path_factory: pytest.TempPathFactory) -> Task:
    gen = generate(domain(), "csv-groupby", 5, "easy")
    return materialize(gen, tmp_path_factory.mktemp("tasks"))


def solving_replies(task: Task) -> list[str]:
    """The reference solution as Terminus-2 replies, then task_complete."""
    replies = []
    for block in split_solution(task.solve_script.read_text()):
        a = Action(analysis="next step", plan=block.plan,
                   commands=(Command(keystrokes=block.code + "\n", duration=5.0),))
        replies.append(a.to_json())
    replies.append(Action(analysis="done", plan="finish", task_complete=True).to_json())
    return replies


def policy(llm: ScriptedLLM, **kw) -> LiteLLMPolicy:
    cfg = dict(model=f"openai/scripted-{id(llm)}", api_base=llm.url, api_key_env="LITECORE_TEST_KEY",
               backoff_s=0.01, backoff_max_s=0.05, max_tokens=256, context_window=32768, max_retries=3)
    cfg.update(kw)
    return LiteLLMPolicy(LiteLLMConfig(**cfg))


@pytest.fixture(autouse=True)
def _api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LITECORE_TEST_KEY", "sk-test")


def test_registers_as_policy_plugin(plugin_manager) -> None:
    import litecore_agent_litellm

    plugin_manager.register(litecore_agent_litellm, "litecore-agent-litellm")
    rec = plugin_manager.get("policy", "litellm")
    assert rec.config is LiteLLMConfig
    assert isinstance(rec.factory(LiteLLMConfig(model="openai/x")), LiteLLMPolicy)
    assert [r.name for r in litecore_policies()] == ["litellm"]


def test_solves_a_generated_task_in_tmux(ds_task: Task, local_backend) -> None:
    replies = solving_replies(ds_task)
    # the first reply arrives fenced and preceded by prose: parsed leniently
    replies[0] = "Sure, here is my plan.\n```json\n" + replies[0] + "\n```"
    with ScriptedLLM(replies) as llm, local_backend.open(ds_task) as sandbox:
        traj = run_episode(ds_task, sandbox, policy(llm), HarborVerifier(), terminal_factory=tmux_terminal)
    assert traj.error is None, traj.error
    assert traj.passed, traj.reward
    assert len(traj.steps) == len(replies) == len(llm.requests)
    assert all(s.action is not None for s in traj.steps)
    assert "text around the JSON object was ignored" in (traj.steps[0].note or "")
    assert all(s.prompt_tokens > 0 and s.completion_tokens > 0 for s in traj.steps)
    assert traj.steps[-1].action.task_complete
    # the conversation grows: each request carries every earlier reply and observation
    assert [len(r["messages"]) for r in llm.requests] == [1 + 2 * i for i in range(len(replies))]
    assert "head -5" in traj.steps[1].observation or "region" in traj.steps[1].observation


def test_malformed_reply_gets_an_error_observation_and_a_retry(ds_task: Task, local_backend) -> None:
    replies = ["I would first look at the files.", *solving_replies(ds_task)]
    with ScriptedLLM(replies) as llm, local_backend.open(ds_task) as sandbox:
        traj = run_episode(ds_task, sandbox, policy(llm), HarborVerifier())
    first = traj.steps[0]
    assert first.action is None and "no JSON object" in (first.note or "")
    assert "could not be used" in first.observation
    # the model saw the error as the next user message, then recovered
    assert llm.requests[1]["messages"][-1]["content"] == first.observation
    assert traj.passed


def test_transient_500_and_429_are_retried(ds_task: Task, local_backend) -> None:
    replies = solving_replies(ds_task)
    script = [HTTPFault(500), HTTPFault(503), HTTPFault(429), *replies]
    with ScriptedLLM(script) as llm, local_backend.open(ds_task) as sandbox:
        traj = run_episode(ds_task, sandbox, policy(llm, max_retries=3), HarborVerifier())
    assert traj.passed and traj.error is None
    assert "3 transient API error(s) retried" in (traj.steps[0].note or "")
    assert len(llm.requests) == len(replies) + 3


def test_non_transient_error_is_not_retried() -> None:
    with ScriptedLLM([HTTPFault(400, "bad request"), "unused"]) as llm:
        with pytest.raises(PolicyError, match="non-transient"):
            policy(llm).complete([{"role": "user", "content": "hi"}])
        assert len(llm.requests) == 1


def test_timeout_is_retried_then_succeeds() -> None:
    ok = Action(analysis="a", plan="p", task_complete=True).to_json()
    with ScriptedLLM([ok, Delay(1.5, ok), ok]) as llm:
        p = policy(llm, request_timeout_s=0.3)
        p.complete([{"role": "user", "content": "warm up"}])  # one-time client and tokenizer setup
        t0 = time.monotonic()
        done = p.complete([{"role": "user", "content": "hi"}])
        elapsed = time.monotonic() - t0
    assert done.retries == 1 and done.text == ok
    assert elapsed < 1.2  # did not wait for the slow reply
    assert len(llm.requests) == 3


def test_timeouts_exhausting_retries_end_the_episode_with_an_error(ds_task: Task, local_backend) -> None:
    with ScriptedLLM([Delay(1.0, "late")], repeat_last=True) as llm, local_backend.open(ds_task) as sandbox:
        traj = run_episode(ds_task, sandbox, policy(llm, request_timeout_s=0.2, max_retries=1), HarborVerifier())
    assert traj.error is not None and "Timeout" in traj.error and "policy failed" in traj.error
    assert not traj.passed and traj.steps == ()
    assert len(llm.requests) == 2


def _big_output_replies(n: int) -> list[str]:
    cmd = Action(analysis="a", plan="print a lot",
                 commands=(Command(keystrokes="seq 100000 103000\n", duration=2.0),)).to_json()
    return [cmd] * n + [Action(analysis="done", plan="", task_complete=True).to_json()]


def test_context_window_kept_by_eliding_old_observations(ds_task: Task, local_backend) -> None:
    window, max_tokens = 4000, 200
    with ScriptedLLM(_big_output_replies(4)) as llm, local_backend.open(ds_task) as sandbox:
        traj = run_episode(ds_task, sandbox, policy(llm, context_window=window, max_tokens=max_tokens),
                           HarborVerifier())
    assert traj.error is None
    notes = [s.note or "" for s in traj.steps]
    assert any("earlier observation(s) elided" in n for n in notes), notes
    assert any("latest observation cut" in n for n in notes), notes
    from litecore.llmserver import prompt_tokens

    # the server's own (cruder) count stays within the window for every request
    assert max(prompt_tokens(r["messages"]) for r in llm.requests) <= window
    # the trajectory itself keeps the full observations
    assert all(len(s.observation) > 20000 for s in traj.steps[:4])


def test_context_overflow_reported_by_the_server_is_recovered(ds_task: Task, local_backend) -> None:
    # the config believes in a huge window; the server knows better and answers 400
    with ScriptedLLM(_big_output_replies(3), context_window=6000) as llm, local_backend.open(ds_task) as sandbox:
        traj = run_episode(ds_task, sandbox, policy(llm, context_window=1_000_000), HarborVerifier())
    assert traj.error is None, traj.error
    assert any("server rejected the prompt" in (s.note or "") for s in traj.steps)
    assert traj.steps[-1].action.task_complete


def test_cost_per_step_known_and_unknown_models() -> None:
    ok = Action(analysis="a", plan="p", task_complete=True).to_json()
    with ScriptedLLM([ok, ok]) as llm:
        priced = policy(llm, model="openai/gpt-4o-mini").complete([{"role": "user", "content": "hello " * 50}])
        unknown = policy(llm).complete([{"role": "user", "content": "hello " * 50}])
    import litellm

    info = litellm.get_model_info("gpt-4o-mini")
    expected = priced.prompt_tokens * info["input_cost_per_token"] + priced.completion_tokens * info["output_cost_per_token"]
    assert priced.cost_usd == pytest.approx(expected, rel=1e-6) and priced.cost_usd > 0
    assert unknown.cost_usd == 0.0
    assert unknown.prompt_tokens == priced.prompt_tokens > 50


def test_cost_override_for_self_hosted_models() -> None:
    ok = Action(analysis="a", plan="p", task_complete=True).to_json()
    with ScriptedLLM([ok]) as llm:
        done = policy(llm, input_cost_per_mtok=1.0, output_cost_per_mtok=2.0).complete(
            [{"role": "user", "content": "x" * 400}])
    assert done.cost_usd == pytest.approx((done.prompt_tokens * 1.0 + done.completion_tokens * 2.0) / 1e6)


def test_concurrency_is_limited_per_model() -> None:
    ok = Action(analysis="a", plan="p", task_complete=True).to_json()
    lock = threading.Lock()
    state = {"now": 0, "peak": 0}

    def script(body, index):
        with lock:
            state["now"] += 1
            state["peak"] = max(state["peak"], state["now"])
        time.sleep(0.15)
        with lock:
            state["now"] -= 1
        return ok

    with ScriptedLLM(script) as llm:
        model = f"openai/gated-{time.monotonic_ns()}"
        policies = [policy(llm, model=model, concurrency=2) for _ in range(2)]  # two policies, one model
        threads = [threading.Thread(target=policies[i % 2].complete, args=([{"role": "user", "content": "x"}],))
                   for i in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(llm.requests) == 6
    assert state["peak"] == 2
    assert model_gate(model, 99)._initial_value == 2  # type: ignore[attr-defined]


def test_missing_api_key_env_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LITECORE_TEST_KEY")
    with ScriptedLLM(["x"]) as llm:
        with pytest.raises(PolicyError, match="LITECORE_TEST_KEY"):
            policy(llm).complete([{"role": "user", "content": "hi"}])


def test_trajectory_round_trips_and_exports(ds_task: Task, local_backend, tmp_path: Path) -> None:
    from litecore.trajectory import dumps, loads_many

    with ScriptedLLM(solving_replies(ds_task)) as llm, local_backend.open(ds_task) as sandbox:
        traj = run_episode(ds_task, sandbox, policy(llm), HarborVerifier())
    again = loads_many([dumps(traj)])[0]
    assert again == traj
    assert json.loads(traj.steps[0].reply)["commands"]
