"""Runs abandoned halfway leave nothing behind in the provider or the SDK."""

from __future__ import annotations

import asyncio
import gc
import tracemalloc
import uuid
import weakref
from pathlib import Path

import langfuse
import pytest
from opentelemetry.sdk.trace import Span

import ai_assistant_langfuse
from ai_assistant import RunContext
from ai_assistant_langfuse.handler import RunHandler

pytestmark = pytest.mark.allow_hosts(["127.0.0.1"])

LEVEL = "langfuse.observation.level"
STATUS = "langfuse.observation.status_message"
WARM_UP = 40
RUNS = 120
# A run's handler, observations and spans take several kilobytes; a client
# of an earlier test retrying in the background may add a few bytes a run.
BYTES_PER_RUN = 256
# The code a run passes through in this provider and the Langfuse SDK. The
# test's own server, which keeps every span it receives, is left out, and so
# is OpenTelemetry's code: clients of earlier tests may still be retrying
# there in the background. Its spans are counted instead.
WATCHED = (
    str(Path(ai_assistant_langfuse.__file__).parent / "*"),
    str(Path(langfuse.__file__).parent / "*"),
)


class _NoHistory:
    """Keeps no conversation, so that only tracing could grow with runs."""

    def load(self, conversation_id):  # type: ignore[no-untyped-def]
        return []

    def append(self, conversation_id, run_id, messages):  # type: ignore[no-untyped-def]
        return None


def _run_sync(assistant, number: int) -> None:
    stream = assistant.stream("count to six")
    next(stream)
    if number % 4 == 1:
        stream.close()  # cancelled, as Ctrl-C in the REPL does
    elif number % 4 == 3:
        del stream  # dropped, as a disconnected client's stream is
    else:
        for _ in stream:
            pass


async def _run_async(assistant, number: int) -> None:
    stream = assistant.astream("count to six")
    await stream.__anext__()
    if number % 4 == 1:
        await stream.aclose()
    elif number % 4 == 3:
        del stream
    else:
        async for _ in stream:
            pass


async def _batch(assistant, mode: str, first: int, count: int) -> None:
    for number in range(first, first + count):
        if mode == "sync":
            _run_sync(assistant, number)
        else:
            await _run_async(assistant, number)
    for _ in range(3):
        await asyncio.sleep(0.02)  # let the loop close dropped async generators
        gc.collect()
    assistant.host.flush()


def _live_spans(processors: object) -> int:
    return sum(
        1
        for item in gc.get_objects()
        if isinstance(item, Span) and item._span_processor is processors
    )


def _watched_bytes() -> int:
    snapshot = tracemalloc.take_snapshot().filter_traces(
        [tracemalloc.Filter(True, pattern) for pattern in WATCHED]
    )
    return sum(stat.size for stat in snapshot.statistics("filename"))


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_abandoned_streams_leave_no_per_run_state(
    langfuse_server, config_for, assistant_for, monkeypatch, logged_warnings, mode
):
    """C9: half the runs abandoned; handlers, SDK maps and memory stay flat."""
    handlers: weakref.WeakSet[RunHandler] = weakref.WeakSet()
    made = RunHandler.__init__

    def tracked(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        made(self, *args, **kwargs)
        handlers.add(self)

    monkeypatch.setattr(RunHandler, "__init__", tracked)
    config = config_for(flush_at=100, flush_interval=0.05)
    assistant = assistant_for(config, answers=["one two three four five six"])
    assistant.history = _NoHistory()
    (record,) = assistant.host.active
    processors = record.state.client.tracer_provider._active_span_processor
    await _batch(assistant, mode, 0, WARM_UP)
    tracemalloc.start()  # what the measured runs allocate and leave behind
    try:
        before = _watched_bytes()
        await _batch(assistant, mode, WARM_UP, RUNS)
        after = _watched_bytes()
    finally:
        tracemalloc.stop()
    assistant.close()

    assert len(handlers) == 0
    assert _live_spans(processors) == 0
    for processor in processors._span_processors:
        assert getattr(processor, "_span_export_expectation_by_id", {}) == {}
    assert (after - before) / RUNS < BYTES_PER_RUN
    assert len(langfuse_server.spans) == 2 * (WARM_UP + RUNS)
    cancelled = [
        s for s in langfuse_server.spans if s.attributes.get(LEVEL) == "WARNING"
    ]
    assert len(cancelled) >= (WARM_UP + RUNS) // 2
    assert logged_warnings() == []


def test_a_run_that_never_ends_is_ended_when_its_handler_goes(
    langfuse_server, config_for, assistant_for
):
    """C9: no end or error event ever comes; nothing is kept for the run."""
    assistant = assistant_for(config_for())
    (record,) = assistant.host.active
    processors = record.state.client.tracer_provider._active_span_processor
    run = RunContext(run_id=uuid.uuid4(), run_name="dropped")
    handlers, _ = assistant.host.run_callbacks(run)
    handlers[0].on_chain_start({"name": "dropped"}, {"q": "hi"}, run_id=run.run_id)
    assert _live_spans(processors) == 1

    del handlers
    gc.collect()
    assistant.close()

    (span,) = langfuse_server.spans
    assert span.attributes[LEVEL] == "WARNING"
    assert span.attributes[STATUS] == "abandoned before it ended"
    assert _live_spans(processors) == 0
    for processor in processors._span_processors:
        assert getattr(processor, "_span_export_expectation_by_id", {}) == {}
