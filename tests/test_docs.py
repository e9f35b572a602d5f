"""Every hook is documented with an example; every CLI command has help."""

from __future__ import annotations

import re
from pathlib import Path

from litecore import hookspecs
from litecore.cli import cli

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_every_hook_is_documented_with_an_example():
    text = (DOCS / "hooks.md").read_text()
    for hook in hookspecs.HOOK_OF_KIND.values():
        section = re.search(rf"## `{hook}`\n(.*?)(?=\n## |\Z)", text, re.S)
        assert section, f"{hook} missing from docs/hooks.md"
        assert "```python" in section.group(1) and f"def {hook}" in section.group(1), hook


def test_hook_examples_run(plugin_manager):
    """The domain, generator and policy examples in hooks.md really register."""
    text = (DOCS / "hooks.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    for i, code in enumerate(blocks):
        if "MyBackend" in code:  # the backend example names a class it does not define
            continue
        ns: dict = {}
        exec(compile(code, f"hooks.md[{i}]", "exec"), ns)
        plugin = type("P", (), {k: staticmethod(v) for k, v in ns.items() if k.startswith("litecore_")})
        plugin_manager.register(plugin, f"example{i}")
    assert "arithmetic" in plugin_manager.records("domain")
    assert "easy-only" in plugin_manager.records("generator")
    assert "ls" in plugin_manager.records("policy")


def test_every_command_has_help():
    for name, cmd in cli.commands.items():
        assert cmd.help and len(cmd.help.strip()) > 10, name


def test_pipeline_reference_covers_every_key():
    import typing

    import attrs

    from litecore.config import PipelineConfig

    text = (DOCS / "pipeline.md").read_text()
    hints = typing.get_type_hints(PipelineConfig)
    for section in attrs.fields(PipelineConfig):
        if section.name in ("extra", "base_dir", "source"):
            continue
        assert f"## `[{section.name}]`" in text, section.name
        for field in attrs.fields(hints[section.name]):
            if field.name == "options":
                continue
            assert f"`{field.name}`" in text, f"{section.name}.{field.name}"
