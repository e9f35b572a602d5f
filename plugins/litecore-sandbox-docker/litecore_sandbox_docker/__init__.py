"""litecore sandbox backend ``docker``: tasks in Docker containers, driven through the engine API.

The implementation is shared with the Podman backend (:mod:`litecore.containers`);
this plugin registers it under the name ``docker`` with dockerd's defaults
(socket ``unix:///run/litecore/dockerd.sock`` from ``scripts/engines/start-docker.sh``,
or ``$LITECORE_DOCKER_HOST``).
"""

from __future__ import annotations

import attrs

import litecore
from litecore.containers import ContainerBackend, ContainerConfig
from litecore.records import SandboxBackendPlugin


@attrs.frozen(kw_only=True)
class DockerConfig(ContainerConfig):
    """Options of ``[sandbox.docker]`` (see :class:`litecore.containers.ContainerConfig`)."""


class DockerBackend(ContainerBackend):
    name = "docker"

    def __init__(self, config: DockerConfig | None = None) -> None:
        super().__init__(config or DockerConfig(), engine="docker")


@litecore.hookimpl
def litecore_sandbox_backends():
    return [
        SandboxBackendPlugin(
            name="docker",
            factory=DockerBackend,
            config=DockerConfig,
            description="Docker containers via the engine API: any Dockerfile, images cached by content",
        )
    ]
