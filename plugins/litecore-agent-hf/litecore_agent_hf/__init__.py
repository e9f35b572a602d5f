"""litecore policy ``hf``: a local Hugging Face checkpoint, no server needed.

Evaluating a freshly trained checkpoint should not require standing up vLLM.
:class:`HFPolicy` loads the model once and serves every concurrent episode
through a :class:`BatchQueue`: a worker thread gathers the prompts that arrive
within a short window (up to ``batch_size``), left-pads them, runs one
``generate`` call and hands each episode its continuation. Prompts are built
with the tokenizer's chat template; decoding is greedy at ``temperature = 0``,
sampled otherwise. Conversations are fitted into the model's window exactly as
the litellm policy does (old observations elided, recorded as the step's note).
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Mapping
from concurrent.futures import Future
from typing import Any

import attrs

import litecore
from litecore.records import PolicyPlugin
from litecore.sandbox import Sandbox
from litecore.task import Task
from litecore_agent_litellm.protocol import Message, TokenCounter, fit_messages, parse_reply

__all__ = ["HFConfig", "HFPolicy", "HFAgent", "BatchQueue", "litecore_policies"]


@attrs.frozen(kw_only=True)
class HFConfig:
    """Options of ``[rollout.hf]``."""

    #: A local folder (or hub id, if the hub is reachable) with model and tokenizer.
    model: str
    #: ``auto`` (cuda if available), ``cpu``, ``cuda``, ``cuda:1``...
    device: str = "auto"
    #: ``auto`` (bf16 on GPU, fp32 on CPU), ``float32``, ``bfloat16``, ``float16``.
    dtype: str = "auto"
    #: 0 = greedy decoding.
    temperature: float = 0.0
    top_p: float = 1.0
    max_new_tokens: int = 1024
    #: Prompt + completion tokens; None: the model config's ``max_position_embeddings``.
    context_window: int | None = None
    #: Most prompts per generate call, and how long to wait for a batch to fill.
    batch_size: int = 8
    batch_wait_ms: float = 20.0
    seed: int = 0
    trust_remote_code: bool = False
    #: Name used in trajectory ids (default ``hf``).
    name: str = "hf"


@attrs.frozen
class Generated:
    text: str
    prompt_tokens: int
    completion_tokens: int
    batch_size: int


class BatchQueue:
    """One worker thread owns the model; callers block on a future for their continuation."""

    def __init__(self, model: Any, tokenizer: Any, config: HFConfig) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.config = config
        self._queue: queue.Queue[tuple[list[int], Future[Generated]] | None] = queue.Queue()
        self.batch_sizes: list[int] = []
        self._thread = threading.Thread(target=self._run, name="litecore-hf-batcher", daemon=True)
        self._thread.start()

    def submit(self, prompt_ids: list[int]) -> Future[Generated]:
        fut: Future[Generated] = Future()
        self._queue.put((prompt_ids, fut))
        return fut

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            deadline = time.monotonic() + self.config.batch_wait_ms / 1000
            stop = False
            while len(batch) < self.config.batch_size:
                try:
                    item = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                    break
                batch.append(item)
            try:
                results = self._generate([ids for ids, _ in batch])
                for (_, fut), res in zip(batch, results):
                    fut.set_result(res)
            except BaseException as exc:  # a failed batch fails its episodes, not the worker
                for _, fut in batch:
                    if not fut.done():
                        fut.set_exception(exc)
            if stop:
                return

    def _generate(self, prompts: list[list[int]]) -> list[Generated]:
        import torch

        tok = self.tokenizer
        pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
        width = max(len(p) for p in prompts)
        ids = torch.full((len(prompts), width), pad, dtype=torch.long)
        mask = torch.zeros((len(prompts), width), dtype=torch.long)
        for i, p in enumerate(prompts):  # left padding: every prompt ends where generation starts
            ids[i, width - len(p):] = torch.tensor(p, dtype=torch.long)
            mask[i, width - len(p):] = 1
        device = next(self.model.parameters()).device
        cfg = self.config
        kwargs: dict[str, Any] = {"max_new_tokens": cfg.max_new_tokens, "pad_token_id": pad}
        if cfg.temperature > 0:
            kwargs.update(do_sample=True, temperature=cfg.temperature, top_p=cfg.top_p)
        else:
            kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        with torch.inference_mode():
            out = self.model.generate(input_ids=ids.to(device), attention_mask=mask.to(device), **kwargs)
        self.batch_sizes.append(len(prompts))
        results = []
        eos = _eos_ids(tok, self.model)
        for i, p in enumerate(prompts):
            new = out[i, width:].tolist()
            cut = next((j for j, t in enumerate(new) if t in eos), len(new))
            completion = new[:cut]
            text = tok.decode(completion, skip_special_tokens=True)
            results.append(Generated(text, len(p), len(completion) + (1 if cut < len(new) else 0), len(prompts)))
        return results


def _eos_ids(tokenizer: Any, model: Any) -> set[int]:
    ids: set[int] = set()
    for src in (getattr(model, "generation_config", None), tokenizer):
        eos = getattr(src, "eos_token_id", None)
        if isinstance(eos, int):
            ids.add(eos)
        elif isinstance(eos, (list, tuple)):
            ids.update(int(e) for e in eos)
    end = tokenizer.convert_tokens_to_ids("<|im_end|>") if "<|im_end|>" in tokenizer.get_vocab() else None
    if isinstance(end, int):
        ids.add(end)
    return ids


class HFPolicy:
    """Loads the checkpoint on first use; one :class:`HFAgent` per episode, all sharing one batch queue."""

    def __init__(self, config: HFConfig) -> None:
        self.config = config
        self.name = config.name
        self.model = config.model
        self._lock = threading.Lock()
        self._queue: BatchQueue | None = None
        self.tokenizer: Any = None
        self._counter: TokenCounter | None = None
        self._window = 0

    def _load(self) -> BatchQueue:
        with self._lock:
            if self._queue is not None:
                return self._queue
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer

            cfg = self.config
            device = cfg.device
            if device == "auto":
                device = "cuda" if torch.cuda.is_available() else "cpu"
            dtype: Any = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}.get(cfg.dtype)
            if dtype is None:
                dtype = torch.bfloat16 if device.startswith("cuda") else torch.float32
            torch.manual_seed(cfg.seed)
            tok = AutoTokenizer.from_pretrained(cfg.model, trust_remote_code=cfg.trust_remote_code)
            if tok.chat_template is None:
                raise ValueError(f"{cfg.model}: the tokenizer has no chat template; the hf policy needs one")
            model = AutoModelForCausalLM.from_pretrained(cfg.model, dtype=dtype,
                                                         trust_remote_code=cfg.trust_remote_code)
            model.to(device).eval()
            self.tokenizer = tok
            self._counter = TokenCounter(lambda text: len(tok(text, add_special_tokens=False)["input_ids"]),
                                         per_message=6)
            self._window = cfg.context_window or int(getattr(model.config, "max_position_embeddings", 4096))
            self._queue = BatchQueue(model, tok, cfg)
            return self._queue

    @property
    def batch_sizes(self) -> list[int]:
        return self._queue.batch_sizes if self._queue else []

    def start(self, task: Task, sandbox: Sandbox) -> HFAgent:
        self._load()
        return HFAgent(self)

    def generate(self, messages: list[Message]) -> tuple[Generated, str | None]:
        q = self._load()
        assert self._counter is not None
        budget = max(64, self._window - self.config.max_new_tokens - 8)
        view, note = fit_messages(messages, budget, self._counter)
        ids = self.tokenizer.apply_chat_template(view, add_generation_prompt=True, tokenize=True)
        if isinstance(ids, Mapping) or hasattr(ids, "keys"):
            ids = ids["input_ids"]
        ids = list(ids)
        if len(ids) > budget:  # the per-message estimate was short: keep the most recent tokens
            ids = ids[-budget:]
            note = (note + "; " if note else "") + f"context: prompt cut to its last {budget} tokens"
        return q.submit(ids).result(), note

    def close(self) -> None:
        if self._queue is not None:
            self._queue.close()
            self._queue = None


class HFAgent:
    def __init__(self, policy: HFPolicy) -> None:
        self.policy = policy
        self.messages: list[Message] = []

    def act(self, observation: str) -> Any:
        from litecore.rollout import AgentReply

        self.messages.append({"role": "user", "content": observation})
        gen, context_note = self.policy.generate(self.messages)
        self.messages.append({"role": "assistant", "content": gen.text})
        parsed = parse_reply(gen.text)
        notes = [n for n in (parsed.error, context_note, *parsed.warnings) if n]
        return AgentReply(reply=gen.text, action=parsed.action, prompt_tokens=gen.prompt_tokens,
                          completion_tokens=gen.completion_tokens, cost_usd=0.0, note="; ".join(notes) or None)


def _factory(config: HFConfig | Mapping[str, Any] | None = None) -> HFPolicy:
    if config is None:
        raise ValueError("the hf policy needs a model: set [rollout.hf] model = \"path/to/checkpoint\"")
    if isinstance(config, Mapping):
        config = HFConfig(**config)
    return HFPolicy(config)


@litecore.hookimpl
def litecore_policies() -> list[PolicyPlugin]:
    return [
        PolicyPlugin(name="hf", factory=_factory, config=HFConfig,
                     description="a local Hugging Face checkpoint via transformers generate, batched across episodes")
    ]
