"""The ``oracle`` and ``noop`` policies."""

from __future__ import annotations

import attrs

import litecore
from litecore.records import PolicyPlugin
from litecore.rollout import NoopPolicy, OraclePolicy


@attrs.frozen(kw_only=True)
class NoOptions:
    """These policies take no options."""


@litecore.hookimpl
def litecore_policies():
    return [
        PolicyPlugin(name="oracle", factory=lambda config=None: OraclePolicy(), config=NoOptions,
                     description="the task's reference solution, one block per turn (expert trajectories)"),
        PolicyPlugin(name="noop", factory=lambda config=None: NoopPolicy(), config=NoOptions,
                     description="does nothing; every proven task must give it reward 0"),
    ]
