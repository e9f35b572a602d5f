"""`litecore new-plugin` generates a package that works as a plugin."""

from __future__ import annotations

import importlib
import sys

import pytest

from litecore.errors import LitecoreError
from litecore.testing import check_family, run_cli


def test_generated_plugin_registers_and_its_family_is_proven(tmp_path, monkeypatch, plugin_manager, local_backend):
    res = run_cli("new-plugin", "log-lab", "--dest", str(tmp_path))
    assert res.returncode == 0, res.stderr
    root = tmp_path / "litecore-plugin-log-lab"
    assert (root / "pyproject.toml").read_text().count('litecore-plugin-log-lab = "litecore_plugin_log_lab"') == 1
    monkeypatch.syspath_prepend(str(root))
    module = importlib.import_module("litecore_plugin_log_lab")
    plugin_manager.register(module, "litecore-plugin-log-lab", distribution="litecore-plugin-log-lab")
    dom = plugin_manager.get("domain", "log-lab")
    assert dom.distribution == "litecore-plugin-log-lab"
    check_family(dom, "count-lines", local_backend, tmp_path / "tasks", seeds=(1,), repeats=1)
    # the generated package's own quality-gate tests pass (all but the listing, which needs it pip-installed)
    import os
    import subprocess

    run = subprocess.run([sys.executable, "-m", "pytest", str(root / "tests"), "-q", "-p", "no:cacheprovider",
                          "-k", "TestDomain"], capture_output=True, text=True, cwd=root, timeout=600,
                         env={**os.environ, "PYTHONPATH": str(root)})
    assert run.returncode == 0, run.stdout[-2000:]
    assert " passed" in run.stdout and "failed" not in run.stdout
    for name in list(sys.modules):
        if name.startswith("litecore_plugin_log_lab"):
            del sys.modules[name]


def test_bad_names_and_existing_folders_are_refused(tmp_path):
    from litecore.scaffold import new_domain_plugin

    with pytest.raises(LitecoreError, match="lower-case words"):
        new_domain_plugin("Bad_Name", tmp_path)
    new_domain_plugin("ok", tmp_path)
    with pytest.raises(LitecoreError, match="already exists"):
        new_domain_plugin("ok", tmp_path)
