"""A loopback server that speaks the provider APIs the LLM clients use, replaying scripted answers.

For tests and benchmarks that need a frontier model without the internet (the client layer's tests,
the teacher / qa / repair stage tests, ``nextedit bench llm``); standard library only. It listens on
127.0.0.1 (a free port) and answers:

* OpenAI Chat Completions — ``POST /v1/chat/completions``;
* the OpenAI Batch API — ``POST /v1/files`` (multipart), ``POST /v1/batches``,
  ``GET /v1/batches/ID``, ``GET /v1/files/ID/content``;
* Anthropic Messages — ``POST /v1/messages``;
* Anthropic Message Batches — ``POST /v1/messages/batches``, ``GET /v1/messages/batches/ID``,
  ``GET /v1/messages/batches/ID/results``.

What a model "says" comes from ``answer(messages) -> Reply`` (default: ``"echo: <last user turn>"``).
Faults are scripted in ``faults``: each request to a matching route takes the first matching fault
off the list (429 with ``Retry-After``, any status, a reset connection, a stall, an error body that
quotes the API key it was sent). Batches finish after ``batch_polls`` status polls — a count, not a
clock, so no test races a timer. ``counts`` tallies requests per route as they arrive.

    with ReplayServer() as server:
        server.faults.append(Fault.rate_limit(retry_after=2))
        client = LLMClient(f"openai-compatible:{server.openai_base}#m", ...)
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.parser import BytesParser
from email.policy import default as email_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import count
from typing import Any

MODEL_ROUTES = ("chat", "messages")


@dataclass
class Reply:
    """A scripted answer. ``finish_reason`` in OpenAI's words (``stop`` | ``length``; Anthropic gets
    ``end_turn`` | ``max_tokens``). ``error``: answer with HTTP 400 (an errored batch entry) instead."""

    text: str = "ok"
    finish_reason: str = "stop"
    prompt_tokens: int = 100
    completion_tokens: int = 20
    error: str | None = None


@dataclass
class Fault:
    """``kind``: ``status`` (answer ``status`` with an error body and ``headers``), ``reset`` (close
        the connection with a TCP RST after reading the request), ``stall`` (hold the request
        ``seconds`` before answering normally), ``echo_key`` (HTTP 400 whose message quotes the
        credential the request carried). ``routes``: the routes it applies to; ``match``: only to requests
    whose body contains this text (None: any)."""

    kind: str
    status: int = 500
    headers: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    routes: tuple[str, ...] = MODEL_ROUTES
    match: str | None = None

    @classmethod
    def rate_limit(cls, retry_after: float | str = 1, **kw: Any) -> Fault:
        return cls("status", 429, {"Retry-After": str(retry_after)}, **kw)

    @classmethod
    def error(cls, status: int = 500, **kw: Any) -> Fault:
        return cls("status", status, **kw)

    @classmethod
    def reset(cls, **kw: Any) -> Fault:
        return cls("reset", **kw)

    @classmethod
    def stall(cls, seconds: float, **kw: Any) -> Fault:
        return cls("stall", seconds=seconds, **kw)

    @classmethod
    def echo_key(cls, **kw: Any) -> Fault:
        return cls("echo_key", 400, **kw)


def echo(messages: list[dict[str, Any]]) -> Reply:
    last = messages[-1]["content"]
    return Reply(text=f"echo: {last if isinstance(last, str) else json.dumps(last)}")


@dataclass
class _Batch:
    id: str
    kind: str  # "openai" | "anthropic"
    requests: list[dict[str, Any]]  # {"custom_id", "body"}
    created: float
    polls: int = 0
    output_file_id: str | None = None
    results: list[dict[str, Any]] | None = None


class ReplayServer:
    """See the module docstring. ``url``: ``http://127.0.0.1:PORT`` (the Anthropic base URL);
    ``openai_base``: ``url + "/v1"``."""

    def __init__(self, answer: Callable[[list[dict[str, Any]]], Reply] = echo, batch_polls: int = 1) -> None:
        self.answer = answer
        self.batch_polls = batch_polls
        self.faults: list[Fault] = []
        self.counts: Counter[str] = Counter()
        self.bodies: list[tuple[str, Any]] = []
        self.files: dict[str, bytes] = {}
        self.batches: dict[str, _Batch] = {}
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self._ids = count(1)
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.openai_base = f"{self.url}/v1"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> ReplayServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    # -- scripting ------------------------------------------------------------------------------
    def model_requests(self) -> int:
        """Requests that reached a model route (chat + messages), faulted ones included."""
        return sum(self.counts[r] for r in MODEL_ROUTES)

    def lose_batches(self) -> None:
        """Forget every batch: a status poll answers 404, as for a batch the provider no longer has."""
        with self.lock:
            self.batches.clear()

    def take_fault(self, route: str, body: bytes = b"") -> Fault | None:
        text = body.decode(errors="replace")
        with self.lock:
            for i, fault in enumerate(self.faults):
                if route in fault.routes and (fault.match is None or fault.match in text):
                    return self.faults.pop(i)
        return None

    def next_id(self, prefix: str) -> str:
        return f"{prefix}_{next(self._ids):06d}"

    # -- answers --------------------------------------------------------------------------------
    def chat_completion(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        reply = self.answer(body["messages"])
        if reply.error:
            return 400, {"error": {"message": reply.error, "type": "invalid_request_error"}}
        return 200, {
            "id": self.next_id("chatcmpl"),
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "replay"),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": reply.text},
                    "finish_reason": reply.finish_reason,
                    "logprobs": None,
                }
            ],
            "usage": {
                "prompt_tokens": reply.prompt_tokens,
                "completion_tokens": reply.completion_tokens,
                "total_tokens": reply.prompt_tokens + reply.completion_tokens,
            },
        }

    def message(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        messages = list(params["messages"])
        if params.get("system"):
            messages.insert(0, {"role": "system", "content": params["system"]})
        reply = self.answer(messages)
        if reply.error:
            return 400, {"type": "error", "error": {"type": "invalid_request_error", "message": reply.error}}
        return 200, {
            "id": self.next_id("msg"),
            "type": "message",
            "role": "assistant",
            "model": params.get("model", "replay"),
            "content": [{"type": "text", "text": reply.text}],
            "stop_reason": {"length": "max_tokens"}.get(reply.finish_reason, "end_turn"),
            "stop_sequence": None,
            "usage": {"input_tokens": reply.prompt_tokens, "output_tokens": reply.completion_tokens},
        }

    # -- batches --------------------------------------------------------------------------------
    def poll(self, batch: _Batch) -> bool:
        """Count one status poll; finish the batch (answer its requests) on poll ``batch_polls``."""
        batch.polls += 1
        if batch.results is None and batch.polls >= self.batch_polls:
            results = []
            for r in batch.requests:
                self.counts["batch_answers"] += 1
                if batch.kind == "openai":
                    status, body = self.chat_completion(r["body"])
                    results.append(
                        {
                            "id": self.next_id("batch_req"),
                            "custom_id": r["custom_id"],
                            "response": {"status_code": status, "request_id": "r", "body": body},
                            "error": None,
                        }
                    )
                else:
                    status, body = self.message(r["body"])
                    result = (
                        {"type": "succeeded", "message": body}
                        if status == 200
                        else {"type": "errored", "error": body}
                    )
                    results.append({"custom_id": r["custom_id"], "result": result})
            batch.results = results
            if batch.kind == "openai":
                batch.output_file_id = self.next_id("file")
                self.files[batch.output_file_id] = "".join(json.dumps(x) + "\n" for x in results).encode()
        return batch.results is not None

    def openai_batch(self, batch: _Batch) -> dict[str, Any]:
        done = batch.results is not None
        return {
            "id": batch.id,
            "object": "batch",
            "endpoint": "/v1/chat/completions",
            "input_file_id": "file_in",
            "completion_window": "24h",
            "status": "completed" if done else "in_progress",
            "created_at": int(batch.created),
            "output_file_id": batch.output_file_id,
            "error_file_id": None,
            "request_counts": {
                "total": len(batch.requests),
                "completed": len(batch.requests) if done else 0,
                "failed": 0,
            },
        }

    def anthropic_batch(self, batch: _Batch) -> dict[str, Any]:
        done = batch.results is not None
        created = datetime.fromtimestamp(batch.created, UTC)
        n = len(batch.requests)
        return {
            "id": batch.id,
            "type": "message_batch",
            "processing_status": "ended" if done else "in_progress",
            "request_counts": {
                "processing": 0 if done else n,
                "succeeded": n if done else 0,
                "errored": 0,
                "canceled": 0,
                "expired": 0,
            },
            "created_at": created.isoformat(),
            "expires_at": (created + timedelta(days=1)).isoformat(),
            "ended_at": created.isoformat() if done else None,
            "archived_at": None,
            "cancel_initiated_at": None,
            "results_url": f"{self.url}/v1/messages/batches/{batch.id}/results" if done else None,
        }


ROUTES = [
    ("POST", re.compile(r"/v1/chat/completions"), "chat"),
    ("POST", re.compile(r"/v1/messages"), "messages"),
    ("POST", re.compile(r"/v1/messages/batches"), "messages.batches.create"),
    ("GET", re.compile(r"/v1/messages/batches/([^/]+)"), "messages.batches.retrieve"),
    ("GET", re.compile(r"/v1/messages/batches/([^/]+)/results"), "messages.batches.results"),
    ("POST", re.compile(r"/v1/files"), "files.create"),
    ("GET", re.compile(r"/v1/files/([^/]+)/content"), "files.content"),
    ("POST", re.compile(r"/v1/batches"), "batches.create"),
    ("GET", re.compile(r"/v1/batches/([^/]+)"), "batches.retrieve"),
]


def _route(method: str, path: str) -> tuple[str, re.Match[str] | None]:
    for m, pattern, name in ROUTES:
        match = pattern.fullmatch(path)
        if m == method and match:
            return name, match
    return "", None


def _handler_for(server: ReplayServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out as two writes: no 40 ms delayed-ACK stall

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def do_GET(self) -> None:
            self.route("GET")

        def do_POST(self) -> None:
            self.route("POST")

        def route(self, method: str) -> None:
            path = self.path.split("?")[0]
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            name, match = _route(method, path)
            if match is None:
                return self.send(404, {"error": {"message": f"no route {method} {path}"}})
            with server.lock:
                server.counts[name] += 1
            fault = server.take_fault(name, raw)
            if fault is not None and self.apply(fault):
                return
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                getattr(self, name.replace(".", "_"))(raw, *match.groups())

        def apply(self, fault: Fault) -> bool:
            """Act out ``fault``; True when the request has been dealt with."""
            if fault.kind == "reset":
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.connection.close()
                self.close_connection = True
                return True
            if fault.kind == "stall":
                server.stopping.wait(fault.seconds)
                return False
            if fault.kind == "echo_key":
                sent = self.headers.get("Authorization") or self.headers.get("x-api-key") or ""
                self.send(400, {"error": {"type": "invalid_request_error", "message": f"bad key: {sent}"}})
                return True
            self.send(
                fault.status,
                {"error": {"type": "fault", "message": f"scripted {fault.status}"}},
                fault.headers,
            )
            return True

        def send(
            self,
            status: int,
            body: Any,
            headers: dict[str, str] | None = None,
            content_type: str = "application/json",
        ) -> None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True

        # -- routes -------------------------------------------------------------------------------
        def chat(self, raw: bytes) -> None:
            body = json.loads(raw)
            server.bodies.append(("chat", body))
            self.send(*server.chat_completion(body))

        def messages(self, raw: bytes) -> None:
            body = json.loads(raw)
            server.bodies.append(("messages", body))
            self.send(*server.message(body))

        def files_create(self, raw: bytes) -> None:
            ctype = self.headers["Content-Type"]
            msg = BytesParser(policy=email_policy).parsebytes(f"Content-Type: {ctype}\r\n\r\n".encode() + raw)
            parts = {
                p.get_param("name", header="content-disposition"): p.get_payload(decode=True)
                for p in msg.iter_parts()
            }
            file_id = server.next_id("file")
            server.files[file_id] = parts["file"]
            self.send(
                200,
                {
                    "id": file_id,
                    "object": "file",
                    "bytes": len(parts["file"]),
                    "created_at": int(time.time()),
                    "filename": "requests.jsonl",
                    "purpose": parts.get("purpose", b"batch").decode(),
                    "status": "processed",
                },
            )

        def files_content(self, raw: bytes, file_id: str) -> None:
            if file_id not in server.files:
                return self.send(404, {"error": {"message": f"no file {file_id}"}})
            self.send(200, server.files[file_id], content_type="application/octet-stream")

        def batches_create(self, raw: bytes) -> None:
            body = json.loads(raw)
            lines = server.files[body["input_file_id"]].decode().splitlines()
            requests = [{"custom_id": r["custom_id"], "body": r["body"]} for r in map(json.loads, lines) if r]
            batch = _Batch(server.next_id("batch"), "openai", requests, time.time())
            with server.lock:
                server.batches[batch.id] = batch
            self.send(200, server.openai_batch(batch))

        def batches_retrieve(self, raw: bytes, batch_id: str) -> None:
            with server.lock:
                batch = server.batches.get(batch_id)
                if batch is not None:
                    server.poll(batch)
            if batch is None:
                return self.send(404, {"error": {"message": f"no batch {batch_id}"}})
            self.send(200, server.openai_batch(batch))

        def messages_batches_create(self, raw: bytes) -> None:
            body = json.loads(raw)
            requests = [{"custom_id": r["custom_id"], "body": r["params"]} for r in body["requests"]]
            batch = _Batch(server.next_id("msgbatch"), "anthropic", requests, time.time())
            with server.lock:
                server.batches[batch.id] = batch
            self.send(200, server.anthropic_batch(batch))

        def messages_batches_retrieve(self, raw: bytes, batch_id: str) -> None:
            with server.lock:
                batch = server.batches.get(batch_id)
                if batch is not None:
                    server.poll(batch)
            if batch is None:
                return self.send(
                    404,
                    {
                        "type": "error",
                        "error": {"type": "not_found_error", "message": f"no batch {batch_id}"},
                    },
                )
            self.send(200, server.anthropic_batch(batch))

        def messages_batches_results(self, raw: bytes, batch_id: str) -> None:
            batch = server.batches.get(batch_id)
            if batch is None or batch.results is None:
                return self.send(
                    404, {"type": "error", "error": {"type": "not_found_error", "message": "no results"}}
                )
            data = "".join(json.dumps(r) + "\n" for r in batch.results).encode()
            self.send(200, data, content_type="application/binary")

    return Handler
