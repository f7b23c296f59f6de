"""Bounded state: what a bundled provider keeps for a run is released when the
run ends, errors or is abandoned (a cancelled stream), so memory stays flat
over many runs and no thread is left behind.

Both bundled callback providers are on; Langfuse exports to a stand-in on
127.0.0.1 that only counts what it receives. Memory is measured in a fresh
process of the fault environment (``fault_kit.soak``), where nothing but
the assistant allocates.
"""

from __future__ import annotations

import gc
import json
import logging
import os
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import AIMessage
from langchain_core.tools import tool

from ai_assistant.isolation import GuardedHandler

if TYPE_CHECKING:
    from ai_assistant import Assistant
    from conftest import Cli, InProcess, LoopbackLangfuse

# Set FAULT_BOUNDED_RUNS=10000 for the full soak (about 25 s here).
RUNS = int(os.environ.get("FAULT_BOUNDED_RUNS", "4000"))
# Growth over the second half of the runs. Resident memory moves by a
# megabyte or two either way as the allocator settles; objects do not.
MEMORY_PER_RUN = 2048  # bytes
OBJECTS = 100
FAILING_CALL = {"name": "refuse", "args": {"text": "no"}, "id": "call-9"}


@tool
def refuse(text: str) -> str:
    """Refuse, always."""
    raise ValueError("refused on purpose")


@pytest.fixture
def quiet_events() -> Iterator[None]:
    """Keep the logging provider's records off the Python logger (its JSONL
    file still gets every event): a test's log capture would keep each one."""
    events = logging.getLogger("ai_assistant.events")
    level = events.level
    events.setLevel(logging.CRITICAL)
    yield
    events.setLevel(level)


@pytest.fixture
def bundled(
    in_process: InProcess,
    langfuse_server: Callable[[], LoopbackLangfuse],
    quiet_events: None,
) -> Callable[..., Assistant]:
    """Return a function building assistants with both bundled providers on."""
    server = langfuse_server()
    server.keep = False

    def build(**options: Any) -> Assistant:
        return in_process.assistant(
            "logging,langfuse",
            history=in_process.module("fault_kit.soak").Forgetful(),
            callbacks={
                "logging": {"path": str(in_process.work / "events.jsonl")},
                "langfuse": server.section(),
            },
            **options,
        )

    return build


def ended(assistant: Assistant) -> None:
    assistant.chat("count")


def cancelled(assistant: Assistant) -> None:
    stream = assistant.stream("count")
    next(stream)
    stream.close()


def abandoned(assistant: Assistant) -> None:
    stream = assistant.stream("count")
    next(stream)


def errored(assistant: Assistant) -> None:
    with pytest.raises(ValueError, match="refused on purpose"):
        assistant.chat("refuse")


def settled(assistant: Assistant) -> None:
    assistant.host.flush(10)
    gc.collect()


def of_a_run(found: object) -> bool:
    """Tell whether ``found`` is a guard, a provider's handler or an open span."""
    from opentelemetry.sdk.trace import Span

    if isinstance(found, Span):
        return found.end_time is None
    providers = ("ai_assistant_", "langfuse")
    return isinstance(found, GuardedHandler) or (
        isinstance(found, BaseCallbackHandler)
        and type(found).__module__.startswith(providers)
    )


def provider_objects() -> list[object]:
    """Return the live handlers, guards and unfinished spans of any run."""
    return [found for found in gc.get_objects() if of_a_run(found)]


@pytest.mark.parametrize("how", [ended, cancelled, abandoned, errored])
def test_c9_nothing_of_a_run_outlives_it(
    bundled: Callable[..., Assistant], how: Callable[[Assistant], None]
) -> None:
    assistant = bundled(
        answers=[
            AIMessage(content="", tool_calls=[FAILING_CALL])
            if how is errored
            else "one two three four"
        ],
        tools=[refuse],
    )

    before = provider_objects()
    known = {id(found) for found in before}

    for _ in range(3):
        how(assistant)
    settled(assistant)

    assert [found for found in provider_objects() if id(found) not in known] == []


def test_c9_memory_and_threads_stay_flat_over_many_ended_and_cancelled_runs(
    cli: Cli, langfuse_server: Callable[[], LoopbackLangfuse]
) -> None:
    server = langfuse_server()
    server.keep = False
    config = cli.configure(
        callbacks={
            "logging": {"path": str(cli.work / "events.jsonl")},
            "langfuse": server.section(),
        }
    )

    soak = cli.run(
        str(config),
        str(RUNS),
        module="fault_kit.soak",
        providers="logging,langfuse",
        timeout=600,
    )

    assert soak.returncode == 0, soak.stderr
    found = json.loads(soak.stdout)
    middle, end = found["middle"], found["end"]
    assert found["active"] == ["langfuse", "logging"]
    assert end["objects"] - middle["objects"] < OBJECTS
    growth = end["memory"] - middle["memory"]
    assert growth / (RUNS // 2) < MEMORY_PER_RUN, f"{growth / 1e6:.1f} MB"
    assert end["threads"] == found["warm"]["threads"]


def test_c9_a_cancelled_stream_ends_its_run_with_an_error_event(
    in_process: InProcess,
) -> None:
    assistant = in_process.assistant("recorder")

    cancelled(assistant)

    ends = [n["event"] for n in in_process.notes("recorder") if n["event"] != "start"]
    assert ends == ["run_start", "run_error"]
