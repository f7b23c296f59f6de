"""Fixtures of the fault-injection suite.

The misbehaving providers under ``providers/`` are installed once per
session, with pip, into a virtual environment of their own that also sees
the test environment's packages (the core, LangChain, the bundled
providers). Tests of the command line run that environment's
``python -m ai_assistant`` in a subprocess with a home of its own; tests
that need to look inside a run put its site-packages on ``sys.path``, so
discovery finds the same installed distributions.

Each test names the providers it is about in ``AI_ASSISTANT_LOAD_PROVIDERS``,
so the other fault providers stay off. Fault providers leave notes (one JSON
line per hook call) in ``$FAULT_NOTES``; :meth:`Cli.notes` reads them.
"""

from __future__ import annotations

import base64
import gzip
import importlib
import json
import logging
import os
import signal
import site
import subprocess
import threading
import time
import uuid
import venv
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Final

import pytest
import yaml

from ai_assistant import Assistant
from ai_assistant.config import load_config
from ai_assistant.history import History, MemoryHistory
from ai_assistant.host import ProviderHost
from ai_assistant.testing import ScriptedChatModel

PROVIDERS: Final = Path(__file__).parent / "providers"
APART: Final = frozenset({"duplicate-b"})
NOTES_ENV: Final = "FAULT_NOTES"
ANSWER: Final = "one two three four five six seven eight"
TRACES_PATH: Final = "/api/public/otel/v1/traces"
SCORES_PATH: Final = "/api/public/scores"
_OURS: Final = ("AI_ASSISTANT_", "LANGFUSE_", "FAULT_")
_CLEARED: Final = (*_OURS, "PYTHON", "VIRTUAL_ENV")


# The environment the fault providers are installed in.


@dataclass(frozen=True)
class FaultEnv:
    """A virtual environment holding the fault providers as distributions.

    ``elsewhere`` holds the providers installed apart (``pip --target``), for
    the tests that put them on ``PYTHONPATH``: a second distribution of the
    provider name ``duplicate`` would otherwise warn in every test.
    """

    python: Path
    site_packages: Path
    elsewhere: Path


