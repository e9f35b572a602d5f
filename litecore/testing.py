"""Test support for litecore and its plugins (a pytest plugin, loaded via ``pytest11``).

Fixtures:
- ``plugin_manager``: a manager with autoload off; ``register`` plugins in-process.
- ``local_backend``: the bubblewrap backend with a private cache folder.

Every domain plugin's quality gate:
- :class:`DomainContract`: subclass it in the plugin's tests to get the shared tests (each family
  proven and deterministic, enough families, enough distinct instances).

Helpers behind it, also usable one by one:
- :func:`materialize` writes a generated task to a folder and loads it.
- :func:`check_family` proves a family's instances (oracle 1, noop 0, wrong 0).
- :func:`generation_digests` (and ``_elsewhere``: in a fresh interpreter) fingerprints a domain's output.
- :func:`distinct_instances` counts a domain's different instances over seeds.
- :func:`make_task` writes a tiny real Harbor task; :func:`run_cli` runs the real CLI.
"""

from __future__ import annotations

import filecmp
import os
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from types import MappingProxyType

import pytest

from litecore.generate import GeneratedTask, render_draft
from litecore.plugins import PluginManager
from litecore.records import Domain, TaskRequest
from litecore.sandbox import SandboxBackend
from litecore.task import Task, load_task, write_task
from litecore.verify import HarborVerifier, Validation, validate_task


def generate(domain: Domain, family: str, seed: int, difficulty: str) -> GeneratedTask:
    request = TaskRequest(seed=seed, difficulty=difficulty)
    return render_draft(domain, family, request, domain.family(family).generate(request))


def materialize(generated: GeneratedTask, root: Path) -> Task:
    path = write_task(root / generated.task_id, instruction=generated.instruction, config=generated.config,
                      files=generated.files, executables=generated.executables)
    return load_task(path)


def check_family(
    domain: Domain,
    family: str,
    backend: SandboxBackend,
    root: Path,
    *,
    seeds: Iterable[int] = (1, 2),
    difficulties: Iterable[str] | None = None,
    repeats: int = 1,
) -> list[Validation]:
    """Prove a family: for each seed x difficulty, oracle 1, noop 0 and its wrong solution 0.

    One repeat by default: the pipeline's gate re-runs every check (``[validate] repeats``);
    here the point is that every family and difficulty is proven at all, quickly.

    Returns the validations; fails the test with every reason if any is not ok.
    """
    fam = domain.family(family)
    results = []
    failures = []
    for difficulty in difficulties or fam.difficulties:
        for seed in seeds:
            gen = generate(domain, family, seed, difficulty)
            task = materialize(gen, root)
            v = validate_task(task, backend, HarborVerifier(), repeats=repeats,
                              attacks={"wrong-solution": gen.wrong_solve})
            results.append(v)
            if not v.ok:
                failures.append(f"{task.id}: {v.reason}")
    if failures:
        pytest.fail("family not proven:\n" + "\n".join(failures))
    return results


def check_determinism(domain: Domain, family: str, root: Path, *, seed: int = 7) -> None:
    """Same seed, byte-identical folders; different seed, different instruction or files."""
    for difficulty in domain.family(family).difficulties:
        a = materialize(generate(domain, family, seed, difficulty), root / "a")
        b = materialize(generate(domain, family, seed, difficulty), root / "b")
        c = generate(domain, family, seed + 1, difficulty)
        cmp = filecmp.dircmp(a.path, b.path)
        _assert_same_tree(cmp)
        g = generate(domain, family, seed, difficulty)
        assert (c.instruction, dict(c.files)) != (g.instruction, dict(g.files)), f"{family}: seeds collide"


def generation_digests(domain: Domain, root: Path, *, seeds: Iterable[int] = (3, 4)) -> dict[str, str]:
    """The content digest of every family x difficulty x seed's task folder, written under ``root``."""
    from litecore.task import tree_digest

    out = {}
    for fam in domain.families:
        for difficulty in fam.difficulties:
            for seed in seeds:
                task = materialize(generate(domain, fam.name, seed, difficulty), root)
                out[task.id] = tree_digest(task.path)
    return out


