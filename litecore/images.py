"""Offline base images: Debian root filesystems made with debootstrap, imported into engines.

Docker Hub cannot be reached here, so litecore makes its own images from the
Debian mirror: ``litecore/base:bookworm`` is a debootstrap minbase root
filesystem (cached as a tarball) imported into each engine, and
``litecore/dev:bookworm`` is built on it by the engine itself with apt (python3,
pytest, git, tmux, build tools, plus every Debian package the installed domains
declare) -- apt in a container is several times faster and sturdier than a
second debootstrap stage with hundreds of packages. Every image is labelled with
the key of its recipe (``litecore.image.key``); an engine that holds the current
key is left alone, so a rebuild is a no-op.

The *alias map* resolves ``FROM`` names that cannot be pulled here
(``ubuntu:24.04``, ``python:3.12-slim``, Terminal-Bench base images) to these
local images when the engine does not hold the named image itself; tasks stay
unedited.
"""

from __future__ import annotations

import fcntl
import fnmatch
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from litecore.errors import LitecoreError, SandboxUnavailable, one_line
from litecore.sandbox import default_cache_dir

SUITE = "bookworm"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
BASE_IMAGE = f"litecore/base:{SUITE}"
DEV_IMAGE = f"litecore/dev:{SUITE}"
#: Bump when the recipe changes in a way the package list does not show.
RECIPE_VERSION = "1"

#: What generated tasks (and aliased third-party images) expect to find.
DEV_PACKAGES: tuple[str, ...] = (
    "bash", "ca-certificates", "coreutils", "procps", "psmisc", "less", "nano", "vim-tiny",
    "curl", "wget", "git", "tmux", "file", "unzip", "zip", "xz-utils", "bzip2", "patch", "diffutils",
    "python3", "python3-pip", "python3-venv", "python3-pytest", "python-is-python3",
    "build-essential", "make", "cmake", "pkg-config",
    "jq", "sqlite3", "iproute2", "netcat-openbsd", "openssl", "gawk", "sed", "grep", "findutils",
)

#: FROM names mapped to local images by default (glob patterns, first match wins;
#: exact names in a user's map take precedence over every pattern).
DEFAULT_ALIASES: Mapping[str, str] = {
    "debian-min:bookworm": BASE_IMAGE,
    "ubuntu:*": DEV_IMAGE,
    "ubuntu": DEV_IMAGE,
    "debian:*": DEV_IMAGE,
    "debian": DEV_IMAGE,
    "python:*": DEV_IMAGE,
    "python": DEV_IMAGE,
    "buildpack-deps:*": DEV_IMAGE,
    "ghcr.io/laude-institute/t-bench/*": DEV_IMAGE,
    "docker.io/library/ubuntu:*": DEV_IMAGE,
    "docker.io/library/debian:*": DEV_IMAGE,
    "docker.io/library/python:*": DEV_IMAGE,
}

IMAGE_ENV: Mapping[str, str] = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "LANG": "C.UTF-8",
    "DEBIAN_FRONTEND": "noninteractive",
    "PIP_DISABLE_PIP_VERSION_CHECK": "1",
}


