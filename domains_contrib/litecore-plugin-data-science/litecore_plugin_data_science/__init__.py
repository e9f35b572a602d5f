"""litecore domain plugin: data science."""

from __future__ import annotations

import litecore
from litecore.records import Domain, DomainSpec

from litecore_plugin_data_science.families import (
    csv_groupby,
    dedup_outliers,
    jsonl_normalize,
    log_resample,
    multi_file_join,
    pivot_missing,
    sqlite_report,
)

SPEC = DomainSpec(
    description=(
        "Data work at the terminal: inspecting, cleaning, joining, reshaping and summarising data "
        "that arrives messy (inconsistent keys and casing, stray whitespace, duplicates, missing or "
        "unparseable values, mixed timestamp formats and time zones, nested JSON, old schema versions), "
        "querying SQL databases, and writing results in exactly the format a downstream consumer "
        "expects. Rules are stated precisely (order of cleaning steps, tie-breaking, rounding, how to "
        "treat gaps) and the results are checked value by value."
    ),
    skills=("inspect unknown data files and schemas", "clean and normalise values and keys",
            "deduplicate and remove outliers by stated rules", "group, aggregate and pivot",
            "join tables on messy keys", "resample time series and compute rolling statistics",
            "flatten JSON lines into relational tables", "write reusable SQL (joins, window functions)",
            "handle missing data explicitly", "write machine-readable reports"),
    topics=("sales ledgers", "customer master data", "sensor logs", "request logs", "analytics events",
            "shop databases", "weather station readings", "survey results", "inventory", "web analytics"),
    tools=("python3", "pandas", "csv module", "sqlite3 shell", "jq", "awk", "sort/uniq/cut"),
    packages=("python3", "python3-pandas", "python3-numpy", "sqlite3", "jq", "gawk"),
)


def domain() -> Domain:
    return Domain(
        name="data-science",
        spec=SPEC,
        category="data-processing",
        description="messy CSV/JSON/SQLite data: clean, join, reshape, aggregate, report",
        families=(
            csv_groupby.FAMILY,
            multi_file_join.FAMILY,
            dedup_outliers.FAMILY,
            log_resample.FAMILY,
            jsonl_normalize.FAMILY,
            sqlite_report.FAMILY,
            pivot_missing.FAMILY,
        ),
    )


@litecore.hookimpl
def litecore_domains():
    return [domain()]
