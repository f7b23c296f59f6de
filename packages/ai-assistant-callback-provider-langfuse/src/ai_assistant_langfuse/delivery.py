"""Watching delivery to Langfuse: one warning per outage, naming the server.

The provider sends spans through an OTLP exporter and scores through an
HTTP client it builds itself, both watched here: each request's outcome
reaches one :class:`DeliveryReport`, which warns once when Langfuse stops
accepting data (naming the provider and the server, never a key) and again
only after a recovery. The exporters' own log records about requests made
for this provider are folded into that warning instead of repeating it.

Imported from the start hook only: it loads the OpenTelemetry SDK.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Final

import httpx
import requests
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from ai_assistant.settings import redact
from ai_assistant_langfuse.settings import SECTION

__all__ = [
    "DeliveryReport",
    "WatchedExporter",
    "WatchedSession",
    "WatchedTransport",
    "quiet_exporter_logs",
]

logger = logging.getLogger("ai_assistant.langfuse")

# Loggers whose records about this provider's requests the report replaces.
_EXPORTER_LOGGERS: Final = (
    "opentelemetry.exporter.otlp.proto.http.trace_exporter",
    "langfuse",
)
_TIMED_OUT: Final = "timed out"
_local = threading.local()


@dataclass
class _Attempt:
    """What one export learned about its requests."""

    status: int | None = None
    error: str | None = None

    def describe(self) -> str:
        if self.status is not None:
            return f"HTTP {self.status}"
        return self.error or "no answer"


class DeliveryReport:
    """Warns once when Langfuse stops accepting data, again after a recovery."""

    def __init__(self, base_url: str) -> None:
        self.base_url = str(redact(base_url))
        self._failing = False
        self._lock = threading.Lock()

    def delivered(self, what: str) -> None:
        """Record that Langfuse accepted ``what``."""
        with self._lock:
            self._failing = False
        logger.info(
            "provider 'langfuse': Langfuse at %s accepted %s", self.base_url, what
        )

    def failed(self, what: str, detail: str) -> None:
        """Record that Langfuse did not accept ``what``; ``detail`` says how."""
        if self._first_failure():
            logger.warning(
                "provider 'langfuse': Langfuse at %s did not accept %s (%s); %s",
                self.base_url,
                what,
                detail,
                _hint(detail),
            )

    def stalled(self, action: str, seconds: float) -> None:
        """Record that ``action`` was given up after ``seconds``."""
        if self._first_failure():
            logger.warning(
                "provider 'langfuse': %s did not finish within %.3g s; spans and "
                "scores not yet delivered to %s may be lost",
                action,
                seconds,
                self.base_url,
            )

    def _first_failure(self) -> bool:
        with self._lock:
            first = not self._failing
            self._failing = True
        return first


def _hint(detail: str) -> str:
    if detail in ("HTTP 401", "HTTP 403"):
        return f"check {SECTION}.public_key and secret_key"
    if detail.startswith("HTTP "):
        return "the server failed; answers are unaffected"
    if detail == _TIMED_OUT:
        return f"the server did not answer within {SECTION}.timeout"
    return f"check {SECTION}.base_url and that the server is reachable"


def _failure(error: BaseException) -> str:
    """Name a request's failure alike for both HTTP libraries."""
    name = type(error).__name__
    if "Timeout" in name:
        return _TIMED_OUT
    if "Connect" in name:
        return "connection failed"
    return name


@contextmanager
def _watching() -> Iterator[_Attempt]:
    attempt = _Attempt()
    previous = getattr(_local, "attempt", None)
    _local.attempt = attempt
    try:
        yield attempt
    finally:
        _local.attempt = previous


class WatchedSession(requests.Session):
    """The OTLP exporter's HTTP session: notes each request's outcome."""

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:
        """Send one request; tell the export in progress how it went."""
        attempt: _Attempt | None = getattr(_local, "attempt", None)
        try:
            response = super().request(*args, **kwargs)
        except Exception as error:
            if attempt is not None:
                attempt.error = _failure(error)
            raise
        if attempt is not None:
            attempt.status = response.status_code
        return response


class WatchedExporter(SpanExporter):
    """Passes each batch of spans on and tells the report how it went."""

    def __init__(self, inner: SpanExporter, report: DeliveryReport) -> None:
        self._inner = inner
        self._report = report

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        """Send ``spans``; report the outcome."""
        with _watching() as attempt:
            result = self._inner.export(spans)
        what = f"{len(spans)} span" if len(spans) == 1 else f"{len(spans)} spans"
        if result is SpanExportResult.SUCCESS:
            self._report.delivered(what)
        else:
            self._report.failed(what, attempt.describe())
        return result

    def shutdown(self) -> None:
        """Shut the inner exporter down."""
        self._inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Flush the inner exporter."""
        return self._inner.force_flush(timeout_millis)


class WatchedTransport(httpx.BaseTransport):
    """The score client's transport: reports each request's outcome.

    The Langfuse SDK sends scores from a thread of this provider's client;
    the thread is marked, so that the SDK's log records about failed
    requests on it are folded into the report's warning.
    """

    def __init__(self, report: DeliveryReport) -> None:
        self._inner = httpx.HTTPTransport()
        self._report = report

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request``; report the outcome."""
        _local.quiet = True
        what = "scores" if request.url.path.endswith("/scores") else "a request"
        try:
            response = self._inner.handle_request(request)
        except httpx.TransportError as error:
            self._report.failed(what, _failure(error))
            raise
        if response.status_code >= 400:
            self._report.failed(what, f"HTTP {response.status_code}")
        else:
            self._report.delivered(what)
        return response

    def close(self) -> None:
        """Close the inner transport."""
        self._inner.close()


class _QuietFilter(logging.Filter):
    """Keeps back records logged about this provider's own requests."""

    def filter(self, record: logging.LogRecord) -> bool:
        ours = getattr(_local, "attempt", None) is not None or getattr(
            _local, "quiet", False
        )
        if not ours:
            return True
        logger.debug("provider 'langfuse': %s", record.getMessage())
        return False


_filter = _QuietFilter()


def quiet_exporter_logs() -> None:
    """Fold the exporters' records about this provider's requests into the report.

    Only records logged on a thread while it delivers for this provider are
    kept back (at debug level on this provider's logger); other users of
    OpenTelemetry or Langfuse in the process keep their logs.
    """
    for name in _EXPORTER_LOGGERS:
        target = logging.getLogger(name)
        if _filter not in target.filters:
            target.addFilter(_filter)
