"""Helper code pasted at the top of hidden tests that build a copy of the agent's project."""

from __future__ import annotations

TEST_HELPERS = r'''
import contextlib
import os
import pathlib
import shutil
import subprocess

APP = pathlib.Path("/app")


def fresh(tmp_path, ignore=("build", "bin", "*.o", "*.d", "*.a", "*.so*")):
    """Copy /app without build outputs, so every check starts from a clean tree."""
    dst = tmp_path / "proj"
    shutil.copytree(APP, dst, symlinks=True, ignore=shutil.ignore_patterns(*ignore))
    return dst


def make(proj, *args, check=True):
    r = subprocess.run(["make", "-C", str(proj), *args], capture_output=True, text=True, timeout=120)
    if check:
        assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    return r


def built_ok(built):
    """The shared build's folder (the first item of the build fixture's value); fails the calling
    test if that build failed (its result is the second item)."""
    proj, r = built[0], built[1]
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    return proj


def age_tree(root, when):
    """Give every file the same old mtime, so make sees a fully up-to-date tree."""
    for dirpath, _dirs, files in os.walk(root):
        for f in files:
            os.utime(os.path.join(dirpath, f), (when, when), follow_symlinks=False)


@contextlib.contextmanager
def scratch(proj):
    """A throwaway copy of a built tree, at the very path it was built in (dependency files a build
    wrote may name absolute paths); the original comes back afterwards."""
    keep = proj.with_name(proj.name + ".pristine")
    proj.rename(keep)
    shutil.copytree(keep, proj, symlinks=True)
    try:
        yield proj
    finally:
        shutil.rmtree(proj, ignore_errors=True)
        keep.rename(proj)


def mtimes(root, suffix):
    return {str(p.relative_to(root)): p.stat().st_mtime_ns for p in pathlib.Path(root).rglob("*" + suffix)}
'''
