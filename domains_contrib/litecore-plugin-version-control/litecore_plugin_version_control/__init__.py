"""litecore domain plugin: version control (git workflows an engineer meets at the terminal)."""

from __future__ import annotations

import litecore
from litecore.records import Domain, DomainSpec

from litecore_plugin_version_control.families import (
    backport_fixes,
    bisect_regression,
    merge_by_rules,
    commit_hooks,
    purge_secret,
    reflog_recovery,
)

SPEC = DomainSpec(
    description=(
        "Working with git repositories from the terminal when something has gone wrong or needs care: "
        "hunting the commit that introduced a regression, merging diverged branches under explicit "
        "resolution rules, recovering work that looks lost (deleted branches, hard resets, dropped "
        "stashes), rewriting history to purge leaked secrets, backporting fixes between release "
        "branches, enforcing team rules with hooks, and tagging releases. Repositories arrive with "
        "realistic history (several authors, merges, half-finished commits) and the result is judged "
        "by the state of refs, commits and trees, not by the commands used."
    ),
    skills=("read history with git log/show/diff", "git bisect with run scripts and skips",
            "three-way merges and conflict resolution", "reflog and fsck archaeology",
            "history rewriting (filter-branch, rebase)", "cherry-pick -x backports", "client-side hooks",
            "annotated tags and release bookkeeping"),
    topics=("regressions", "release branches", "leaked credentials", "lost work", "dependency pins",
            "changelogs", "commit conventions"),
    tools=("git", "bash", "python3", "grep", "sed", "diff"),
    packages=("git", "python3"),
)


def domain() -> Domain:
    return Domain(
        name="version-control",
        spec=SPEC,
        category="version-control",
        description="git archaeology and surgery: bisect, merge by rules, recover, rewrite, backport, hooks, tags",
        families=(bisect_regression.FAMILY, merge_by_rules.FAMILY,
                  reflog_recovery.FAMILY, purge_secret.FAMILY,
                  backport_fixes.FAMILY, commit_hooks.FAMILY),
    )


@litecore.hookimpl
def litecore_domains():
    return [domain()]
