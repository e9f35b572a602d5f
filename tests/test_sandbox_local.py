"""The bubblewrap backend, for real: isolation, timeouts, sessions, cleanup."""

from __future__ import annotations

import http.server
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import psutil
import pytest

from litecore.builtins.sandbox_local import LocalBackend, LocalConfig, clean_leftovers, sandbox_root
from litecore.errors import SandboxUnavailable
from litecore.testing import make_task


def _bwrap_count() -> int:
    """bwrap processes started by this test process (other runs on the machine don't count)."""
    return sum(1 for p in psutil.Process().children(recursive=True) if p.name() == "bwrap")


def test_exec_runs_in_app_with_environment(local_backend, tmp_path):
    task = make_task(tmp_path, dockerfile="FROM litecore/dev:bookworm\nWORKDIR /app\nENV GREETING=hi\n"
                                          "COPY data/ /app/data/\nRUN echo built > /app/built.txt\n",
                     app_files={"data/x.txt": "payload\n"})
    with local_backend.open(task) as sb:
        r = sb.exec("pwd; cat data/x.txt built.txt; echo $GREETING", timeout=10)
    assert r.ok, r
    assert r.output.split() == ["/app", "payload", "built", "hi"]


def test_sandboxes_cannot_see_each_other_or_the_host(local_backend, tmp_path):
    task = make_task(tmp_path)
    with local_backend.open(task) as a, local_backend.open(task) as b:
        assert a.exec("echo secret-a > /app/mine.txt", timeout=5).ok
        seen = b.exec("ls /app; cat /app/mine.txt", timeout=5)
        assert "secret-a" not in seen.output
        # the host's files (the task folder with its solution, this repo) are invisible
        host = b.exec(f"ls {task.path} {Path(__file__).parent} {sandbox_root()}", timeout=5)
        assert host.exit_code != 0 and "solve.sh" not in host.output
        # processes of one sandbox are invisible to the other
        a.exec("sleep 30 >/dev/null 2>&1 &", timeout=5)
        assert "sleep" not in b.exec("ps -eo comm", timeout=5).output


class _Ping(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"pong")

    def log_message(self, *args):
        pass


@pytest.fixture
def host_server():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Ping)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield srv.server_address[1]
    srv.shutdown()


def test_no_network_unless_the_task_allows_it(local_backend, tmp_path, host_server):
    probe = (f"python3 -c \"import urllib.request;print(urllib.request.urlopen('http://127.0.0.1:{host_server}',"
             f" timeout=3).read().decode())\"")
    closed = make_task(tmp_path, "closed")
    with local_backend.open(closed) as sb:
        r = sb.exec(probe, timeout=10)
    assert r.exit_code != 0 and "pong" not in r.output
    opened = make_task(tmp_path, "open", toml_extra={"environment": {"network_mode": "public"}})
    with local_backend.open(opened) as sb:
        r = sb.exec(probe, timeout=10)
    assert r.ok and "pong" in r.output


def test_exec_timeout_returns_a_result(local_backend, answer_task):
    with local_backend.open(answer_task) as sb:
        t0 = time.monotonic()
        r = sb.exec("echo before; sleep 30; echo after", timeout=0.5)
        assert time.monotonic() - t0 < 5
        assert r.timed_out and r.exit_code is None and "before" in r.output and "after" not in r.output
        assert sb.exec("echo still alive", timeout=5).output == "still alive\n"


def test_session_keeps_state_and_survives_timeouts_and_exit(local_backend, answer_task):
    with local_backend.open(answer_task) as sb:
        s = sb.session()
        assert s.run("cd /tmp && export X=5 && sleep 60 &", timeout=5).ok
        assert s.run("cd /tmp; X=7", timeout=5).ok
        r = s.run("pwd; echo $X; jobs | wc -l", timeout=5)
        assert r.output.split() == ["/tmp", "7", "1"]
        t = s.run("sleep 30", timeout=0.5)
        assert t.timed_out
        # the shell, its cwd and the earlier background job survive the interrupted command
        assert s.run("pwd; jobs | wc -l", timeout=5).output.split() == ["/tmp", "1"]
        assert s.run("exit 3", timeout=5).exit_code == 3
        again = s.run("pwd", timeout=5)
        assert again.ok and "new shell" in again.output
        assert s.run("if then", timeout=5).exit_code == 2  # syntax errors do not kill the shell
        assert s.run("echo ok", timeout=5).output == "ok\n"


def test_huge_output_is_clipped(local_backend, answer_task):
    with local_backend.open(answer_task) as sb:
        r = sb.exec("head -c 5000000 /dev/zero | tr '\\0' a; echo; echo END", timeout=20)
        assert r.truncated and r.output.rstrip().endswith("END") and len(r.output) < 400_000
        s = sb.session().run("head -c 3000000 /dev/zero | tr '\\0' b; echo; echo END", timeout=20)
        assert s.truncated and s.output.rstrip().endswith("END")


