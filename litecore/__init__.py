"""litecore: manufacture proven terminal-agent environments and train agents on them.

The public surface a plugin author needs lives here: ``hookimpl`` to mark hook
implementations and the records the hooks yield. Importing this package has no
side effects: plugins are loaded only when a :class:`~litecore.plugins.PluginManager`
is asked to load them.
"""

from __future__ import annotations

import pluggy

__version__ = "0.1.0"

#: Marker for hook implementations in plugins: ``@litecore.hookimpl``.
hookimpl = pluggy.HookimplMarker("litecore")

from litecore.errors import LitecoreError  # noqa: E402
from litecore.records import (  # noqa: E402
    Domain,
    DomainSpec,
    GeneratorEngine,
    PolicyPlugin,
    SandboxBackendPlugin,
    TaskDraft,
    TaskFamily,
    TaskRequest,
    TrainerPlugin,
    VerifierPlugin,
)

__all__ = [
    "hookimpl",
    "LitecoreError",
    "Domain",
    "DomainSpec",
    "GeneratorEngine",
    "PolicyPlugin",
    "SandboxBackendPlugin",
    "TaskDraft",
    "TaskFamily",
    "TaskRequest",
    "TrainerPlugin",
    "VerifierPlugin",
]
