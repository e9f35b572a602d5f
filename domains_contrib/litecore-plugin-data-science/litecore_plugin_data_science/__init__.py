"""litecore domain plugin: data science."""

from __future__ import annotations

import litecore
from litecore.records import Domain, DomainSpec

from litecore_plugin_data_science.families import csv_groupby

SPEC = DomainSpec(
    description=(
        "Data work at the terminal: inspecting, cleaning, joining and summarising tabular data "
        "that arrives messy (inconsistent casing, stray whitespace, missing values, mixed formats), "
        "and writing results in exactly the format a downstream consumer expects."
    ),
    skills=("inspect unknown data files", "clean and normalise values", "group and aggregate",
            "join tables on keys", "compute statistics", "write machine-readable reports"),
    topics=("sales ledgers", "sensor logs", "survey results", "inventory", "web analytics"),
    tools=("python3", "pandas", "csvkit-style shell tools", "awk", "sort", "jq"),
    packages=("python3", "python3-pandas", "python3-numpy", "jq", "gawk"),
)


def domain() -> Domain:
    return Domain(
        name="data-science",
        spec=SPEC,
        category="data-processing",
        description="messy CSV/JSON data: clean, join, aggregate, report",
        families=(csv_groupby.FAMILY,),
    )


@litecore.hookimpl
def litecore_domains():
    return [domain()]
