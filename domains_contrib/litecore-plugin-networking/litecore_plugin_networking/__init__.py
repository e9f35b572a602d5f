"""litecore domain plugin: networking (services, protocols, addressing, proxies, firewalls, captures)."""

from __future__ import annotations

import litecore
from litecore.records import Domain, DomainSpec

from litecore_plugin_networking.families import (
    cidr_planner,
    firewall_rules,
    http_service,
    packet_log,
    proxy_config,
    tcp_line_server,
)

SPEC = DomainSpec(
    description=(
        "Networking work on a Linux host that only has loopback: writing and debugging small network "
        "services (HTTP APIs, line-based TCP protocols) that a grader starts and talks to; reading traffic "
        "captures and logs to answer questions about hosts, ports and connections; planning IPv4 addressing; "
        "and getting the configuration of network software right (reverse proxies, firewalls) where the "
        "checker parses the files with the real tool's syntax and semantics rather than loading them."
    ),
    skills=("implement a protocol from its spec", "serve HTTP/JSON with correct status codes",
            "handle concurrent clients and persistence", "parse tcpdump-style captures",
            "subnet with CIDR/VLSM arithmetic", "read and fix nginx configuration (inheritance rules)",
            "write iptables rulesets with first-match ordering", "test services with curl and netcat"),
    topics=("REST endpoints", "key-value line protocols", "port scans and TCP handshakes", "VLSM address plans",
            "reverse proxy upstreams and locations", "host firewalls and blocklists", "WebSocket proxying"),
    tools=("python3 (http.server, socketserver, ipaddress)", "curl", "nc", "ss", "ip", "awk", "grep",
           "iptables-save format", "nginx config syntax"),
    packages=("python3", "curl", "netcat-openbsd", "iproute2", "gawk"),
)


def domain() -> Domain:
    return Domain(
        name="networking",
        spec=SPEC,
        category="networking",
        description="network services, captures, subnetting, proxy and firewall configuration",
        families=(http_service.FAMILY, tcp_line_server.FAMILY, packet_log.FAMILY, cidr_planner.FAMILY,
                  proxy_config.FAMILY, firewall_rules.FAMILY),
    )


@litecore.hookimpl
def litecore_domains():
    return [domain()]
