"""A loopback Langfuse server and config helpers for the provider's tests.

The server speaks the two endpoints the Langfuse SDK posts to: OTLP/HTTP
protobuf spans at ``/api/public/otel/v1/traces`` and JSON scores at
``/api/public/scores``. It checks Basic auth against the test's keys, decodes
what it receives, and can be told to answer every request with an error or
to stall each one. Every address a test uses is on 127.0.0.1; the other
fixtures build assistants, ``run_config()`` hosts and ``ai-assistant``
child processes pointed at it.
"""

from __future__ import annotations

import base64
import gzip
import json
import logging
import os
import re
import socket
import subprocess
import sys
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
from ai_assistant.config import load_config
from ai_assistant.host import ProviderHost
from ai_assistant.testing import make_assistant, write_config, write_distribution

TRACES_PATH = "/api/public/otel/v1/traces"
SCORES_PATH = "/api/public/scores"
SECRET_KEY = "sk-lf-test-Zq8wX3vR5tY7uI9o"
LOOPBACK_URL = re.compile(r"http://127\.0\.0\.1:\d+")


@dataclass(frozen=True)
class Span:
    """One span as the loopback server decoded it."""

    name: str
    trace_id: str
    span_id: str
    parent_span_id: str
    attributes: dict[str, Any]
    status_message: str = ""
    events: tuple[str, ...] = ()

    def json(self, key: str) -> Any:
        """Return the JSON-encoded attribute ``key`` decoded."""
        return json.loads(self.attributes[key])

    def sent_text(self) -> str:
        """Return every text of the span that left the process, joined."""
        values = [str(value) for value in self.attributes.values()]
        return "\n".join([self.name, self.status_message, *self.events, *values])


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

    def wait_for(self, count: int, timeout: float = 5.0) -> None:
        """Wait until ``count`` spans have arrived (background delivery)."""
        end = time.monotonic() + timeout
        while len(self.spans) < count and time.monotonic() < end:
            time.sleep(0.02)


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
            status_message=span.status.message,
            events=tuple(
                f"{event.name}: "
                + repr({item.key: _any_value(item.value) for item in event.attributes})
                for event in span.events
            ),
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
def test_urls() -> set[str]:
    """The loopback addresses this test's servers (or non-servers) use."""
    return set()


@pytest.fixture
def start_server(test_urls: set[str]) -> Iterator[Callable[[], LoopbackLangfuse]]:
    """Return a function starting Langfuse stand-ins on 127.0.0.1.

    Each gets a public key of its own, so that no client of an earlier test
    (some still deliver in the background after a stalled flush) can reach
    a later test's server.
    """
    servers: list[_Server] = []

    def start() -> LoopbackLangfuse:
        state = LoopbackLangfuse(
            public_key=f"pk-lf-test-{uuid.uuid4().hex[:12]}", secret_key=SECRET_KEY
        )
        server = _Server(state)
        host, port = server.server_address[:2]
        state.url = f"http://{host}:{port}"
        test_urls.add(state.url)
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


MODEL_PROVIDER = '''\
"""A model provider for the CLI tests: ``scripted:`` answers from a script."""

from ai_assistant import hookimpl
from ai_assistant.testing import ScriptedChatModel


@hookimpl
def ai_assistant_chat_model(model_name, options):
    return ScriptedChatModel(answers=["Paris is the capital of France."])
'''


@pytest.fixture
def run_cli(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Return a function running ``ai-assistant`` in a child process.

    The child sees the langfuse provider only (other installed providers are
    switched off by name), a scripted model (``model: "scripted:"``), no
    LANGFUSE_* variables, and a home directory of its own.
    """
    site = write_distribution(
        tmp_path / "site",
        "scripted-model-for-tests",
        modules={"scripted_model_for_tests.py": MODEL_PROVIDER},
        entry_points={
            "ai_assistant.model_providers": {"scripted": "scripted_model_for_tests"}
        },
    )
    home = tmp_path / "home"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("LANGFUSE_", "AI_ASSISTANT_", "XDG_"))
    }
    env.update(
        PYTHONPATH=str(site),
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / "config"),
        XDG_STATE_HOME=str(home / "state"),
        XDG_DATA_HOME=str(home / "data"),
        AI_ASSISTANT_LOAD_PROVIDERS="langfuse",
    )

    def run(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "ai_assistant", *args],
            env={**env, "AI_ASSISTANT_CONFIG": str(config)},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    return run


@pytest.fixture
def run_config_host(
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Callable[[Path], ProviderHost]]:
    """Return a function making ``ai_assistant.run_config()`` use a config file.

    ``run_config`` builds a process-wide host from the user's config; the
    test's host replaces it, with the langfuse provider only, and is closed
    after the test.
    """
    import ai_assistant.runconfig as runconfig
    import ai_assistant_langfuse

    hosts: list[ProviderHost] = []

    def use(config: Path) -> ProviderHost:
        host = ProviderHost(
            load_config(config),
            plugins={"langfuse": ai_assistant_langfuse},
            entry_points=False,
        )
        monkeypatch.setattr(runconfig, "_host", host)
        hosts.append(host)
        return host

    yield use
    for host in hosts:
        host.close()


@pytest.fixture
def unreachable_url(test_urls: set[str]) -> str:
    """An address on 127.0.0.1 where nothing listens."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    test_urls.add(url)
    return url


@pytest.fixture
def logged_warnings(
    caplog: pytest.LogCaptureFixture, test_urls: set[str]
) -> Callable[[], list[str]]:
    """Return a function listing every warning (or worse) this test caused.

    Warnings about another test's server are left out: a client given up at
    its deadline may still be delivering, and failing, in the background.
    """
    caplog.set_level(logging.WARNING)

    def ours(message: str) -> bool:
        named = LOOPBACK_URL.findall(message)
        return not named or any(url in test_urls for url in named)

    def messages() -> list[str]:
        return [
            record.getMessage()
            for record in caplog.records
            if record.levelno >= logging.WARNING and ours(record.getMessage())
        ]

    return messages
