"""Watching span delivery and bounding the calls that wait on the network.

Imported from the start hook only: it loads the OpenTelemetry SDK.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Final

from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from ai_assistant.settings import redact

__all__ = ["DeliveryReport", "WatchedTracerProvider", "run_within"]

logger = logging.getLogger("ai_assistant.langfuse")

PROVIDER: Final = "langfuse"


class DeliveryReport:
    """Warns once when Langfuse stops accepting spans, again after a recovery.

    The warning names the provider and the server, never a key; the HTTP
    status is in the OpenTelemetry exporter's own log record.
    """

    def __init__(self, base_url: str) -> None:
        self.base_url = str(redact(base_url))
        self._failing = False
        self._lock = threading.Lock()

    def outcome(self, delivered: bool, spans: int) -> None:
        """Record one export attempt of ``spans`` spans."""
        with self._lock:
            if delivered:
                self._failing = False
                return
            first = not self._failing
            self._failing = True
        if first:
            logger.warning(
                "provider %r: Langfuse at %s did not accept %d spans (refused, "
                "unreachable or timed out); check callbacks.langfuse.base_url, "
                "public_key and secret_key",
                PROVIDER,
                self.base_url,
                spans,
            )


class _WatchedExporter(SpanExporter):
    """Passes every batch on and tells the report how it went."""

    def __init__(self, inner: SpanExporter, report: DeliveryReport) -> None:
        self._inner = inner
        self._report = report

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        result = self._inner.export(spans)
        self._report.outcome(result is SpanExportResult.SUCCESS, len(spans))
        return result

    def shutdown(self) -> None:
        self._inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self._inner.force_flush(timeout_millis)


class WatchedTracerProvider(TracerProvider):
    """A tracer provider of the provider's own whose exports are reported.

    Owning the tracer provider keeps Langfuse's exporter off the process's
    global OpenTelemetry provider and lets shutdown stop its thread. It is
    not shut down at interpreter exit by OpenTelemetry: the provider's
    shutdown hook, with its deadline, does that.
    """

    def __init__(self, report: DeliveryReport) -> None:
        super().__init__(shutdown_on_exit=False)
        self.report = report

    def add_span_processor(self, span_processor: SpanProcessor) -> None:
        """Register ``span_processor``, watching its exporter when it batches."""
        _watch(span_processor, self.report)
        super().add_span_processor(span_processor)


def _watch(processor: SpanProcessor, report: DeliveryReport) -> None:
    # OpenTelemetry offers no public way to wrap the exporter of a batch
    # processor it was built with; when its private layout changes, spans
    # are still delivered but failures are only logged by OpenTelemetry.
    batch = getattr(processor, "_batch_processor", None)
    exporter = getattr(batch, "_exporter", None)
    if isinstance(exporter, SpanExporter) and not isinstance(
        exporter, _WatchedExporter
    ):
        batch._exporter = _WatchedExporter(exporter, report)  # type: ignore[union-attr]


def run_within(action: Callable[[], None], timeout: float, *, name: str) -> bool:
    """Run ``action`` on a daemon thread; tell whether it ended within ``timeout``.

    An exception raised by ``action`` in time is raised again here. An action
    still running at the deadline is left to finish in the background.
    """
    errors: list[BaseException] = []

    def target() -> None:
        try:
            action()
        except BaseException as error:  # noqa: BLE001 - handed to the caller
            errors.append(error)

    thread = threading.Thread(target=target, name=name, daemon=True)
    thread.start()
    thread.join(max(0.0, timeout))
    if thread.is_alive():
        return False
    if errors:
        raise errors[0]
    return True
