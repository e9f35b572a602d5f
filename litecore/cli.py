"""The ``litecore`` command line.

Errors a user can fix print one line, ``litecore: error: ...``, and exit with 2;
an interrupted command cleans up its sandboxes and exits with 130.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from litecore.commands_containers import audit, clean, images_group, import_group
from litecore.commands_eval import eval_command
from litecore.errors import LitecoreError


def _pm():
    from litecore.plugins import PluginManager

    return PluginManager().load()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="litecore")
def cli() -> None:
    """Manufacture proven terminal-agent environments and train agents on them."""


@cli.command()
@click.argument("pipeline", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--output", "-o", type=click.Path(file_okay=False, path_type=Path),
              help="Run folder (default: [run] output of the pipeline file).")
@click.option("--stages", help="Comma-separated stages to run (default: [run] stages).")
@click.option("--backend", help="Sandbox backend, overriding [sandbox] backend.")
@click.option("--count", "-n", type=int, help="Environments to generate, overriding [generate] count.")
@click.option("--alias", "aliases", multiple=True, metavar="FROM=LOCAL",
              help="Map a FROM image to a local one, added to [sandbox] aliases (docker, podman; repeatable).")
def run(pipeline: Path | None, output: Path | None, stages: str | None, backend: str | None,
        count: int | None, aliases: tuple[str, ...]) -> None:
    """Run a pipeline.toml (without one: the embedded quickstart default).

    Rerunning the same command resumes: finished work is skipped.
    """
    import attrs

    from litecore.config import load_config
    from litecore.pipeline import Pipeline
    from litecore.progress import Progress

    cfg = load_config(pipeline)
    if output is not None:
        cfg = attrs.evolve(cfg, run=attrs.evolve(cfg.run, output=str(output.resolve())))
    if backend:
        cfg = attrs.evolve(cfg, sandbox=attrs.evolve(cfg.sandbox, backend=backend))
    if count is not None:
        if count <= 0:
            raise click.BadParameter("must be positive", param_hint="--count")
        cfg = attrs.evolve(cfg, generate=attrs.evolve(cfg.generate, count=count))
    if aliases:
        from litecore.images import parse_alias_options

        merged = {**cfg.sandbox.options.get("aliases", {}), **parse_alias_options(aliases)}
        cfg = attrs.evolve(cfg, sandbox=attrs.evolve(cfg.sandbox, options={**cfg.sandbox.options, "aliases": merged}))
    stage_list = [s.strip() for s in stages.split(",")] if stages else None
    if stage_list:
        cfg = attrs.evolve(cfg, run=attrs.evolve(cfg.run, stages=stage_list))
        from litecore.config import STAGES

        bad = [s for s in stage_list if s not in STAGES]
        if bad:
            raise click.BadParameter(f"unknown stage '{bad[0]}'; available: {', '.join(STAGES)}",
                                     param_hint="--stages")
    pipe = Pipeline(cfg, _pm(), progress=Progress())
    timings = pipe.run()
    manifest = pipe.out / "manifest.json"
    summary = json.loads(manifest.read_text()) if manifest.is_file() else {}
    click.echo(
        f"litecore: {summary.get('tasks_proven', '?')}/{summary.get('tasks_generated', '?')} environments proven, "
        f"{summary.get('sft_rows', '?')} SFT rows, {sum(timings.values()):.1f}s -> {pipe.out}"
    )


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--backend", default="local", show_default=True, help="Sandbox backend.")
@click.option("--repeats", default=1, show_default=True, type=click.IntRange(min=1),
              help="Times oracle and noop are each run.")
@click.option("--concurrency", "-j", default=2, show_default=True, type=click.IntRange(min=1))
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the results as JSON here.")
@click.option("--alias", "aliases", multiple=True, metavar="FROM=LOCAL",
              help="Map a FROM image to a local one (docker, podman; repeatable).")
def verify(paths: tuple[Path, ...], backend: str, repeats: int, concurrency: int, json_out: Path | None,
           aliases: tuple[str, ...]) -> None:
    """Prove tasks: the oracle must earn 1 and a no-op agent 0. Exits 1 if any task fails."""
    from rich.console import Console
    from rich.table import Table

    from litecore.executor import map_unordered
    from litecore.progress import Progress
    from litecore.rollout import write_json_atomic
    from litecore.task import load_dataset
    from litecore.verify import HarborVerifier, validate_task, validation_to_dict

    from litecore.commands_containers import make_backend
    from litecore.images import parse_alias_options

    tasks = [t for p in paths for t in load_dataset(p)]
    be = make_backend(backend, parse_alias_options(aliases))
    verifier = HarborVerifier()
    results = []
    try:
        with Progress().task("verify", total=len(tasks)) as advance:
            for v in map_unordered(lambda t: validate_task(t, be, verifier, repeats=repeats), tasks,
                                   concurrency=concurrency, progress=advance):
                results.append(v)
    finally:
        be.close()
    results.sort(key=lambda v: v.task_id)
    table = Table("task", "oracle", "noop", "result")
    for v in results:
        oracle = [c.reward for c in v.checks if c.name.startswith("oracle")]
        noop = [c.reward for c in v.checks if c.name.startswith("noop")]
        table.add_row(v.task_id, _fmt(oracle), _fmt(noop), "[green]ok" if v.ok else f"[red]{v.reason}")
    Console(width=max(100, Console().width)).print(table)
    ok = sum(v.ok for v in results)
    click.echo(f"{ok}/{len(results)} tasks proven")
    if json_out:
        write_json_atomic(json_out, json.dumps({"backend": backend, "tasks": [validation_to_dict(v) for v in results]},
                                               indent=2))
    if ok != len(results):
        sys.exit(1)


def _fmt(values: list[float | None]) -> str:
    return " ".join("err" if v is None else f"{v:g}" for v in values) or "-"


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def plugins(as_json: bool) -> None:
    """List installed plugins: distribution, version, hooks and what each registered."""
    pm = _pm()
    info = pm.describe()
    if as_json:
        click.echo(json.dumps(info, indent=2))
        return
    for p in info:
        if "error" in p:
            click.echo(f"{p['name']} ({p['distribution']}): FAILED TO LOAD: {p['error']}")
            continue
        regs = "; ".join(f"{k}: {', '.join(v)}" for k, v in p["registers"].items() if v)
        click.echo(f"{p['name']} ({p['distribution']} {p['version']}): {regs}")


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def domains(as_json: bool) -> None:
    """List installed domains and their task families."""
    pm = _pm()
    recs = pm.records("domain")
    data = [
        {"name": d.name, "distribution": d.distribution, "category": d.category, "families": len(d.families),
         "family_names": [f.name for f in d.families], "description": d.description}
        for d in recs.values()
    ]
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    for d in data:
        click.echo(f"{d['name']:<22} {d['families']:>2} families  {d['category']:<24} {d['description']}")


@cli.command()
@click.option("--domain", "-d", "domain_name", required=True, help="Domain name (see `litecore domains`).")
@click.option("--family", "-f", help="Only this task family (default: cycle through all).")
@click.option("-n", "count", default=1, show_default=True, type=click.IntRange(min=1))
@click.option("--difficulty", type=click.Choice(["easy", "medium", "hard"]), multiple=True,
              help="Difficulty (repeatable; default: all three).")
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--out", "-o", required=True, type=click.Path(file_okay=False, path_type=Path))
def generate(domain_name: str, family: str | None, count: int, difficulty: tuple[str, ...], seed: int,
             out: Path) -> None:
    """Generate N task folders from one domain (no validation; see `litecore verify`)."""
    from litecore.generate import plan_tasks
    from litecore.task import write_task

    pm = _pm()
    dom = pm.get("domain", domain_name)
    if family:
        dom.family(family)
    gen = pm.get("generator", "procedural").factory(None, pm.records("domain"), None)
    plans = plan_tasks({dom.name: dom}, {dom.name: 1.0}, count=count, seed=seed,
                       difficulties=difficulty or ("easy", "medium", "hard"),
                       families={dom.name: [family]} if family else None)
    for plan in plans:
        g = gen.generate(plan)
        write_task(out / g.task_id, instruction=g.instruction, config=g.config, files=g.files,
                   executables=g.executables)
        click.echo(out / g.task_id)


@cli.command("new-plugin")
@click.argument("name")
@click.option("--dest", default=".", show_default=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder to create litecore-plugin-NAME in.")
def new_plugin(name: str, dest: Path) -> None:
    """Create a working litecore-plugin-NAME domain package (with tests) to start from."""
    from litecore.scaffold import new_domain_plugin

    click.echo(new_domain_plugin(name, dest))


# Commands that live in their own modules.
cli.add_command(eval_command)
cli.add_command(images_group)
cli.add_command(clean)
cli.add_command(audit)
cli.add_command(import_group)


def main(argv: list[str] | None = None) -> None:
    try:
        cli.main(args=argv, prog_name="litecore", standalone_mode=False)
    except LitecoreError as exc:
        click.echo(f"litecore: error: {exc}".replace("\n", " "), err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("litecore: interrupted", err=True)
        sys.exit(130)
    except KeyboardInterrupt:
        click.echo("litecore: interrupted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        click.echo(f"litecore: error: {exc.format_message()}".replace("\n", " "), err=True)
        sys.exit(2)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    main()
