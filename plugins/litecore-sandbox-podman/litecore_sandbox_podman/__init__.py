"""litecore sandbox backend ``podman``: tasks in Podman containers, driven through its API service.

Podman serves the Docker-compatible API (``podman system service``), so the
implementation is the one the Docker backend uses (:mod:`litecore.containers`);
this plugin registers it under ``podman`` with Podman's defaults (socket
``unix:///run/litecore/podman.sock`` from ``scripts/engines/start-podman.sh``,
or ``$LITECORE_PODMAN_HOST``).
"""

from __future__ import annotations

import attrs

import litecore
from litecore.containers import ContainerBackend, ContainerConfig
from litecore.records import SandboxBackendPlugin


@attrs.frozen(kw_only=True)
class PodmanConfig(ContainerConfig):
    """Options of ``[sandbox.podman]`` (see :class:`litecore.containers.ContainerConfig`)."""


class PodmanBackend(ContainerBackend):
    name = "podman"
    #: Podman 4.3's compat build API ignores networkmode, so audits cannot build offline.
    offline_builds = False

    def __init__(self, config: PodmanConfig | None = None) -> None:
        super().__init__(config or PodmanConfig(), engine="podman")


@litecore.hookimpl
def litecore_sandbox_backends():
    return [
        SandboxBackendPlugin(
            name="podman",
            factory=PodmanBackend,
            config=PodmanConfig,
            description="Podman containers via its Docker-compatible API service: daemonless, rootful here",
        )
    ]
