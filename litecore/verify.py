"""Verification (Harbor's reward convention, tamper-proof) and the validation gate.

The verifier never trusts what the agent left: it kills every agent process,
recreates ``/logs/verifier``, copies ``tests/`` in fresh, runs ``/tests/test.sh``
and reads only the reward the tests wrote (``reward.json`` first, else
``reward.txt``). A missing or unparsable reward is an *error*, not a zero.

The gate (:func:`validate_task`) is what every emitted environment passes: the
reference solution earns 1, doing nothing earns 0, any extra "attack" solution
earns 0, and the same again on every repeat.
"""

from __future__ import annotations

import functools
import json
import math
import re
import shlex
import time
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Protocol

import attrs

from litecore.sandbox import SOLUTION_DIR, TESTS_DIR, VERIFIER_LOGS, ExecResult, Sandbox, SandboxBackend
from litecore.task import Task


@attrs.frozen(kw_only=True)
class VerifyResult:
    """The verifier's verdict. ``reward`` is None when verification itself failed."""

    reward: float | None
    rewards: Mapping[str, float] = attrs.field(factory=dict)
    error: str | None = None
    output: str = ""
    duration_s: float = 0.0

    @property
    def passed(self) -> bool:
        return self.reward is not None and self.reward >= 1.0

    @property
    def partial(self) -> float:
        """Fraction of tests passed where the tests report it, else the reward."""
        if "fraction_passed" in self.rewards:
            return float(self.rewards["fraction_passed"])
        return float(self.reward or 0.0)


class Verifier(Protocol):
    def verify(self, task: Task, sandbox: Sandbox) -> VerifyResult: ...


def parse_reward(json_bytes: bytes | None, txt_bytes: bytes | None) -> tuple[float | None, dict[str, float], str | None]:
    """Harbor's rule: reward.json (flat dict of numbers) first, else reward.txt (one float)."""
    if json_bytes is not None:
        try:
            data = json.loads(json_bytes)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            return None, {}, f"reward.json is not valid JSON: {exc}"
        if not isinstance(data, dict) or not data:
            return None, {}, "reward.json must be a non-empty flat object of numbers"
        rewards: dict[str, float] = {}
        for k, v in data.items():
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                return None, {}, f"reward.json: {k!r} is not a finite number"
            rewards[str(k)] = float(v)
        reward = rewards.get("reward")
        if reward is None:
            reward = next(iter(rewards.values()))
        return reward, rewards, None
    if txt_bytes is not None:
        text = txt_bytes.decode("utf-8", "replace").strip()
        try:
            value = float(text)
        except ValueError:
            return None, {}, f"reward.txt does not hold a number: {text[:60]!r}"
        if not math.isfinite(value):
            return None, {}, "reward.txt is not finite"
        return value, {"reward": value}, None
    return None, {}, "the tests wrote no reward (neither reward.json nor reward.txt)"


@functools.cache
def standard_test_sh() -> str:
    """litecore's ``tests/test.sh``: runs the hidden tests with pytest; conftest.py writes the reward."""
    return (resources.files("litecore") / "data" / "test.sh").read_text()


PYTEST_COMMAND = "python3 -I -m pytest "
PYTEST_TEE = f" 2>&1 | tee {VERIFIER_LOGS}/pytest.log"
#: Characters that would make bash do more than split words (expansion, quoting, redirection...).
_SHELL_SPECIAL = re.compile(r"""[$`*?\[\]{}~;&|<>()!\\"'#]""")


def _commands(test_sh: str) -> list[str]:
    """A script's command lines: continuations joined, blank and comment lines dropped."""
    joined = test_sh.replace("\\\n", " ")
    return [ln.strip() for ln in joined.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]


@functools.cache
def _standard_commands() -> tuple[str, ...]:
    return tuple(_commands(standard_test_sh()))


def pytest_args_of(test_sh: str) -> tuple[str, ...] | None:
    """The pytest arguments if ``test_sh`` is litecore's standard runner, else None.

    Any version of it counts (datasets made by older litecore): the commands must be the
    standard ones, and only the pytest command's arguments (plain words) and comments may differ.
    """
    ours, theirs = _standard_commands(), _commands(test_sh)
    if len(ours) != len(theirs):
        return None
    args: tuple[str, ...] | None = None
    for standard, line in zip(ours, theirs):
        if standard.startswith(PYTEST_COMMAND):
            if not (line.startswith(PYTEST_COMMAND) and line.endswith(PYTEST_TEE)):
                return None
            words = line[len(PYTEST_COMMAND):-len(PYTEST_TEE)]
            if _SHELL_SPECIAL.search(words):
                return None
            args = tuple(shlex.split(words))
        elif line != standard:
            return None
    return args


def standard_pytest_args() -> tuple[str, ...]:
    """The arguments of the standard ``test.sh``'s one pytest command."""
    args = pytest_args_of(standard_test_sh())
    if args is None:
        raise AssertionError(f"litecore/data/test.sh: its pytest command must read `{PYTEST_COMMAND}ARGS{PYTEST_TEE}`")
    return args


