"""Every plugin distribution in the repo is installed by the README's commands."""

from __future__ import annotations

import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _listed(name: str) -> set[str]:
    out = set()
    for line in (REPO / "requirements" / name).read_text().splitlines():
        line = line.strip()
        if line.startswith("-e "):
            out.add(line[3:].strip().rstrip("/"))
        elif line.startswith("-r "):
            out |= _listed(line[3:].strip())
    return out


def test_every_plugin_is_in_the_requirements_and_registers_by_entry_point():
    dists = sorted(p.parent for p in REPO.glob("plugins/*/pyproject.toml")) + \
        sorted(p.parent for p in REPO.glob("domains_contrib/*/pyproject.toml"))
    installed = _listed("test.txt")
    runtime = _listed("plugins.txt")
    for d in dists:
        rel = d.relative_to(REPO).as_posix()
        assert rel in installed, f"{rel} missing from requirements/test.txt (or plugins.txt)"
        if d.parent.name == "domains_contrib" or rel.endswith(("docker", "podman")):
            assert rel in runtime, f"{rel} missing from requirements/plugins.txt (the quickstart's install)"
        meta = tomllib.loads((d / "pyproject.toml").read_text())["project"]
        eps = meta.get("entry-points", {}).get("litecore", {})
        assert list(eps) == [meta["name"]], f"{rel}: entry point name must be the distribution name"
    assert len([d for d in dists if d.parent.name == "domains_contrib"]) == 10


def test_torch_is_pinned_where_it_is_installed():
    text = (REPO / "requirements" / "plugins.txt").read_text()
    assert "torch==2.13.0" in text
