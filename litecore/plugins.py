"""The plugin manager: loads entry points, collects and attributes records.

Nothing happens at import time. ``PluginManager.load()`` walks the ``litecore``
entry-point group (builtins included, they register exactly like third-party
packages), and a plugin that fails to import costs one warning line, not the run.
"""

from __future__ import annotations

import importlib.metadata as md
import os
import sys
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

import attrs
import pluggy

from litecore import hookspecs
from litecore.errors import PluginError
from litecore.records import KIND_OF_RECORD

ENTRY_POINT_GROUP = "litecore"
DISABLE_ENV = "LITECORE_DISABLE_PLUGINS"
AUTOLOAD_ENV = "LITECORE_AUTOLOAD"

#: How pipeline.toml and error messages name each kind of record.
KIND_LABEL = {
    "domain": "domain",
    "generator": "generator",
    "sandbox": "sandbox backend",
    "verifier": "verifier",
    "policy": "policy",
    "trainer": "trainer",
    "executor": "executor",
}

R = TypeVar("R")


@attrs.frozen
class LoadedPlugin:
    """One registered plugin module and where it came from."""

    name: str
    distribution: str
    version: str
    hooks: tuple[str, ...]


@attrs.frozen
class LoadError:
    name: str
    distribution: str
    message: str


class PluginManager:
    """Wraps pluggy with typed access to each hook's records."""

    def __init__(self, *, autoload: bool | None = None, disabled: Iterable[str] | None = None) -> None:
        self._pm = pluggy.PluginManager("litecore")
        self._pm.add_hookspecs(hookspecs)
        if autoload is None:
            autoload = os.environ.get(AUTOLOAD_ENV, "1").strip().lower() not in ("0", "false", "no", "off")
        if disabled is None:
            disabled = [d.strip() for d in os.environ.get(DISABLE_ENV, "").split(",") if d.strip()]
        self.autoload = autoload
        self.disabled = frozenset(disabled)
        self.load_errors: list[LoadError] = []
        self._dist: dict[str, tuple[str, str]] = {}
        self._cache: dict[str, dict[str, Any]] = {}
        self._loaded = False

    # -- loading -----------------------------------------------------------
    def load(self, *, warn: bool = True) -> PluginManager:
        """Load entry points once (unless autoload is off)."""
        if self._loaded:
            return self
        self._loaded = True
        if self.autoload:
            for ep in sorted(md.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
                if ep.name in self.disabled:
                    continue
                dist = ep.dist.name if ep.dist else ep.name
                version = ep.dist.version if ep.dist else "?"
                if self._pm.has_plugin(ep.name):
                    continue
                try:
                    module = ep.load()
                    self._pm.register(module, name=ep.name)
                except Exception as exc:  # a broken plugin must not break the host
                    err = LoadError(ep.name, dist, f"{type(exc).__name__}: {exc}")
                    self.load_errors.append(err)
                    if warn:
                        print(
                            f"litecore: warning: plugin '{ep.name}' ({dist}) failed to load and is skipped: "
                            f"{err.message}".replace("\n", " "),
                            file=sys.stderr,
                        )
                    continue
                self._dist[ep.name] = (dist, version)
        self._pm.check_pending()
        return self

    def register(self, plugin: object, name: str, *, distribution: str = "<in-process>", version: str = "") -> None:
        """Register a plugin object in-process (tests, notebooks, embedding apps)."""
        if name in self.disabled:
            return
        self._pm.register(plugin, name=name)
        self._pm.check_pending()
        self._dist[name] = (distribution, version)
        self._cache.clear()

    def unregister(self, name: str) -> None:
        self._pm.unregister(name=name)
        self._dist.pop(name, None)
        self._cache.clear()

    # -- records -----------------------------------------------------------
    def records(self, kind: str) -> Mapping[str, Any]:
        """All records of one kind, by name, each attributed to its distribution."""
        self.load()
        if kind in self._cache:
            return self._cache[kind]
        hook = getattr(self._pm.hook, hookspecs.HOOK_OF_KIND[kind])
        record_type = KIND_OF_RECORD[kind]
        found: dict[str, Any] = {}
        for impl in hook.get_hookimpls():  # registration order
            dist, _ = self._dist.get(impl.plugin_name, (impl.plugin_name, ""))
            produced = self._call(impl, dist)
            for rec in produced:
                if not isinstance(rec, record_type):
                    raise PluginError(
                        f"plugin '{impl.plugin_name}' ({dist}) returned {type(rec).__name__} from "
                        f"{hook.name}; expected {record_type.__name__}"
                    )
                rec = attrs.evolve(rec, distribution=dist)
                if rec.name in found:
                    other = found[rec.name].distribution
                    raise PluginError(
                        f"{KIND_LABEL[kind]} '{rec.name}' is registered twice: by {other} and by {dist}; "
                        f"uninstall one or disable it with {DISABLE_ENV}"
                    )
                found[rec.name] = rec
        self._cache[kind] = dict(sorted(found.items()))
        return self._cache[kind]

    def _call(self, impl: Any, dist: str) -> list[Any]:
        """Call one plugin's hook; a plugin that raises is reported once and skipped."""
        try:
            return list(impl.function() or ())
        except Exception as exc:
            err = LoadError(impl.plugin_name, dist, f"{impl.function.__name__} failed: {type(exc).__name__}: {exc}")
            if err not in self.load_errors:
                self.load_errors.append(err)
                print(f"litecore: warning: plugin '{impl.plugin_name}' ({dist}) is skipped: {err.message}"
                      .replace("\n", " "), file=sys.stderr)
            return []

    def get(self, kind: str, name: str) -> Any:
        """The record called ``name``, or a one-line error listing the alternatives."""
        recs = self.records(kind)
        if name not in recs:
            available = ", ".join(recs) or "none installed"
            raise PluginError(f"unknown {KIND_LABEL[kind]} '{name}'; available: {available}")
        return recs[name]

    # -- introspection -----------------------------------------------------
    def plugins(self) -> list[LoadedPlugin]:
        self.load()
        out = []
        for name, plugin in self._pm.list_name_plugin():
            dist, version = self._dist.get(name, (name, ""))
            hooks = tuple(sorted(h.name for h in self._pm.get_hookcallers(plugin) or ()))
            out.append(LoadedPlugin(name, dist, version, hooks))
        return sorted(out, key=lambda p: p.name)

    def describe(self) -> list[dict[str, Any]]:
        """What ``litecore plugins --json`` prints: one entry per plugin module."""
        registered: dict[str, dict[str, list[str]]] = {}
        for kind in hookspecs.HOOK_OF_KIND:
            hook = getattr(self._pm.hook, hookspecs.HOOK_OF_KIND[kind])
            self.records(kind)
            for impl in hook.get_hookimpls():
                dist, _ = self._dist.get(impl.plugin_name, (impl.plugin_name, ""))
                names = [r.name for r in self._call(impl, dist)]
                registered.setdefault(impl.plugin_name, {})[kind] = names
        return [
            {
                "name": p.name,
                "distribution": p.distribution,
                "version": p.version,
                "hooks": list(p.hooks),
                "registers": registered.get(p.name, {}),
            }
            for p in self.plugins()
        ] + [
            {"name": e.name, "distribution": e.distribution, "error": e.message} for e in self.load_errors
        ]
