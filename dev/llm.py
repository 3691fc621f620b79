"""LLM stand-in: OpenAI- and Anthropic-compatible endpoints with deterministic answers.

It sits where Cloudflare AI Gateway would (`AI_GATEWAY_BASE_URL`), so OpenClaw's own provider
code talks to it: `/anthropic/v1/messages`, `/openai/v1/chat/completions`, `/openai/v1/responses`
and `/…/models`, each with and without streaming. It does arithmetic ("847293 + 651824" →
"1499117") and otherwise says what it received (`dev.llm_answer`; this module is the two APIs'
request and response shapes and the HTTP server). Run alone: `python -m dev.llm --port 8791`.
"""

from __future__ import annotations

import argparse
import json
import re
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from dev.common import ReplyHandler, serve_until_signal
from dev.llm_answer import answer

ANTHROPIC_MODEL = "claude-standin-1"
OPENAI_MODEL = "gpt-standin-1"

# Context OpenClaw appends as extra user turns ("<<<BEGIN_OPENCLAW_INTERNAL_CONTEXT>>> ...");
# it is not what the person typed.
_INTERNAL_BLOCK = re.compile(r"<<<BEGIN_([A-Z_]+)>>>.*?<<<END_\1>>>", re.DOTALL)


# --- extracting the last user message from each API's request shape -------------------------


