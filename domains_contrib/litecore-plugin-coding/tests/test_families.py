
import pytest

from litecore.testing import distinct_instances, check_determinism, check_family
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
    """Seeds x difficulties x families give well over 1,000 different tasks.

    optimize-slow computes large expected answers at generation time: sample it lightly."""
    assert distinct_instances(domain(), range(70), seeds_per_family={"optimize-slow": 8}) >= 1000