from litecore_plugin_build_tools import domain

from litecore.records import DIFFICULTIES, TaskRequest
from litecore.testing import DomainContract


class TestBuildToolsDomain(DomainContract):
    """The shared quality gate (litecore.testing.DomainContract)."""

    domain = staticmethod(domain)


def test_domain_shape():
    dom = domain()
    assert dom.name == "build-tools" and dom.category == "build-tools"
    assert dom.spec.packages and dom.spec.skills


def test_solve_blocks_are_commented():
    """Every blank-line separated block of the reference solution starts with a plan comment."""
    dom = domain()
    for fam in dom.families:
        for diff in DIFFICULTIES:
            d = fam.generate(TaskRequest(seed=3, difficulty=diff))
            blocks = [b for b in d.solve.strip().split("\n\n") if b.strip()]
            assert len(blocks) >= 2, fam.name
            assert all(b.lstrip().startswith("#") for b in blocks), (fam.name, diff)
