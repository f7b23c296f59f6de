"""Keeping each provider's handlers from breaking or stalling a run.

Every handler a provider returns is wrapped before LangChain sees it:

- :class:`GuardedHandler` calls the provider's handler and catches what it
  raises; the failure is counted and reported once per provider and event,
  and the run goes on. A handler with ``raise_error = True`` (a guardrail)
  is let through and stops the run, as LangChain promises.
- With :class:`Courier`, a provider that declared its handlers may block
  gets its events on a worker thread of its own, in order, through a
  bounded queue. A full queue drops the event and counts it; the caller
  never waits.

In async runs, a guard is called on the event loop only when the
provider's handler is async, declared quick (``run_inline = True``) or
delivered in the background; any other synchronous handler is called on
LangChain's worker threads, so it cannot hold the event loop.
"""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from collections.abc import Callable
from typing import Any, Final

from langchain_core.callbacks import AsyncCallbackHandler, BaseCallbackHandler

__all__ = [
    "EVENTS",
    "IGNORES",
    "AsyncGuardedHandler",
    "Courier",
    "GuardedHandler",
    "guard",
]

Report = Callable[[str, BaseException], None]

EVENTS: Final = (
    "on_llm_start",
    "on_chat_model_start",
    "on_llm_new_token",
    "on_llm_end",
    "on_llm_error",
    "on_chain_start",
    "on_chain_end",
    "on_chain_error",
    "on_tool_start",
    "on_tool_end",
    "on_tool_error",
    "on_text",
    "on_retry",
    "on_agent_action",
    "on_agent_finish",
    "on_retriever_start",
    "on_retriever_end",
    "on_retriever_error",
    "on_custom_event",
)
IGNORES: Final = (
    "ignore_llm",
    "ignore_chat_model",
    "ignore_chain",
    "ignore_agent",
    "ignore_retriever",
    "ignore_retry",
    "ignore_custom_event",
)
_STOP: Final = object()
# Interrupts and task cancellation belong to the user, never to a provider.
PASSING: Final = (KeyboardInterrupt, asyncio.CancelledError)


class Courier:
    """Delivers one provider's events on its own thread, in order.

    ``send`` never blocks: when ``capacity`` events are already waiting, the
    new one is dropped and ``report`` is told. The worker starts on the
    first event.
    """

    def __init__(self, name: str, report: Report, capacity: int = 10_000) -> None:
        self.name = name
        self.report = report
        self.dropped = 0
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=capacity)
        self._worker: threading.Thread | None = None
        self._lock = threading.Lock()

    def send(
        self, method: Callable[..., Any], event: str, args: Any, kwargs: Any
    ) -> None:
        """Queue one call of ``method``; drop it if the queue is full."""
        self._ensure_worker()
        try:
            self._queue.put_nowait((method, event, args, kwargs))
        except queue.Full:
            self.dropped += 1
            self.report("dropped", OverflowError(f"event queue full; {event} dropped"))

    def _ensure_worker(self) -> None:
        if self._worker is not None:
            return
        with self._lock:
            if self._worker is None:
                self._worker = threading.Thread(
                    target=self._run, name=f"ai-assistant-{self.name}", daemon=True
                )
                self._worker.start()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is _STOP:
                    return
                method, event, args, kwargs = item
                try:
                    method(*args, **kwargs)
                except BaseException as error:  # noqa: BLE001 - the provider's failure
                    self.report(event, error)
            finally:
                self._queue.task_done()

    def drain(self, timeout: float) -> bool:
        """Wait until every queued event is delivered; ``False`` at the deadline."""
        end = time.monotonic() + timeout
        with self._queue.all_tasks_done:
            while self._queue.unfinished_tasks:
                left = end - time.monotonic()
                if left <= 0:
                    return False
                self._queue.all_tasks_done.wait(left)
        return True

    def stop(self, timeout: float) -> None:
        """Deliver what is queued (until ``timeout``), then end the worker."""
        if self._worker is None:
            return
        try:
            self._queue.put(_STOP, timeout=max(timeout, 0.01))
        except queue.Full:
            return
        self._worker.join(timeout)


