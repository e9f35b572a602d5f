"""Real container engines for the cross-backend tests.

The engines are started (or reused) through ``scripts/engines/start-*.sh``, each
on its own socket, and litecore's base images are built once (cached in the
engines' data roots and ~/.cache/litecore/images). Without root or the packages
a local run skips; under CI (``CI=true``) a missing engine is a failure.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from litecore.task import Task, load_task

REPO = Path(__file__).resolve().parents[2]
ENGINES = ("docker", "podman")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _unavailable(why: str) -> None:
    if IN_CI:
        pytest.fail(f"container engine unavailable under CI: {why}")
    pytest.skip(why)


def _running(name: str) -> bool:
    sock = os.environ.get(f"LITECORE_{name.upper()}_SOCK") or f"/run/litecore/{'dockerd' if name == 'docker' else 'podman'}.sock"
    if not os.path.exists(sock):
        return False
    probe = subprocess.run(["curl", "-fsS", "--max-time", "2", "--unix-socket", sock, "http://localhost/_ping"],
                           capture_output=True)
    return probe.returncode == 0


@pytest.fixture(scope="session")
def engine_urls() -> Iterator[dict[str, str]]:
    """Start (or reuse) dockerd and the Podman service; their URLs by engine.

    Engines this session started are stopped when it ends (their data roots, with the
    built images, are kept for the next run); engines that were already running stay.
    """
    if os.geteuid() != 0:
        _unavailable("the engine scripts need root")
    urls = {}
    started = [name for name in ENGINES if not _running(name)]
    for name in ENGINES:
        proc = subprocess.run([str(REPO / "scripts" / "engines" / f"start-{name}.sh")],
                              capture_output=True, text=True, timeout=600)
        if proc.returncode != 0:
            _unavailable(f"start-{name}.sh failed: {proc.stderr.strip()[-300:]}")
        urls[name] = proc.stdout.strip().splitlines()[-1]
        os.environ[f"LITECORE_{name.upper()}_HOST"] = urls[name]
    yield urls
    for name in started:
        subprocess.run([str(REPO / "scripts" / "engines" / f"stop-{name}.sh")], capture_output=True, timeout=120)


@pytest.fixture(scope="session")
def base_images(engine_urls: dict[str, str]) -> None:
    """litecore/base:bookworm in both engines (debootstrap once, then reused)."""
    from litecore.containers import connect
    from litecore.images import BASE_IMAGE, ImageSpec, build_images

    build_images({n: connect(n) for n in engine_urls}, [ImageSpec(name=BASE_IMAGE)])


@pytest.fixture(scope="session")
def dev_images(base_images: None, engine_urls: dict[str, str]) -> None:
    """litecore/dev:bookworm in both engines (several minutes the first time, then cached)."""
    from litecore.containers import connect
    from litecore.images import DEV_IMAGE, build_images, default_specs

    specs = [s for s in default_specs() if s.name == DEV_IMAGE]
    build_images({n: connect(n) for n in engine_urls}, specs)


@pytest.fixture(scope="session", params=ENGINES)
def engine(request: pytest.FixtureRequest, base_images: None) -> str:
    return request.param


@pytest.fixture(scope="session")
def backends(engine_urls: dict[str, str], base_images: None) -> Iterator[dict[str, object]]:
    """One backend per engine, made through the plugin manager (as a run would)."""
    from litecore.plugins import PluginManager

    pm = PluginManager()
    made = {name: pm.get("sandbox", name).factory(None) for name in ENGINES}
    yield made
    for b in made.values():
        b.close()


@pytest.fixture
def backend(engine: str, backends: dict[str, object]):
    return backends[engine]


def write_simple_task(root: Path, *, name: str = "simple", dockerfile: str | None = None,
                      solve: str = "echo hi > /app/out.txt\n",
                      test: str | None = None, toml_extra: str = "", files: dict[str, str] | None = None) -> Task:
    """A one-line Harbor task on litecore's base image (bash-only verifier)."""
    t = root / name
    (t / "environment").mkdir(parents=True)
    (t / "tests").mkdir()
    (t / "solution").mkdir()
    (t / "environment" / "Dockerfile").write_text(dockerfile or "FROM litecore/base:bookworm\nWORKDIR /app\n")
    for rel, content in (files or {}).items():
        p = t / "environment" / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(content)
    (t / "instruction.md").write_text("Write the word hi to /app/out.txt.\n")
    (t / "task.toml").write_text(
        'schema_version = "1.1"\n[agent]\ntimeout_sec = 30.0\n[verifier]\ntimeout_sec = 30.0\n'
        '[environment]\nnetwork_mode = "no-network"\ncpus = 1\nmemory_mb = 256\n' + toml_extra)
    (t / "solution" / "solve.sh").write_text("#!/bin/bash\n" + solve)
    (t / "tests" / "test.sh").write_text(test or (
        "#!/bin/bash\nmkdir -p /logs/verifier\n"
        'if [ "$(cat /app/out.txt 2>/dev/null)" = hi ]; then echo 1 > /logs/verifier/reward.txt; '
        "else echo 0 > /logs/verifier/reward.txt; fi\n"))
    return load_task(t)


@pytest.fixture
def simple_task(tmp_path: Path) -> Task:
    return write_simple_task(tmp_path)


def labelled_containers(backend) -> list[str]:
    """litecore's containers owned by this test process (other runs on the engine don't count)."""
    from litecore.containers import LABEL, LABEL_OWNER, owner_id

    flt = {"label": [LABEL, f"{LABEL_OWNER}={owner_id()}"]}
    return [c["Id"] for c in backend.client.api.containers(all=True, filters=flt)]
