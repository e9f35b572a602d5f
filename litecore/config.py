"""pipeline.toml: strict, typed configuration (attrs + cattrs).

Every section has core keys (typed here) and, where a plugin is chosen by name
(``[sandbox] backend``, ``[rollout] policy`` ...), the section's remaining keys
belong to that plugin and are structured with its own config class. Unknown
keys, wrong types and unknown plugin names are errors that name the file and
the dotted path: ``pipeline.toml: generate.count: expected an integer, got 'ten'``.
"""

from __future__ import annotations

import os
import re
import tomllib
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

import attrs
import cattrs
from cattrs.errors import ClassValidationError, ForbiddenExtraKeysError

from litecore.errors import ConfigError
from litecore.datasets import PairOptions, SFTFilters
from litecore.records import DIFFICULTIES

T = TypeVar("T")


class FieldError(ValueError):
    """A validator's complaint about one field (the message path names the field)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _positive(inst: Any, attr: attrs.Attribute, value: Any) -> None:
    if value <= 0:
        raise FieldError(attr.name, f"must be positive, got {value!r}")


def _difficulties(inst: Any, attr: attrs.Attribute, value: list[str]) -> None:
    bad = [d for d in value if d not in DIFFICULTIES]
    if bad or not value:
        raise FieldError(attr.name, f"must be a non-empty list of {', '.join(DIFFICULTIES)}; got {value!r}")


@attrs.frozen(kw_only=True)
class RunConfig:
    """``[run]``: where outputs go and how much runs at once."""

    #: Output folder, relative to the pipeline.toml that names it.
    output: str = "runs/quickstart"
    #: Seed for planning the run (which domains, families, difficulties, instance seeds).
    seed: int = 0
    #: Sandboxes running at once (validation, rollouts). Validation is CPU-bound, but checks also
    #: wait (services starting, timed tests), so a few more than the cores keeps them busy: on the
    #: 2-core reference machine 4 validates 4.4 environments/s where 2 does 3.5.
    concurrency: int = attrs.field(default=4, validator=_positive)
    #: Stages to run, in order.
    stages: list[str] = attrs.field(factory=lambda: ["generate", "validate", "rollout", "export"])


@attrs.frozen(kw_only=True)
class GenerateConfig:
    """``[generate]``: how many environments, from which domains."""

    generator: str = "procedural"
    count: int = attrs.field(default=30, validator=_positive)
    #: Domain name -> weight. Empty: the paper's mix over the installed domains.
    domains: dict[str, float] = attrs.field(factory=dict)
    #: Domain name -> the families to use (default: all of the domain's families).
    families: dict[str, list[str]] = attrs.field(factory=dict)
    difficulties: list[str] = attrs.field(factory=lambda: list(DIFFICULTIES), validator=_difficulties)
    #: The generator plugin's own options (the section's other keys).
    options: dict[str, Any] = attrs.field(factory=dict)


@attrs.frozen(kw_only=True)
class SandboxConfig:
    """``[sandbox]``: which backend runs the tasks; other keys are the backend's options."""

    backend: str = "local"
    options: dict[str, Any] = attrs.field(factory=dict)


@attrs.frozen(kw_only=True)
class ValidateConfig:
    """``[validate]``: the gate every environment passes before it is emitted."""

    verifier: str = "harbor"
    #: How many times oracle (must score 1) and noop (must score 0) are each run.
    repeats: int = attrs.field(default=2, validator=_positive)
    options: dict[str, Any] = attrs.field(factory=dict)


TERMINAL_NAMES = ("auto", "tmux", "tmux-sleep", "line")
EXPORT_FORMATS = ("messages", "sharegpt", "hf", "preferences")


def _one_of(choices: tuple[str, ...]):
    def check(inst: Any, attr: attrs.Attribute, value: Any) -> None:
        values = value if isinstance(value, list) else [value]
        bad = [v for v in values if v not in choices]
        if bad:
            raise FieldError(attr.name, f"unknown value {bad[0]!r}; available: {', '.join(choices)}")

    return check