@attrs.frozen(kw_only=True)
class ImageSpec:
    """One image recipe: a debootstrap variant and the packages on top."""

    name: str
    suite: str = SUITE
    packages: tuple[str, ...] = ()
    mirror: str = DEFAULT_MIRROR
    #: Make pip usable system-wide, like the python images tasks were written for.
    pip_anywhere: bool = False
    #: Built by the engine on top of this image (apt) instead of debootstrapped.
    parent: ImageSpec | None = None

    @property
    def key(self) -> str:
        """Content key: same recipe, same key (the engine label and tarball name)."""
        blob = json.dumps([RECIPE_VERSION, self.suite, sorted(set(self.packages)), self.mirror,
                           self.pip_anywhere, dict(IMAGE_ENV), self.parent.key if self.parent else None])
        return hashlib.sha256(blob.encode()).hexdigest()[:20]

    def dockerfile(self) -> str:
        """The engine build of an image with a parent: apt-get install on top of it.

        litecore's own packages come in one layer and the domains' extras in the next,
        so installing a new domain rebuilds only the second (the engine caches the first).
        """
        assert self.parent is not None
        core = sorted(set(DEV_PACKAGES) & set(self.packages))
        extra = sorted(set(self.packages) - set(DEV_PACKAGES))
        lines = [f"FROM {self.parent.name}"]
        for group in (core, extra):
            if group:
                lines.append("RUN apt-get update && apt-get install -y --no-install-recommends "
                             + " ".join(group) + " && apt-get clean && rm -rf /var/lib/apt/lists/*")
        tail = ["mkdir -p /app"]
        if self.pip_anywhere:
            # python:3.x images let `pip install` write to the system; Debian marks it externally managed
            tail.append("rm -f /usr/lib/python3*/EXTERNALLY-MANAGED")
        tail.append(f"echo '{self.name} {self.key}' > /etc/litecore-image")
        lines.append("RUN " + " && ".join(tail))
        lines.append(f"LABEL litecore.image=1 litecore.image.key={self.key}")
        return "\n".join(lines) + "\n"


@attrs.frozen(kw_only=True)
class BuiltImage:
    name: str
    engine: str
    key: str
    reused: bool
    seconds: float


def domain_packages(records: Mapping[str, Any] | None = None) -> tuple[str, ...]:
    """Union of the Debian packages every installed domain declares in its DomainSpec."""
    pkgs: set[str] = set()
    if records is None:
        for dom in _domains_tolerant():
            pkgs.update(dom.spec.packages)
        return tuple(sorted(pkgs))
    for dom in records.values():
        pkgs.update(dom.spec.packages)
    return tuple(sorted(pkgs))


def _domains_tolerant() -> list[Any]:
    """Every installed domain; one broken domain plugin costs a warning, not the image."""
    import sys

    from litecore.plugins import PluginManager

    pm = PluginManager()
    try:
        return list(pm.records("domain").values())
    except Exception as exc:  # a half-written plugin must not block base images
        print(f"litecore: warning: listing domains failed ({exc}); asking each plugin alone", file=sys.stderr)
    out = []
    for impl in pm._pm.hook.litecore_domains.get_hookimpls():
        try:
            out.extend(impl.function() or ())
        except Exception as exc:
            print(f"litecore: warning: domain plugin '{impl.plugin_name}' failed and adds no packages: {exc}",
                  file=sys.stderr)
    return out


def default_specs(*, mirror: str = DEFAULT_MIRROR, extra_packages: Iterable[str] = ()) -> list[ImageSpec]:
    """The two images litecore needs: minimal base and dev (with the domains' packages)."""
    dev = tuple(sorted(set(DEV_PACKAGES) | set(domain_packages()) | set(extra_packages)))
    base = ImageSpec(name=BASE_IMAGE, mirror=mirror)
    return [base, ImageSpec(name=DEV_IMAGE, packages=dev, mirror=mirror, pip_anywhere=True, parent=base)]


# ---------------------------------------------------------------------------
# Root filesystems
# ---------------------------------------------------------------------------

