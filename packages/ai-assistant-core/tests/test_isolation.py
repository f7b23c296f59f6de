"""Handler failures stay inside their provider; guardrails may stop a run."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from langchain_core.callbacks import AsyncCallbackHandler, BaseCallbackHandler

from ai_assistant import hookimpl
from ai_assistant.testing import make_assistant

ANSWER = "one two three four five six seven eight"


class Exploding(BaseCallbackHandler):
    """Raises on every streamed token; counts what it saw."""

    def __init__(self) -> None:
        self.tokens = 0
        self.ends = 0

    def on_llm_new_token(self, token: str, **kwargs: Any) -> None:
        self.tokens += 1
        raise RuntimeError("token handler broke")

    def on_llm_end(self, response: Any, **kwargs: Any) -> None:
        self.ends += 1


class Guardrail(BaseCallbackHandler):
    """Stops any run whose prompt mentions 'forbidden'."""

    raise_error = True

    def on_chat_model_start(self, serialized: Any, messages: Any, **kw: Any) -> None:
        if any("forbidden" in str(m.content) for m in messages[0]):
            raise PermissionError("blocked by guardrail")


class AsyncGuardrail(AsyncCallbackHandler):
    raise_error = True

    async def on_chat_model_start(
        self, serialized: Any, messages: Any, **kw: Any
    ) -> None:
        raise PermissionError("blocked by async guardrail")


def provider(factory: Any, **extra: Any) -> SimpleNamespace:
    hooks = {"ai_assistant_run_handlers": hookimpl(lambda: [factory()])}
    hooks.update({name: hookimpl(value) for name, value in extra.items()})
    return SimpleNamespace(**hooks)


def test_c4_raising_token_handler_is_reported_once_and_the_answer_completes(
    user_env: Path, caplog: pytest.LogCaptureFixture
) -> None:
    made: list[Exploding] = []

    def factory() -> Exploding:
        made.append(Exploding())
        return made[-1]

    assistant = make_assistant(plugins={"fragile": provider(factory)}, answers=[ANSWER])

    with caplog.at_level(logging.WARNING):
        first = assistant.chat("count")
        second = assistant.chat("count again")

    assert first.answer == ANSWER and second.answer == ANSWER
    assert made[0].tokens >= 8 and made[1].tokens == made[0].tokens
    assert [h.ends for h in made] == [1, 1]
    failures = assistant.host.records[0].failures["on_llm_new_token"]
    assert failures == made[0].tokens + made[1].tokens
    reports = [
        r.getMessage()
        for r in caplog.records
        if "token handler broke" in r.getMessage()
    ]
    assert reports == [
        "provider 'fragile': on_llm_new_token failed: RuntimeError: token handler broke"
    ]


def test_c4_guardrail_stops_a_sync_run_with_its_own_exception(user_env: Path) -> None:
    assistant = make_assistant(plugins={"guard": provider(Guardrail)})

    allowed = assistant.chat("a fine question")
    with pytest.raises(PermissionError, match="blocked by guardrail"):
        assistant.chat("a forbidden question")

    assert allowed.answer


def test_c4_guardrail_stops_an_async_run_with_its_own_exception(user_env: Path) -> None:
    assistant = make_assistant(plugins={"guard": provider(AsyncGuardrail)})

    with pytest.raises(PermissionError, match="blocked by async guardrail"):
        asyncio.run(assistant.achat("anything"))


class Slow(BaseCallbackHandler):
    """Takes 50 ms per event, as a handler doing network I/O might."""

    def __init__(self, seen: list[tuple[str, str]]) -> None:
        self.seen = seen

    def on_llm_new_token(self, token: str, **kwargs: Any) -> None:
        time.sleep(0.05)
        self.seen.append((threading.current_thread().name, token))


def test_background_provider_does_not_delay_the_answer_and_keeps_order(
    user_env: Path,
) -> None:
    seen: list[tuple[str, str]] = []
    slow = provider(lambda: Slow(seen), ai_assistant_delivery=lambda: "background")
    assistant = make_assistant(plugins={"slow": slow}, answers=[ANSWER])

    began = time.monotonic()
    result = assistant.chat("count")
    answered = time.monotonic() - began
    assistant.host.flush(deadline=5)

    assert answered < 0.2  # eight tokens inline would take 0.4 s
    assert "".join(token for _, token in seen) == result.answer
    assert {name for name, _ in seen} == {"ai-assistant-slow"}


def test_background_queue_drops_and_counts_when_full(user_env: Path) -> None:
    seen: list[tuple[str, str]] = []
    slow = provider(lambda: Slow(seen), ai_assistant_delivery=lambda: "background")
    assistant = make_assistant(plugins={"slow": slow}, answers=[ANSWER])
    record = assistant.host.records[0]
    assert record.courier is not None
    record.courier._queue.maxsize = 2

    assistant.chat("count")
    assistant.close(deadline=5)

    assert record.failures["dropped"] > 0
    assert len(seen) + record.failures["dropped"] >= 8


@pytest.mark.parametrize(
    ("inline", "on_loop"), [(False, False), (True, True)], ids=["default", "inline"]
)
def test_c3_async_run_calls_sync_handlers_off_the_loop_unless_declared_inline(
    user_env: Path, caplog: pytest.LogCaptureFixture, inline: bool, on_loop: bool
) -> None:
    class Watching(BaseCallbackHandler):
        run_inline = inline

        def __init__(self) -> None:
            self.threads: set[str] = set()

        def on_llm_new_token(self, token: str, **kwargs: Any) -> None:
            self.threads.add(threading.current_thread().name)

    made: list[Watching] = []

    def factory() -> Watching:
        made.append(Watching())
        return made[-1]

    assistant = make_assistant(plugins={"watch": provider(factory)}, answers=[ANSWER])

    with caplog.at_level(logging.WARNING):
        result = asyncio.run(assistant.achat("count"))

    assert result.answer == ANSWER
    loop_thread = threading.main_thread().name
    assert (made[0].threads == {loop_thread}) is on_loop
    assert made[0].threads
    assert not [r for r in caplog.records if "Context" in r.getMessage()]
