
import pytest

from litecore.records import TaskRequest
from litecore.testing import distinct_instances, check_determinism, check_family
from litecore_plugin_scientific_computing import domain

FAMILIES = [f.name for f in domain().families]


@pytest.mark.parametrize("family", FAMILIES)
def test_family_proven_on_local_backend(family, local_backend, tmp_path):
    check_family(domain(), family, local_backend, tmp_path, seeds=(11,))


@pytest.mark.parametrize("family", FAMILIES)
def test_family_deterministic(family, tmp_path):
    check_determinism(domain(), family, tmp_path)


def test_at_least_six_distinct_families():
    dom = domain()
    assert len(dom.families) >= 6
    assert len({f.name for f in dom.families}) == len(dom.families)


def test_many_distinct_instances():
    """Seeds x difficulties x families give well over 1,000 different tasks."""
    assert distinct_instances(domain(), range(100)) >= 1000


def _amount_of_work(draft) -> int:
    """Stated rules plus hidden checks: a rough measure of how much an instance asks for."""
    rules = sum(1 for line in draft.instruction.splitlines()
                if line.startswith("- ") or line[:2].rstrip(".").isdigit())
    return rules + draft.tests.count("def test_")


def test_difficulty_changes_the_work():
    """Harder levels add rules or hidden checks, not just bigger numbers."""
    dom = domain()
    for fam in dom.families:
        for seed in (3, 4):
            easy = fam.generate(TaskRequest(seed=seed, difficulty="easy"))
            hard = fam.generate(TaskRequest(seed=seed, difficulty="hard"))
            assert _amount_of_work(hard) > _amount_of_work(easy), fam.name
