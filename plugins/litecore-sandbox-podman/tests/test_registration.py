"""The podman backend registers through its entry point with a strict config class.

Its behaviour on a real engine is tested with the other container backend in
tests/containers/ (same cases, both engines).
"""

import attrs
import pytest

from litecore.plugins import PluginManager
from litecore_sandbox_podman import PodmanBackend, PodmanConfig


def test_registered_by_entry_point():
    rec = PluginManager().get("sandbox", "podman")
    assert rec.factory is PodmanBackend and rec.config is PodmanConfig
    assert rec.distribution == "litecore-sandbox-podman"


def test_config_strict_and_documented():
    cfg = PodmanConfig(aliases={"ubuntu:24.04": "litecore/dev:bookworm"}, base_url="unix:///tmp/x.sock")
    assert cfg.aliases["ubuntu:24.04"] == "litecore/dev:bookworm"
    with pytest.raises(TypeError):
        PodmanConfig(socket="/tmp/x.sock")  # unknown keys are errors
    assert attrs.has(PodmanConfig)


def test_missing_engine_is_one_line_error(tmp_path):
    from litecore.errors import SandboxUnavailable

    with pytest.raises(SandboxUnavailable) as err:
        PodmanBackend(PodmanConfig(base_url=f"unix://{tmp_path}/none.sock"))
    assert "\n" not in str(err.value) and "start-podman.sh" in str(err.value)
