
import pytest

from litecore.records import DIFFICULTIES, TaskRequest
from litecore.testing import distinct_instances, check_determinism, check_family
from litecore_plugin_system_admin import domain

FAMILIES = [f.name for f in domain().families]


def test_domain_shape():
    dom = domain()
    assert dom.name == "system-admin" and dom.category == "system-administration"
    assert len(FAMILIES) >= 6 and len(set(FAMILIES)) == len(FAMILIES)
    assert dom.spec.packages and dom.spec.skills


@pytest.mark.parametrize("family", FAMILIES)
def test_family_proven_on_local_backend(family, local_backend, tmp_path):
    check_family(domain(), family, local_backend, tmp_path, seeds=(11,))


@pytest.mark.parametrize("family", FAMILIES)
def test_family_deterministic(family, tmp_path):
    check_determinism(domain(), family, tmp_path)


def test_many_distinct_instances():
    """Seeds x difficulties x families give well over 1,000 different tasks."""
    assert distinct_instances(domain(), range(100)) >= 1000


def test_solve_blocks_are_commented():
    """Every blank-line separated block of the reference solution starts with a plan comment."""
    dom = domain()
    for fam in dom.families:
        for diff in DIFFICULTIES:
            d = fam.generate(TaskRequest(seed=3, difficulty=diff))
            blocks = [b for b in d.solve.strip().split("\n\n") if b.strip()]
            assert len(blocks) >= 2, fam.name
            assert all(b.lstrip().startswith("#") for b in blocks), (fam.name, diff)
