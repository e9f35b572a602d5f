from types import MappingProxyType

from litecore_plugin_coding import domain

from litecore.testing import DomainContract


class TestCodingDomain(DomainContract):
    """The shared quality gate (litecore.testing.DomainContract)."""

    domain = staticmethod(domain)
    # optimize-slow computes large expected answers at generation time: sample it lightly
    instance_seeds = range(70)
    seeds_per_family = MappingProxyType({"optimize-slow": 8})
