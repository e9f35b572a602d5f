"""litecore domain plugin: system administration (logs, rotation, cron, accounts, cleanup, supervision)."""

from __future__ import annotations

import importlib

import litecore
from litecore.records import Domain, DomainSpec

#: Family modules, in the order the domain lists them.
FAMILY_MODULES = ("cron_schedule", "log_analysis", "log_rotation", "user_audit", "disk_cleanup",
                  "process_supervisor")

SPEC = DomainSpec(
    description=(
        "Keeping Linux hosts healthy from the shell: reading and summarising logs (including rotated and "
        "compressed ones), rotating logs by a stated retention policy, scheduling recurring jobs with cron, "
        "auditing accounts, groups and sudo rights from passwd/shadow/group files, reclaiming disk space by "
        "rules without touching protected data, and keeping a flaky service running with a supervisor that "
        "restarts it with backoff. Environments are self-contained copies of system trees under /app (there "
        "are no real daemons); results are files or scripts whose behaviour is checked by running them."
    ),
    skills=("read auth/syslog style logs incl. rotated .gz files", "aggregate with awk/grep/sort/uniq or python",
            "reason about CIDR ranges and time windows", "write log rotation and cleanup scripts that are "
            "idempotent", "translate schedules into cron expressions", "audit passwd/shadow/group/sudoers",
            "handle file ages, sizes and permissions safely", "supervise processes: exit codes, signals, "
            "restart backoff, logs"),
    topics=("ssh brute-force reports", "log retention policies", "cron migrations", "account hygiene audits",
            "full disks", "crash-looping services"),
    tools=("bash", "grep", "awk", "sed", "sort", "uniq", "find", "gzip", "zcat", "stat", "du", "date",
           "python3", "ps", "kill"),
    packages=("bash", "coreutils", "findutils", "gawk", "grep", "sed", "gzip", "procps", "python3"),
)


def _families() -> tuple:
    mods = [importlib.import_module(f"litecore_plugin_system_admin.families.{m}") for m in FAMILY_MODULES]
    return tuple(m.FAMILY for m in mods)


def domain() -> Domain:
    return Domain(
        name="system-admin",
        spec=SPEC,
        category="system-administration",
        description="logs, rotation, cron, account audits, disk cleanup and process supervision",
        families=_families(),
    )


@litecore.hookimpl
def litecore_domains():
    return [domain()]
