import pytest

from litecore.testing import check_determinism, check_family
from litecore_plugin_data_science import domain

FAMILIES = [f.name for f in domain().families]


@pytest.mark.parametrize("family", FAMILIES)
def test_family_proven_on_local_backend(family, local_backend, tmp_path):
    check_family(domain(), family, local_backend, tmp_path, seeds=(11, 12))


@pytest.mark.parametrize("family", FAMILIES)
def test_family_deterministic(family, tmp_path):
    check_determinism(domain(), family, tmp_path)
