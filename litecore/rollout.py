"""Running agents in sandboxes: the episode loop and the rollout engine.

A :class:`Policy` starts an :class:`Agent` per episode; the agent answers each
observation with a Terminus-2 reply; the loop executes the reply's keystrokes in
a :class:`Terminal`, records a :class:`~litecore.trajectory.Step`, and finally
asks the verifier for the reward. :func:`rollout` runs N attempts per task with
bounded concurrency and stores each trajectory atomically, so a rerun resumes.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Protocol

import attrs

from litecore.errors import SandboxUnavailable
from litecore.sandbox import Sandbox, SandboxBackend, Session
from litecore.task import Task
from litecore.trajectory import (
    PROMPT_TEMPLATE,
    Action,
    Command,
    CommandResult,
    RewardRecord,
    Step,
    Trajectory,
    dumps,
    loads_many,
    observation_text,
)
from litecore.verify import Verifier


@attrs.frozen(kw_only=True)
class AgentReply:
    """What an agent produced for one observation."""

    reply: str
    action: Action | None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    note: str | None = None


class Agent(Protocol):
    def act(self, observation: str) -> AgentReply: ...


class Policy(Protocol):
    """What a policy plugin's factory returns."""

    name: str
    model: str

    def start(self, task: Task, sandbox: Sandbox) -> Agent: ...


class Terminal(Protocol):
    """Where an agent's keystrokes go."""

    def screen(self) -> str: ...

    def send(self, keystrokes: str, duration: float, budget: float) -> tuple[str, CommandResult]: ...

    def close(self) -> None: ...


class SessionTerminal:
    """Line mode over a persistent shell: each keystroke batch is run as shell input and
    waited for until it completes (bounded by the episode's remaining budget)."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self._session: Session = sandbox.session()

    def screen(self) -> str:
        return f"root@sandbox:{self.sandbox.workdir}# "

    def send(self, keystrokes: str, duration: float, budget: float) -> tuple[str, CommandResult]:
        command = keystrokes[:-1] if keystrokes.endswith("\n") else keystrokes
        if not command.strip():
            return "", CommandResult(exit_code=0, timed_out=False, duration_s=0.0)
        res = self._session.run(command, timeout=max(0.1, budget))
        lines = command.splitlines() or [""]
        echo = f"$ {lines[0]}\n" + "".join(f"> {line}\n" for line in lines[1:])
        out = echo + res.output
        if res.timed_out:
            out += "[command interrupted: the time budget ran out]\n"
        return out, CommandResult(exit_code=res.exit_code, timed_out=res.timed_out, duration_s=res.duration_s)

    def close(self) -> None:
        self._session.close()


TerminalFactory = Callable[[Sandbox], Terminal]


def run_episode(
    task: Task,
    sandbox: Sandbox,
    policy: Policy,
    verifier: Verifier,
    *,
    attempt: int = 0,
    max_turns: int = 100,
    terminal_factory: TerminalFactory = SessionTerminal,
) -> Trajectory:
    """One agent episode in an open sandbox, then verification."""
    started_at = time.time()
    t0 = time.monotonic()
    deadline = t0 + task.agent_timeout_sec
    steps: list[Step] = []
    error: str | None = None
    agent = policy.start(task, sandbox)
    terminal: Terminal | None = None
    prompt = PROMPT_TEMPLATE.format(instruction=task.instruction, screen="")
    try:
        terminal = terminal_factory(sandbox)
        prompt = PROMPT_TEMPLATE.format(instruction=task.instruction, screen=terminal.screen())
        error = _agent_turns(agent, terminal, prompt, steps, max_turns=max_turns, deadline=deadline,
                             started_at=started_at, t0=t0, timeout_s=task.agent_timeout_sec)
    except SandboxUnavailable:
        raise
    except Exception as exc:  # a broken policy ends its episode, not the run
        what = "policy failed" if terminal is not None else "terminal failed to start"  # e.g. sandbox killed
        error = f"{what}: {type(exc).__name__}: {exc}"
    finally:
        if terminal is not None:
            terminal.close()
    result = verifier.verify(task, sandbox)
    return Trajectory(
        id=trajectory_id(task.id, policy.name, attempt),
        task_id=task.id,
        task_name=task.name,
        policy=policy.name,
        model=policy.model,
        attempt=attempt,
        instruction=task.instruction,
        prompt=prompt,
        steps=tuple(steps),
        reward=RewardRecord(reward=result.reward, rewards=dict(result.rewards), error=result.error),
        category=task.category,
        difficulty=task.difficulty,
        started_at=started_at,
        duration_s=time.monotonic() - t0,
        error=error,
    )


def _agent_turns(agent: Agent, terminal: Terminal, prompt: str, steps: list[Step], *, max_turns: int,
                 deadline: float, started_at: float, t0: float, timeout_s: float) -> str | None:
    """The agent's turns, appended to ``steps``; why the episode ended early, or None."""
    observation = prompt
    for index in range(max_turns):
        s0 = time.monotonic()
        reply = agent.act(observation)
        model_s = time.monotonic() - s0
        if reply.action is None:
            observation = (
                "Your previous reply could not be used: "
                f"{reply.note or 'it was not a valid JSON object'}. Answer again with one JSON object."
            )
            steps.append(_step(index, reply, observation, started_at, t0, s0, model_s, ()))
            continue
        outputs: list[str] = []
        results: list[CommandResult] = []
        for cmd in reply.action.commands:
            budget = deadline - time.monotonic()
            if budget <= 0:
                break
            out, res = terminal.send(cmd.keystrokes, cmd.duration, budget)
            outputs.append(out)
            results.append(res)
        observation = observation_text(outputs) if reply.action.commands else ""
        steps.append(_step(index, reply, observation, started_at, t0, s0, model_s, tuple(results)))
        if reply.action.task_complete:
            return None
        if time.monotonic() >= deadline:
            return f"agent timed out after {timeout_s:.0f}s"
    return f"agent used all {max_turns} turns"


