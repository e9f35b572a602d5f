"""The local backend's pytest fork server: the same test process in the same sandbox, cheaper."""

from __future__ import annotations

import json
import threading
import time

import pytest

from litecore.builtins.sandbox_local import LocalBackend, LocalConfig
from litecore.testing import make_task
from litecore.verify import HarborVerifier, run_solution, standard_pytest_args

#: A hidden test that records what its process is: identity, limits, namespaces, environment.
FACTS_TEST = r'''
import json, os, sys

def status():
    keep = ("Uid", "Gid", "Groups", "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp")
    lines = open("/proc/self/status").read().splitlines()
    return {k: v.strip() for k, _, v in (ln.partition(":") for ln in lines) if k in keep}

def test_record_facts():
    facts = {
        "status": status(),
        "limits": open("/proc/self/limits").read(),
        "cgroup": open("/proc/self/cgroup").read(),
        "same_namespaces_as_pid_1": {n: os.readlink(f"/proc/self/ns/{n}") == os.readlink(f"/proc/1/ns/{n}")
                                     for n in ("user", "mnt", "pid", "net", "ipc", "uts", "cgroup")},
        "env": {k: v for k, v in os.environ.items() if k not in ("OLDPWD", "SHLVL", "_")},
        "path": sys.path,
        "flags": repr(sys.flags),
        "cwd": os.getcwd(),
        "umask": os.umask(0o22),
        "fds": sorted(os.listdir("/proc/self/fd")),
        "sees_host_files": os.path.exists("/proc/1/root/work") or os.path.exists("/work"),
        "parent_outside_the_sandbox": os.getppid() == 0,
    }
    with open("/logs/verifier/facts.json", "w") as fh:
        json.dump(facts, fh)
'''


def _facts(tmp_path, *, limits: bool, prewarmed: bool) -> dict:
    task = make_task(tmp_path / ("on" if prewarmed else "off"), tests=FACTS_TEST,
                     toml_extra={"verifier": {"env": {"LITECORE_PROBE": "x y"}}})
    backend = LocalBackend(LocalConfig(limits=limits, prewarmed_pytest=prewarmed))
    try:
        with backend.open(task) as sb:
            result = HarborVerifier().verify(task, sb)
            assert result.reward == 1.0, result
            facts = json.loads(sb.read_file("/logs/verifier/facts.json"))
    finally:
        backend.close()
    facts["log_mentions_the_test"] = "1 passed" in result.output
    return facts


@pytest.mark.parametrize("limits", [True, False], ids=["limited", "unlimited"])
def test_the_prewarmed_test_process_is_placed_like_the_one_test_sh_starts(tmp_path, limits):
    fast = _facts(tmp_path, limits=limits, prewarmed=True)
    standard = _facts(tmp_path, limits=limits, prewarmed=False)
    # the fast path was taken (its parent is the server, outside the sandbox), the standard one not
    assert fast.pop("parent_outside_the_sandbox") is True
    assert standard.pop("parent_outside_the_sandbox") is False
    assert fast["same_namespaces_as_pid_1"] == dict.fromkeys(fast["same_namespaces_as_pid_1"], True)
    assert fast["env"]["LITECORE_PROBE"] == "x y" and fast["env"]["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] == "1"
    assert fast["sees_host_files"] is False
    if limits:
        assert fast["status"]["CapBnd"] == "00000000a80425fb" and fast["status"]["NoNewPrivs"] == "1"
    # everything else the same, open descriptors included (nothing of the server's is inherited)
    assert fast == standard


def test_a_slow_test_run_times_out_and_is_killed(tmp_path, local_backend):
    task = make_task(tmp_path, tests="import time\n\ndef test_slow():\n    time.sleep(60)\n",
                     toml_extra={"verifier": {"timeout_sec": 1.0}})
    with local_backend.open(task) as sb:
        start = time.monotonic()
        result = HarborVerifier().verify(task, sb)
        elapsed = time.monotonic() - start
        left = sb.exec("ps -eo args | grep -c '[t]est_outputs' || true", timeout=10).output.strip()
    assert result.reward is None and "timed out" in result.error
    assert elapsed < 15 and left == "0"


def test_verification_goes_on_when_the_server_is_gone(tmp_path):
    task = make_task(tmp_path)
    backend = LocalBackend()
    try:
        with backend.open(task) as sb:
            run_solution(sb, task)
            assert HarborVerifier().verify(task, sb).reward == 1.0
        (server,) = [s for s in backend._pytest_servers.values() if s is not None]
        server.proc.kill()
        server.proc.wait()
        with backend.open(task) as sb:
            run_solution(sb, task)
            result = HarborVerifier().verify(task, sb)
        assert result.reward == 1.0 and "1 passed" in result.output
    finally:
        backend.close()
    assert server.proc.poll() is not None and not server.dir.exists()


def test_a_python3_of_the_sandboxs_own_folders_is_not_the_hosts(tmp_path, local_backend):
    task = make_task(tmp_path)
    with local_backend.open(task) as sb:
        host_python = sb._sandbox_python("/usr/local/bin:/usr/bin:/bin")
        assert host_python is not None and host_python.startswith("/usr/")
        sb.exec("mkdir -p /opt/venv/bin && ln -s /usr/bin/python3 /opt/venv/bin/python3", timeout=10)
        assert sb._sandbox_python("/opt/venv/bin:/usr/bin") is None
        assert sb._sandbox_python("/opt/other/bin:/usr/bin") == host_python
        assert sb._sandbox_python("bin:/usr/bin") is None


def test_a_sandbox_killed_under_the_tests_is_an_infrastructure_error(tmp_path, local_backend):
    task = make_task(tmp_path, tests="import time\n\ndef test_slow():\n    time.sleep(30)\n")
    with local_backend.open(task) as sb:
        sb.upload(task.tests_dir, "/tests")
        killer = threading.Timer(1.0, lambda: sb._ns.kill_processes())
        killer.start()
        result = sb.run_pytest(standard_pytest_args(), cwd="/tests", env={}, log="/logs/verifier/pytest.log",
                               timeout=60)
        killer.join()
        assert result is not None and result.exit_code is None and "sandbox died" in result.error
        assert sb.exec("echo alive", timeout=10).output.strip() == "alive"  # a fresh namespace took over