def _text_of(content: object) -> str:
    """Text of a message `content`: a string or a list of typed parts (any of the APIs)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for part in content:
            if isinstance(part, dict) and part.get("type") in {"text", "input_text"}:
                texts.append(str(part.get("text", "")))
            elif isinstance(part, str):
                texts.append(part)
        return "\n".join(texts)
    return ""


def last_user_text(request: dict[str, Any]) -> str:
    """The last user-authored text in a Messages, Chat Completions or Responses request."""
    if isinstance(request.get("input"), str):
        return str(request["input"])
    items: list[Any] = []
    for name in ("messages", "input"):
        candidate = request.get(name)
        if isinstance(candidate, list):
            items = candidate
            break
    for item in reversed(items):
        if not isinstance(item, dict) or item.get("role") != "user":
            continue
        text = _INTERNAL_BLOCK.sub("", _text_of(item.get("content")))
        if text.strip():
            return text.strip()
    return ""


def _estimate_tokens(payload: object) -> int:
    return max(1, len(json.dumps(payload)) // 4)


# --- response shapes ------------------------------------------------------------------------


def _chunks(text: str) -> list[str]:
    """Split into a few pieces so clients see a real stream (kept whole when short)."""
    words = re.findall(r"\S+\s*", text)
    return words if len(words) > 1 else [text]


def _sse(event: str | None, data: object) -> bytes:
    head = f"event: {event}\n" if event else ""
    body = data if isinstance(data, str) else json.dumps(data)
    return f"{head}data: {body}\n\n".encode()


@dataclass(frozen=True)
class Reply:
    model: str
    text: str
    input_tokens: int

    @property
    def output_tokens(self) -> int:
        return max(1, len(self.text) // 4)


def anthropic_message(reply: Reply) -> dict[str, Any]:
    return {
        "id": f"msg_{uuid.uuid4().hex[:24]}",
        "type": "message",
        "role": "assistant",
        "model": reply.model,
        "content": [{"type": "text", "text": reply.text}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {
            "input_tokens": reply.input_tokens,
            "output_tokens": reply.output_tokens,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
        },
    }


def anthropic_stream(reply: Reply) -> Iterator[bytes]:
    message = anthropic_message(reply)
    start = {**message, "content": [], "stop_reason": None}
    start["usage"] = {**message["usage"], "output_tokens": 1}
    yield _sse("message_start", {"type": "message_start", "message": start})
    block = {"type": "text", "text": ""}
    yield _sse(
        "content_block_start", {"type": "content_block_start", "index": 0, "content_block": block}
    )
    yield _sse("ping", {"type": "ping"})
    for piece in _chunks(reply.text):
        delta = {"type": "text_delta", "text": piece}
        yield _sse(
            "content_block_delta", {"type": "content_block_delta", "index": 0, "delta": delta}
        )
    yield _sse("content_block_stop", {"type": "content_block_stop", "index": 0})
    yield _sse(
        "message_delta",
        {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn", "stop_sequence": None},
            "usage": {"output_tokens": reply.output_tokens},
        },
    )
    yield _sse("message_stop", {"type": "message_stop"})


def _openai_usage(reply: Reply) -> dict[str, int]:
    return {
        "prompt_tokens": reply.input_tokens,
        "completion_tokens": reply.output_tokens,
        "total_tokens": reply.input_tokens + reply.output_tokens,
    }


def chat_completion(reply: Reply) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": reply.model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": reply.text},
                "finish_reason": "stop",
                "logprobs": None,
            }
        ],
        "usage": _openai_usage(reply),
    }


def chat_completion_stream(reply: Reply, include_usage: bool) -> Iterator[bytes]:
    base = {
        "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": reply.model,
    }

    def chunk(delta: dict[str, Any], finish: str | None) -> bytes:
        choice = {"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}
        return _sse(None, {**base, "choices": [choice]})

    yield chunk({"role": "assistant", "content": ""}, None)
    for piece in _chunks(reply.text):
        yield chunk({"content": piece}, None)
    yield chunk({}, "stop")
    if include_usage:
        yield _sse(None, {**base, "choices": [], "usage": _openai_usage(reply)})
    yield _sse(None, "[DONE]")


def _response_item(reply: Reply, item_id: str, status: str, text: str) -> dict[str, Any]:
    content = [{"type": "output_text", "text": text, "annotations": []}] if status else []
    return {
        "type": "message",
        "id": item_id,
        "status": status or "in_progress",
        "role": "assistant",
        "content": content,
    }


def response_object(reply: Reply, response_id: str, completed: bool) -> dict[str, Any]:
    item_id = f"msg_{response_id[5:]}"
    return {
        "id": response_id,
        "object": "response",
        "created_at": int(time.time()),
        "status": "completed" if completed else "in_progress",
        "model": reply.model,
        "output": [_response_item(reply, item_id, "completed", reply.text)] if completed else [],
        "usage": {
            "input_tokens": reply.input_tokens,
            "output_tokens": reply.output_tokens,
            "total_tokens": reply.input_tokens + reply.output_tokens,
        }
        if completed
        else None,
        "error": None,
        "incomplete_details": None,
    }


def responses_stream(reply: Reply) -> Iterator[bytes]:
    response_id = f"resp_{uuid.uuid4().hex[:24]}"
    item_id = f"msg_{response_id[5:]}"
    sequence = iter(range(1_000_000))

    def event(kind: str, **fields: Any) -> bytes:
        return _sse(kind, {"type": kind, "sequence_number": next(sequence), **fields})

    yield event("response.created", response=response_object(reply, response_id, False))
    yield event("response.in_progress", response=response_object(reply, response_id, False))
    yield event(
        "response.output_item.added",
        output_index=0,
        item=_response_item(reply, item_id, "", ""),
    )
    part = {"type": "output_text", "text": "", "annotations": []}
    where = {"item_id": item_id, "output_index": 0, "content_index": 0}
    yield event("response.content_part.added", part=part, **where)
    for piece in _chunks(reply.text):
        yield event("response.output_text.delta", delta=piece, **where)
    yield event("response.output_text.done", text=reply.text, **where)
    yield event("response.content_part.done", part={**part, "text": reply.text}, **where)
    yield event(
        "response.output_item.done",
        output_index=0,
        item=_response_item(reply, item_id, "completed", reply.text),
    )
    yield event("response.completed", response=response_object(reply, response_id, True))


def models_list(anthropic: bool) -> dict[str, Any]:
    model: dict[str, Any]
    if anthropic:
        model = {
            "type": "model",
            "id": ANTHROPIC_MODEL,
            "display_name": "Stand-in (local, deterministic)",
            "created_at": "2026-01-01T00:00:00Z",
        }
        return {"data": [model], "has_more": False, "first_id": model["id"], "last_id": model["id"]}
    model = {"id": OPENAI_MODEL, "object": "model", "created": 0, "owned_by": "openclaw-edge-dev"}
    return {"object": "list", "data": [model]}


# --- HTTP -----------------------------------------------------------------------------------


class RequestLog:
    """JSON lines, one per model call: path, model, stream, last user text, answer. No headers."""

    def __init__(self, path: Path | None, bodies_dir: Path | None) -> None:
        self._path = path
        self._bodies = bodies_dir
        self._lock = threading.Lock()
        self._count = 0
        for target in (path.parent if path else None, bodies_dir):
            if target:
                target.mkdir(parents=True, exist_ok=True)

    def record(self, path: str, request: dict[str, Any], reply: Reply) -> None:
        with self._lock:
            self._count += 1
            entry = {
                "n": self._count,
                "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "path": path,
                "model": request.get("model"),
                "stream": bool(request.get("stream")),
                "tools": len(request.get("tools") or []),
                "user": last_user_text(request)[-300:],
                "answer": reply.text,
            }
            if self._path:
                with self._path.open("a") as handle:
                    handle.write(json.dumps(entry) + "\n")
            if self._bodies:
                (self._bodies / f"{self._count:05d}.json").write_text(json.dumps(request, indent=1))


def make_handler(log: RequestLog) -> type[ReplyHandler]:
    class LlmHandler(ReplyHandler):
        def do_GET(self) -> None:
            path = urlsplit(self.path).path.rstrip("/")
            if path == "/healthz":
                self.send_json(200, {"ok": True})
            elif path.endswith("/models"):
                anthropic = "anthropic" in path or "anthropic-version" in self.headers
                self.send_json(200, models_list(anthropic))
            else:
                self.send_json(404, {"error": {"type": "not_found", "message": path}})

        def do_POST(self) -> None:
            path = urlsplit(self.path).path.rstrip("/")
            try:
                request = json.loads(self.read_body() or b"{}")
            except json.JSONDecodeError as error:
                self.send_json(400, {"error": {"type": "invalid_request", "message": str(error)}})
                return
            if not isinstance(request, dict):
                self.send_json(400, {"error": {"type": "invalid_request", "message": "object"}})
                return
            if path.endswith("/messages/count_tokens"):
                self.send_json(200, {"input_tokens": _estimate_tokens(request)})
                return
            kind = next(
                (k for k in ("/messages", "/chat/completions", "/responses") if path.endswith(k)),
                None,
            )
            if kind is None:
                self.send_json(404, {"error": {"type": "not_found", "message": path}})
                return
            default_model = ANTHROPIC_MODEL if kind == "/messages" else OPENAI_MODEL
            reply = Reply(
                model=str(request.get("model") or default_model),
                text=answer(last_user_text(request)),
                input_tokens=_estimate_tokens(request),
            )
            log.record(path, request, reply)
            stream = bool(request.get("stream"))
            if kind == "/messages":
                if stream:
                    self._stream(anthropic_stream(reply))
                else:
                    self.send_json(200, anthropic_message(reply))
            elif kind == "/chat/completions":
                if stream:
                    options = request.get("stream_options") or {}
                    self._stream(chat_completion_stream(reply, bool(options.get("include_usage"))))
                else:
                    self.send_json(200, chat_completion(reply))
            elif stream:
                self._stream(responses_stream(reply))
            else:
                self.send_json(200, response_object(reply, f"resp_{uuid.uuid4().hex[:24]}", True))

        def _stream(self, events: Iterator[bytes]) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            for data in events:
                self.wfile.write(data)
                self.wfile.flush()

    return LlmHandler


def build_server(
    host: str, port: int, log_path: Path | None = None, bodies_dir: Path | None = None
) -> ThreadingHTTPServer:
    return ThreadingHTTPServer((host, port), make_handler(RequestLog(log_path, bodies_dir)))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8791)
    parser.add_argument("--request-log", type=Path, help="JSON lines, one per model call")
    parser.add_argument("--dump-bodies", type=Path, help="save each request body here")
    args = parser.parse_args(argv)
    server = build_server(args.host, args.port, args.request_log, args.dump_bodies)
    serve_until_signal(server, "llm")


if __name__ == "__main__":
    main()