def _step(index: int, reply: AgentReply, observation: str, started_at: float, t0: float, s0: float,
          model_s: float, results: tuple[CommandResult, ...]) -> Step:
    return Step(
        index=index,
        reply=reply.reply,
        action=reply.action,
        observation=observation,
        started_at=started_at + (s0 - t0),
        duration_s=time.monotonic() - s0,
        model_s=model_s,
        results=results,
        prompt_tokens=reply.prompt_tokens,
        completion_tokens=reply.completion_tokens,
        cost_usd=reply.cost_usd,
        note=reply.note,
    )


def trajectory_id(task_id: str, policy: str, attempt: int) -> str:
    return f"{task_id}__{re.sub(r'[^A-Za-z0-9_.-]+', '-', policy)}__{attempt}"


# ---------------------------------------------------------------------------
# The oracle's expert trajectory: solve.sh, one block per turn.
# ---------------------------------------------------------------------------


@attrs.frozen
class Block:
    plan: str
    code: str


_SET_ONLY = re.compile(r"^\s*set\s+[-+][a-zA-Z]+(\s+[-+a-zA-Z]+)*\s*$")


def _parses(code: str) -> bool:
    proc = subprocess.run(["bash", "-n"], input=code, capture_output=True, text=True)
    return proc.returncode == 0 and "here-document" not in proc.stderr


def split_solution(script: str) -> list[Block]:
    """Blank-line separated blocks (merged until each parses); leading comments become the plan."""
    lines = script.splitlines()
    if lines and lines[0].startswith("#!"):
        lines = lines[1:]
    raw: list[str] = []
    cur: list[str] = []
    for line in lines + [""]:
        if line.strip():
            cur.append(line)
        elif cur:
            raw.append("\n".join(cur))
            cur = []
    blocks: list[Block] = []
    pending = ""
    for chunk in raw:
        pending = f"{pending}\n\n{chunk}" if pending else chunk
        if not _parses(pending):
            continue
        comment: list[str] = []
        body = pending.splitlines()
        while body and body[0].lstrip().startswith("#"):
            comment.append(body.pop(0).lstrip().lstrip("#").strip())
        code = "\n".join(body).strip("\n")
        pending = ""
        if not code or _SET_ONLY.match(code):
            continue
        blocks.append(Block(plan=" ".join(comment), code=code))
    if pending.strip():
        blocks.append(Block(plan="", code=pending))
    return blocks


