"""Both container backends: the sandbox contract the local backend defines, on real engines."""

from __future__ import annotations

import statistics
import threading
import time

import pytest

from litecore.containers import ContainerConfig, clean_engine, labelled_objects
from litecore.verify import HarborVerifier, run_solution, validate_task

from .conftest import labelled_containers, write_simple_task

ATTACKS = {
    "forge-reward-files": "mkdir -p /logs/verifier; echo 1 > /logs/verifier/reward.txt; "
                          "echo '{\"reward\": 1.0}' > /logs/verifier/reward.json",
    "background-rewriter": "nohup setsid bash -c 'while :; do mkdir -p /logs/verifier; "
                           "echo 1 > /logs/verifier/reward.txt; echo \"{\\\"reward\\\": 1}\" > "
                           "/logs/verifier/reward.json; sleep 0.01; done' >/dev/null 2>&1 &",
    "edit-tests": "mkdir -p /tests; printf '#!/bin/bash\\nmkdir -p /logs/verifier\\necho 1 > "
                  "/logs/verifier/reward.txt\\n' > /tests/test.sh",
    "symlink-logs": "rm -rf /logs/verifier; mkdir -p /app/fake; echo 1 > /app/fake/reward.txt; "
                    "ln -s /app/fake /logs/verifier",
}


def test_exec_contract(backend, simple_task):
    with backend.open(simple_task) as sb:
        r = sb.exec("pwd; echo $FOO; echo err >&2; exit 3", timeout=10, env={"FOO": "bar"})
        assert (r.exit_code, r.output, r.timed_out) == (3, "/app\nbar\nerr\n", False)
        assert sb.exec("pwd", timeout=10, cwd="/tmp").output == "/tmp\n"
        t = sb.exec("echo start; sleep 30", timeout=1)
        assert t.timed_out and t.exit_code is None and t.output == "start\n" and t.duration_s < 5
        bg = sb.exec("sleep 300 >/dev/null 2>&1 & echo started", timeout=5)
        assert bg.ok and bg.output == "started\n" and bg.duration_s < 3, "a background job held the exec"
        big = sb.exec("head -c 3000000 /dev/zero | tr '\\0' a", timeout=20)
        assert big.ok and big.truncated and "bytes of output omitted" in big.output
        assert len(big.output) < 300_000
        assert sb.exec("true", timeout=5).ok


def test_session_state_and_speed(backend, simple_task):
    with backend.open(simple_task) as sb, sb.session() as s:
        assert s.run("cd /tmp; X=41; sleep 300 &", timeout=5).ok
        assert s.run("echo $((X + 1)); pwd", timeout=5).output == "42\n/tmp\n"
        t = s.run("sleep 30", timeout=1)
        assert t.timed_out and t.exit_code is None
        after = s.run("jobs; echo $X", timeout=5)
        assert "sleep 300" in after.output and after.output.endswith("41\n"), after.output
        assert s.run("exit 4", timeout=5).exit_code == 4
        again = s.run("pwd", timeout=5)
        assert again.ok and "new shell" in again.output and again.output.endswith("/app\n")
        times = []
        for _ in range(30):
            start = time.perf_counter()
            assert s.run("echo x", timeout=5).output == "x\n"
            times.append(time.perf_counter() - start)
        assert statistics.median(times) < 0.05, f"median session round trip {statistics.median(times):.4f}s"


def test_upload_download_replace(backend, simple_task, tmp_path):
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "a.txt").write_text("A")
    (src / "sub" / "b.txt").write_text("B")
    one = tmp_path / "one.txt"
    one.write_text("one")
    with backend.open(simple_task) as sb:
        assert sb.exec("mkdir -p /data/dir && echo stale > /data/dir/old.txt", timeout=5).ok
        sb.upload(src, "/data/dir")
        assert sb.exec("cd /data/dir && find . -type f | sort", timeout=5).output == "./a.txt\n./sub/b.txt\n"
        sb.upload(one, "/data/dir")  # a file replaces the folder at the destination
        assert sb.exec("cat /data/dir", timeout=5).output == "one"
        sb.upload(one, "/new/deep/file.txt")
        assert sb.read_file("/new/deep/file.txt") == b"one"
        assert sb.read_file("/nope") is None and sb.read_file("/new") is None
        sb.upload(src, "/data/tree")
        sb.download("/data/tree", tmp_path / "back")
        assert (tmp_path / "back" / "sub" / "b.txt").read_text() == "B"
        with pytest.raises(FileNotFoundError):
            sb.download("/missing", tmp_path / "x")