def _checked(args: Sequence[str]) -> str:
    done = subprocess.run(
        list(args), capture_output=True, text=True, timeout=600, check=False
    )
    if done.returncode != 0:
        pytest.fail(f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def _create_env(root: Path, elsewhere: Path) -> FaultEnv:
    # ``venv --system-site-packages`` would show the base interpreter's
    # packages, not the test environment's when that is a venv itself; a
    # .pth file adds the test environment's site-packages instead.
    venv.EnvBuilder(with_pip=False, symlinks=True).create(root)
    python = root / "bin" / "python"
    purelib = "import sysconfig; print(sysconfig.get_path('purelib'))"
    site_packages = Path(_checked([str(python), "-c", purelib]).strip())
    lines = [f"import site; site.addsitedir({path!r})\n" for path in _test_sites()]
    (site_packages / "_fault_suite_parent.pth").write_text("".join(lines))
    return FaultEnv(python=python, site_packages=site_packages, elsewhere=elsewhere)


def _test_sites() -> list[str]:
    return [path for path in site.getsitepackages() if Path(path).is_dir()]


def _install(env: FaultEnv, sources: Sequence[Path]) -> None:
    pip = [str(env.python), "-m", "pip", "install", "--quiet"]
    pip.append("--disable-pip-version-check")
    has_backend = subprocess.run(
        [str(env.python), "-c", "import hatchling"], capture_output=True, check=False
    )
    if has_backend.returncode != 0:
        _checked([*pip, "hatchling>=1.25"])
    pip += ["--no-deps", "--no-build-isolation"]
    _checked([*pip, *(str(path) for path in sources if path.name not in APART)])
    apart = [str(path) for path in sources if path.name in APART]
    _checked([*pip, "--target", str(env.elsewhere), *apart])


@pytest.fixture(scope="session")
def fault_env(tmp_path_factory: pytest.TempPathFactory) -> FaultEnv:
    """Every package under ``providers/``, installed by pip."""
    root = tmp_path_factory.mktemp("fault-env")
    env = _create_env(root / "env", root / "elsewhere")
    sources = sorted(path.parent for path in PROVIDERS.glob("*/pyproject.toml"))
    _install(env, sources)
    return env


# Running the command line as a user would.


def _clean_environ(home: Path) -> dict[str, str]:
    environ = {
        key: value for key, value in os.environ.items() if not key.startswith(_CLEARED)
    }
    environ["HOME"] = str(home)
    for kind in ("CONFIG", "DATA", "STATE", "CACHE"):
        environ[f"XDG_{kind}_HOME"] = str(home / kind.lower())
    return environ


def read_notes(
    path: Path, provider: str | None = None, event: str | None = None
) -> list[dict[str, Any]]:
    """Return the notes in ``path``, of one provider and event if given."""
    if not path.exists():
        return []
    found = [json.loads(line) for line in path.read_text("utf-8").splitlines()]
    return [
        note
        for note in found
        if (provider is None or note["provider"] == provider)
        and (event is None or note["event"] == event)
    ]


def write_yaml(path: Path, core: Mapping[str, Any]) -> Path:
    """Write ``{"ai_assistant": core}`` to ``path``, the scripted model by default."""
    body = {"model": "scripted:", "history": {"backend": "memory"}, **core}
    path.write_text(yaml.safe_dump({"ai_assistant": body}), encoding="utf-8")
    return path


@dataclass
class Cli:
    """``python -m ai_assistant`` of the fault environment, in a home of its own.

    The working directory holds ``ai-assistant.yaml`` (see :meth:`configure`),
    so every command reads it.
    """

    python: Path
    work: Path
    environ: dict[str, str]
    elsewhere: Path
    sessions: list[subprocess.Popen[str]] = field(default_factory=list)

    @property
    def notes_path(self) -> Path:
        """Where the fault providers leave their notes."""
        return Path(self.environ[NOTES_ENV])

    @property
    def log_path(self) -> Path:
        """The logging provider's default JSONL file."""
        state = Path(self.environ["XDG_STATE_HOME"])
        return state / "ai-assistant" / "log" / "events.jsonl"

    def configure(self, **core: Any) -> Path:
        """Write the config file; ``callbacks={...}`` holds provider sections."""
        return write_yaml(self.work / "ai-assistant.yaml", core)

    def command(
        self,
        args: Sequence[str],
        providers: str,
        env: Mapping[str, str] | None,
        module: str = "ai_assistant",
    ) -> tuple[list[str], dict[str, str]]:
        """Return the command line and environment of one command."""
        environ = {**self.environ, "AI_ASSISTANT_LOAD_PROVIDERS": providers}
        environ.update(env or {})
        return [str(self.python), "-m", module, *args], environ

    def run(
        self,
        *args: str,
        providers: str,
        input: str | None = None,
        env: Mapping[str, str] | None = None,
        timeout: float = 60,
        module: str = "ai_assistant",
    ) -> subprocess.CompletedProcess[str]:
        """Run one command with only ``providers`` (a comma list) allowed.

        ``module`` runs another module of the fault environment instead.
        """
        command, environ = self.command(args, providers, env, module)
        return subprocess.run(
            command,
            cwd=self.work,
            env=environ,
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def start(
        self, *args: str, providers: str, env: Mapping[str, str] | None = None
    ) -> subprocess.Popen[str]:
        """Start an interactive command, its input, output and errors piped."""
        command, environ = self.command(args, providers, env)
        environ["PYTHONUNBUFFERED"] = "1"
        session = subprocess.Popen(
            command,
            cwd=self.work,
            env=environ,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.sessions.append(session)
        return session

    def close(self) -> None:
        """End the sessions a test left running."""
        for session in self.sessions:
            if session.poll() is None:
                session.kill()
                session.communicate()

    def notes(
        self, provider: str | None = None, event: str | None = None
    ) -> list[dict[str, Any]]:
        """Return the notes left so far, of one provider and event if given."""
        return read_notes(self.notes_path, provider, event)

    @staticmethod
    def lines(text: str, *words: str) -> list[str]:
        """Return the lines of ``text`` holding every one of ``words``."""
        return [line for line in text.splitlines() if all(w in line for w in words)]

    @staticmethod
    def stop(session: subprocess.Popen[str], signum: signal.Signals) -> str:
        """Send ``signum`` to a running session; return its errors once it ends."""
        session.send_signal(signum)
        _, errors = session.communicate(timeout=30)
        return errors

    def wait_for_note(self, provider: str, event: str, timeout: float = 30) -> None:
        """Wait until ``provider`` has left a note of ``event``."""
        deadline = time.monotonic() + timeout
        while not self.notes(provider, event):
            if time.monotonic() > deadline:
                pytest.fail(f"no {event!r} note from {provider!r} in {timeout} s")
            time.sleep(0.05)


def make_cli(fault_env: FaultEnv, root: Path) -> Cli:
    """Return the command line of the fault environment with its home under ``root``.

    The config names the scripted model and keeps history in memory.
    """
    home = root / "home"
    work = root / "work"
    home.mkdir()
    work.mkdir()
    environ = _clean_environ(home)
    environ[NOTES_ENV] = str(root / "notes.jsonl")
    runner = Cli(fault_env.python, work, environ, fault_env.elsewhere)
    runner.configure()
    return runner


@pytest.fixture
def cli(fault_env: FaultEnv, tmp_path: Path) -> Iterator[Cli]:
    """The command line of the fault environment; see :func:`make_cli`."""
    runner = make_cli(fault_env, tmp_path)
    yield runner
    runner.close()


@pytest.fixture(scope="session")
def new_cli(fault_env: FaultEnv) -> Callable[[Path], Cli]:
    """Return :func:`make_cli` for fixtures wider than one test."""
    return lambda root: make_cli(fault_env, root)


# Looking inside a run, in this process.


@dataclass
class InProcess:
    """Builds assistants in this process on the fault environment's providers."""

    work: Path
    environ: dict[str, str]
    built: list[Assistant] = field(default_factory=list)

    def host(
        self,
        providers: str,
        *,
        plugins: Mapping[str, object] | None = None,
        **core: Any,
    ) -> ProviderHost:
        """Return a started host allowing only ``providers``; ``core`` as in a file."""
        path = write_yaml(self.work / f"{uuid.uuid4().hex[:8]}.yaml", core)
        environ = {**self.environ, "AI_ASSISTANT_LOAD_PROVIDERS": providers}
        host = ProviderHost(load_config(path), plugins=plugins, environ=environ)
        host.start()
        return host

    def assistant(
        self,
        providers: str,
        *,
        answers: Sequence[Any] = (ANSWER,),
        tools: Sequence[Any] = (),
        history: History | None = None,
        plugins: Mapping[str, object] | None = None,
        **core: Any,
    ) -> Assistant:
        """Return an assistant on a scripted model; closed after the test."""
        host = self.host(providers, plugins=plugins, **core)
        assistant = Assistant(
            host.config,
            model=ScriptedChatModel(answers=list(answers)),
            model_id="scripted:",
            tools=list(tools),
            history=history or MemoryHistory(),
            host=host,
        )
        self.built.append(assistant)
        return assistant

    def notes(
        self, provider: str | None = None, event: str | None = None
    ) -> list[dict[str, Any]]:
        """Return the notes the fault providers left in this process."""
        return read_notes(Path(os.environ[NOTES_ENV]), provider, event)

    @staticmethod
    def module(name: str) -> Any:
        """Return a fault provider's module, as the host imported it."""
        return importlib.import_module(name)


@pytest.fixture
def in_process(
    fault_env: FaultEnv, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[InProcess]:
    """Assistants in this process that discover the installed fault providers."""
    home = tmp_path / "home"
    work = tmp_path / "work"
    home.mkdir()
    work.mkdir()
    for variable in list(os.environ):
        if variable.startswith(_OURS):
            monkeypatch.delenv(variable)
    environ = _clean_environ(home)
    for key in ("HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"):
        monkeypatch.setenv(key, environ[key])
    monkeypatch.setenv(NOTES_ENV, str(tmp_path / "notes.jsonl"))
    monkeypatch.syspath_prepend(str(fault_env.site_packages))
    monkeypatch.chdir(work)
    monkeypatch.setattr(logging.getLogger("ai_assistant"), "propagate", True)
    maker = InProcess(work=work, environ=environ)
    yield maker
    for assistant in maker.built:
        assistant.close(deadline=2)


# A Langfuse server on 127.0.0.1.


@dataclass(frozen=True)
class Span:
    """One span the loopback server received."""

    name: str
    trace_id: str
    span_id: str
    parent_span_id: str
    attributes: dict[str, Any]


@dataclass
class LoopbackLangfuse:
    """A stand-in for Langfuse: what it was sent and how it answers.

    It checks Basic auth against its own keys. With ``keep`` false it only
    counts requests, so a long test's memory is not the server's.
    """

    public_key: str
    secret_key: str
    url: str = ""
    status: int = 200
    delay: float = 0.0
    keep: bool = True
    spans: list[Span] = field(default_factory=list)
    scores: list[dict[str, Any]] = field(default_factory=list)
    requests: list[tuple[str, int]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def basic_auth(self) -> str:
        """The ``Authorization`` value the SDK sends with this server's keys."""
        token = f"{self.public_key}:{self.secret_key}".encode()
        return base64.b64encode(token).decode("ascii")

    def section(self, **extra: Any) -> dict[str, Any]:
        """Return a ``callbacks.langfuse`` section pointing at this server."""
        return {
            "public_key": self.public_key,
            "secret_key": self.secret_key,
            "base_url": self.url,
            **extra,
        }

    def record(self, path: str, status: int, spans: list[Span], scores: Any) -> None:
        """Store what one request brought."""
        with self._lock:
            if not self.keep:
                self.requests = self.requests[-100:]
            self.requests.append((path, status))
            if self.keep:
                self.spans.extend(spans)
                self.scores.extend(scores)

    def trace(self, trace_id: str) -> list[Span]:
        """Return the spans of one trace."""
        return [span for span in self.spans if span.trace_id == trace_id]

    def wait_for_spans(self, trace_id: str, count: int, timeout: float = 15) -> None:
        """Wait until ``count`` spans of the trace have arrived."""
        deadline = time.monotonic() + timeout
        while len(self.trace(trace_id)) < count and time.monotonic() < deadline:
            time.sleep(0.05)


def _value(value: Any) -> Any:
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [_value(item) for item in value.array_value.values]
    if kind == "kvlist_value":
        return {item.key: _value(item.value) for item in value.kvlist_value.values}
    return None if kind is None else getattr(value, kind)


def _spans(body: bytes) -> list[Span]:
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
            attributes={item.key: _value(item.value) for item in span.attributes},
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
        time.sleep(state.delay)
        path = self.path.split("?", 1)[0]
        status = state.status
        if self.headers.get("Authorization") != f"Basic {state.basic_auth}":
            status = 401
        spans: list[Span] = []
        scores: Any = []
        if status < 300 and path == TRACES_PATH and state.keep:
            spans = _spans(body)
        elif status < 300 and path == SCORES_PATH:
            scores = json.loads(body) if state.keep else []
            status = 202
        state.record(path, status, spans, scores if isinstance(scores, list) else [])
        payload = b"" if path == TRACES_PATH and status < 300 else b"{}"
        self.send_response(status)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state: LoopbackLangfuse) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.state = state

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that stop waiting (a flush deadline) are expected."""


@pytest.fixture
def langfuse_server() -> Iterator[Callable[[], LoopbackLangfuse]]:
    """Return a function starting Langfuse stand-ins on 127.0.0.1.

    Each has keys of its own: the Langfuse SDK keeps one client per public
    key for the whole process.
    """
    servers: list[_Server] = []

    def start() -> LoopbackLangfuse:
        state = LoopbackLangfuse(
            public_key=f"pk-lf-fault-{uuid.uuid4().hex[:16]}",
            secret_key=f"sk-lf-fault-{uuid.uuid4().hex[:16]}",
        )
        server = _Server(state)
        state.url = f"http://127.0.0.1:{server.server_address[1]}"
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
def langfuse(langfuse_server: Callable[[], LoopbackLangfuse]) -> LoopbackLangfuse:
    """One Langfuse stand-in on 127.0.0.1."""
    return langfuse_server()


@pytest.fixture
def refused_url() -> str:
    """A loopback URL nothing listens on: connections are refused."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"