class GuardedHandler(BaseCallbackHandler):
    """Wraps a provider's synchronous handler; see the module docstring."""

    def __init__(
        self, inner: BaseCallbackHandler, report: Report, courier: Courier | None = None
    ) -> None:
        self.inner = inner
        self._report = report
        self._courier = courier
        # In async runs LangChain calls a handler that is not run_inline on a
        # worker thread, so a synchronous handler cannot hold the event loop
        # unless its author declared it quick (run_inline = True). Queuing
        # for background delivery never blocks, so it always runs inline.
        self.run_inline = courier is not None or bool(
            getattr(inner, "run_inline", False)
        )
        _copy_ignores(self, inner, report)

    @property
    def raise_error(self) -> bool:  # type: ignore[override]
        """Follow the provider's handler: a guardrail may stop the run."""
        return bool(getattr(self.inner, "raise_error", False)) and self._courier is None

    def __repr__(self) -> str:
        return f"GuardedHandler({self.inner!r})"


class AsyncGuardedHandler(AsyncCallbackHandler):
    """Wraps a provider's ``AsyncCallbackHandler``; failures as above."""

    run_inline = True

    def __init__(self, inner: AsyncCallbackHandler, report: Report) -> None:
        self.inner = inner
        self._report = report
        _copy_ignores(self, inner, report)

    @property
    def raise_error(self) -> bool:  # type: ignore[override]
        """Follow the provider's handler: a guardrail may stop the run."""
        return bool(getattr(self.inner, "raise_error", False))

    def __repr__(self) -> str:
        return f"AsyncGuardedHandler({self.inner!r})"


def _sync_event(event: str) -> Callable[..., Any]:
    def forward(self: GuardedHandler, *args: Any, **kwargs: Any) -> Any:
        method = getattr(self.inner, event)
        if self._courier is not None:
            if event == "on_chat_model_start" and not _implements_chat_start(
                self.inner
            ):
                raise NotImplementedError  # LangChain falls back to on_llm_start
            self._courier.send(method, event, args, kwargs)
            return None
        try:
            return method(*args, **kwargs)
        except NotImplementedError:
            if event == "on_chat_model_start":
                raise  # LangChain falls back to on_llm_start
            return None
        except PASSING:
            raise
        except BaseException as error:
            if self.raise_error:
                raise
            self._report(event, error)
            return None

    forward.__name__ = event
    return forward


def _async_event(event: str) -> Callable[..., Any]:
    async def forward(self: AsyncGuardedHandler, *args: Any, **kwargs: Any) -> Any:
        try:
            return await getattr(self.inner, event)(*args, **kwargs)
        except NotImplementedError:
            if event == "on_chat_model_start":
                raise
            return None
        except PASSING:
            raise
        except BaseException as error:
            if self.raise_error:
                raise
            self._report(event, error)
            return None

    forward.__name__ = event
    return forward


def _copy_ignores(guard: BaseCallbackHandler, inner: Any, report: Report) -> None:
    """Read the inner handler's ``ignore_*`` flags once, at wrapping time.

    LangChain reads a flag on every event; reading the provider's property
    through the guard each time costs more than the rest of the guard.
    """
    for name in IGNORES:
        try:
            value = bool(getattr(inner, name, False))
        except Exception as error:  # noqa: BLE001 - a broken property is the provider's
            report(name, error)
            value = False
        guard.__dict__[name] = value


def _implements_chat_start(handler: BaseCallbackHandler) -> bool:
    own = getattr(type(handler), "on_chat_model_start", None)
    return own is not None and own is not BaseCallbackHandler.on_chat_model_start


for _event in EVENTS:
    setattr(GuardedHandler, _event, _sync_event(_event))
    setattr(AsyncGuardedHandler, _event, _async_event(_event))
for _name in IGNORES:
    # Plain attributes, set per instance by _copy_ignores.
    setattr(GuardedHandler, _name, False)
    setattr(AsyncGuardedHandler, _name, False)


def guard(
    handler: BaseCallbackHandler, report: Report, courier: Courier | None = None
) -> BaseCallbackHandler:
    """Wrap ``handler`` so its failures are reported instead of raised.

    ``courier``, when given, moves a synchronous handler's events to the
    provider's worker thread.
    """
    if isinstance(handler, AsyncCallbackHandler):
        return AsyncGuardedHandler(handler, report)
    return GuardedHandler(handler, report, courier)
