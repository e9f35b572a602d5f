"""A scripted OpenAI-compatible chat-completions server on loopback, for tests.

Tests of LLM policies and of the LLM synthesis engine need a model that answers
predictably, fails on cue and runs offline, while the client (litellm, openai)
still goes through its real HTTP path. :class:`ScriptedLLM` is that model: each
request to ``POST /v1/chat/completions`` takes the next item of a script (or
asks a callable), and an item can be a reply, an HTTP error, or a delay::

    with ScriptedLLM(["hello", HTTPFault(500), Delay(5.0, "late")]) as llm:
        litellm.completion(model="openai/scripted", api_base=llm.url, api_key="x", messages=[...])

Token usage is reported (roughly 4 characters per token), and an optional
``context_window`` makes oversized prompts fail the way OpenAI does
(HTTP 400, ``code: context_length_exceeded``).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import attrs


@attrs.frozen
class HTTPFault:
    """Answer with this HTTP status (500, 502, 503, 429...) and an OpenAI-style error body."""

    status: int = 500
    message: str = "scripted server error"


@attrs.frozen
class Delay:
    """Wait ``seconds`` before answering with ``then`` (a reply or a fault); long delays make timeouts."""

    seconds: float
    then: str | HTTPFault = ""


ScriptItem = str | HTTPFault | Delay
#: A callable script gets the request body (and the request's index) and returns an item.
ScriptFn = Callable[[Mapping[str, Any], int], ScriptItem]


def count_tokens(text: str) -> int:
    """The server's token estimate: about four characters per token."""
    return max(1, (len(text) + 3) // 4) if text else 0


def prompt_tokens(messages: Sequence[Mapping[str, Any]]) -> int:
    total = 0
    for m in messages:
        content = m.get("content") or ""
        if isinstance(content, list):  # content parts
            content = "".join(str(p.get("text", "")) for p in content if isinstance(p, Mapping))
        total += 4 + count_tokens(str(content))
    return total


class ScriptedLLM:
    """The server; a context manager. ``requests`` holds every request body received, in order."""

    def __init__(
        self,
        script: Sequence[ScriptItem] | ScriptFn,
        *,
        context_window: int | None = None,
        repeat_last: bool = False,
        host: str = "127.0.0.1",
    ) -> None:
        self._script = script
        self.context_window = context_window
        self.repeat_last = repeat_last
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._index = 0
        self._host = host
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------
    @property
    def url(self) -> str:
        """The ``api_base`` to give a client (ends in ``/v1``)."""
        if self._server is None:
            raise RuntimeError("the server is not running (use it as a context manager)")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self) -> ScriptedLLM:
        handler = _make_handler(self)
        self._server = ThreadingHTTPServer((self._host, 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="scripted-llm", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> ScriptedLLM:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- scripting -----------------------------------------------------------
    def _next(self, body: Mapping[str, Any]) -> ScriptItem:
        with self._lock:
            index = self._index
            self._index += 1
            self.requests.append(dict(body))
        if callable(self._script):
            return self._script(body, index)
        if index < len(self._script):
            return self._script[index]
        if self.repeat_last and self._script:
            return self._script[-1]
        return HTTPFault(400, f"the script has only {len(self._script)} replies (request {index + 1})")

    def respond(self, body: Mapping[str, Any]) -> tuple[int, dict[str, Any]]:
        """The status and JSON body for one chat-completions request."""
        messages = body.get("messages") or []
        p_tokens = prompt_tokens(messages)
        if self.context_window is not None and p_tokens > self.context_window:
            with self._lock:
                self.requests.append(dict(body))
            return 400, _error(
                f"This model's maximum context length is {self.context_window} tokens. However, your messages "
                f"resulted in {p_tokens} tokens. Please reduce the length of the messages.",
                "invalid_request_error",
                "context_length_exceeded",
            )
        item = self._next(body)
        while isinstance(item, Delay):
            time.sleep(item.seconds)
            item = item.then
        if isinstance(item, HTTPFault):
            kind = "rate_limit_error" if item.status == 429 else "server_error"
            return item.status, _error(item.message, kind, None)
        content = str(item)
        c_tokens = count_tokens(content)
        return 200, {
            "id": f"chatcmpl-{uuid.uuid4().hex[:12]}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "scripted"),
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}
            ],
            "usage": {"prompt_tokens": p_tokens, "completion_tokens": c_tokens, "total_tokens": p_tokens + c_tokens},
        }


def _error(message: str, kind: str, code: str | None) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


def _make_handler(server: ScriptedLLM) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
            return

        def _send(self, status: int, payload: Mapping[str, Any]) -> None:
            data = json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout)
                pass

        def do_GET(self) -> None:
            if self.path.rstrip("/").endswith("/models"):
                self._send(200, {"object": "list", "data": [{"id": "scripted", "object": "model"}]})
            else:
                self._send(404, _error(f"no route {self.path}", "invalid_request_error", None))

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            if not self.path.rstrip("/").endswith("/chat/completions"):
                self._send(404, _error(f"no route {self.path}", "invalid_request_error", None))
                return
            try:
                body = json.loads(raw or b"{}")
            except json.JSONDecodeError as exc:
                self._send(400, _error(f"invalid JSON: {exc}", "invalid_request_error", None))
                return
            if body.get("stream"):
                self._send(400, _error("streaming is not scripted", "invalid_request_error", None))
                return
            status, payload = server.respond(body)
            self._send(status, payload)

    return Handler