def generation_digests_elsewhere(domain_factory: Callable[[], Domain], root: Path, hash_seed: int) -> dict[str, str]:
    """:func:`generation_digests` from a fresh interpreter with string-hash seed ``hash_seed``, so
    anything that depends on the process (set order, ``id()``, hash order) shows as a difference."""
    import json

    code = ("import importlib, json, sys; from pathlib import Path; from litecore.testing import generation_digests; "
            "f = getattr(importlib.import_module(sys.argv[1]), sys.argv[2]); "
            "print(json.dumps(generation_digests(f(), Path(sys.argv[3]))))")
    res = subprocess.run([sys.executable, "-c", code, domain_factory.__module__, domain_factory.__qualname__, str(root)],
                         capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": str(hash_seed)}, timeout=600)
    assert res.returncode == 0, res.stderr[-2000:]
    return json.loads(res.stdout)


def distinct_instances(domain: Domain, seeds: Iterable[int], *, seeds_per_family: dict[str, int] | None = None) -> int:
    """How many different instances (instruction + input files) the seeds give, over every
    family and difficulty. ``seeds_per_family`` samples expensive families more lightly."""
    import hashlib

    seen: set[str] = set()
    seeds = list(seeds)
    for fam in domain.families:
        fam_seeds = seeds[: (seeds_per_family or {}).get(fam.name, len(seeds))]
        for difficulty in fam.difficulties:
            for seed in fam_seeds:
                draft = fam.generate(TaskRequest(seed=seed, difficulty=difficulty))
                h = hashlib.sha256(draft.instruction.encode())
                for path in sorted(draft.app_files):
                    content = draft.app_files[path]
                    h.update(b"\0" + path.encode() + b"\0")
                    h.update(content if isinstance(content, bytes) else content.encode())
                seen.add(h.hexdigest())
    return len(seen)


class DomainContract:
    """The tests every domain plugin must pass; subclass it in the plugin's test suite::

        class TestMyDomain(DomainContract):
            domain = staticmethod(litecore_plugin_mine.domain)

    Each family (the ``family`` argument is parametrized from ``domain()``) is proven on
    the local backend at every difficulty (oracle 1, no-op 0, its wrong solution 0) and
    generates byte-identical folders from the same seed, in this process and in a fresh one
    with another hash seed; the domain has at least
    ``min_families`` families and ``min_instances`` distinct instances over
    ``instance_seeds``. Override the class attributes to tune; add the domain's own tests
    beside them.
    """

    domain: Callable[[], Domain]
    #: Seeds proven per family and difficulty.
    proof_seeds: tuple[int, ...] = (11,)
    #: Seeds counted for distinct instances, and fewer for families that are slow to generate.
    instance_seeds: range = range(100)
    seeds_per_family: Mapping[str, int] = MappingProxyType({})
    min_families: int = 6
    min_instances: int = 1000

    def test_family_proven_on_local_backend(self, family: str, local_backend: SandboxBackend,
                                            tmp_path: Path) -> None:
        check_family(self.domain(), family, local_backend, tmp_path, seeds=self.proof_seeds)

    def test_family_deterministic(self, family: str, tmp_path: Path) -> None:
        check_determinism(self.domain(), family, tmp_path)

    def test_generation_does_not_depend_on_the_process(self, tmp_path: Path) -> None:
        """Same seed, same bytes in another interpreter too (a set's order must never reach a task)."""
        here = generation_digests(self.domain(), tmp_path / "here")
        for hash_seed in (1, 2):  # two orders of any small set, most of the time
            assert generation_digests_elsewhere(self.domain, tmp_path / f"hash{hash_seed}", hash_seed) == here

    def test_enough_distinct_families(self) -> None:
        names = [f.name for f in self.domain().families]
        assert len(set(names)) == len(names) >= self.min_families

    def test_many_distinct_instances(self) -> None:
        found = distinct_instances(self.domain(), self.instance_seeds, seeds_per_family=dict(self.seeds_per_family))
        assert found >= self.min_instances


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize ``family`` of :class:`DomainContract` tests with the domain's families."""
    cls = metafunc.cls
    if cls is not None and issubclass(cls, DomainContract) and "family" in metafunc.fixturenames:
        metafunc.parametrize("family", [f.name for f in cls.domain().families])


def _assert_same_tree(cmp: filecmp.dircmp) -> None:
    assert not cmp.left_only and not cmp.right_only, (cmp.left_only, cmp.right_only)
    _, mismatch, errors = filecmp.cmpfiles(cmp.left, cmp.right, cmp.common_files, shallow=False)
    assert not mismatch and not errors, (mismatch, errors)
    for sub in cmp.subdirs.values():
        _assert_same_tree(sub)


def make_task(root: Path, name: str = "t", *, tests: str | None = None, solve: str = "echo 42 > /app/answer.txt\n",
              dockerfile: str = "FROM litecore/dev:bookworm\nWORKDIR /app\n", toml_extra: dict | None = None,
              app_files: dict | None = None) -> Task:
    """A tiny real Harbor task: the answer is 42 in /app/answer.txt."""
    from litecore.generate import verifier_files

    files = {
        "environment/Dockerfile": dockerfile,
        "solution/solve.sh": "#!/bin/bash\n" + solve,
        "tests/test_outputs.py": tests or (
            "import pathlib\n\n"
            "def test_answer():\n"
            "    assert pathlib.Path('/app/answer.txt').read_text().strip() == '42'\n"
        ),
        **verifier_files(),
    }
    for rel, content in (app_files or {}).items():
        files[f"environment/{rel}"] = content
    config = {"schema_version": "1.1", "task": {"name": f"test/{name}"},
              "environment": {"network_mode": "no-network"},
              "agent": {"timeout_sec": 60.0}, "verifier": {"timeout_sec": 60.0}}
    for table, values in (toml_extra or {}).items():
        config.setdefault(table, {}).update(values)
    return load_task(write_task(root / name, instruction="Write 42 to /app/answer.txt.", config=config, files=files))


def run_cli(*args: str, cwd: Path | None = None, env: dict | None = None, timeout: float = 300):
    """Run the real `litecore` command line in a subprocess."""
    return subprocess.run([sys.executable, "-m", "litecore", *args], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, **(env or {})}, timeout=timeout)


@pytest.fixture
def plugin_manager() -> Iterator[PluginManager]:
    """A plugin manager with autoload off: register what the test needs."""
    yield PluginManager(autoload=False, disabled=())


@pytest.fixture(scope="session")
def local_backend(tmp_path_factory: pytest.TempPathFactory) -> SandboxBackend:
    import os

    from litecore.builtins.sandbox_local import LocalBackend

    os.environ.setdefault("LITECORE_CACHE_DIR", str(tmp_path_factory.mktemp("litecore-cache")))
    return LocalBackend()
