"""The provider's own Langfuse client: one per provider config, shared with nobody.

The Langfuse SDK keeps one set of exporter, queues and threads per public
key in a process-wide registry, and hands it to whoever asks for that key.
The provider builds its set outside that registry: it neither takes over a
client the application made for the same key, nor lends its own to the
application's code. The set sends through an exporter, tracer provider and
HTTP client of the provider's own, so the process's global OpenTelemetry
setup is left alone and every request's outcome is watched.

Imported from the start hook only: it loads the Langfuse SDK.
"""

from __future__ import annotations

import atexit
import base64
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.metadata import version
from typing import Any, Final

import httpx
from langfuse import Langfuse
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.sampling import Decision, Sampler, TraceIdRatioBased

from ai_assistant_langfuse.delivery import (
    DeliveryReport,
    WatchedExporter,
    WatchedSession,
    WatchedTransport,
    quiet_exporter_logs,
)
from ai_assistant_langfuse.settings import LangfuseSettings

__all__ = ["OwnClient", "build"]

TRACES_PATH: Final = "/api/public/otel/v1/traces"


@dataclass(eq=False)
class OwnClient:
    """A Langfuse client with the tracer provider and HTTP client it sends through."""

    langfuse: Langfuse
    tracer_provider: TracerProvider
    http: httpx.Client
    report: DeliveryReport
    sampler: Sampler | None = None

    def keeps(self, trace_id: str) -> bool:
        """Tell whether the trace ``trace_id`` is sampled; the same in any process."""
        if self.sampler is None:
            return True
        result = self.sampler.should_sample(None, int(trace_id, 16), "run")
        return result.decision is Decision.RECORD_AND_SAMPLE

    def flush(self) -> None:
        """Send every buffered span and score; blocks on the network."""
        self.langfuse.flush()

    def shutdown(self) -> None:
        """Flush, then stop the client's threads and close its connections."""
        self.langfuse.shutdown()
        self.tracer_provider.shutdown()
        self.http.close()


def build(settings: LangfuseSettings) -> OwnClient:
    """Build a client for ``settings``; no request is sent yet."""
    quiet_exporter_logs()
    report = DeliveryReport(settings.base_url)
    rate = settings.sample_rate
    sampler = TraceIdRatioBased(rate) if rate < 1.0 else None
    tracer_provider = TracerProvider(
        sampler=sampler,
        resource=Resource.create({"service.name": "ai-assistant"}),
        shutdown_on_exit=False,
    )
    http = httpx.Client(timeout=settings.timeout, transport=WatchedTransport(report))
    with _outside_registry(str(settings.public_key)) as before:
        langfuse = Langfuse(
            public_key=settings.public_key,
            secret_key=settings.secret_key,
            base_url=settings.base_url,
            environment=settings.environment,
            release=settings.release,
            sample_rate=rate,
            flush_at=settings.flush_at,
            flush_interval=settings.flush_interval,
            timeout=math.ceil(settings.timeout),
            tracer_provider=tracer_provider,
            span_exporter=_exporter(settings, report),
            httpx_client=http,
        )
    resources = getattr(langfuse, "_resources", None)
    if resources is None or resources is before:
        raise RuntimeError(
            f"langfuse {version('langfuse')} did not build a client of the "
            "provider's own; use langfuse>=5.2,<6"
        )
    # The provider's shutdown hook flushes within the assistant's deadline;
    # the SDK's own exit handler would wait on a stalled server unbounded.
    atexit.unregister(resources.shutdown)
    return OwnClient(langfuse, tracer_provider, http, report, sampler)


def _exporter(settings: LangfuseSettings, report: DeliveryReport) -> WatchedExporter:
    pair = f"{settings.public_key}:{settings.secret_key}".encode()
    headers = {
        "Authorization": "Basic " + base64.b64encode(pair).decode("ascii"),
        "x-langfuse-sdk-name": "python",
        "x-langfuse-sdk-version": version("langfuse"),
        "x-langfuse-public-key": str(settings.public_key),
        "x-langfuse-ingestion-version": "4",
    }
    inner = OTLPSpanExporter(
        endpoint=settings.base_url + TRACES_PATH,
        headers=headers,
        timeout=settings.timeout,
        compression=Compression.Gzip,
        session=WatchedSession(),
    )
    return WatchedExporter(inner, report)


@contextmanager
def _outside_registry(public_key: str) -> Iterator[Any]:
    """Let a client be built whose resources the SDK's registry never holds.

    Yields the resources registered for ``public_key`` before, if any; they
    are put back afterwards, so the application's own client is untouched.
    """
    # The SDK offers no public way to build a client outside its registry;
    # when its private layout moves, the start fails with a clear message
    # instead of sharing another client's resources.
    from langfuse._client.resource_manager import LangfuseResourceManager

    lock = getattr(LangfuseResourceManager, "_lock", None)
    registry = getattr(LangfuseResourceManager, "_instances", None)
    if lock is None or not isinstance(registry, dict):
        raise RuntimeError(
            f"langfuse {version('langfuse')} keeps its clients where the provider "
            "cannot build one of its own; use langfuse>=5.2,<6"
        )
    with lock:
        before = registry.pop(public_key, None)
        try:
            yield before
        finally:
            registry.pop(public_key, None)
            if before is not None:
                registry[public_key] = before
