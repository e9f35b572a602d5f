"""Tiny models built from scratch, offline: a byte-level BPE tokenizer trained on a
corpus and a Qwen2/Qwen3-shaped random model, saved as a normal model folder.

Used by the trainer tests and the CPU closed loop, where no model hub is
reachable. The folder loads with ``AutoModelForCausalLM.from_pretrained`` and
``AutoTokenizer.from_pretrained``; its chat template carries generation markers.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import attrs

from litecore_trainer_sft.templates import shipped_template

PAD, IM_START, IM_END = "<|endoftext|>", "<|im_start|>", "<|im_end|>"
SPECIAL_TOKENS: tuple[str, ...] = (PAD, IM_START, IM_END)


@attrs.frozen(kw_only=True)
class TinyShape:
    """Model dimensions (the defaults give about 0.1 M parameters at vocab 512)."""

    arch: str = attrs.field(default="qwen3", validator=attrs.validators.in_(("qwen2", "qwen3")))
    hidden_size: int = 64
    intermediate_size: int = 128
    num_hidden_layers: int = 2
    num_attention_heads: int = 4
    num_key_value_heads: int = 2
    max_position_embeddings: int = 4096
    tie_word_embeddings: bool = True


def default_corpus() -> list[str]:
    """A little text in the shape of Terminus-2 turns (JSON actions and shell output)."""
    return [
        '{"analysis": "The file exists; count the rows.", "plan": "Use wc.", '
        '"commands": [{"keystrokes": "wc -l data.csv\\n", "duration": 0.1}], "task_complete": false}',
        "New Terminal Output:\nroot@box:/app# ls -la\ntotal 8\n-rw-r--r-- 1 root root 42 data.csv\n",
        '{"analysis": "Done.", "plan": "Nothing left.", "commands": [], "task_complete": true}',
        "You are an AI assistant tasked with solving command-line tasks in a Linux environment.",
        "Task: write the sum of column b grouped by a to /app/out.json\n",
        "python3 -c 'import json,csv; print(sum(1 for _ in csv.reader(open(\"data.csv\"))))'\n",
        "grep -c error /var/log/app.log | tee /app/answer.txt\nawk -F, '{s+=$2} END {print s}' data.csv\n",
    ]


def train_tokenizer(corpus: Iterable[str], *, vocab_size: int = 512, chat_template: str | None = None) -> Any:
    """Train a byte-level BPE on ``corpus`` and wrap it as a fast HF tokenizer."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(list(corpus), trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        eos_token=IM_END,
        pad_token=PAD,
        additional_special_tokens=[IM_START],
        clean_up_tokenization_spaces=False,
        model_max_length=1 << 20,
    )
    fast.chat_template = chat_template or shipped_template("chatml")
    return fast


def build_model_config(shape: TinyShape, tokenizer: Any) -> Any:
    from transformers import Qwen2Config, Qwen3Config

    cls = Qwen3Config if shape.arch == "qwen3" else Qwen2Config
    kwargs: dict[str, Any] = dict(
        vocab_size=len(tokenizer),
        hidden_size=shape.hidden_size,
        intermediate_size=shape.intermediate_size,
        num_hidden_layers=shape.num_hidden_layers,
        num_attention_heads=shape.num_attention_heads,
        num_key_value_heads=shape.num_key_value_heads,
        max_position_embeddings=shape.max_position_embeddings,
        tie_word_embeddings=shape.tie_word_embeddings,
        bos_token_id=tokenizer.convert_tokens_to_ids(PAD),
        eos_token_id=tokenizer.convert_tokens_to_ids(IM_END),
        pad_token_id=tokenizer.convert_tokens_to_ids(PAD),
    )
    if shape.arch == "qwen3":
        kwargs["head_dim"] = shape.hidden_size // shape.num_attention_heads
    return cls(**kwargs)


def build_tiny_model(
    out_dir: Path,
    corpus: Iterable[str] | None = None,
    *,
    shape: TinyShape | None = None,
    vocab_size: int = 512,
    seed: int = 0,
    chat_template: str | None = None,
) -> Path:
    """Train a tokenizer on ``corpus``, build a random model of ``shape``, save both to ``out_dir``."""
    tokenizer = train_tokenizer(corpus if corpus is not None else default_corpus(),
                                vocab_size=vocab_size, chat_template=chat_template)
    return save_random_model(out_dir, tokenizer, shape=shape, seed=seed)


def save_random_model(out_dir: Path, tokenizer: Any, *, shape: TinyShape | None = None, seed: int = 0) -> Path:
    """A random model of ``shape`` over ``tokenizer``, saved with it to ``out_dir`` like a checkpoint."""
    import torch
    from transformers import AutoModelForCausalLM, GenerationConfig

    config = build_model_config(shape or TinyShape(), tokenizer)
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.generation_config = GenerationConfig(
        eos_token_id=config.eos_token_id, pad_token_id=config.pad_token_id, bos_token_id=config.bos_token_id,
    )
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    return out_dir
