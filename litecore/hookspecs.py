"""Every litecore hook, in one module.

Each hook is a *registration* hook: an implementation returns an iterable of
records (see :mod:`litecore.records`), and the plugin manager collects them,
attributes each to the distribution that provided it, and rejects duplicate
names. Implement one with ``@litecore.hookimpl`` in a module named by an entry
point of group ``litecore``::

    [project.entry-points.litecore]
    litecore-plugin-mydomain = "litecore_plugin_mydomain"

docs/hooks.md shows a complete example for each hook.
"""

from __future__ import annotations

from collections.abc import Iterable

import pluggy

from litecore.records import (
    Domain,
    ExecutorPlugin,
    GeneratorEngine,
    PolicyPlugin,
    SandboxBackendPlugin,
    TrainerPlugin,
    VerifierPlugin,
)

hookspec = pluggy.HookspecMarker("litecore")


@hookspec
def litecore_domains() -> Iterable[Domain]:
    """Domain generators: domains with their specification and procedural task families.

    A domain name is used in ``[generate.domains]`` of pipeline.toml and in
    ``litecore generate --domain``.
    """


@hookspec
def litecore_generators() -> Iterable[GeneratorEngine]:
    """Domain generators: engines that turn domains into tasks (``procedural``, ``llm``).

    Selected by ``[generate] generator = NAME``.
    """


@hookspec
def litecore_sandbox_backends() -> Iterable[SandboxBackendPlugin]:
    """Sandbox backends (``local``, ``docker``, ``podman``): where tasks run.

    Selected by ``[sandbox] backend = NAME`` or ``--backend NAME``.
    """


@hookspec
def litecore_verifiers() -> Iterable[VerifierPlugin]:
    """Verifiers: score a finished sandbox (``harbor``: the tests/test.sh reward convention).

    Selected by ``[validate] verifier = NAME``.
    """


@hookspec
def litecore_policies() -> Iterable[PolicyPlugin]:
    """Agent policies (``oracle``, ``noop``, ``litellm``, ``hf``): observation to action.

    Selected by ``[rollout] policy = NAME`` or ``--policy NAME``.
    """


@hookspec
def litecore_trainers() -> Iterable[TrainerPlugin]:
    """Trainers (``sft``, ``dmpo``): dataset and config to checkpoint.

    Selected by ``[train] trainer = NAME``.
    """


@hookspec
def litecore_executors() -> Iterable[ExecutorPlugin]:
    """Executors (``local``, ``ray``): where the jobs of generate, validate, rollout and eval run.

    Selected by ``[executor] name = NAME``; the section's other keys are the executor's options.
    """


#: Hook name by record kind; the manager and ``litecore plugins`` walk this.
HOOK_OF_KIND: dict[str, str] = {
    "domain": "litecore_domains",
    "generator": "litecore_generators",
    "sandbox": "litecore_sandbox_backends",
    "verifier": "litecore_verifiers",
    "policy": "litecore_policies",
    "trainer": "litecore_trainers",
    "executor": "litecore_executors",
}
