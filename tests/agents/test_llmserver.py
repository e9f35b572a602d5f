"""The scripted OpenAI-compatible server, spoken to with plain urllib."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import pytest

from litecore.llmserver import Delay, HTTPFault, ScriptedLLM


def post(url: str, body: dict, timeout: float = 5.0) -> tuple[int, dict]:
    req = urllib.request.Request(url + "/chat/completions", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_script_faults_delays_usage_and_context_window() -> None:
    msgs = [{"role": "user", "content": "x" * 40}]
    with ScriptedLLM(["hello", HTTPFault(503), Delay(0.3, "late")], context_window=100) as llm:
        status, body = post(llm.url, {"model": "m", "messages": msgs})
        assert status == 200 and body["choices"][0]["message"]["content"] == "hello"
        assert body["usage"] == {"prompt_tokens": 14, "completion_tokens": 2, "total_tokens": 16}
        assert post(llm.url, {"model": "m", "messages": msgs})[0] == 503
        t0 = time.monotonic()
        assert post(llm.url, {"model": "m", "messages": msgs})[1]["choices"][0]["message"]["content"] == "late"
        assert time.monotonic() - t0 >= 0.3
        status, body = post(llm.url, {"model": "m", "messages": [{"role": "user", "content": "y" * 1000}]})
        assert status == 400 and body["error"]["code"] == "context_length_exceeded"
        status, body = post(llm.url, {"model": "m", "messages": msgs})
        assert status == 400 and "only 3 replies" in body["error"]["message"]
        assert len(llm.requests) == 5


def test_callable_script_sees_the_request() -> None:
    with ScriptedLLM(lambda body, i: f"{i}:{body['messages'][-1]['content']}") as llm:
        assert post(llm.url, {"messages": [{"role": "user", "content": "ping"}]})[1]["choices"][0]["message"][
            "content"] == "0:ping"
    with pytest.raises(RuntimeError):
        _ = llm.url
