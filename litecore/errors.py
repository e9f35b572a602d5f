"""Errors a user can act on. The CLI prints them as one line and exits with 2."""

from __future__ import annotations


def one_line(error: object, limit: int = 300) -> str:
    """An exception (or any text) squeezed onto one line of at most ``limit`` characters."""
    return " ".join(str(error).split())[:limit]


class LitecoreError(Exception):
    """Bad input or an unusable setup: shown to the user as one line, exit code 2.

    The message must name the file, field or plugin at fault.
    """

    exit_code = 2


class ConfigError(LitecoreError):
    """pipeline.toml (or a plugin's config section) is malformed."""


class TaskFormatError(LitecoreError):
    """A Harbor task folder is malformed."""


class PluginError(LitecoreError):
    """A plugin name does not resolve, or two plugins claim one name."""


class SandboxUnavailable(LitecoreError):
    """A sandbox backend cannot run here (missing tool, unsupported Dockerfile...)."""