@attrs.frozen(kw_only=True)
class RolloutConfig:
    """``[rollout]``: which policy collects trajectories; other keys are its options."""

    policy: str = "oracle"
    attempts: int = attrs.field(default=1, validator=_positive)
    max_turns: int = attrs.field(default=100, validator=_positive)
    #: How keystrokes reach the sandbox: auto (tmux when the environment has it, else line),
    #: tmux (Terminus-2 keystrokes, completion-aware waiting), tmux-sleep, line.
    terminal: str = attrs.field(default="auto", validator=_one_of(TERMINAL_NAMES))
    options: dict[str, Any] = attrs.field(factory=dict)


@attrs.frozen(kw_only=True)
class ExportConfig:
    """``[export]``: what datasets are written from the trajectories."""

    #: Any of: messages (sft.jsonl, chat JSONL for TRL), sharegpt (the paper's format),
    #: hf (Hugging Face `datasets` folders with a card), preferences (preference pairs).
    formats: list[str] = attrs.field(factory=lambda: ["messages", "sharegpt"], validator=_one_of(EXPORT_FORMATS))
    #: ``[export.sft]``: rejection-sampling filters.
    sft: SFTFilters = attrs.field(factory=SFTFilters)
    #: ``[export.pairs]``: how preference pairs are formed.
    pairs: PairOptions = attrs.field(factory=PairOptions)


@attrs.frozen(kw_only=True)
class TrainConfig:
    """``[train]``: which trainer, on which dataset; other keys are the trainer's options."""

    trainer: str = "sft"
    #: ``sft`` (sft.jsonl) or ``preferences`` (preferences.jsonl), from this run's export,
    #: or a path to a dataset file or folder.
    data: str = "sft"
    options: dict[str, Any] = attrs.field(factory=dict)


@attrs.frozen(kw_only=True)
class EvalConfig:
    """``[eval]``: pass@k of a policy on a Harbor dataset; other keys are the policy's options.

    A policy option whose value is ``"@train"`` becomes the checkpoint the train stage wrote.
    """

    #: A Harbor dataset folder (relative to the pipeline file); empty: this run's dataset.
    dataset: str = ""
    policy: str = "hf"
    k: list[int] = attrs.field(factory=lambda: [1])
    #: Episodes per task (default: the largest k).
    attempts: int = 0
    max_turns: int = attrs.field(default=30, validator=_positive)
    terminal: str = attrs.field(default="auto", validator=_one_of(TERMINAL_NAMES))
    options: dict[str, Any] = attrs.field(factory=dict)


@attrs.frozen(kw_only=True)
class ExecutorConfig:
    """``[executor]``: where the jobs of generate, validate, rollout and eval run; other keys are its options."""

    #: ``local`` (threads in this process, ``[run] concurrency`` at a time) or ``ray`` (litecore-executor-ray).
    name: str = "local"
    options: dict[str, Any] = attrs.field(factory=dict)


@attrs.frozen(kw_only=True)
class PipelineConfig:
    """The whole pipeline.toml."""

    run: RunConfig = attrs.field(factory=RunConfig)
    generate: GenerateConfig = attrs.field(factory=GenerateConfig)
    sandbox: SandboxConfig = attrs.field(factory=SandboxConfig)
    validate: ValidateConfig = attrs.field(factory=ValidateConfig)
    rollout: RolloutConfig = attrs.field(factory=RolloutConfig)
    export: ExportConfig = attrs.field(factory=ExportConfig)
    train: TrainConfig = attrs.field(factory=TrainConfig)
    eval: EvalConfig = attrs.field(factory=EvalConfig)
    executor: ExecutorConfig = attrs.field(factory=ExecutorConfig)
    #: The folder relative paths are resolved against (the file's folder).
    base_dir: str = "."
    source: str = "<embedded default>"

    @property
    def output_dir(self) -> Path:
        return (Path(self.base_dir) / self.run.output).resolve()


