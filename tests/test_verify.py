"""Verification is tamper-proof and follows Harbor's reward convention."""

from __future__ import annotations

import pytest

from litecore.testing import make_task
from litecore.verify import (
    HarborVerifier,
    parse_reward,
    pytest_args_of,
    standard_pytest_args,
    standard_test_sh,
    validate_task,
)

CHEATS = {
    "writes reward.txt": "mkdir -p /logs/verifier; echo 1 > /logs/verifier/reward.txt",
    "writes reward.json": "mkdir -p /logs/verifier; echo '{\"reward\": 1}' > /logs/verifier/reward.json",
    "daemon rewrites reward": (
        "setsid bash -c 'while true; do mkdir -p /logs/verifier; echo 1 > /logs/verifier/reward.txt; "
        "echo \"{\\\"reward\\\": 1}\" > /logs/verifier/reward.json; sleep 0.01; done' "
        ">/dev/null 2>&1 < /dev/null &"
    ),
    "edits /tests": (
        "mkdir -p /tests; printf 'def test_answer():\\n    pass\\n' > /tests/test_outputs.py; "
        "printf '#!/bin/bash\\necho 1 > /logs/verifier/reward.txt\\n' > /tests/test.sh"
    ),
    "symlinks /logs/verifier": "rm -rf /logs/verifier; mkdir -p /app/fake; echo 1 > /app/fake/reward.txt; "
                               "ln -s /app/fake /logs/verifier",
    "shadows pytest": "printf 'import sys\\nsys.exit(0)\\n' > /app/pytest.py; mkdir -p /root/.local/lib/python3.11/"
                      "site-packages; echo 'import os' > /root/.local/lib/python3.11/site-packages/x.pth",
}


@pytest.mark.parametrize("name", sorted(CHEATS))
def test_cheating_agents_earn_nothing(local_backend, answer_task, name):
    verifier = HarborVerifier()
    with local_backend.open(answer_task) as sb:
        sb.exec(CHEATS[name], timeout=10)
        result = verifier.verify(answer_task, sb)
    assert result.reward == 0.0, (name, result)


def test_the_real_solution_still_passes_after_a_cheat(local_backend, answer_task):
    with local_backend.open(answer_task) as sb:
        sb.exec(CHEATS["daemon rewrites reward"] + "\necho 42 > /app/answer.txt", timeout=10)
        result = HarborVerifier().verify(answer_task, sb)
    assert result.reward == 1.0 and result.rewards["fraction_passed"] == 1.0


def test_partial_credit_is_kept(local_backend, tmp_path):
    tests = ("import pathlib\n\ndef test_one():\n    assert pathlib.Path('/app/a').exists()\n\n"
             "def test_two():\n    assert pathlib.Path('/app/b').exists()\n")
    task = make_task(tmp_path, tests=tests)
    with local_backend.open(task) as sb:
        sb.exec("touch /app/a", timeout=5)
        r = HarborVerifier().verify(task, sb)
    assert r.reward == 0.0 and r.partial == 0.5
    assert r.rewards["test:test_one"] == 1.0 and r.rewards["test:test_two"] == 0.0


def test_missing_reward_is_an_error_not_zero(local_backend, tmp_path):
    task = make_task(tmp_path)
    (task.tests_dir / "test.sh").write_text("#!/bin/bash\necho no reward here\n")
    with local_backend.open(task) as sb:
        r = HarborVerifier().verify(task, sb)
    assert r.reward is None and "no reward" in r.error


def test_verifier_timeout_is_an_error(local_backend, tmp_path):
    task = make_task(tmp_path, toml_extra={"verifier": {"timeout_sec": 1.0}})
    (task.tests_dir / "test.sh").write_text("#!/bin/bash\nsleep 30\necho 1 > /logs/verifier/reward.txt\n")
    with local_backend.open(task) as sb:
        r = HarborVerifier().verify(task, sb)
    assert r.reward is None and "timed out" in r.error


@pytest.mark.parametrize(
    "json_bytes, txt, reward, error",
    [
        (b'{"reward": 1, "x": 0.5}', None, 1.0, None),
        (None, b"0.25\n", 0.25, None),
        (b"{not json", b"1", None, "not valid JSON"),
        (b'{"reward": "yes"}', None, None, "not a finite number"),
        (b"[]", None, None, "non-empty flat object"),
        (None, b"lots", None, "does not hold a number"),
        (None, None, None, "wrote no reward"),
        (b'{"reward": 1}', b"0", 1.0, None),  # json first, as Harbor does
    ],
)
def test_parse_reward(json_bytes, txt, reward, error):
    got, _, err = parse_reward(json_bytes, txt)
    assert got == reward
    assert (err is None) == (error is None) and (error is None or error in err)


def test_gate_accepts_a_proven_task_and_rejects_broken_ones(local_backend, tmp_path):
    good = make_task(tmp_path, "good")
    assert validate_task(good, local_backend, HarborVerifier()).ok
    unsolvable = make_task(tmp_path, "bad-solution", solve="echo 41 > /app/answer.txt\n")
    v = validate_task(unsolvable, local_backend, HarborVerifier())
    assert not v.ok and v.reason.startswith("oracle#1: reward 0")
    always = make_task(tmp_path, "always-passes", tests="def test_nothing():\n    assert True\n")
    v = validate_task(always, local_backend, HarborVerifier())
    assert not v.ok and v.reason.startswith("noop#1: reward 1")
    attack = validate_task(good, local_backend, HarborVerifier(), attacks={"constant": "echo 42 > /app/answer.txt"})
    assert not attack.ok and "attack:constant" in attack.reason


def test_any_version_of_the_standard_runner_is_recognised_and_nothing_else():
    std = standard_test_sh()
    older = std.replace("-q --tb=native ", "-q ").replace("# plugins", "# an older comment\n# plugins")
    assert pytest_args_of(std) == standard_pytest_args() and "--tb=native" in standard_pytest_args()
    assert pytest_args_of(older) == tuple(a for a in standard_pytest_args() if a != "--tb=native")
    changed = [std + "echo more\n", std.replace("test_outputs.py", "$TESTS"), std.replace("test_outputs.py", "t*.py"),
               std.replace("| tee", "| cat >"), std.replace("cd /tests", "cd /app"), std.replace("-q ", "-q; true ")]
    for text in changed:
        assert pytest_args_of(text) is None, text
