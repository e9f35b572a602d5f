"""``litecore eval DATASET --policy P -k K``: pass@k of any policy on any Harbor dataset.

Defined standalone; the main CLI attaches it with ``cli.add_command(eval_command)``.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import click

from litecore.errors import LitecoreError


def parse_options(pairs: tuple[str, ...]) -> dict[str, Any]:
    """``KEY=VALUE`` pairs; values are read as TOML literals (``0.2``, ``true``, ``[1, 2]``), else as text."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"expected KEY=VALUE, got {pair!r}", param_hint="--policy-option")
        try:
            out[key.strip()] = tomllib.loads(f"v = {value}")["v"]
        except tomllib.TOMLDecodeError:
            out[key.strip()] = value
    return out


@click.command("eval")
@click.argument("dataset", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--policy", "-p", "policy_name", required=True, help="Policy plugin (oracle, noop, litellm, hf...).")
@click.option("--policy-option", "-O", "policy_options", multiple=True, metavar="KEY=VALUE",
              help="An option of the policy's config, e.g. -O model=openai/gpt-4o-mini -O temperature=0.2.")
@click.option("-k", "ks", multiple=True, type=click.IntRange(min=1), default=(1,), show_default=True,
              help="pass@k to report (repeatable); pass@1 is always reported.")
@click.option("--attempts", "-n", type=click.IntRange(min=1), default=None,
              help="Attempts per task (default: the largest k).")
@click.option("--backend", "-b", default="local", show_default=True, help="Sandbox backend.")
@click.option("--out", "-o", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Output folder (default: eval-<dataset>-<policy>). Rerunning resumes.")
@click.option("--concurrency", "-j", type=click.IntRange(min=1), default=4, show_default=True)
@click.option("--max-turns", type=click.IntRange(min=1), default=50, show_default=True)
@click.option("--terminal", type=click.Choice(["auto", "tmux", "line"]), default="auto", show_default=True,
              help="tmux keystroke terminal (Terminus-2 semantics, completion-aware) or line-mode shell.")
@click.option("--no-plots", is_flag=True, help="Skip the PNG plots.")
def eval_command(dataset: Path, policy_name: str, policy_options: tuple[str, ...], ks: tuple[int, ...],
                 attempts: int | None, backend: str, out_dir: Path | None, concurrency: int, max_turns: int,
                 terminal: str, no_plots: bool) -> None:
    """Evaluate a policy on DATASET (a Harbor task folder or a folder of them): pass@1 and pass@k."""
    from litecore.config import plugin_config
    from litecore.evaluate import evaluate
    from litecore.plugins import PluginManager
    from litecore.terminal import TERMINALS

    try:
        pm = PluginManager().load()
        prec = pm.get("policy", policy_name)
        options = plugin_config("policy", prec, parse_options(policy_options), source="--policy-option",
                                section="policy")
        policy = prec.factory(options)
        brec = pm.get("sandbox", backend)
        be = brec.factory(None)
        out = out_dir or Path(f"eval-{dataset.resolve().name}-{policy_name}")
        n = attempts or max(ks)
        if max(ks) > n:
            raise click.BadParameter(f"pass@{max(ks)} needs --attempts >= {max(ks)}", param_hint="-k")
        click.echo(f"evaluating {policy_name} on {dataset} ({n} attempt(s) per task) -> {out}", err=True)
        try:
            report = evaluate(dataset, be, policy, k=ks, attempts=n, out_dir=out, concurrency=concurrency,
                              max_turns=max_turns, terminal_factory=TERMINALS[terminal], plots=not no_plots)
        finally:
            be.close()
    except LitecoreError as exc:
        raise click.ClickException(str(exc)) from None
    o = report["overall"]
    parts = [f"pass@{k} {100 * (o['pass_at'][str(k)] or 0):.1f}%" for k in report["ks"]]
    click.echo(f"{o['tasks']} tasks, {o['attempts']} attempts: " + ", ".join(parts)
               + f"; mean turns {o['mean_turns'] or 0:.1f}; report: {out / 'report.md'}")
