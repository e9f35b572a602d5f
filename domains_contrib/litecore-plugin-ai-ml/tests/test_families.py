
import pytest

from litecore.records import DIFFICULTIES, TaskRequest
from litecore.testing import distinct_instances, check_determinism, check_family
from litecore_plugin_ai_ml import domain

FAMILIES = [f.name for f in domain().families]


@pytest.mark.parametrize("family", FAMILIES)
def test_family_proven_on_local_backend(family, local_backend, tmp_path):
    check_family(domain(), family, local_backend, tmp_path, seeds=(11,))


@pytest.mark.parametrize("family", FAMILIES)
def test_family_deterministic(family, tmp_path):
    check_determinism(domain(), family, tmp_path)


def test_at_least_six_distinct_families():
    dom = domain()
    assert len({f.name for f in dom.families}) >= 6
    assert dom.name == "ai-ml" and dom.category == "machine-learning"


def test_many_distinct_instances():
    """Seeds x difficulties x families give well over 1,000 different tasks."""
    assert distinct_instances(domain(), range(60)) >= 1000


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
