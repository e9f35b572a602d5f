from litecore_plugin_security import domain

from litecore.testing import DomainContract


class TestSecurityDomain(DomainContract):
    """The shared quality gate (litecore.testing.DomainContract)."""

    domain = staticmethod(domain)