def _check_packages(packages: Sequence[str]) -> None:
    """Fail early, naming the package, when this host's apt knows the suite and not the package."""
    if not packages or not shutil.which("apt-cache"):
        return
    proc = subprocess.run(["apt-cache", "show", "--no-all-versions", *packages],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        unknown = [p for p in packages if f"'{p}'" in proc.stderr or f" {p}\n" in proc.stderr]
        if unknown:
            raise LitecoreError(
                f"Debian package(s) {', '.join(unknown)} not found (declared by a domain's DomainSpec.packages "
                f"or --package); fix the name or run apt-get update"
            )


def rootfs_tarball(spec: ImageSpec, *, cache_dir: Path | None = None, log: Callable[[str], None] | None = None) -> Path:
    """Debootstrap ``spec`` into a cached tarball (built once per key; concurrent callers wait)."""
    cache = (cache_dir or default_cache_dir()) / "images"
    cache.mkdir(parents=True, exist_ok=True)
    target = cache / f"{spec.name.replace('/', '_').replace(':', '_')}-{spec.key}.tar"
    if target.is_file():
        return target
    if not shutil.which("debootstrap"):
        raise SandboxUnavailable("building base images needs debootstrap: apt-get install -y debootstrap")
    _check_packages(spec.packages)
    with open(cache / f"{spec.key}.lock", "w") as lockf:
        fcntl.flock(lockf, fcntl.LOCK_EX)
        if target.is_file():
            return target
        work = Path(tempfile.mkdtemp(prefix=".rootfs-", dir=cache))
        try:
            root = work / "root"
            cmd = ["debootstrap", "--variant=minbase"]
            if spec.packages:
                cmd.append("--include=" + ",".join(sorted(set(spec.packages))))
            cmd += [spec.suite, str(root), spec.mirror]
            if log:
                log(f"debootstrap {spec.name} ({len(spec.packages)} extra packages)")
            proc = subprocess.run(cmd, capture_output=True, text=True)
            if proc.returncode != 0:
                tail = (proc.stdout + proc.stderr).strip().splitlines()[-2:]
                dlog = root / "debootstrap" / "debootstrap.log"
                if dlog.is_file():
                    tail += dlog.read_text(errors="replace").strip().splitlines()[-3:]
                raise LitecoreError(f"debootstrap of {spec.name} failed: {' | '.join(tail)[:600]}")
            _finish_rootfs(root, spec)
            tmp_tar = work / "rootfs.tar"
            subprocess.run(["tar", "-C", str(root), "--numeric-owner", "-cf", str(tmp_tar), "."], check=True)
            os.replace(tmp_tar, target)
        finally:
            subprocess.run(["rm", "-rf", "--one-file-system", str(work)], check=False)
    return target


def _finish_rootfs(root: Path, spec: ImageSpec) -> None:
    """Trim caches and make the tree behave like the images tasks are written for."""
    for sub in ("var/cache/apt/archives", "var/lib/apt/lists"):
        d = root / sub
        if d.is_dir():
            for child in d.iterdir():
                if child.is_file() and child.name not in ("lock",):
                    child.unlink()
    if spec.pip_anywhere:
        # python:3.x images let `pip install` write to the system; Debian marks it externally managed
        for marker in root.glob("usr/lib/python3*/EXTERNALLY-MANAGED"):
            marker.unlink()
    (root / "app").mkdir(exist_ok=True)
    (root / "etc" / "litecore-image").write_text(f"{spec.name} {spec.key}\n")


# ---------------------------------------------------------------------------
# Engines
# ---------------------------------------------------------------------------

def engine_image_key(client: Any, name: str) -> str | None:
    """The recipe key of ``name`` in the engine, or None when it is absent (or not litecore's)."""
    import docker.errors

    try:
        img = client.images.get(name)
    except docker.errors.ImageNotFound:
        return None
    return (img.labels or {}).get("litecore.image.key") or ""


def import_rootfs(client: Any, spec: ImageSpec, tarball: Path) -> None:
    """Import a root filesystem tarball as ``spec.name`` through the engine API."""
    repo, _, tag = spec.name.rpartition(":")
    changes = [f"ENV {k}={v}" for k, v in IMAGE_ENV.items()]
    changes += ['CMD ["/bin/bash"]', f"LABEL litecore.image.key={spec.key}", "LABEL litecore.image=1"]
    # a file path makes the SDK send Content-Length (dockerd rejects the chunked stream form)
    client.api.import_image(src=str(tarball), repository=repo, tag=tag, changes=changes)
    if engine_image_key(client, spec.name) != spec.key:
        # Podman's compat API ignores the tag on import: name the image by its label
        found = client.api.images(filters={"label": f"litecore.image.key={spec.key}"})
        if found:
            client.api.tag(found[0]["Id"], repo, tag)
            if tag != "latest":
                try:
                    client.api.remove_image(f"{repo}:latest", noprune=True)
                except Exception:
                    pass
    key = engine_image_key(client, spec.name)
    if key != spec.key:
        raise SandboxUnavailable(f"importing {spec.name} did not produce the expected image (label {key!r})")


def build_on_engine(client: Any, spec: ImageSpec) -> None:
    """Build ``spec`` (which has a parent) with the engine; the build needs the Debian mirror."""
    import io
    import tarfile

    data = spec.dockerfile().encode()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        ti = tarfile.TarInfo("Dockerfile")
        ti.size = len(data)
        tf.addfile(ti, io.BytesIO(data))
    log: list[str] = []
    error = None
    for item in client.api.build(fileobj=io.BytesIO(buf.getvalue()), custom_context=True, tag=spec.name,
                                 rm=True, forcerm=True, pull=False, decode=True, timeout=3600):
        log.append(item.get("stream", ""))
        if "error" in item:
            error = item["error"]
    if error or engine_image_key(client, spec.name) != spec.key:
        tail = " | ".join(line.strip() for line in "".join(log).splitlines()[-4:] if line.strip())
        raise LitecoreError(f"building {spec.name} failed: {one_line(error)} ({tail[:300]})")


def build_images(
    clients: Mapping[str, Any],
    specs: Sequence[ImageSpec],
    *,
    force: bool = False,
    cache_dir: Path | None = None,
    log: Callable[[str], None] | None = None,
) -> list[BuiltImage]:
    """Make each image in each engine (``{"docker": client, ...}``); reuse what is current."""
    import time

    out: list[BuiltImage] = []
    for spec in specs:
        for engine, client in clients.items():
            start = time.monotonic()
            if not force and engine_image_key(client, spec.name) == spec.key:
                out.append(BuiltImage(name=spec.name, engine=engine, key=spec.key, reused=True,
                                      seconds=time.monotonic() - start))
                continue
            if spec.parent is not None:
                if engine_image_key(client, spec.parent.name) != spec.parent.key:
                    build_images({engine: client}, [spec.parent], cache_dir=cache_dir, log=log)
                if log:
                    log(f"building {spec.name} in {engine} (apt-get install of {len(spec.packages)} packages)")
                build_on_engine(client, spec)
            else:
                tar = rootfs_tarball(spec, cache_dir=cache_dir, log=log)
                if log:
                    log(f"importing {spec.name} into {engine}")
                import_rootfs(client, spec, tar)
            out.append(BuiltImage(name=spec.name, engine=engine, key=spec.key, reused=False,
                                  seconds=time.monotonic() - start))
    return out


# ---------------------------------------------------------------------------
# Alias map
# ---------------------------------------------------------------------------

def merged_aliases(user: Mapping[str, str] | None, *, defaults: bool = True) -> dict[str, str]:
    """User entries first (they win), then litecore's defaults."""
    out = dict(user or {})
    if defaults:
        for k, v in DEFAULT_ALIASES.items():
            out.setdefault(k, v)
    return out


def resolve_alias(name: str, aliases: Mapping[str, str]) -> str | None:
    """The local image ``name`` maps to, or None. Exact keys beat glob patterns."""
    if name in aliases:
        return aliases[name]
    for pattern, target in aliases.items():
        if any(c in pattern for c in "*?[") and fnmatch.fnmatchcase(name, pattern):
            return target
    return None


def parse_alias_options(values: Iterable[str]) -> dict[str, str]:
    """``--alias FROM=LOCAL`` flags as a map (one-line error on a malformed one)."""
    out: dict[str, str] = {}
    for v in values:
        src, sep, dst = v.partition("=")
        if not sep or not src.strip() or not dst.strip():
            raise LitecoreError(f"--alias {v!r}: expected FROM_IMAGE=LOCAL_IMAGE (e.g. ubuntu:24.04=litecore/dev:bookworm)")
        out[src.strip()] = dst.strip()
    return out
