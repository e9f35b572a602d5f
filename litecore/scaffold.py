"""``litecore new-plugin``: a working ``litecore-plugin-<name>`` package from a template."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from string import Template

from litecore.errors import LitecoreError

NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


def new_domain_plugin(name: str, dest_root: Path) -> Path:
    """Write the package; refuses to overwrite anything."""
    if not NAME.match(name):
        raise LitecoreError(f"plugin name {name!r}: use lower-case words joined by '-', e.g. 'log-analysis'")
    package = "litecore_plugin_" + name.replace("-", "_")
    dest = dest_root / f"litecore-plugin-{name}"
    if dest.exists():
        raise LitecoreError(f"{dest}: already exists")
    tmpl = resources.files("litecore") / "templates" / "domain_plugin"
    values = {"name": name, "package": package}
    layout = {
        "pyproject.toml.tmpl": "pyproject.toml",
        "README.md.tmpl": "README.md",
        "package_init.py.tmpl": f"{package}/__init__.py",
        "family.py.tmpl": f"{package}/families/count_lines.py",
        "test_plugin.py.tmpl": "tests/test_plugin.py",
    }
    for src, rel in layout.items():
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(Template((tmpl / src).read_text()).substitute(values))
    (dest / package / "families" / "__init__.py").write_text("")
    return dest
