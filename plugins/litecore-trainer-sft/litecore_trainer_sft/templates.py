"""Chat templates with ``{% generation %}`` markers, needed for assistant-only loss.

TRL ships training variants for the model families it knows; litecore adds
ChatML (Qwen2/2.5-style, also the tiny test models) and Qwen3 without thinking,
for models whose template lacks markers and that TRL does not recognise.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

from litecore.errors import ConfigError

SHIPPED: dict[str, str] = {
    "chatml": "chatml_training.jinja",
    "qwen3-nothink": "qwen3_nothink_training.jinja",
}


def shipped_template(name: str) -> str:
    return resources.files("litecore_trainer_sft").joinpath("chat_templates").joinpath(SHIPPED[name]).read_text("utf-8")


def has_generation_markers(template: str | None) -> bool:
    from trl.chat_template_utils import has_generation_markers as _has

    return bool(template) and _has(template)


def training_template(tokenizer: Any, choice: str | None = None) -> str:
    """The template to train with (and to save beside the checkpoint)."""
    if choice:
        if choice in SHIPPED:
            text = shipped_template(choice)
        else:
            path = Path(choice)
            if not path.is_file():
                raise ConfigError(
                    f"chat_template {choice!r} is neither a shipped template ({', '.join(SHIPPED)}) nor a file"
                )
            text = path.read_text("utf-8")
        if not has_generation_markers(text):
            raise ConfigError(f"chat_template {choice!r} has no {{% generation %}} markers")
        return text
    current = getattr(tokenizer, "chat_template", None)
    if isinstance(current, dict):
        current = current.get("default")
    if has_generation_markers(current):
        return current
    if current:
        from trl.chat_template_utils import get_training_chat_template

        try:
            patched = get_training_chat_template(tokenizer)
        except ValueError:
            patched = None
        if patched:
            return patched
    if "<|im_start|>" in tokenizer.get_vocab() and "<|im_end|>" in tokenizer.get_vocab():
        return shipped_template("chatml")
    raise ConfigError(
        "the model's chat template has no {% generation %} markers and no training variant is known; "
        f"set chat_template to one of {', '.join(SHIPPED)} or to a .jinja file"
    )