def test_kill_agent_processes(backend, simple_task):
    with backend.open(simple_task) as sb:
        s = sb.session()
        s.run("sleep 1000 &", timeout=5)
        sb.exec("nohup setsid sleep 2000 >/dev/null 2>&1 & (trap '' TERM HUP; sleep 3000) >/dev/null 2>&1 &",
                timeout=5)
        sb.kill_agent_processes()
        r = sb.exec("for s in /proc/[0-9]*/cmdline; do tr '\\0' ' ' < $s; echo; done", timeout=5)
        assert "sleep 1000" not in r.output and "sleep 2000" not in r.output and "sleep 3000" not in r.output
        assert sb.exec("echo alive", timeout=5).output == "alive\n"
        # an agent that kills everything it can does not wedge the sandbox
        r = sb.exec("kill -9 -1", timeout=5)
        assert r.exit_code is None and r.error
        assert sb.exec("echo still", timeout=5).output == "still\n"


def test_tamper_attempts_earn_nothing(backend, simple_task):
    v = validate_task(simple_task, backend, HarborVerifier(), repeats=1, attacks=ATTACKS)
    assert v.ok, v.reason
    assert [c.name for c in v.checks] == ["oracle#1", "noop#1", *(f"attack:{a}" for a in ATTACKS)]


def test_timeout_result_and_container_gone(backend, simple_task):
    before = set(labelled_containers(backend))
    sb = backend.open(simple_task)
    cid = sb.cid
    assert cid in labelled_containers(backend)
    r = sb.exec("sleep 60", timeout=0.5)
    assert r.timed_out
    sb.stop()
    sb.stop()  # idempotent
    assert cid not in labelled_containers(backend)
    assert set(labelled_containers(backend)) == before
    assert sb.exec("true", timeout=1).error == "sandbox is stopped"


def test_limits_network_and_labels(backend, simple_task, tmp_path):
    online = write_simple_task(tmp_path, name="online", toml_extra="")
    with backend.open(simple_task) as sb:
        info = backend.client.api.inspect_container(sb.cid)
        hc = info["HostConfig"]
        assert hc["NanoCpus"] == 1_000_000_000 and hc["Memory"] == 256 * 1024 * 1024
        assert hc["NetworkMode"] == "none"
        labels = info["Config"]["Labels"]
        assert labels["litecore"] == "1" and labels["litecore.run"] == backend.run_id
        assert labels["litecore.task"] == simple_task.id
    cfg = online.path / "task.toml"
    cfg.write_text(cfg.read_text().replace('network_mode = "no-network"', 'network_mode = "public"'))
    from litecore.task import load_task

    with backend.open(load_task(online.path)) as sb:
        assert backend.client.api.inspect_container(sb.cid)["HostConfig"]["NetworkMode"] != "none"


@pytest.mark.slow
def test_no_leaks_after_errors(backend, simple_task):
    before = labelled_objects(backend.client)
    with pytest.raises(RuntimeError):
        with backend.open(simple_task) as sb:
            sb.exec("sleep 5 &", timeout=2)
            raise RuntimeError("a crash in the caller")
    for _ in range(3):
        with backend.open(simple_task) as sb:
            sb.session().run("sleep 100", timeout=0.3)
    # a sandbox the caller forgot is stopped by backend.close() / clean
    forgotten = backend.open(simple_task)
    assert forgotten.cid in labelled_containers(backend)
    forgotten.stop()
    assert labelled_objects(backend.client) == before


@pytest.mark.slow
def test_clean_removes_leftovers_of_dead_owners(backend, simple_task):
    from litecore.containers import LABEL, LABEL_OWNER

    prepared = backend.prepare(simple_task)
    api = backend.client.api
    dead = api.create_container(prepared.tag, command=["infinity"], entrypoint=["sleep"],
                                labels={LABEL: "1", LABEL_OWNER: "nohost:999999"},
                                host_config=api.create_host_config(network_mode="none"))["Id"]
    live = backend.open(simple_task)
    try:
        removed = clean_engine(backend.client)
        assert removed.containers >= 1
        ids = labelled_containers(backend)
        assert dead not in ids and live.cid in ids, "clean must spare sandboxes of live processes"
    finally:
        live.stop()


