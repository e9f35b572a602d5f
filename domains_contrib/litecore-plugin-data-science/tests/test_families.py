from litecore_plugin_data_science import domain

from litecore.records import TaskRequest
from litecore.testing import DomainContract


class TestDataScienceDomain(DomainContract):
    """The shared quality gate (litecore.testing.DomainContract)."""

    domain = staticmethod(domain)


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