class HarborVerifier:
    """Runs tests/test.sh in the sandbox after removing every trace of the agent."""

    def verify(self, task: Task, sandbox: Sandbox) -> VerifyResult:
        start = time.monotonic()
        sandbox.kill_agent_processes()
        # the working folder is recreated if the agent deleted it: tests run from there (as in Harbor)
        reset = sandbox.exec(f"rm -rf {VERIFIER_LOGS} && mkdir -p {VERIFIER_LOGS} {shlex.quote(sandbox.workdir)}",
                             timeout=60, cwd="/")
        if not reset.ok:
            return VerifyResult(reward=None, error=f"could not reset {VERIFIER_LOGS}: {reset.output[-200:]}",
                                duration_s=time.monotonic() - start)
        sandbox.upload(task.tests_dir, TESTS_DIR)  # replaces whatever the agent left there
        run = None
        args = pytest_args_of((task.tests_dir / "test.sh").read_text(errors="replace"))
        if args is not None:
            # litecore's own runner: the backend may run the same pytest command without its start-up
            run = sandbox.run_pytest(args, cwd=TESTS_DIR,
                                     env={**task.verifier_env, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"},
                                     log=f"{VERIFIER_LOGS}/pytest.log", timeout=task.verifier_timeout_sec)
        if run is None:
            run = sandbox.exec(
                f"bash {TESTS_DIR}/test.sh",
                timeout=task.verifier_timeout_sec,
                cwd=sandbox.workdir,
                env=task.verifier_env,
            )
        # a test run may leave processes too; nothing may touch the reward after this point
        if run.timed_out:
            return VerifyResult(reward=None, error=f"tests timed out after {task.verifier_timeout_sec:.0f}s",
                                output=run.output[-4000:], duration_s=time.monotonic() - start)
        reward, rewards, error = parse_reward(
            sandbox.read_file(f"{VERIFIER_LOGS}/reward.json"), sandbox.read_file(f"{VERIFIER_LOGS}/reward.txt")
        )
        return VerifyResult(reward=reward, rewards=rewards, error=error, output=run.output[-4000:],
                            duration_s=time.monotonic() - start)


def run_solution(sandbox: Sandbox, task: Task, script: str | None = None) -> ExecResult:
    """Run the reference solution (or another script, e.g. an attack) the way Harbor's oracle does."""
    if script is None:
        sandbox.upload(task.solution_dir, SOLUTION_DIR)
        command = f"bash {SOLUTION_DIR}/solve.sh"
    else:
        command = script
    env = {str(k): str(v) for k, v in task.config.get("solution", {}).get("env", {}).items()}
    return sandbox.exec(command, timeout=task.agent_timeout_sec, env=env)


@attrs.frozen(kw_only=True)
class Check:
    """One trial of the gate: who acted, what reward was expected, what came out."""

    name: str
    expected: float
    reward: float | None
    error: str | None = None
    #: Wall time of the whole trial; of it, the actor (reference solution or script) and the verifier.
    #: The rest is the sandbox's start and stop.
    duration_s: float = 0.0
    solution_s: float = 0.0
    verify_s: float = 0.0

    @property
    def ok(self) -> bool:
        if self.reward is None:
            return False
        return self.reward >= 1.0 if self.expected >= 1.0 else self.reward <= 0.0


@attrs.frozen(kw_only=True)
class Validation:
    task_id: str
    checks: tuple[Check, ...]
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and bool(self.checks) and all(c.ok for c in self.checks)

    @property
    def reason(self) -> str:
        if self.error:
            return self.error
        bad = [c for c in self.checks if not c.ok]
        if not bad:
            return "ok"
        c = bad[0]
        if c.reward is None:
            return f"{c.name}: verifier error: {c.error}"
        return f"{c.name}: reward {c.reward:g}, expected {c.expected:g}"


def run_check(task: Task, backend: SandboxBackend, verifier: Verifier, name: str,
              script: str | None | bool, expected: float) -> Check:
    """One trial: fresh sandbox, act (``True`` = reference solution, ``None`` = nothing), verify."""
    start = time.monotonic()
    with backend.open(task) as sandbox:
        acted = time.monotonic()
        if script is True:
            run_solution(sandbox, task)
        elif isinstance(script, str):
            run_solution(sandbox, task, script)
        verifying = time.monotonic()
        result = verifier.verify(task, sandbox)
        verified = time.monotonic()
    return Check(name=name, expected=expected, reward=result.reward, error=result.error,
                 duration_s=time.monotonic() - start, solution_s=verifying - acted, verify_s=verified - verifying)


def validate_task(
    task: Task,
    backend: SandboxBackend,
    verifier: Verifier,
    *,
    repeats: int = 2,
    attacks: Mapping[str, str] | None = None,
) -> Validation:
    """The gate: oracle 1, noop 0, attacks 0, ``repeats`` times each; stops at the first failure."""
    from litecore.errors import LitecoreError

    plan: list[tuple[str, str | bool | None, float]] = []
    for r in range(1, repeats + 1):
        plan.append((f"oracle#{r}", True, 1.0))
        plan.append((f"noop#{r}", None, 0.0))
    for name, script in (attacks or {}).items():
        plan.append((f"attack:{name}", script, 0.0))
    checks: list[Check] = []
    try:
        backend.prepare(task)
        for name, script, expected in plan:
            check = run_check(task, backend, verifier, name, script, expected)
            checks.append(check)
            if not check.ok:
                break
    except LitecoreError as exc:
        return Validation(task_id=task.id, checks=tuple(checks), error=str(exc))
    return Validation(task_id=task.id, checks=tuple(checks))


def validation_to_dict(v: Validation) -> dict:
    return {
        "task_id": v.task_id,
        "ok": v.ok,
        "reason": v.reason,
        "checks": [attrs.asdict(c) | {"ok": c.ok} for c in v.checks],
    }


def summarize(validations: Sequence[Validation]) -> dict:
    return {
        "tasks": len(validations),
        "passed": sum(v.ok for v in validations),
        "failed": [v.task_id for v in validations if not v.ok],
    }


def read_solution(task: Task) -> str:
    return Path(task.solve_script).read_text()
