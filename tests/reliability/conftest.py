"""Shared pieces of the reliability suites: leak accounting and a loopback probe server."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

REPO = Path(__file__).resolve().parents[2]


def bwrap_children() -> int:
    """bwrap processes under this test process (other runs on the machine don't count)."""
    return sum(1 for p in psutil.Process().children(recursive=True) if _name(p) == "bwrap")


def _name(p: psutil.Process) -> str:
    try:
        return p.name()
    except psutil.Error:
        return ""


def litecore_cgroups(sandbox: str = "sbx-*") -> list[str]:
    """A sandbox's cgroups (``litecore-<sandbox folder>``) under the v1 hierarchies litecore uses."""
    found = []
    for controller in ("memory", "pids", "cpu"):
        base = Path("/sys/fs/cgroup") / controller
        if base.is_dir():
            found += [str(p) for p in base.rglob(f"litecore-{sandbox}") if p.is_dir()]
    return found


class Probe:
    """A TCP listener on 127.0.0.1 that counts connections (a sandbox without network makes none)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.sock.close()


@pytest.fixture
def probe() -> Iterator[Probe]:
    p = Probe()
    yield p
    p.close()


def container_backend(name: str):
    """The ``docker`` / ``podman`` backend if its plugin imports and its engine answers; else skip."""
    import subprocess

    try:
        from litecore.plugins import PluginManager

        rec = PluginManager().load(warn=False).get("sandbox", name)
    except Exception as exc:  # noqa: BLE001 - the plugin is optional
        pytest.skip(f"{name} backend plugin not available: {exc}")
    script = REPO / "scripts" / "engines" / f"start-{name}.sh"
    if not script.is_file() or os.geteuid() != 0:
        pytest.skip(f"no way to start {name} here")
    proc = subprocess.run([str(script)], capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        pytest.skip(f"start-{name}.sh failed: {proc.stderr.strip()[-200:]}")
    os.environ[f"LITECORE_{name.upper()}_HOST"] = proc.stdout.strip().splitlines()[-1]
    return rec.factory(None)


def record(suite: str, **fields: object) -> None:
    """Append one result row for docs/reliability.md when ``LITECORE_RELIABILITY_OUT`` names a folder."""
    import json

    out = os.environ.get("LITECORE_RELIABILITY_OUT")
    if out:
        Path(out).mkdir(parents=True, exist_ok=True)
        with open(Path(out) / f"{suite}.jsonl", "a") as fh:
            fh.write(json.dumps(fields) + "\n")
