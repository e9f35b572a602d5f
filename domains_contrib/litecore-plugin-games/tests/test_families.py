from litecore_plugin_games import domain

from litecore.records import DIFFICULTIES, TaskRequest
from litecore.testing import DomainContract


class TestGamesDomain(DomainContract):
    """The shared quality gate (litecore.testing.DomainContract)."""

    domain = staticmethod(domain)
    instance_seeds = range(60)


def test_domain_identity():
    dom = domain()
    assert dom.name == "games" and dom.category == "games"


def test_difficulty_changes_the_work():
    # harder levels add requirements, not just bigger numbers: the instruction grows new rules
    for fam in domain().families:
        texts = [fam.generate(TaskRequest(seed=3, difficulty=d)).instruction for d in DIFFICULTIES]
        assert len(texts[0]) < len(texts[2]), fam.name


def test_solutions_follow_the_block_rules():
    for fam in domain().families:
        for difficulty in DIFFICULTIES:
            draft = fam.generate(TaskRequest(seed=5, difficulty=difficulty))
            blocks = [b for b in draft.solve.strip().split("\n\n") if b.strip()]
            assert len(blocks) >= 3, fam.name
            for block in blocks:
                assert block.lstrip().startswith("#"), (fam.name, block[:60])
            assert "exit" not in draft.solve.split() and "set -e" not in draft.solve
