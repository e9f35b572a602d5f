import hashlib

import pytest

from litecore.records import DIFFICULTIES, TaskRequest
from litecore.testing import check_determinism, check_family
from litecore_plugin_build_tools import domain

FAMILIES = [f.name for f in domain().families]


def test_domain_shape():
    dom = domain()
    assert dom.name == "build-tools" and dom.category == "build-tools"
    assert len(FAMILIES) >= 6 and len(set(FAMILIES)) == len(FAMILIES)
    assert dom.spec.packages and dom.spec.skills


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
        for diff in DIFFICULTIES:
            for seed in range(100):
                d = fam.generate(TaskRequest(seed=seed, difficulty=diff))
                h = hashlib.sha256(d.instruction.encode())
                for k in sorted(d.app_files):
                    v = d.app_files[k]
                    h.update(k.encode() + (v if isinstance(v, bytes) else v.encode()))
                seen.add(h.hexdigest())
    assert len(seen) >= 1000


def test_solve_blocks_are_commented():
    """Every blank-line separated block of the reference solution starts with a plan comment."""
    dom = domain()
    for fam in dom.families:
        for diff in DIFFICULTIES:
            d = fam.generate(TaskRequest(seed=3, difficulty=diff))
            blocks = [b for b in d.solve.strip().split("\n\n") if b.strip()]
            assert len(blocks) >= 2, fam.name
            assert all(b.lstrip().startswith("#") for b in blocks), (fam.name, diff)
