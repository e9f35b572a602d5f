"""The docker backend registers through its entry point with a strict config class.

Its behaviour on a real engine is tested with the other container backend in
tests/containers/ (same cases, both engines).
"""

import attrs
import pytest

from litecore.plugins import PluginManager
from litecore_sandbox_docker import DockerBackend, DockerConfig


def test_registered_by_entry_point():
    rec = PluginManager().get("sandbox", "docker")
    assert rec.factory is DockerBackend and rec.config is DockerConfig
    assert rec.distribution == "litecore-sandbox-docker"


def test_config_strict_and_documented():
    cfg = DockerConfig(aliases={"ubuntu:24.04": "litecore/dev:bookworm"}, base_url="unix:///tmp/x.sock")
    assert cfg.aliases["ubuntu:24.04"] == "litecore/dev:bookworm"
    with pytest.raises(TypeError):
        DockerConfig(socket="/tmp/x.sock")  # unknown keys are errors
    assert attrs.has(DockerConfig)


def test_missing_engine_is_one_line_error(tmp_path):
    from litecore.errors import SandboxUnavailable

    with pytest.raises(SandboxUnavailable) as err:
        DockerBackend(DockerConfig(base_url=f"unix://{tmp_path}/none.sock"))
    assert "\n" not in str(err.value) and "start-docker.sh" in str(err.value)
