"""A loopback Langfuse server and config helpers for the provider's tests.

The server speaks the two endpoints the Langfuse SDK posts to: OTLP/HTTP
protobuf spans at ``/api/public/otel/v1/traces`` and JSON scores at
``/api/public/scores``. It checks Basic auth against the test's keys, decodes
what it receives, and can be told to answer every request with an error.
"""

from __future__ import annotations

import base64
import gzip
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from ai_assistant import Assistant
from ai_assistant.testing import make_assistant, write_config

TRACES_PATH = "/api/public/otel/v1/traces"
SCORES_PATH = "/api/public/scores"
SECRET_KEY = "sk-lf-test-Zq8wX3vR5tY7uI9o"


@dataclass(frozen=True)
class Span:
    """One span as the loopback server decoded it."""

    name: str
    trace_id: str
    span_id: str
    parent_span_id: str
    attributes: dict[str, Any]


@dataclass(frozen=True)
class Received:
    """One request line the server answered."""

    method: str
    path: str
    status: int


@dataclass
class LoopbackLangfuse:
    """What the loopback server was sent, and how it should answer."""

    public_key: str
    secret_key: str
    url: str = ""
    status: int = 200
    delay: float = 0.0
    spans: list[Span] = field(default_factory=list)
    scores: list[dict[str, Any]] = field(default_factory=list)
    requests: list[Received] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, received: Received, spans: list[Span], scores: list[Any]) -> None:
        """Store what one request brought."""
        with self._lock:
            self.requests.append(received)
            self.spans.extend(spans)
            self.scores.extend(scores)

    def spans_of(self, trace_id: str) -> list[Span]:
        """Return the spans received for one trace."""
        return [span for span in self.spans if span.trace_id == trace_id]

    def named(self, name: str) -> list[Span]:
        """Return the spans received with one name."""
        return [span for span in self.spans if span.name == name]


def _any_value(value: Any) -> Any:
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [_any_value(item) for item in value.array_value.values]
    if kind == "kvlist_value":
        return {item.key: _any_value(item.value) for item in value.kvlist_value.values}
    return None if kind is None else getattr(value, kind)


def _decode_spans(body: bytes) -> list[Span]:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    request = ExportTraceServiceRequest()
    request.ParseFromString(body)
    return [
        Span(
            name=span.name,
            trace_id=span.trace_id.hex(),
            span_id=span.span_id.hex(),
            parent_span_id=span.parent_span_id.hex(),
            attributes={item.key: _any_value(item.value) for item in span.attributes},
        )
        for resource in request.resource_spans
        for scope in resource.scope_spans
        for span in scope.spans
    ]


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        self._answer()

    def do_GET(self) -> None:
        self._answer()

    def log_message(self, format: str, *args: Any) -> None:
        """Keep the test output quiet."""

    def _answer(self) -> None:
        state = self.server.state
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        if state.delay:
            time.sleep(state.delay)

        path = self.path.split("?", 1)[0]
        status = self._status(state)
        spans: list[Span] = []
        scores: list[Any] = []
        if status < 300 and path == TRACES_PATH and self.command == "POST":
            spans = _decode_spans(body)
        elif status < 300 and path == SCORES_PATH and self.command == "POST":
            status = 202
            scores = json.loads(body)
        state.record(Received(self.command, path, status), spans, scores)
        self._reply(status, path)

    def _status(self, state: LoopbackLangfuse) -> int:
        token = f"{state.public_key}:{state.secret_key}".encode()
        expected = "Basic " + base64.b64encode(token).decode("ascii")
        if self.headers.get("Authorization") != expected:
            return 401
        return state.status

    def _reply(self, status: int, path: str) -> None:
        if status < 300 and path == TRACES_PATH:
            payload, kind = b"", "application/x-protobuf"
        elif status == 202:
            payload, kind = b'{"message": "Accepted"}', "application/json"
        elif status < 300:
            payload, kind = b"{}", "application/json"
        else:
            payload, kind = b'{"message": "refused by the test"}', "application/json"
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state: LoopbackLangfuse) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.state = state

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Ignore clients that gave up waiting, as the stalled-server test's do."""


@pytest.fixture
def start_server() -> Iterator[Callable[[], LoopbackLangfuse]]:
    """Return a function starting Langfuse stand-ins on 127.0.0.1.

    Each gets a public key of its own: the Langfuse SDK keeps one client per
    public key for the whole process, shared by every test.
    """
    servers: list[_Server] = []

    def start() -> LoopbackLangfuse:
        state = LoopbackLangfuse(
            public_key=f"pk-lf-test-{uuid.uuid4().hex[:12]}", secret_key=SECRET_KEY
        )
        server = _Server(state)
        host, port = server.server_address[:2]
        state.url = f"http://{host}:{port}"
        threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        servers.append(server)
        return state

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def langfuse_server(start_server: Callable[[], LoopbackLangfuse]) -> LoopbackLangfuse:
    """One Langfuse stand-in on 127.0.0.1."""
    return start_server()


@pytest.fixture(autouse=True)
def _no_langfuse_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the developer's LANGFUSE_* variables out of every test."""
    import os

    for name in list(os.environ):
        if name.startswith("LANGFUSE_"):
            monkeypatch.delenv(name)


@pytest.fixture
def config_for(
    tmp_path: Path, langfuse_server: LoopbackLangfuse
) -> Callable[..., Path]:
    """Return a function writing a config file whose langfuse section uses a server.

    The section points at ``langfuse_server`` unless ``server`` names
    another; keyword arguments add or replace keys of the section, and
    ``core`` holds the core's own keys.
    """

    def write(
        server: LoopbackLangfuse | None = None,
        core: Mapping[str, Any] | None = None,
        **section: Any,
    ) -> Path:
        target = server or langfuse_server
        values = {
            "public_key": target.public_key,
            "secret_key": target.secret_key,
            "base_url": target.url,
            **section,
        }
        body = {
            "history": {"backend": "memory"},
            **(core or {}),
            "callbacks": {"langfuse": values},
        }
        path = tmp_path / f"ai-assistant-{uuid.uuid4().hex[:8]}.yaml"
        return write_config(path, body)

    return write


@pytest.fixture
def assistant_for() -> Iterator[Callable[..., Assistant]]:
    """Return a function building test assistants with the langfuse provider.

    Every assistant built is closed after the test, so no Langfuse client
    outlives it.
    """
    import ai_assistant_langfuse

    built: list[Assistant] = []

    def build(config: Path, **kwargs: Any) -> Assistant:
        assistant = make_assistant(
            plugins={"langfuse": ai_assistant_langfuse}, config=config, **kwargs
        )
        built.append(assistant)
        return assistant

    yield build
    for assistant in built:
        assistant.close()
