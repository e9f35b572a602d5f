"""The plugin manager with plugins registered in-process and through real entry points."""

from __future__ import annotations

import json
import sys
import textwrap

import pytest

import litecore
from litecore.errors import PluginError
from litecore.plugins import PluginManager
from litecore.records import PolicyPlugin
from litecore.testing import run_cli


def _policy_plugin(*names: str):
    class Plugin:
        @litecore.hookimpl
        def litecore_policies(self):
            return [PolicyPlugin(name=n, factory=object, description=f"policy {n}") for n in names]

    return Plugin()


def test_records_are_attributed_to_their_distribution(plugin_manager):
    plugin_manager.register(_policy_plugin("alpha", "beta"), "p1", distribution="litecore-plugin-alpha")
    recs = plugin_manager.records("policy")
    assert list(recs) == ["alpha", "beta"]
    assert recs["alpha"].distribution == "litecore-plugin-alpha"


def test_unknown_name_lists_the_alternatives(plugin_manager):
    plugin_manager.register(_policy_plugin("oracle", "noop"), "p1")
    with pytest.raises(PluginError, match=r"unknown policy 'orcale'; available: noop, oracle"):
        plugin_manager.get("policy", "orcale")


def test_duplicate_names_name_both_distributions(plugin_manager):
    plugin_manager.register(_policy_plugin("same"), "p1", distribution="dist-one")
    plugin_manager.register(_policy_plugin("same"), "p2", distribution="dist-two")
    with pytest.raises(PluginError, match="policy 'same' is registered twice: by dist-one and by dist-two"):
        plugin_manager.records("policy")


def test_wrong_record_type_is_rejected(plugin_manager):
    class Bad:
        @litecore.hookimpl
        def litecore_sandbox_backends(self):
            return [PolicyPlugin(name="x", factory=object, description="")]

    plugin_manager.register(Bad(), "bad", distribution="bad-dist")
    with pytest.raises(PluginError, match="expected SandboxBackendPlugin"):
        plugin_manager.records("sandbox")


def test_a_misspelled_hook_fails_fast(plugin_manager):
    class Typo:
        @litecore.hookimpl
        def litecore_polices(self):
            return []

    with pytest.raises(Exception, match="litecore_polices"):
        plugin_manager.register(Typo(), "typo")


def test_a_hook_that_raises_is_skipped_with_one_line(plugin_manager, capsys):
    class Broken:
        @litecore.hookimpl
        def litecore_policies(self):
            raise RuntimeError("kaput")

    plugin_manager.register(Broken(), "broken", distribution="broken-dist")
    plugin_manager.register(_policy_plugin("fine"), "ok")
    assert list(plugin_manager.records("policy")) == ["fine"]
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "broken-dist" in err[0] and "kaput" in err[0]


def test_disabled_plugins_are_not_registered():
    pm = PluginManager(autoload=False, disabled=["p1"])
    pm.register(_policy_plugin("x"), "p1")
    assert pm.records("policy") == {}


@pytest.fixture
def fake_distributions(tmp_path, monkeypatch):
    """Two installed distributions (real dist-info + entry points): one good, one that fails to import."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "litecore_plugin_good.py").write_text(textwrap.dedent("""
        import litecore
        from litecore.records import SandboxBackendPlugin

        @litecore.hookimpl
        def litecore_sandbox_backends():
            return [SandboxBackendPlugin(name="goodbox", factory=object, description="a fine backend")]
    """))
    (site / "litecore_plugin_broken.py").write_text("raise ImportError('needs libfoo')\n")
    for name, module in (("litecore-plugin-good", "litecore_plugin_good"),
                         ("litecore-plugin-broken", "litecore_plugin_broken")):
        info = site / f"{name.replace('-', '_')}-1.2.3.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.2.3\n")
        (info / "entry_points.txt").write_text(f"[litecore]\n{name} = {module}\n")
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("PYTHONPATH", str(site))
    return site


def test_entry_points_load_and_broken_ones_cost_one_line(fake_distributions, capsys):
    pm = PluginManager(autoload=True, disabled=())
    recs = pm.records("sandbox")
    assert recs["goodbox"].distribution == "litecore-plugin-good"
    assert "local" in recs  # builtins come through the same entry-point group
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "litecore-plugin-broken" in err[0] and "needs libfoo" in err[0]
    assert pm.load_errors[0].distribution == "litecore-plugin-broken"


def test_autoload_switch_and_disable_env(fake_distributions, monkeypatch):
    monkeypatch.setenv("LITECORE_AUTOLOAD", "0")
    assert PluginManager().records("sandbox") == {}
    monkeypatch.setenv("LITECORE_AUTOLOAD", "1")
    monkeypatch.setenv("LITECORE_DISABLE_PLUGINS", "litecore-plugin-broken,litecore-local")
    pm = PluginManager()
    assert "goodbox" in pm.records("sandbox") and "local" not in pm.records("sandbox")
    assert pm.load_errors == []


def test_plugins_command_lists_distribution_version_and_registrations(fake_distributions):
    res = run_cli("plugins", "--json", env={"LITECORE_DISABLE_PLUGINS": "litecore-plugin-broken"})
    assert res.returncode == 0, res.stderr
    info = {p["name"]: p for p in json.loads(res.stdout)}
    good = info["litecore-plugin-good"]
    assert good["distribution"] == "litecore-plugin-good" and good["version"] == "1.2.3"
    assert good["hooks"] == ["litecore_sandbox_backends"]
    assert good["registers"]["sandbox"] == ["goodbox"]
    assert info["litecore-local"]["registers"]["sandbox"] == ["local"]


def test_importing_litecore_has_no_side_effects():
    import subprocess

    code = ("import sys, litecore, litecore.plugins, litecore.hookspecs; "
            "print(any(m.startswith('litecore_plugin') or m.startswith('litecore.builtins') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
