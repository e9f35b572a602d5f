from litecore_plugin_networking import domain

from litecore.testing import DomainContract


class TestNetworkingDomain(DomainContract):
    """The shared quality gate (litecore.testing.DomainContract)."""

    domain = staticmethod(domain)