def test_stop_removes_processes_and_folders(local_backend, answer_task):
    before = _bwrap_count()
    sb = local_backend.open(answer_task)
    sb.exec("setsid sleep 100 >/dev/null 2>&1 < /dev/null &", timeout=5)
    folder = sb.dir
    sb.stop()
    assert not folder.exists()
    assert _bwrap_count() == before


def test_exception_inside_with_cleans_up(local_backend, answer_task):
    before = _bwrap_count()
    with pytest.raises(RuntimeError):
        with local_backend.open(answer_task) as sb:
            folder = sb.dir
            raise RuntimeError("boom")
    assert not folder.exists() and _bwrap_count() == before


def test_ctrl_c_cleans_up(tmp_path, answer_task):
    root = tmp_path / "sbx"
    script = textwrap.dedent(f"""
        import sys, time
        from litecore.builtins.sandbox_local import LocalBackend, LocalConfig
        from litecore.task import load_task
        b = LocalBackend(LocalConfig(root={str(root)!r}))
        with b.open(load_task({str(answer_task.path)!r})) as sb:
            sb.exec("sleep 100 >/dev/null 2>&1 &", timeout=5)
            print("ready", flush=True)
            time.sleep(60)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    kids = psutil.Process(proc.pid).children(recursive=True)
    assert kids
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=90)  # cleanup is quick; the margin is for a loaded CI machine
    assert list(root.iterdir()) == []
    time.sleep(0.2)
    assert not any(k.is_running() and k.status() != psutil.STATUS_ZOMBIE for k in kids)


def test_sigkill_leaves_no_processes_and_clean_removes_folders(tmp_path, answer_task):
    root = tmp_path / "sbx"
    script = textwrap.dedent(f"""
        import time
        from litecore.builtins.sandbox_local import LocalBackend, LocalConfig
        from litecore.task import load_task
        sb = LocalBackend(LocalConfig(root={str(root)!r})).open(load_task({str(answer_task.path)!r}))
        sb.exec("sleep 100 >/dev/null 2>&1 &", timeout=5)
        print("ready", flush=True)
        time.sleep(60)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    kids = psutil.Process(proc.pid).children(recursive=True)
    proc.kill()
    proc.wait()
    deadline = time.time() + 5
    while time.time() < deadline and any(k.is_running() and k.status() != psutil.STATUS_ZOMBIE for k in kids):
        time.sleep(0.05)
    assert not any(k.is_running() and k.status() != psutil.STATUS_ZOMBIE for k in kids)  # --die-with-parent
    assert len(list(root.iterdir())) == 1
    assert clean_leftovers(LocalConfig(root=str(root))) == 1
    assert list(root.iterdir()) == []


def test_upload_and_download_round_trip(local_backend, answer_task, tmp_path):
    src = tmp_path / "payload"
    (src / "sub").mkdir(parents=True)
    (src / "sub" / "f.txt").write_text("hello")
    with local_backend.open(answer_task) as sb:
        sb.upload(src, "/app/in")
        assert sb.exec("cat /app/in/sub/f.txt", timeout=5).output == "hello"
        sb.exec("mkdir -p /app/out && echo bye > /app/out/g.txt && ln -s /etc/shadow /app/out/link", timeout=5)
        sb.download("/app/out", tmp_path / "back")
        assert (tmp_path / "back" / "g.txt").read_text() == "bye\n"
        with pytest.raises(PermissionError):
            sb.upload(src, "/usr/local/evil")


@pytest.mark.parametrize(
    "dockerfile, why",
    [
        ("FROM ubuntu:24.04\n", "FROM ubuntu:24.04"),
        ("FROM litecore/dev:bookworm\nRUN apt-get install -y cowsay\n", "RUN failed"),
        ("FROM litecore/dev:bookworm\nCOPY missing.txt /app/\n", "does not exist"),
        ("FROM litecore/dev:bookworm\nCOPY x.txt /usr/local/bin/\n", "outside the sandbox's writable folders"),
        ("FROM litecore/dev:bookworm\nUSER nobody\n", "USER nobody"),
    ],
)
def test_unsupported_dockerfiles_say_why(tmp_path, dockerfile, why):
    os.environ.setdefault("LITECORE_CACHE_DIR", str(tmp_path / "cache"))
    task = make_task(tmp_path, dockerfile=dockerfile, app_files={"x.txt": "x"})
    with pytest.raises(SandboxUnavailable) as err:
        LocalBackend().prepare(task)
    assert why in str(err.value) and "Dockerfile" in str(err.value)


def test_missing_bwrap_names_the_install_command(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(SandboxUnavailable, match="apt-get install -y bubblewrap"):
        LocalBackend()


def test_missing_host_tool_is_reported(local_backend, tmp_path):
    task = make_task(tmp_path, toml_extra={"metadata": {"requires": ["definitely-not-a-tool"]}})
    with pytest.raises(SandboxUnavailable, match="definitely-not-a-tool"):
        local_backend.prepare(task)