def _describe(observation: str) -> str:
    text = observation.removeprefix("New terminal output:\n").strip()
    if not text or text == "(no output)":
        return "The previous command completed without printing anything."
    lines = [ln for ln in text.splitlines() if not ln.startswith("$ ")]
    if not lines:
        return "The previous command completed without printing anything."
    last = lines[-1].strip()[:160]
    return f"The previous command printed {len(lines)} line(s), ending with: {last}"


class OracleAgent:
    def __init__(self, blocks: Sequence[Block], task: Task) -> None:
        self.blocks = list(blocks)
        self.task = task
        self.turn = 0

    def act(self, observation: str) -> AgentReply:
        i = self.turn
        self.turn += 1
        if i == 0:
            analysis = "A fresh terminal in the task's working folder; nothing has been done yet."
        else:
            analysis = _describe(observation)
        if i < len(self.blocks):
            b = self.blocks[i]
            action = Action(analysis=analysis, plan=b.plan or "Run the next step of the solution.",
                            commands=(Command(keystrokes=b.code + "\n", duration=_duration(b.code)),))
        else:
            action = Action(analysis=analysis + " Everything the task asks for is in place.",
                            plan="The task is complete.", task_complete=True)
        return AgentReply(reply=action.to_json(), action=action)


def _duration(code: str) -> float:
    """How long the expert says it will wait. With completion-aware waiting the terminal
    returns as soon as the command finishes, so a generous bound costs nothing, while a
    short one would let the next keystrokes arrive before a slow step (a build, a training
    run) had finished."""
    heavy = ("make", "gcc", "cc ", "pip", "python", "cmake", "git", "pytest", "cargo", "train", "openssl", "tar ")
    return 60.0 if any(w in code for w in heavy) else 10.0


class OraclePolicy:
    """Runs the reference solution; renders it as a multi-turn expert trajectory."""

    name = "oracle"
    model = "reference-solution"

    def start(self, task: Task, sandbox: Sandbox) -> Agent:
        from litecore.sandbox import SOLUTION_DIR

        sandbox.upload(task.solution_dir, SOLUTION_DIR)
        return OracleAgent(split_solution(task.solve_script.read_text()), task)


class NoopAgent:
    def act(self, observation: str) -> AgentReply:
        action = Action(analysis="", plan="Do nothing.", task_complete=True)
        return AgentReply(reply=action.to_json(), action=action)


class NoopPolicy:
    """Does nothing: the control every proven task must fail."""

    name = "noop"
    model = "none"

    def start(self, task: Task, sandbox: Sandbox) -> Agent:
        return NoopAgent()


# ---------------------------------------------------------------------------
# The rollout engine.
# ---------------------------------------------------------------------------


def write_json_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def rollout(
    tasks: Sequence[Task],
    backend: SandboxBackend,
    policy: Policy,
    verifier: Verifier,
    out_dir: Path,
    *,
    attempts: int = 1,
    concurrency: int = 2,
    max_turns: int = 100,
    terminal_factory: TerminalFactory = SessionTerminal,
    progress: Callable[[int], None] | None = None,
) -> list[Trajectory]:
    """``attempts`` episodes per task; each saved as ``out_dir/<trajectory id>.json``. Done ones are skipped."""
    from litecore.executor import map_unordered

    jobs = [(t, a) for t in tasks for a in range(attempts)]

    def one(job: tuple[Task, int]) -> Trajectory:
        task, attempt = job
        path = out_dir / f"{trajectory_id(task.id, policy.name, attempt)}.json"
        if path.is_file():
            return loads_many([path.read_text()])[0]
        with backend.open(task) as sandbox:
            traj = run_episode(task, sandbox, policy, verifier, attempt=attempt, max_turns=max_turns,
                               terminal_factory=terminal_factory)
        write_json_atomic(path, dumps(traj))
        return traj

    return list(map_unordered(one, jobs, concurrency=concurrency, progress=progress))


def load_trajectories(out_dir: Path) -> list[Trajectory]:
    files = sorted(out_dir.glob("*.json")) if out_dir.is_dir() else []
    return loads_many([f.read_text() for f in files])


def jsonl(rows: Iterable[dict]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
