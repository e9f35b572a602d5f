"""Hostile agents: every behaviour earns 0, the harness stays up, nothing leaks.

The agents come from the test-only ``hostile`` policy plugin (plugins/litecore-policy-hostile).
On the local backend the sandbox runs with small limits (memory, processes, storage), so a
fork bomb, a memory hog or a disk filler is contained; the container variants run when the
docker / podman plugins import and their engines start (slow).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from litecore.builtins.sandbox_local import LocalBackend, LocalConfig
from litecore.rollout import SessionTerminal, run_episode
from litecore.testing import make_task
from litecore.verify import HarborVerifier, run_check

from .conftest import Probe, bwrap_children, container_backend, litecore_cgroups, record

hostile = pytest.importorskip("litecore_policy_hostile")
BEHAVIOURS = hostile.BEHAVIOURS


@pytest.fixture(scope="module")
def limited_backend(tmp_path_factory: pytest.TempPathFactory) -> LocalBackend:
    """Small limits, checked by test_limits_are_enforced before anything hostile runs."""
    import os

    os.environ.setdefault("LITECORE_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    root = tmp_path_factory.mktemp("sandboxes")
    return LocalBackend(LocalConfig(root=str(root), memory_mb=256, storage_mb=200, pids=128))


def _task(tmp_path: Path, probe: Probe, name: str = "t"):
    return make_task(tmp_path, name, toml_extra={
        "agent": {"timeout_sec": 8.0},
        "environment": {"network_mode": "no-network", "env": {"LC_PROBE_PORT": str(probe.port)}},
    })


def test_limits_are_enforced(limited_backend, tmp_path, probe):
    """The limits the hostile suite relies on, with small values first."""
    task = _task(tmp_path, probe)
    with limited_backend.open(task) as sb:
        mem = sb.exec("python3 -c 'x = bytearray(400 * 2**20); print(len(x))'", timeout=30)
        assert mem.exit_code != 0 and "419430400" not in mem.output
        sb.exec("for i in $(seq 300); do sleep 5 & done 2>/dev/null; echo started", timeout=60)
        count = sb.exec("ps -e --no-headers | wc -l", timeout=30)
        assert count.ok and int(count.output.strip()) <= 130, count
        big = sb.exec("dd if=/dev/zero of=/app/one bs=1M count=400 2>&1 | tail -1; ls -s --block-size=M /app/one",
                      timeout=30)
        assert "200M" in big.output or "File size limit" in big.output, big.output
        sb.exec("rm -f /app/one", timeout=10)
        many = sb.exec("for i in $(seq 100); do dd if=/dev/zero of=/app/f$i bs=1M count=20 2>/dev/null; done; "
                       "sleep 2; echo done", timeout=60)
        assert many.error and "storage limit" in many.error, many
        assert sb.exec("echo alive", timeout=10).output == "alive\n"


@pytest.mark.parametrize("behaviour", sorted(BEHAVIOURS))
def test_hostile_agent_earns_nothing_on_local(limited_backend, tmp_path, probe, behaviour):
    task = _task(tmp_path, probe)
    before = bwrap_children()
    root = Path(limited_backend.config.root or "")
    policy = hostile.HostilePolicy(hostile.HostileConfig(behaviour=behaviour))
    t0 = time.monotonic()
    with limited_backend.open(task) as sb:
        name = sb.dir.name
        assert litecore_cgroups(name), "the sandbox runs in its own cgroups"
        traj = run_episode(task, sb, policy, HarborVerifier(), max_turns=5, terminal_factory=SessionTerminal)
    elapsed = time.monotonic() - t0
    # the harness is still up: a fresh sandbox of the same backend proves the task
    oracle = run_check(task, limited_backend, HarborVerifier(), "oracle", True, 1.0)
    leaks = {
        "processes": bwrap_children() - before,
        "sandbox_folders": len(list(root.iterdir())),
        "cgroups": len(litecore_cgroups(name)),
        "connections": probe.connections,
        "host_files": int(Path("/usr/local/bin/lc-planted").exists()),
    }
    record("hostile", backend="local", behaviour=behaviour, what=BEHAVIOURS[behaviour][0],
           reward=traj.reward.reward, error=traj.reward.error, seconds=round(elapsed, 1),
           harness_ok=oracle.ok, leaks=sum(leaks.values()))
    assert traj.reward.reward == 0.0, (behaviour, traj.reward, traj.error)
    assert oracle.ok, oracle
    assert leaks == {k: 0 for k in leaks}, leaks


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["docker", "podman"])
def test_hostile_agents_earn_nothing_in_containers(engine, tmp_path, probe):
    """Every behaviour on a container backend: reward 0, the backend still proves a task, no leftovers."""
    from litecore.containers import connect
    from litecore.images import build_images, default_specs

    backend = container_backend(engine)
    # the standard verifier needs python3 and pytest: litecore's dev image (cached after the first build)
    build_images({engine: connect(engine)}, default_specs())
    try:
        before = _engine_objects(backend)
        for behaviour in sorted(BEHAVIOURS):
            task = make_task(tmp_path / behaviour, dockerfile="FROM litecore/dev:bookworm\nWORKDIR /app\n",
                             toml_extra={"agent": {"timeout_sec": 8.0},
                                         "environment": {"network_mode": "no-network", "memory_mb": 256,
                                                         "env": {"LC_PROBE_PORT": str(probe.port)}}})
            policy = hostile.HostilePolicy(hostile.HostileConfig(behaviour=behaviour))
            with backend.open(task) as sb:
                traj = run_episode(task, sb, policy, HarborVerifier(), max_turns=5, terminal_factory=SessionTerminal)
            record("hostile", backend=engine, behaviour=behaviour, what=BEHAVIOURS[behaviour][0],
                   reward=traj.reward.reward, error=traj.reward.error)
            assert traj.reward.reward == 0.0, (engine, behaviour, traj.reward)
        assert run_check(task, backend, HarborVerifier(), "oracle", True, 1.0).ok
        assert probe.connections == 0
        assert _engine_objects(backend) == before
    finally:
        backend.close()


def _engine_objects(backend) -> int:
    """Containers the backend's engine holds (labelled or not): none may be left behind."""
    client = getattr(backend, "client", None) or getattr(backend, "_client", None)
    if client is None:
        return 0
    return len(client.containers.list(all=True))
