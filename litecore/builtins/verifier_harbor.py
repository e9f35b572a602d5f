"""The ``harbor`` verifier: Harbor's tests/test.sh reward convention, tamper-proof."""

from __future__ import annotations

import attrs

import litecore
from litecore.records import VerifierPlugin
from litecore.verify import HarborVerifier


@attrs.frozen(kw_only=True)
class HarborVerifierConfig:
    """``[validate.harbor]``: no options yet."""


@litecore.hookimpl
def litecore_verifiers():
    return [
        VerifierPlugin(
            name="harbor",
            factory=lambda config=None: HarborVerifier(),
            config=HarborVerifierConfig,
            description="runs tests/test.sh after killing agent processes; reads reward.json or reward.txt",
        )
    ]