#: For each plugin-choosing section: the key that names the plugin, its kind, and the core keys.
PLUGIN_SECTIONS: Mapping[str, tuple[str, str, tuple[str, ...]]] = {
    "generate": ("generator", "generator", ("generator", "count", "domains", "families", "difficulties")),
    "sandbox": ("backend", "sandbox", ("backend",)),
    "validate": ("verifier", "verifier", ("verifier", "repeats")),
    "rollout": ("policy", "policy", ("policy", "attempts", "max_turns", "terminal")),
    "train": ("trainer", "trainer", ("trainer", "data")),
    "eval": ("policy", "policy", ("dataset", "policy", "k", "attempts", "max_turns", "terminal")),
    "executor": ("name", "executor", ("name",)),
}
STAGES = ("generate", "validate", "rollout", "export", "train", "eval")


# ---------------------------------------------------------------------------
# A strict converter: no silent coercion, no unknown keys.
# ---------------------------------------------------------------------------


def _strict(kind: type, label: str):
    def hook(value: Any, _t: Any) -> Any:
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, bool) and kind is not bool:
            raise TypeError(f"expected {label}, got a boolean")
        if not isinstance(value, kind):
            raise TypeError(f"expected {label}, got {type(value).__name__} {value!r}")
        return value

    return hook


def make_converter() -> cattrs.Converter:
    conv = cattrs.Converter(forbid_extra_keys=True)
    conv.register_structure_hook(str, _strict(str, "a string"))
    conv.register_structure_hook(int, _strict(int, "an integer"))
    conv.register_structure_hook(float, _strict(float, "a number"))
    conv.register_structure_hook(bool, _strict(bool, "true or false"))
    conv.register_structure_hook(Any, lambda v, _t: v)

    def is_container(kind: type) -> Any:
        return lambda t: typing.get_origin(t) is kind

    base_list = conv.get_structure_hook(list[str])  # noqa: F841 (warms cattrs' factory)

    def strict_list(value: Any, t: Any) -> Any:
        if not isinstance(value, list):
            raise TypeError(f"expected a list, got {type(value).__name__} {value!r}")
        (item,) = typing.get_args(t) or (Any,)
        return [conv.structure(v, item) for v in value]

    def strict_dict(value: Any, t: Any) -> Any:
        if not isinstance(value, dict):
            raise TypeError(f"expected a table, got {type(value).__name__} {value!r}")
        kt, vt = typing.get_args(t) or (Any, Any)
        return {conv.structure(k, kt): conv.structure(v, vt) for k, v in value.items()}

    conv.register_structure_hook_func(is_container(list), strict_list)
    conv.register_structure_hook_func(is_container(dict), strict_dict)
    return conv


def _path_of(loc: str) -> str:
    # cattrs locations look like "$.generate.count" or "$.domains['x']"
    loc = loc.removeprefix("$").lstrip(".")
    return re.sub(r"\['([^']*)'\]", r".\1", loc).replace("[", ".").replace("]", "")


def structure_strict(data: Mapping[str, Any], cls: type[T], *, source: str, prefix: str = "") -> T:
    """Structure ``data`` into ``cls``; any problem becomes one ConfigError line."""
    conv = make_converter()
    try:
        return conv.structure(dict(data), cls)
    except (ClassValidationError, ForbiddenExtraKeysError, TypeError, ValueError) as exc:
        raise ConfigError(f"{source}: {_first_message(exc, prefix)}") from None


