"""Issue 4's quality gate on a container backend: every family of every paper domain, at every
difficulty, is proven (oracle 1, noop 0) in Docker on litecore's dev image (slow suite)."""

from __future__ import annotations

import pytest

from litecore.executor import map_unordered
from litecore.generate import PAPER_DOMAIN_WEIGHTS
from litecore.plugins import PluginManager
from litecore.testing import generate, materialize
from litecore.verify import HarborVerifier, validate_task


def _cases() -> list[tuple[str, str, str]]:
    domains = PluginManager().load(warn=False).records("domain")
    return [(d, f.name, diff) for d in sorted(domains) if d in PAPER_DOMAIN_WEIGHTS
            for f in domains[d].families for diff in f.difficulties]


@pytest.mark.slow
def test_every_family_is_proven_in_docker(dev_images, backends, tmp_path):
    domains = PluginManager().load(warn=False).records("domain")
    backend = backends["docker"]
    cases = _cases()
    assert len({(d, f) for d, f, _ in cases}) >= 60

    def prove(case):
        domain, family, difficulty = case
        task = materialize(generate(domains[domain], family, 101, difficulty), tmp_path / domain)
        v = validate_task(task, backend, HarborVerifier(), repeats=1)
        return case, v

    failures = [f"{c}: {v.reason}" for c, v in map_unordered(prove, cases, concurrency=4) if not v.ok]
    assert not failures, "\n".join(failures)