@pytest.mark.slow
def test_a_starting_backend_reaps_only_this_hosts_dead_runs(backend, simple_task):
    import socket

    from litecore.containers import LABEL, LABEL_OWNER

    prepared = backend.prepare(simple_task)
    api = backend.client.api

    def leftover(owner: str) -> str:
        return api.create_container(prepared.tag, command=["infinity"], entrypoint=["sleep"],
                                    labels={LABEL: "1", LABEL_OWNER: owner},
                                    host_config=api.create_host_config(network_mode="none"))["Id"]

    dead_here = leftover(f"{socket.gethostname()}:999999")
    elsewhere = leftover("another-host:1")
    try:
        type(backend)(backend.config).close()  # a new backend (a new run) starting on this host
        ids = labelled_objects(backend.client)["containers"]
        assert dead_here not in ids, "a killed run's container on this host is removed"
        assert elsewhere in ids, "another host's container is not this backend's to judge"
    finally:
        for cid in (dead_here, elsewhere):
            try:
                api.remove_container(cid, force=True)
            except Exception:  # already gone
                pass


@pytest.mark.slow
def test_image_cached_and_concurrent_builds_wait(backend, tmp_path):
    from litecore.containers import ContainerBackend

    task = write_simple_task(tmp_path, dockerfile=(
        f"FROM litecore/base:bookworm\nRUN echo {time.time_ns()} > /stamp && sleep 1\nWORKDIR /app\n"))
    builds = []
    original = ContainerBackend.build

    def counting(self, *a, **kw):
        builds.append(1)
        return original(self, *a, **kw)

    other = type(backend)()  # a second backend: separate in-memory caches, same engine
    try:
        ContainerBackend.build = counting  # type: ignore[method-assign]
        results = []
        threads = [threading.Thread(target=lambda b=b: results.append(b.prepare(task))) for b in (backend, other)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        ContainerBackend.build = original  # type: ignore[method-assign]
        other.close()
    assert len(builds) == 1 and results[0].tag == results[1].tag
    start = time.monotonic()
    assert type(backend)().prepare(task).tag == results[0].tag  # a new run reuses it
    assert time.monotonic() - start < 2


@pytest.mark.slow
def test_alias_map(engine, backends, tmp_path):
    task = write_simple_task(tmp_path, dockerfile="FROM registry.example.org/team/tool:7\nWORKDIR /app\n")
    backend = backends[engine]
    from litecore.containers import ImageBuildError

    with pytest.raises(ImageBuildError) as err:
        backend.prepare(task)
    assert err.value.cause == "base-image-missing" and "--alias" in str(err.value)
    mapped = type(backend)(type(backend.config)(aliases={"registry.example.org/team/*": "litecore/base:bookworm"}))
    try:
        v = validate_task(task, mapped, HarborVerifier(), repeats=1)
        assert v.ok, v.reason
        assert (task.path / "environment" / "Dockerfile").read_text().startswith("FROM registry.example.org")
    finally:
        mapped.close()
    # prebuilt images (environment.docker_image) go through the same map
    (task.path / "environment" / "Dockerfile").unlink()
    cfg = task.path / "task.toml"
    cfg.write_text(cfg.read_text() + 'docker_image = "ubuntu:24.04"\n')
    from litecore.task import load_task

    img_task = load_task(task.path)
    mapped = type(backend)(type(backend.config)(aliases={"ubuntu:24.04": "litecore/base:bookworm"}))
    try:
        with mapped.open(img_task) as sb:
            run_solution(sb, img_task)
            assert HarborVerifier().verify(img_task, sb).reward == 1.0
    finally:
        mapped.close()


def test_config_is_strict():
    import attrs

    with pytest.raises(TypeError):
        ContainerConfig(alias={"a": "b"})  # type: ignore[call-arg]
    assert {f.name for f in attrs.fields(ContainerConfig)} >= {"base_url", "aliases"}
