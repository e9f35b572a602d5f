"""The Harbor task model: read, check and write task folders.

A task is a folder with ``instruction.md``, ``task.toml``, ``environment/``,
``solution/`` and ``tests/``; a dataset is a folder of task folders. The raw
``task.toml`` table is kept whole (unknown keys survive a round trip); typed
properties read the fields litecore acts on.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import attrs
import tomli_w

from litecore.errors import TaskFormatError

SCHEMA_VERSIONS = ("1.0", "1.1", "1.2", "1.3")
NETWORK_MODES = ("public", "no-network", "allowlist")

# Known fields and the types litecore requires of them: (table, key) -> types.
_TYPED_FIELDS: dict[tuple[str, str], tuple[type, ...]] = {
    ("agent", "timeout_sec"): (int, float),
    ("verifier", "timeout_sec"): (int, float),
    ("environment", "build_timeout_sec"): (int, float),
    ("environment", "docker_image"): (str,),
    ("environment", "cpus"): (int, float),
    ("environment", "memory_mb"): (int,),
    ("environment", "storage_mb"): (int,),
    ("environment", "allow_internet"): (bool,),
    ("environment", "network_mode"): (str,),
    ("environment", "workdir"): (str,),
    ("environment", "env"): (dict,),
    ("verifier", "env"): (dict,),
    ("solution", "env"): (dict,),
    ("metadata", "difficulty"): (str,),
    ("metadata", "category"): (str,),
    ("metadata", "tags"): (list,),
    ("task", "name"): (str,),
}


@attrs.frozen(kw_only=True)
class Task:
    """A Harbor task folder, read and checked."""

    path: Path
    instruction: str
    config: Mapping[str, Any]

    @property
    def name(self) -> str:
        return str(self.config.get("task", {}).get("name") or self.path.name)

    @property
    def id(self) -> str:
        """Filesystem-safe identifier (the folder name)."""
        return self.path.name

    def _get(self, table: str, key: str, default: Any) -> Any:
        return self.config.get(table, {}).get(key, default)

    @property
    def agent_timeout_sec(self) -> float:
        return float(self._get("agent", "timeout_sec", 600.0))

    @property
    def verifier_timeout_sec(self) -> float:
        return float(self._get("verifier", "timeout_sec", 600.0))

    @property
    def build_timeout_sec(self) -> float:
        return float(self._get("environment", "build_timeout_sec", 600.0))

    @property
    def docker_image(self) -> str | None:
        return self._get("environment", "docker_image", None)

    @property
    def dockerfile(self) -> Path | None:
        p = self.path / "environment" / "Dockerfile"
        return p if p.is_file() else None

    @property
    def workdir(self) -> str | None:
        return self._get("environment", "workdir", None)

    @property
    def env(self) -> dict[str, str]:
        return {str(k): str(v) for k, v in self._get("environment", "env", {}).items()}

    @property
    def verifier_env(self) -> dict[str, str]:
        return {str(k): str(v) for k, v in self._get("verifier", "env", {}).items()}

    @property
    def cpus(self) -> float | None:
        return self._get("environment", "cpus", None)

    @property
    def memory_mb(self) -> int | None:
        return self._get("environment", "memory_mb", None)

    @property
    def network_mode(self) -> str:
        """``public`` or ``no-network`` (``allowlist`` is treated as no network here)."""
        mode = self._get("environment", "network_mode", None)
        if mode is None:
            return "public" if self._get("environment", "allow_internet", True) else "no-network"
        return "public" if mode == "public" else "no-network"

    @property
    def allows_network(self) -> bool:
        return self.network_mode == "public"

    @property
    def metadata(self) -> Mapping[str, Any]:
        return self.config.get("metadata", {})

    @property
    def category(self) -> str:
        return str(self.metadata.get("category", "uncategorized"))

    @property
    def difficulty(self) -> str:
        return str(self.metadata.get("difficulty", "unknown"))

    @property
    def requires(self) -> tuple[str, ...]:
        """Commands the environment must provide (litecore extension, in [metadata])."""
        return tuple(self.metadata.get("requires", ()))

    @property
    def solve_script(self) -> Path:
        return self.path / "solution" / "solve.sh"

    @property
    def tests_dir(self) -> Path:
        return self.path / "tests"

    @property
    def solution_dir(self) -> Path:
        return self.path / "solution"

    def digest(self) -> str:
        return tree_digest(self.path)


def _strip_canary(text: str) -> str:
    lines = text.splitlines(keepends=True)
    while lines and "canary" in lines[0].lower() and lines[0].lstrip().startswith(("#", "<!--")):
        lines.pop(0)
    return "".join(lines).strip() + "\n"


def load_task(path: str | os.PathLike[str]) -> Task:
    """Read and check one task folder; errors name the file and the problem."""
    root = Path(path)
    if not root.is_dir():
        raise TaskFormatError(f"{root}: not a task folder (no such directory)")
    toml_path = root / "task.toml"
    instr_path = root / "instruction.md"
    if not toml_path.is_file():
        raise TaskFormatError(f"{toml_path}: missing (every Harbor task needs task.toml)")
    if not instr_path.is_file():
        raise TaskFormatError(f"{instr_path}: missing (every Harbor task needs instruction.md)")
    try:
        config = tomllib.loads(toml_path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise TaskFormatError(f"{toml_path}: invalid TOML: {exc}") from None
    except UnicodeDecodeError:
        raise TaskFormatError(f"{toml_path}: not UTF-8 text") from None
    _check_config(toml_path, config)
    try:
        instruction = _strip_canary(instr_path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise TaskFormatError(f"{instr_path}: not UTF-8 text") from None
    if not instruction.strip():
        raise TaskFormatError(f"{instr_path}: empty instruction")
    if not (root / "tests" / "test.sh").is_file():
        raise TaskFormatError(f"{root / 'tests' / 'test.sh'}: missing (the verifier entry point)")
    env = config.get("environment", {})
    if not (root / "environment" / "Dockerfile").is_file() and not env.get("docker_image"):
        raise TaskFormatError(
            f"{root / 'environment' / 'Dockerfile'}: missing, and task.toml sets no environment.docker_image"
        )
    return Task(path=root.resolve(), instruction=instruction, config=config)


def _check_config(toml_path: Path, config: Mapping[str, Any]) -> None:
    version = config.get("schema_version", "1.0")
    if not isinstance(version, str) or version not in SCHEMA_VERSIONS:
        raise TaskFormatError(
            f"{toml_path}: schema_version {version!r} is not supported; expected one of {', '.join(SCHEMA_VERSIONS)}"
        )
    for (table, key), types in _TYPED_FIELDS.items():
        section = config.get(table)
        if section is None:
            continue
        if not isinstance(section, dict):
            raise TaskFormatError(f"{toml_path}: [{table}] must be a table, got {type(section).__name__}")
        if key not in section:
            continue
        value = section[key]
        bad_bool = isinstance(value, bool) and bool not in types
        if bad_bool or not isinstance(value, types):
            expected = " or ".join(t.__name__ for t in types)
            raise TaskFormatError(
                f"{toml_path}: {table}.{key} must be {expected}, got {type(value).__name__} {value!r}"
            )
        if key == "timeout_sec" and value <= 0:
            raise TaskFormatError(f"{toml_path}: {table}.{key} must be positive, got {value!r}")
    mode = config.get("environment", {}).get("network_mode")
    if mode is not None and mode not in NETWORK_MODES:
        raise TaskFormatError(
            f"{toml_path}: environment.network_mode {mode!r} is not one of {', '.join(NETWORK_MODES)}"
        )


def is_task_dir(path: Path) -> bool:
    return (path / "task.toml").is_file()


def load_dataset(path: str | os.PathLike[str]) -> list[Task]:
    """A task folder, or a folder of task folders (sorted by name)."""
    root = Path(path)
    if is_task_dir(root):
        return [load_task(root)]
    if not root.is_dir():
        raise TaskFormatError(f"{root}: no such task or dataset folder")
    tasks = [load_task(p) for p in sorted(root.iterdir()) if p.is_dir() and is_task_dir(p)]
    if not tasks:
        raise TaskFormatError(f"{root}: no task folders found (a task folder holds task.toml)")
    return tasks


# ---------------------------------------------------------------------------
# Writing: atomic, content-addressed.
# ---------------------------------------------------------------------------

FileContent = str | bytes


def write_task(
    dest: str | os.PathLike[str],
    *,
    instruction: str,
    config: Mapping[str, Any],
    files: Mapping[str, FileContent],
    executables: tuple[str, ...] = (),
) -> Path:
    """Write a task folder atomically: a temp folder beside ``dest``, then rename.

    ``files`` maps task-relative paths (``environment/app/x.csv``) to content.
    If ``dest`` already exists it is left alone (resume) and returned.
    """
    dest = Path(dest)
    if dest.exists():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    try:
        (tmp / "instruction.md").write_text(instruction if instruction.endswith("\n") else instruction + "\n")
        (tmp / "task.toml").write_text(tomli_w.dumps(dict(config)))
        for rel, content in sorted(files.items()):
            target = tmp / rel
            if not target.resolve().is_relative_to(tmp.resolve()):
                raise TaskFormatError(f"{dest}: file path {rel!r} escapes the task folder")
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(content)
            if rel in executables or rel.endswith(".sh"):
                target.chmod(0o755)
        os.rename(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return dest


def save_task(task: Task, dest: str | os.PathLike[str]) -> Path:
    """Copy a task folder (round trip: what is read is what is written)."""
    files: dict[str, FileContent] = {}
    execs = []
    for p in iter_files(task.path):
        rel = p.relative_to(task.path).as_posix()
        if rel in ("instruction.md", "task.toml"):
            continue
        files[rel] = p.read_bytes()
        if os.access(p, os.X_OK):
            execs.append(rel)
    return write_task(dest, instruction=task.instruction, config=task.config, files=files, executables=tuple(execs))


def iter_files(root: Path) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for f in sorted(filenames):
            yield Path(dirpath) / f


def tree_digest(root: Path) -> str:
    """Content hash of a folder: paths, modes (exec bit) and bytes."""
    h = hashlib.sha256()
    for p in iter_files(root):
        rel = p.relative_to(root).as_posix()
        h.update(rel.encode() + b"\0" + (b"x" if os.access(p, os.X_OK) else b"-") + b"\0")
        h.update(hashlib.sha256(p.read_bytes()).digest())
    return h.hexdigest()
