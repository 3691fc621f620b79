"""LLM stand-in: deterministic answers, and each API shape OpenClaw's providers parse."""

from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dev import llm, llm_answer


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("847293 + 651824", "1499117"),
        ("[Sun 2026-11-22 02:35 UTC] 847293 + 651824", "1499117"),
        # OpenClaw 2026.2 (moltworker era) webchat turn: the id's digits are not arithmetic.
        ("[Wed 2026-12-02 07:36 UTC] 417 + 286\n[message_id: 8267fb7c-f7e5-4c37-b86d-b0c7]", "703"),
        ("What is (2+3)*4?", "20"),
        ("12 x 7", "84"),
        ("compute 7 / 2 please", "3.5"),
        ("100 - 1 and then 6 * 7", "42"),
        ("2^10", "1024"),
        ("Today is 2026-11-22, what is 1+1", "2"),
    ],
)
def test_answer_does_arithmetic(text: str, expected: str) -> None:
    assert llm_answer.answer(text) == expected


@pytest.mark.parametrize("text", ["hello", "2026-11-22", "1/0", "2**1000", "9**9**9"])
def test_answer_without_usable_arithmetic_acknowledges(text: str) -> None:
    reply = llm_answer.answer(text)
    assert reply.startswith("Stand-in model here")
    assert reply == llm_answer.answer(text), "deterministic"


def test_last_user_text_skips_openclaw_internal_context_turns() -> None:
    request = {
        "messages": [
            {"role": "user", "content": "earlier"},
            {"role": "assistant", "content": "ok"},
            {"role": "user", "content": [{"type": "text", "text": "[ts] 847293 + 651824"}]},
            {
                "role": "user",
                "content": [
                    {
                        "type": "text",
                        "text": "<<<BEGIN_OPENCLAW_INTERNAL_CONTEXT>>>\nx: 1+1\n"
                        "<<<END_OPENCLAW_INTERNAL_CONTEXT>>>",
                    }
                ],
            },
        ]
    }
    assert llm.last_user_text(request) == "[ts] 847293 + 651824"


def test_last_user_text_reads_responses_input() -> None:
    assert llm.last_user_text({"input": "2+2"}) == "2+2"
    items = [{"role": "user", "content": [{"type": "input_text", "text": "3*3"}]}]
    assert llm.last_user_text({"input": items}) == "3*3"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    log = tmp_path_factory.mktemp("llm") / "requests.jsonl"
    httpd = llm.build_server("127.0.0.1", 0, log)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", log
    httpd.shutdown()
    httpd.server_close()


def _post(url: str, body: dict[str, Any]) -> tuple[str, bytes]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "x-api-key": "anything"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.headers["Content-Type"], response.read()


def _sse_events(raw: bytes) -> list[tuple[str | None, str]]:
    events = []
    for block in raw.decode().split("\n\n"):
        if not block.strip():
            continue
        name = None
        data = ""
        for line in block.splitlines():
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                data = line[6:]
        events.append((name, data))
    return events


QUESTION = {"role": "user", "content": "847293 + 651824"}


def test_anthropic_messages(server: tuple[str, Path]) -> None:
    base, _ = server
    kind, body = _post(f"{base}/anthropic/v1/messages", {"model": "m", "messages": [QUESTION]})
    assert kind == "application/json"
    message = json.loads(body)
    assert message["type"] == "message"
    assert message["content"] == [{"type": "text", "text": "1499117"}]
    assert message["stop_reason"] == "end_turn"
    assert message["usage"]["output_tokens"] >= 1


def test_anthropic_messages_stream(server: tuple[str, Path]) -> None:
    base, _ = server
    body = {"model": "m", "messages": [QUESTION], "stream": True}
    kind, raw = _post(f"{base}/anthropic/v1/messages", body)
    assert kind == "text/event-stream"
    events = _sse_events(raw)
    names = [name for name, _ in events]
    assert names[0] == "message_start"
    assert names[-1] == "message_stop"
    assert "message_delta" in names
    text = "".join(
        json.loads(data)["delta"]["text"] for name, data in events if name == "content_block_delta"
    )
    assert text == "1499117"


def test_openai_chat_completions(server: tuple[str, Path]) -> None:
    base, _ = server
    for path in ("/openai/chat/completions", "/openai/v1/chat/completions"):
        _, body = _post(base + path, {"model": "m", "messages": [QUESTION]})
        choice = json.loads(body)["choices"][0]
        assert choice["message"] == {"role": "assistant", "content": "1499117"}
        assert choice["finish_reason"] == "stop"


def test_openai_chat_completions_stream_with_usage(server: tuple[str, Path]) -> None:
    base, _ = server
    body = {
        "model": "m",
        "messages": [QUESTION],
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    _, raw = _post(f"{base}/openai/v1/chat/completions", body)
    datas = [data for _, data in _sse_events(raw)]
    assert datas[-1] == "[DONE]"
    chunks = [json.loads(d) for d in datas[:-1]]
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
    assert text == "1499117"
    assert chunks[-1]["usage"]["total_tokens"] > 0
    assert any(c["choices"] and c["choices"][0]["finish_reason"] == "stop" for c in chunks)


def test_openai_responses(server: tuple[str, Path]) -> None:
    base, _ = server
    _, body = _post(f"{base}/openai/v1/responses", {"model": "m", "input": "6*7"})
    response = json.loads(body)
    assert response["status"] == "completed"
    assert response["output"][0]["content"][0]["text"] == "42"
    _, raw = _post(f"{base}/openai/v1/responses", {"model": "m", "input": "6*7", "stream": True})
    events = _sse_events(raw)
    assert events[-1][0] == "response.completed"
    deltas = [json.loads(d)["delta"] for n, d in events if n == "response.output_text.delta"]
    assert "".join(deltas) == "42"


def test_models_lists(server: tuple[str, Path]) -> None:
    base, _ = server
    with urllib.request.urlopen(f"{base}/openai/v1/models", timeout=5) as response:
        assert json.loads(response.read())["data"][0]["id"] == llm.OPENAI_MODEL
    with urllib.request.urlopen(f"{base}/anthropic/v1/models", timeout=5) as response:
        assert json.loads(response.read())["data"][0]["id"] == llm.ANTHROPIC_MODEL


def test_unknown_path_is_404_and_log_has_no_headers(server: tuple[str, Path]) -> None:
    base, log = server
    with pytest.raises(urllib.error.HTTPError) as error:
        _post(f"{base}/nope", {})
    assert error.value.code == 404
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert lines, "model calls are logged"
    assert all("anything" not in json.dumps(line) for line in lines), "no API key in the log"
