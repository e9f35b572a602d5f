import os
import shutil
import subprocess

import pytest
from litecore_plugin_version_control import domain
from litecore_plugin_version_control.gitrepo import Person, Repo

from litecore.testing import DomainContract


class TestVersionControlDomain(DomainContract):
    """The shared quality gate (litecore.testing.DomainContract)."""

    domain = staticmethod(domain)


def _write(files, root):
    for rel, data in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data if isinstance(data, bytes) else data.encode())


@pytest.mark.skipif(not shutil.which("git"), reason="needs git")
def test_built_repository_is_valid_and_clean(tmp_path):
    repo = Repo(user=Person("T Ester", "t@example.org"))
    repo.commit({"a.txt": "1\n", "dir/b.sh": "#!/bin/sh\n", "dir-x": "z\n"}, "first")
    repo.checkout("side", create=True)
    repo.commit({"dir/c.txt": "c\n"}, "side work")
    repo.checkout("main")
    repo.delete_branch("side")
    files, execs = repo.app_files("r")
    _write(files, tmp_path)
    for e in execs:
        os.chmod(tmp_path / e, 0o755)
    run = lambda *a: subprocess.run(["git", "-C", str(tmp_path / "r"), *a], capture_output=True, text=True)
    fsck = run("fsck", "--full")
    assert fsck.returncode == 0, fsck.stderr
    assert run("status", "--porcelain").stdout == ""
    assert "dangling commit" in run("fsck", "--no-reflogs").stdout
    assert run("log", "-g", "--format=%gs").stdout.splitlines()[0] == "checkout: moving from side to main"


def test_repository_bytes_are_reproducible():
    def build():
        r = Repo(user=Person("T Ester", "t@example.org"), clock=1_700_000_123)
        r.commit({"a.txt": "1\n", "dir/b.sh": "#!/bin/sh\n"}, "first")
        r.checkout("x", create=True)
        r.commit({"a.txt": "2\n"}, "second")
        return r.app_files("repo")
    assert build() == build()
