"""Off-thread delivery and the event loop.

A provider that declares its handlers may block (``ai_assistant_delivery``
returns ``"background"``) gets its events on a worker of its own, in order,
through a bounded queue that drops and counts rather than make the caller
wait. Under ``astream`` no provider work holds the event loop, except what
is declared async and non-blocking.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Awaitable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from ai_assistant import Assistant
    from conftest import Cli, InProcess

ANSWER = "one two three four five six seven eight"
QUEUE_CAPACITY = 10_000
FLUSHES = 30


@pytest.fixture
def gate(in_process: InProcess) -> Iterator[threading.Event]:
    """The slow provider's gate: closed during the test, opened after it."""
    event: threading.Event = in_process.module("fault_slow").GATE
    event.clear()
    yield event
    event.set()


def slow_state(assistant: Assistant) -> Any:
    [record] = [r for r in assistant.host.active if r.name == "slow"]
    return record.state


def test_delivery_a_blocked_background_provider_delays_neither_first_token_nor_answer(
    in_process: InProcess, gate: threading.Event
) -> None:
    assistant = in_process.assistant("slow", callbacks={"slow": {"gate": True}})

    stream = assistant.stream("count")
    first = next(stream)
    rest = "".join(stream)

    assert first + rest == ANSWER
    assert slow_state(assistant).seen == []


def test_delivery_background_events_arrive_in_order_on_a_worker_of_the_provider(
    in_process: InProcess, gate: threading.Event
) -> None:
    assistant = in_process.assistant("slow", callbacks={"slow": {"gate": True}})

    result = assistant.chat("count")
    gate.set()
    assistant.host.flush(deadline=5)

    seen = slow_state(assistant).seen
    assert "".join(token for _, token in seen) == result.answer
    threads = {thread for thread, _ in seen}
    assert len(threads) == 1
    assert threading.main_thread().name not in threads


def test_delivery_a_full_queue_drops_and_counts_events_without_blocking_the_caller(
    in_process: InProcess, gate: threading.Event, caplog: pytest.LogCaptureFixture
) -> None:
    words = QUEUE_CAPACITY + 100
    answer = " ".join(f"w{index}" for index in range(words))
    assistant = in_process.assistant(
        "slow", answers=[answer], callbacks={"slow": {"gate": True}}
    )

    with caplog.at_level(logging.WARNING):
        assistant.chat("count")
    [record] = assistant.host.active
    dropped = record.failures["dropped"]
    gate.set()
    assistant.host.flush(deadline=10)

    seen = [token.strip() for _, token in slow_state(assistant).seen if token.strip()]
    order = [int(token.removeprefix("w")) for token in seen]
    assert dropped > 0
    assert len(seen) + dropped >= words
    assert order == sorted(order)
    reports = [r for r in caplog.records if "'slow'" in r.getMessage()]
    assert len(reports) == 1


def test_delivery_every_flush_a_stalled_background_provider_misses_is_counted(
    in_process: InProcess, gate: threading.Event
) -> None:
    assistant = in_process.assistant("slow", callbacks={"slow": {"gate": True}})
    assistant.chat("count")
    [record] = assistant.host.active

    for _ in range(FLUSHES):
        assistant.host.flush(0.05)

    assert record.failures["flush-deadline"] == FLUSHES


def test_delivery_draining_at_exit_is_bounded_by_the_flush_deadline(cli: Cli) -> None:
    cli.configure(flush_deadline=2, callbacks={"slow": {"sleep": 5}})

    began = time.monotonic()
    cli.run("chat", "hello", providers="recorder")
    plain = time.monotonic() - began
    began = time.monotonic()
    cli.run("chat", "hello", providers="slow")
    stalled = time.monotonic() - began

    assert stalled - plain < 2 + 1


async def longest_stall(work: Awaitable[Any]) -> float:
    """Run ``work``; return the longest the event loop was kept from a ticker."""
    longest = 0.0
    running = True

    async def tick() -> None:
        nonlocal longest
        last = time.monotonic()
        while running:
            await asyncio.sleep(0.005)
            now = time.monotonic()
            longest = max(longest, now - last)
            last = now

    ticker = asyncio.create_task(tick())
    await asyncio.sleep(0.02)
    await work
    running = False
    await ticker
    return longest


async def test_async_a_blocking_sync_handler_does_not_hold_the_event_loop(
    in_process: InProcess,
) -> None:
    assistant = in_process.assistant(
        "slow",
        answers=["one two"],
        callbacks={"slow": {"delivery": "inline", "sleep": 0.3}},
    )

    stall = await longest_stall(assistant.achat("count"))

    assert stall < 0.15


async def test_async_a_blocking_background_handler_does_not_hold_the_event_loop(
    in_process: InProcess,
) -> None:
    assistant = in_process.assistant(
        "slow", answers=["one two"], callbacks={"slow": {"sleep": 0.3}}
    )

    stall = await longest_stall(assistant.achat("count"))

    assert stall < 0.15


async def test_async_a_slow_handler_factory_does_not_hold_the_event_loop(
    in_process: InProcess,
) -> None:
    assistant = in_process.assistant("slow", callbacks={"slow": {"factory_sleep": 0.3}})

    stall = await longest_stall(assistant.achat("count"))

    assert stall < 0.15
