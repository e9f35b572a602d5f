"""ATIF export, validated against litecore/data/atif.schema.json."""

from __future__ import annotations

import pytest

from litecore.rollout import OraclePolicy, run_episode
from litecore.trajectory import atif_schema, to_atif
from litecore.verify import HarborVerifier

jsonschema = pytest.importorskip("jsonschema")


def validator():
    schema = atif_schema()
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def test_oracle_trajectory_exports_valid_atif(ds_tasks, local_backend) -> None:
    with local_backend.open(ds_tasks[0]) as sandbox:
        traj = run_episode(ds_tasks[0], sandbox, OraclePolicy(), HarborVerifier())
    doc = traj.to_atif()
    validator().validate(doc)
    assert doc["schema_version"] == "ATIF-v1.4" and doc["session_id"] == traj.id
    assert doc["steps"][0]["source"] == "user" and doc["steps"][0]["message"] == traj.prompt
    agent_steps = doc["steps"][1:]
    assert len(agent_steps) == len(traj.steps)
    first = agent_steps[0]
    assert first["tool_calls"][0]["function_name"] == "send_keystrokes"
    assert first["observation"]["results"][0]["source_call_id"] == first["tool_calls"][-1]["tool_call_id"]
    assert agent_steps[-1]["tool_calls"][-1]["function_name"] == "mark_task_complete"
    assert doc["final_metrics"]["extra"]["passed"] is True
    assert [s["step_id"] for s in doc["steps"]] == list(range(1, len(doc["steps"]) + 1))


def test_malformed_steps_and_metrics_validate(make_traj) -> None:
    doc = to_atif(make_traj("t", keys=("ls\n", None)))
    validator().validate(doc)
    bad = doc["steps"][2]
    assert "tool_calls" not in bad and bad["extra"]["note"] == "no JSON object"
    assert doc["final_metrics"]["total_prompt_tokens"] == 10 + 30  # the malformed step has none
    assert doc["final_metrics"]["total_cost_usd"] == pytest.approx(0.002)


def test_schema_rejects_what_it_should(make_traj) -> None:
    v = validator()
    doc = to_atif(make_traj("t"))
    for broken in (
        {**doc, "schema_version": "1.4"},
        {**doc, "steps": []},
        {**doc, "agent": {"name": "x"}},
        {**doc, "steps": [{**doc["steps"][0], "source": "tool"}]},
        {**doc, "steps": [{**doc["steps"][1], "metrics": {"prompt_tokens": -1}}]},
        {**doc, "unknown": 1},
    ):
        with pytest.raises(jsonschema.ValidationError):
            v.validate(broken)