def _first_message(exc: BaseException, prefix: str) -> str:
    if isinstance(exc, ForbiddenExtraKeysError):
        where = f"{prefix}." if prefix else ""
        keys = ", ".join(sorted(exc.extra_fields))
        allowed = ", ".join(a.name for a in attrs.fields(exc.cl)) if attrs.has(exc.cl) else ""
        return f"{where}{keys}: unknown key" + (f" (allowed: {allowed})" if allowed else "")
    if isinstance(exc, cattrs.BaseValidationError):
        for sub in _walk(exc):
            if isinstance(sub, ForbiddenExtraKeysError):
                # transform_error knows the nested path of the table with the extra key
                for msg in cattrs.transform_error(exc, path=f"$.{prefix}" if prefix else "$"):
                    if msg.startswith("extra fields found"):
                        return _first_message(sub, _path_of(msg.rpartition(" @ ")[2]))
                return _first_message(sub, prefix)
            if isinstance(sub, FieldError):
                return f"{prefix + '.' if prefix else ''}{sub.field}: {sub}"
        messages = cattrs.transform_error(exc, path=f"$.{prefix}" if prefix else "$")
        msg = messages[0] if messages else str(exc)
        text, _, loc = msg.rpartition(" @ ")
        text = text.replace("invalid value for type, ", "")
        detail = _leaf_detail(exc)
        if detail and ("invalid value" in text or "expected" in text):
            text = detail
        return f"{_path_of(loc)}: {text}"
    return str(exc)


def _walk(exc: BaseException):
    yield exc
    for sub in getattr(exc, "exceptions", ()):
        yield from _walk(sub)


def _leaf_detail(exc: BaseException) -> str | None:
    for sub in _walk(exc):
        if not getattr(sub, "exceptions", None) and isinstance(sub, (TypeError, ValueError)):
            return str(sub)
    return None


# ---------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------


def split_plugin_options(raw: dict[str, Any]) -> dict[str, Any]:
    """Move each plugin section's non-core keys into ``options``."""
    out = dict(raw)
    for section, (_key, _kind, core) in PLUGIN_SECTIONS.items():
        data = out.get(section)
        if not isinstance(data, dict):
            continue
        options = {k: v for k, v in data.items() if k not in core}
        out[section] = {k: v for k, v in data.items() if k in core} | {"options": options}
    return out


def parse_config(raw: Mapping[str, Any], *, source: str, base_dir: str) -> PipelineConfig:
    data = dict(raw)
    known = {a.name for a in attrs.fields(PipelineConfig)} - {"base_dir", "source"}
    unknown = [k for k in data if k not in known]
    if unknown:
        allowed = ", ".join(sorted(known))
        raise ConfigError(f"{source}: [{unknown[0]}]: unknown section (allowed: {allowed})")
    for name, value in data.items():
        if not isinstance(value, dict):
            raise ConfigError(f"{source}: {name}: expected a table [{name}], got {type(value).__name__}")
    data = split_plugin_options(data)
    sections = {
        name: structure_strict(value, _section_type(name), source=source, prefix=name)
        for name, value in data.items()
    }
    cfg = PipelineConfig(**sections, base_dir=base_dir, source=source)
    bad = [s for s in cfg.run.stages if s not in STAGES]
    if bad:
        raise ConfigError(f"{source}: run.stages: unknown stage {bad[0]!r}; available: {', '.join(STAGES)}")
    return cfg


def _section_type(name: str) -> type:
    return {
        "run": RunConfig,
        "generate": GenerateConfig,
        "sandbox": SandboxConfig,
        "validate": ValidateConfig,
        "rollout": RolloutConfig,
        "export": ExportConfig,
        "train": TrainConfig,
        "eval": EvalConfig,
        "executor": ExecutorConfig,
    }[name]


def load_config(path: str | os.PathLike[str] | None) -> PipelineConfig:
    """Read pipeline.toml; ``None`` gives the embedded default (the quickstart)."""
    if path is None:
        return PipelineConfig(base_dir=os.getcwd())
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"{p}: no such file")
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p}: invalid TOML: {exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{p}: not UTF-8 text") from None
    return parse_config(raw, source=str(p), base_dir=str(p.parent.resolve()))


def plugin_config(kind_label: str, record: Any, options: Mapping[str, Any], *, source: str, section: str) -> Any:
    """Structure a plugin's options with its own config class (strict, same error style)."""
    cls = getattr(record, "config", None)
    if cls is None:
        if options:
            key = next(iter(options))
            raise ConfigError(f"{source}: {section}.{key}: unknown key ({kind_label} '{record.name}' takes no options)")
        return None
    return structure_strict(options, cls, source=source, prefix=section)
