"""Rollout benchmarks (docs/benchmarks.md): completion-aware waiting and engine overhead.

1. Oracle replay: the reference solutions of generated data-science tasks, played
   as multi-turn expert trajectories with Terminus-2-style durations (0.5 s, 5 s
   for heavy commands), in a tmux terminal that returns when the command finished
   versus one that sleeps out every duration (Terminus-2). Target: >= 3x less time.
2. Engine load: 32 concurrent local sessions driven by an instant scripted policy;
   every episode must verify without error, and the engine's own time per agent
   step (step wall time minus model time minus terminal time) must stay < 5 ms.

    python benchmarks/bench_rollouts.py [--tasks 8] [--sessions 32] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

from litecore.rollout import AgentReply, OraclePolicy, SessionTerminal, rollout
from litecore.terminal import TmuxTerminal
from litecore.trajectory import Action, Command
from litecore.verify import HarborVerifier


class TimedTerminal:
    """Wraps a terminal and adds up the wall time spent inside ``send``."""

    #: per episode: (wall time from terminal start to close, time inside the terminal)
    totals: dict[int, tuple[float, float]] = {}
    lock = threading.Lock()

    def __init__(self, inner) -> None:
        self.inner = inner
        self.spent = 0.0
        self.opened = time.perf_counter()

    def screen(self) -> str:
        t0 = time.perf_counter()
        try:
            return self.inner.screen()
        finally:
            self.spent += time.perf_counter() - t0

    def send(self, keystrokes: str, duration: float, budget: float):
        t0 = time.perf_counter()
        try:
            return self.inner.send(keystrokes, duration, budget)
        finally:
            self.spent += time.perf_counter() - t0

    def close(self) -> None:
        with self.lock:
            TimedTerminal.totals[id(self)] = (time.perf_counter() - self.opened, self.spent)
        self.inner.close()


class ScriptedAgent:
    def __init__(self, turns: int) -> None:
        self.turn = 0
        self.turns = turns

    def act(self, observation: str) -> AgentReply:
        self.turn += 1
        if self.turn > self.turns:
            a = Action(analysis="done", plan="", task_complete=True)
        else:
            a = Action(analysis=f"turn {self.turn}", plan="echo",
                       commands=(Command(keystrokes=f"echo step {self.turn}\n", duration=1.0),))
        return AgentReply(reply=a.to_json(), action=a, prompt_tokens=1, completion_tokens=1)


class ScriptedPolicy:
    name = "scripted"
    model = "instant"

    def __init__(self, turns: int) -> None:
        self.turns = turns

    def start(self, task, sandbox) -> ScriptedAgent:
        return ScriptedAgent(self.turns)


def make_tasks(root: Path, n: int):
    from litecore.testing import generate, materialize
    from litecore_plugin_data_science import domain

    d = domain()
    fams = [f.name for f in d.families]
    return [materialize(generate(d, fams[i % len(fams)], 100 + i, "easy"), root) for i in range(n)]


def replay(tasks, backend, wait: str, concurrency: int, out: Path) -> dict:
    def factory(sb):
        return TmuxTerminal(sb, wait=wait)

    t0 = time.monotonic()
    trajs = rollout(tasks, backend, OraclePolicy(), HarborVerifier(), out, concurrency=concurrency,
                    terminal_factory=factory)
    wall = time.monotonic() - t0
    agent = sum(s.duration_s for t in trajs for s in t.steps)
    slept = sum(c.duration for t in trajs for s in t.steps if s.action for c in s.action.commands)
    return {"wall_s": wall, "agent_s": agent, "requested_durations_s": slept,
            "steps": sum(len(t.steps) for t in trajs), "passed": sum(t.passed for t in trajs),
            "episodes": len(trajs), "errors": [t.error for t in trajs if t.error]}


def load(tasks, backend, sessions: int, turns: int, out: Path, terminal: str) -> dict:
    inner = SessionTerminal if terminal == "line" else (lambda sb: TmuxTerminal(sb))
    TimedTerminal.totals.clear()
    attempts = -(-sessions // len(tasks))
    t0 = time.monotonic()
    trajs = rollout(tasks, backend, ScriptedPolicy(turns), HarborVerifier(), out, attempts=attempts,
                    concurrency=sessions, terminal_factory=lambda sb: TimedTerminal(inner(sb)))
    wall = time.monotonic() - t0
    steps = [s for t in trajs for s in t.steps]
    # the episode loop runs between the terminal's start and its close: what it spent there
    # beyond the model (policy.act) and the terminal (screen, send) is the engine's own work
    loop_wall = sum(w for w, _ in TimedTerminal.totals.values())
    terminal_s = sum(x for _, x in TimedTerminal.totals.values())
    model = sum(s.model_s for s in steps)
    overhead_ms = 1000 * (loop_wall - model - terminal_s) / len(steps)
    return {"terminal": terminal, "sessions": len(trajs), "concurrency": sessions, "wall_s": wall,
            "steps": len(steps), "engine_overhead_ms_per_step": overhead_ms,
            "terminal_ms_per_step": 1000 * terminal_s / len(steps),
            "verifier_errors": sum(t.reward.reward is None for t in trajs),
            "episode_errors": [t.error for t in trajs if t.error],
            "rewards": sorted({t.reward.reward for t in trajs}, key=str)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", type=int, default=8)
    ap.add_argument("--concurrency", type=int, default=2)
    ap.add_argument("--sessions", type=int, default=32)
    ap.add_argument("--turns", type=int, default=10)
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--skip-replay", action="store_true")
    args = ap.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="litecore-bench-"))
    os.environ.setdefault("LITECORE_CACHE_DIR", str(tmp / "cache"))
    from litecore.builtins.sandbox_local import LocalBackend

    backend = LocalBackend()
    tasks = make_tasks(tmp / "tasks", args.tasks)
    for t in tasks:
        backend.prepare(t)
    result: dict = {"cpus": os.cpu_count(), "load_avg_start": os.getloadavg()}
    if not args.skip_replay:
        fast = replay(tasks, backend, "complete", args.concurrency, tmp / "complete")
        slow = replay(tasks, backend, "sleep", args.concurrency, tmp / "sleep")
        result["replay"] = {"completion_aware": fast, "sleep_out": slow,
                            "speedup_agent_time": slow["agent_s"] / fast["agent_s"],
                            "speedup_wall": slow["wall_s"] / fast["wall_s"]}
        print(f"oracle replay, {len(tasks)} tasks, {fast['steps']} steps: agent time "
              f"{fast['agent_s']:.1f}s completion-aware vs {slow['agent_s']:.1f}s sleeping "
              f"({result['replay']['speedup_agent_time']:.1f}x); wall {fast['wall_s']:.1f}s vs {slow['wall_s']:.1f}s "
              f"({result['replay']['speedup_wall']:.1f}x); passed {fast['passed']}/{fast['episodes']} and "
              f"{slow['passed']}/{slow['episodes']}")
    for terminal in ("line", "tmux"):
        r = load(tasks[:8], backend, args.sessions, args.turns, tmp / f"load-{terminal}",
                 terminal)
        result[f"load_{terminal}"] = r
        print(f"{r['sessions']} concurrent sessions ({terminal}), {r['steps']} steps in {r['wall_s']:.1f}s: "
              f"engine overhead {r['engine_overhead_ms_per_step']:.2f} ms/step, terminal "
              f"{r['terminal_ms_per_step']:.1f} ms/step, verifier errors {r['verifier_errors']}, "
              f"episode errors {len(r['episode_errors'])}")
    result["load_avg_end"] = os.getloadavg()
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    import shutil

    shutil.rmtree(tmp, ignore_errors=True)
    ok = all(result[f"load_{t}"]["verifier_errors"] == 0 and not result[f"load_{t}"]["episode_errors"]
             for t in ("line", "tmux"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
