import hashlib

import pytest

from litecore.records import DIFFICULTIES, TaskRequest
from litecore.testing import check_determinism, check_family
from litecore_plugin_security import domain

FAMILIES = [f.name for f in domain().families]


def test_at_least_six_families():
    assert len(set(FAMILIES)) >= 6


@pytest.mark.parametrize("family", FAMILIES)
def test_family_proven_on_local_backend(family, local_backend, tmp_path):
    check_family(domain(), family, local_backend, tmp_path, seeds=(11,))


@pytest.mark.parametrize("family", FAMILIES)
def test_family_deterministic(family, tmp_path):
    check_determinism(domain(), family, tmp_path)


def test_many_distinct_instances():
    dom = domain()
    seen = set()
    for fam in dom.families:
        for difficulty in DIFFICULTIES:
            for seed in range(100):
                d = fam.generate(TaskRequest(seed=seed, difficulty=difficulty))
                h = hashlib.sha256(d.instruction.encode())
                for path in sorted(d.app_files):
                    content = d.app_files[path]
                    h.update(path.encode())
                    h.update(content if isinstance(content, bytes) else content.encode())
                seen.add(h.hexdigest())
    assert len(seen) >= 1000
