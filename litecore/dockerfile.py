"""Reading a task's Dockerfile: shared by the local backend (which applies the
simple ones itself) and the container backends (which map ``FROM`` names)."""

from __future__ import annotations

import io
import json
import shlex
from pathlib import Path

import attrs
from dockerfile_parse import DockerfileParser

from litecore.errors import TaskFormatError


@attrs.frozen
class Instruction:
    keyword: str
    value: str
    line: int  # 1-based

    def args(self) -> list[str]:
        """Arguments in exec (JSON) form or shell-word form."""
        v = self.value.strip()
        if v.startswith("["):
            try:
                parsed = json.loads(v)
                if isinstance(parsed, list):
                    return [str(x) for x in parsed]
            except json.JSONDecodeError:
                pass
        return shlex.split(v)


def parse_dockerfile(path: Path) -> list[Instruction]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise TaskFormatError(f"{path}: cannot read: {exc.strerror}") from None
    parser = DockerfileParser(fileobj=io.BytesIO(data))
    try:
        structure = parser.structure
    except Exception as exc:
        raise TaskFormatError(f"{path}: cannot parse: {exc}") from None
    out = [Instruction(s["instruction"].upper(), s["value"], s["startline"] + 1) for s in structure]
    out = [i for i in out if i.keyword != "COMMENT"]
    if not out or out[0].keyword not in ("FROM", "ARG"):
        raise TaskFormatError(f"{path}: the first instruction must be FROM")
    return out


def env_pairs(value: str) -> dict[str, str]:
    """``ENV A=1 B="x y"`` or legacy ``ENV A 1`` as a dict."""
    words = shlex.split(value)
    if words and "=" not in words[0]:
        return {words[0]: value.split(None, 1)[1].strip() if len(words) > 1 else ""}
    out = {}
    for w in words:
        k, _, v = w.partition("=")
        out[k] = v
    return out


def base_images(path: Path) -> list[str]:
    """Every image named by a ``FROM`` (build stages excluded)."""
    stages: set[str] = set()
    images = []
    for ins in parse_dockerfile(path):
        if ins.keyword != "FROM":
            continue
        words = [w for w in ins.value.split() if not w.startswith("--")]
        if not words:
            continue
        if len(words) >= 3 and words[1].lower() == "as":
            stages.add(words[2])
        if words[0] not in stages:
            images.append(words[0])
    return images
