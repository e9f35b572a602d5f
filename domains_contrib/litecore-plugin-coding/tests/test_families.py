import hashlib

import pytest

from litecore.records import TaskRequest
from litecore.testing import check_determinism, check_family
from litecore_plugin_coding import domain

FAMILIES = [f.name for f in domain().families]


@pytest.mark.parametrize("family", FAMILIES)
def test_family_proven_on_local_backend(family, local_backend, tmp_path):
    check_family(domain(), family, local_backend, tmp_path, seeds=(11,))


@pytest.mark.parametrize("family", FAMILIES)
def test_family_deterministic(family, tmp_path):
    check_determinism(domain(), family, tmp_path)


def test_at_least_six_families():
    assert len(set(FAMILIES)) >= 6


def test_many_distinct_instances():
    seen = set()
    for fam in domain().families:
        # optimize-slow computes large expected answers at generation time: sample it lightly
        n = 8 if fam.name == "optimize-slow" else 70
        for diff in fam.difficulties:
            for seed in range(n):
                draft = fam.generate(TaskRequest(seed=seed, difficulty=diff))
                h = hashlib.sha256(draft.instruction.encode())
                for path, content in sorted(draft.app_files.items()):
                    h.update(path.encode())
                    h.update(content if isinstance(content, bytes) else content.encode())
                seen.add(h.hexdigest())
    assert len(seen) >= 1000
