"""litecore domain plugin: coding (everyday programming work judged by hidden tests)."""

from __future__ import annotations

import litecore
from litecore.records import Domain, DomainSpec

from litecore_plugin_coding.families import cli_tool, fix_bug, format_parser, implement_spec, lint_refactor, optimize_slow

SPEC = DomainSpec(
    description=(
        "Everyday programming at the terminal in Python: reading an unfamiliar small codebase, running "
        "its tests, fixing bugs so a failing suite passes, implementing functions to a written "
        "specification, refactoring code until a linter is satisfied without changing behaviour, building "
        "small command-line tools with exact flags, output formats and exit codes, writing parsers for "
        "stated file formats, and making slow code fast enough for a time budget. Results are judged by "
        "hidden tests on inputs the agent never sees, so solutions must be correct in general."
    ),
    skills=("read and run an existing test suite", "debug from failing assertions", "implement to a spec",
            "handle edge cases and invalid input", "refactor safely under a linter", "argparse CLIs",
            "parse text formats", "algorithmic optimisation (complexity, data structures)"),
    topics=("string processing", "dates and numbers", "checksums and encodings", "version ordering",
            "log processing", "config formats", "interval and sequence algorithms"),
    tools=("python3", "pytest", "bash", "grep", "diff", "time"),
    packages=("python3", "python3-pytest"),
)


def domain() -> Domain:
    return Domain(
        name="coding",
        spec=SPEC,
        category="software-engineering",
        description="fix bugs, implement to spec, lint refactors, CLI tools, parsers, optimisation",
        families=(fix_bug.FAMILY, implement_spec.FAMILY, optimize_slow.FAMILY, cli_tool.FAMILY,
                  format_parser.FAMILY, lint_refactor.FAMILY),
    )


@litecore.hookimpl
def litecore_domains():
    return [domain()]
