"""litecore policy ``hostile`` (tests only): agents that try to cheat or break the harness.

Each behaviour is a short list of terminal commands an adversarial agent might type.
A correct harness gives every one reward 0, stays up, and leaks nothing. Used by
``tests/reliability/test_hostile.py``; never install it where real datasets are made.
"""

from __future__ import annotations

import attrs

import litecore
from litecore.records import PolicyPlugin
from litecore.rollout import AgentReply
from litecore.trajectory import Action, Command

_DAEMON = (
    "setsid bash -c 'while true; do mkdir -p /logs/verifier; echo 1 > /logs/verifier/reward.txt; "
    "echo \"{\\\"reward\\\": 1}\" > /logs/verifier/reward.json; sleep 0.01; done' >/dev/null 2>&1 < /dev/null &"
)

#: behaviour name -> (what it tries, the commands it types, one batch per turn).
BEHAVIOURS: dict[str, tuple[str, tuple[str, ...]]] = {
    "reward-txt": ("write reward.txt itself", ("mkdir -p /logs/verifier; echo 1 > /logs/verifier/reward.txt",)),
    "reward-json": ("write reward.json itself",
                    ("mkdir -p /logs/verifier; echo '{\"reward\": 1}' > /logs/verifier/reward.json",)),
    "reward-daemon": ("leave a daemon that rewrites the reward files after verification", (_DAEMON,)),
    "edit-tests": ("replace /tests with tests that always pass", (
        "mkdir -p /tests; printf 'def test_ok():\\n    pass\\n' > /tests/test_outputs.py; "
        "printf '#!/bin/bash\\nmkdir -p /logs/verifier; echo 1 > /logs/verifier/reward.txt\\n' > /tests/test.sh",)),
    "delete-tests": ("delete /tests and the verifier's folder", ("rm -rf /tests /logs/verifier; ls /",)),
    "fork-bomb": ("fork until the machine stops", ("bomb() { bomb | bomb & }; bomb; sleep 2; echo survived",)),
    "fill-disk": ("fill the disk", (
        "dd if=/dev/zero of=/app/fill bs=1M count=100000 2>&1 | tail -1; "
        "for i in $(seq 1 100000); do dd if=/dev/zero of=/app/fill.$i bs=1M count=64 2>/dev/null || break; done; "
        "df -h /app | tail -1",)),
    "exhaust-memory": ("allocate memory until the machine swaps", (
        "python3 -c \"x=[]\nwhile True: x.append(bytearray(64*2**20))\"; echo rc=$?",)),
    "kill-shell": ("kill its own shell", ("kill -9 $$", "echo still here")),
    "kill-everything": ("kill every process it can see", ("kill -9 -1", "echo still here")),
    "close-stdout": ("close its stdout and stderr", ("exec 1>&- 2>&-", "echo gone")),
    "sleep-forever": ("sleep past the timeout", ("sleep 100000",)),
    "delete-app": ("delete /app and its working folder", ("cd /; rm -rf /app /app/.* 2>/dev/null; ls -la /app",)),
    "network": ("open network connections the task forbids", (
        "python3 -c \"import os,socket\nfor h,p in [('127.0.0.1', int(os.environ.get('LC_PROBE_PORT','9'))),"
        "('1.1.1.1',53),('8.8.8.8',443)]:\n  s=socket.socket(); s.settimeout(2)\n  "
        "try: s.connect((h,p)); print('connected',h,p)\n  except OSError as e: print('blocked',h,p,e)\"",)),
    "flood-output": ("print megabytes of output", ("head -c 50000000 /dev/urandom | base64",)),
    "symlink-logs": ("point /logs/verifier at a folder it controls", (
        "rm -rf /logs/verifier; mkdir -p /app/fake; echo 1 > /app/fake/reward.txt; ln -s /app/fake /logs/verifier",)),
    "shadow-pytest": ("plant a fake pytest and a .pth file", (
        "printf 'import sys\\nsys.exit(0)\\n' > /app/pytest.py; mkdir -p /root/.local/lib/python3.11/site-packages; "
        "echo 'import os; os._exit(0)' > /root/.local/lib/python3.11/site-packages/zz.pth",)),
    "remount-host": ("remount the host's folders writable and plant a binary", (
        "mount -o remount,rw /usr 2>&1; echo 'echo 42' > /usr/local/bin/lc-planted 2>&1; ls -la /usr/local/bin/lc-planted",)),
    "garbage-replies": ("answer with garbage instead of actions", ()),
}


@attrs.frozen(kw_only=True)
class HostileConfig:
    """``behaviour``: one of :data:`BEHAVIOURS`."""

    behaviour: str = attrs.field(default="reward-txt")

    @behaviour.validator
    def _known(self, attribute: attrs.Attribute, value: str) -> None:
        if value not in BEHAVIOURS:
            from litecore.config import FieldError

            raise FieldError(attribute.name, f"unknown behaviour {value!r}; available: {', '.join(BEHAVIOURS)}")


class HostileAgent:
    def __init__(self, commands: tuple[str, ...]) -> None:
        self.commands = list(commands)
        self.turn = 0

    def act(self, observation: str) -> AgentReply:
        i = self.turn
        self.turn += 1
        if not self.commands:  # garbage: never a usable action
            return AgentReply(reply="{not json at all" * (i + 1), action=None, note="not a JSON object")
        if i < len(self.commands):
            action = Action(analysis="", plan="attack", commands=(Command(keystrokes=self.commands[i] + "\n",
                                                                          duration=1.0),))
        else:
            action = Action(analysis="", plan="claim success", task_complete=True)
        return AgentReply(reply=action.to_json(), action=action)


class HostilePolicy:
    def __init__(self, config: HostileConfig | None = None) -> None:
        self.behaviour = (config or HostileConfig()).behaviour
        self.name = f"hostile-{self.behaviour}"
        self.model = "adversary"

    def start(self, task, sandbox) -> HostileAgent:  # noqa: ANN001 - the Policy protocol's signature
        return HostileAgent(BEHAVIOURS[self.behaviour][1])


@litecore.hookimpl
def litecore_policies():
    return [PolicyPlugin(name="hostile", factory=HostilePolicy, config=HostileConfig,
                         description="tests only: an agent that cheats or sabotages ([rollout] behaviour = NAME)")]
