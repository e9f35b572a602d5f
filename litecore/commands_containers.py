"""CLI commands for container engines, offline images, interop and audits.

Standalone click objects; ``litecore/cli.py`` attaches them to the main group:
``images`` (``build``, ``list``), ``clean``, ``audit``, ``import`` (``tb1``).
Errors a user can fix raise :class:`litecore.errors.LitecoreError` subclasses.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from litecore.errors import ConfigError, LitecoreError, SandboxUnavailable

ENGINES = ("docker", "podman")


def _clients(engine: str, *, required: bool) -> dict[str, Any]:
    """Clients for the named engine, or for every engine that answers (``all``)."""
    from litecore.containers import connect

    names = ENGINES if engine == "all" else (engine,)
    out: dict[str, Any] = {}
    errors = []
    for name in names:
        try:
            out[name] = connect(name)
        except SandboxUnavailable as exc:
            errors.append(str(exc))
    if not out and required:
        raise SandboxUnavailable(errors[0] if len(errors) == 1 else "no container engine answers: " + "; ".join(errors))
    return out


@click.group("images")
def images_group() -> None:
    """Offline base images (debootstrap) for the Docker and Podman backends."""


@images_group.command("build")
@click.option("--engine", type=click.Choice([*ENGINES, "all"]), default="all", show_default=True,
              help="Engine(s) to import into; 'all' = every engine that answers.")
@click.option("--only", type=click.Choice(["base", "dev"]), default=None, help="Build one image only.")
@click.option("--mirror", default=None, help="Debian mirror (default: deb.debian.org or $LITECORE_DEBIAN_MIRROR).")
@click.option("--package", "packages", multiple=True, help="Extra Debian package for the dev image (repeatable).")
@click.option("--force", is_flag=True, help="Re-import even when the engine holds a current image.")
def images_build(engine: str, only: str | None, mirror: str | None, packages: tuple[str, ...], force: bool) -> None:
    """Make litecore/base:bookworm and litecore/dev:bookworm from Debian and import them."""
    import os

    from litecore.images import DEFAULT_MIRROR, build_images, default_specs

    clients = _clients(engine, required=True)
    specs = default_specs(mirror=mirror or os.environ.get("LITECORE_DEBIAN_MIRROR") or DEFAULT_MIRROR,
                          extra_packages=packages)
    if only:
        specs = [s for s in specs if s.name.split("/")[1].startswith(only)]
    for b in build_images(clients, specs, force=force, log=lambda m: click.echo(f"  {m}", err=True)):
        state = "up to date" if b.reused else f"built in {b.seconds:.0f}s"
        click.echo(f"{b.engine:7} {b.name:26} {b.key}  {state}")


@images_group.command("list")
@click.option("--engine", type=click.Choice([*ENGINES, "all"]), default="all", show_default=True)
def images_list(engine: str) -> None:
    """Base images and cached task environments in each engine."""
    for name, client in _clients(engine, required=True).items():
        for img in client.api.images(filters={"label": "litecore.image"}) + client.api.images(
                filters={"label": "litecore.env"}):
            tags = ",".join(img.get("RepoTags") or ["<none>"])
            click.echo(f"{name:7} {tags:50} {img['Size'] / 1e6:8.0f} MB")


@click.command("clean")
@click.option("--engine", type=click.Choice([*ENGINES, "all"]), default="all", show_default=True)
@click.option("--all", "all_owners", is_flag=True,
              help="Also remove objects of litecore processes that are still running.")
@click.option("--images", is_flag=True, help="Also remove cached task environment images (not base images).")
def clean(engine: str, all_owners: bool, images: bool) -> None:
    """Remove what crashed runs left: labelled containers, networks, volumes and local sandboxes."""
    from litecore.containers import clean_engine

    try:
        from litecore.builtins.sandbox_local import clean_leftovers

        n = clean_leftovers()
        click.echo(f"local   removed {n} sandbox folder(s)")
    except ImportError:
        pass
    for name, client in _clients(engine, required=False).items():
        r = clean_engine(client, all_owners=all_owners, images=images)
        click.echo(f"{name:7} removed {r.containers} container(s), {r.networks} network(s), "
                   f"{r.volumes} volume(s), {r.images} image(s)")


def make_backend(name: str, aliases: dict[str, str]) -> Any:
    """A sandbox backend by plugin name, with ``--alias`` entries merged into its config."""
    from litecore.plugins import PluginManager

    rec = PluginManager().get("sandbox", name)
    config = None
    if rec.config is not None:
        import attrs

        fields = {f.name for f in attrs.fields(rec.config)}
        if aliases and "aliases" not in fields:
            raise ConfigError(f"--alias: sandbox backend '{name}' has no alias map (use docker or podman)")
        config = rec.config(aliases=aliases) if aliases else rec.config()
    return rec.factory(config)


@click.command("audit")
@click.argument("dataset", type=click.Path(path_type=Path))
@click.option("--backend", "backend_name", default="docker", show_default=True, help="Sandbox backend.")
@click.option("--workers", "-j", default=2, show_default=True, type=click.IntRange(1, 64))
@click.option("--alias", "aliases", multiple=True, metavar="FROM=LOCAL", help="Map a FROM image (repeatable).")
@click.option("--no-network-probe", is_flag=True, help="Skip the offline/online comparison (faster).")
@click.option("--json", "json_out", type=click.Path(path_type=Path), default=None,
              help="Also write the report as JSON to this file ('-' = stdout instead of the table).")
def audit(dataset: Path, backend_name: str, workers: int, aliases: tuple[str, ...], no_network_probe: bool,
          json_out: Path | None) -> None:
    """Check every task of DATASET: builds? oracle 1? noop 0? needs the network? why broken?"""
    from litecore.audit import REPORT_HEADER, audit_dataset, report_rows
    from litecore.images import parse_alias_options

    backend = make_backend(backend_name, parse_alias_options(aliases))
    try:
        report = audit_dataset(dataset, backend, workers=workers, probe_network=not no_network_probe)
    finally:
        backend.close()
    if json_out is not None and str(json_out) == "-":
        click.echo(report.to_json())
    else:
        _print_table(REPORT_HEADER, report_rows(report))
        s = report.summary
        click.echo(f"\n{s['ok']}/{s['tasks']} tasks ok in {report.seconds:.1f}s on {report.backend}; "
                   f"network needed at build: {s['needs_network_build']}, at test: {s['needs_network_test']}")
        from litecore.audit import CAUSES

        for cause, n in s["causes"].items():
            click.echo(f"  {n:4} {cause}: {CAUSES.get(cause, '')}")
        if json_out is not None:
            json_out.write_text(report.to_json())
    if report.summary["broken"]:
        sys.exit(1)


def _print_table(header: Any, rows: list[list[str]]) -> None:
    try:
        from rich.console import Console
        from rich.table import Table

        table = Table(*header, show_lines=False)
        for r in rows:
            table.add_row(*r)
        Console(width=200).print(table)
    except ImportError:  # rich is a core dependency; keep a plain fallback anyway
        for r in [list(header), *rows]:
            click.echo("\t".join(r))


@click.group("import")
def import_group() -> None:
    """Convert datasets of other harnesses to Harbor task folders."""


@import_group.command("tb1")
@click.argument("src", type=click.Path(path_type=Path))
@click.argument("dst", type=click.Path(path_type=Path))
def import_tb1_cmd(src: Path, dst: Path) -> None:
    """Convert Terminal-Bench 1.x task(s) in SRC to Harbor tasks under DST."""
    from litecore.interop import import_tb1

    result = import_tb1(src, dst)
    for p in result.converted:
        click.echo(f"converted {p}")
    for name, why in result.skipped:
        click.echo(f"skipped {name}: {why}", err=True)
    if not result.converted:
        raise LitecoreError(f"{src}: no task converted")
    click.echo(json.dumps({"converted": len(result.converted), "skipped": len(result.skipped)}))
