"""The changes the streaming figures call for, applied here to measure them.

Four costs per streamed token come from the core and a provider, not from
LangChain or the providers' backends:

- :class:`Assistant` adds every chunk to the previous ones as it arrives
  (``final = final + chunk``), building and validating a new
  ``AIMessageChunk`` per token. :meth:`ProposedAssistant._run_sync` keeps
  the chunks and builds the final message once, at the end, joining plain
  text instead of merging every chunk (:func:`merge`).
- The turn's state is the root chain's input, and LangChain hands the input
  to ``on_chain_end`` again, by then holding every streamed piece and the
  answer, which the Langfuse handler serialises object by object.
  :meth:`ProposedAssistant.stream` gives the chain the prompt as input and
  keeps the turn in a closure.
- The logging provider builds a record for every token event, then drops it
  because neither its logger nor its file takes DEBUG records.
  :class:`KeptOnlyEventLogHandler` returns before building a record nobody
  keeps.
- The core's guard looks up the provider's method and reads its ``ignore_*``
  flags through properties on every event. :class:`LeanGuardedHandler`
  reads the flags once and binds each event's method once, when the
  handler is wrapped (measured in :mod:`benchmarks.components` only).

Nothing else changes, so the ``proposed`` variants show what these changes
are worth before the core and the provider make them; once they have, this
module and those variants have served their purpose.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any, cast

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import AIMessageChunk

import ai_assistant_logging
from ai_assistant import Assistant, RunContext, hookimpl
from ai_assistant.isolation import EVENTS, IGNORES
from ai_assistant_logging.handler import EventLogHandler
from ai_assistant_logging.sink import EventSink

__all__ = [
    "KeptOnlyEventLogHandler",
    "LeanGuardedHandler",
    "ProposedAssistant",
    "ProposedLogging",
    "merge",
]


def merge(chunks: list[AIMessageChunk]) -> AIMessageChunk | None:
    """Return one generation's chunks as one, doing per chunk only what it needs.

    Text-only chunks are joined as text; only the first chunk and those that
    carry more than text (tool call chunks, usage, metadata, the last-chunk
    mark) go through LangChain's merge. Content that is not plain text is
    merged the usual way.
    """
    if not chunks:
        return None
    if not all(isinstance(chunk.content, str) for chunk in chunks):
        return chunks[0] + chunks[1:] if len(chunks) > 1 else chunks[0]
    text = "".join(cast(str, chunk.content) for chunk in chunks)
    head = chunks[0].model_copy(update={"content": text})
    rest = [
        chunk.model_copy(update={"content": ""})
        for chunk in chunks[1:]
        if _carries_more_than_text(chunk)
    ]
    return head + rest if rest else head


def _carries_more_than_text(chunk: AIMessageChunk) -> bool:
    return bool(
        chunk.tool_call_chunks
        or chunk.usage_metadata
        or chunk.response_metadata
        or chunk.additional_kwargs
        or chunk.chunk_position
    )


class ProposedAssistant(Assistant):
    """The assistant with the turn changes described above.

    :class:`Assistant` has since made them (it joins text once, merges only
    the chunks that carry more than text, and gives the root run the prompt
    as its input), so this is the assistant as it is, and the ``proposed
    assistant`` variants now check that the gap they measured has closed.
    """


class KeptOnlyEventLogHandler(EventLogHandler):
    """:class:`EventLogHandler` that builds only the records it will write."""

    def _emit(
        self,
        event: str,
        run_id: uuid.UUID,
        parent_run_id: uuid.UUID | None,
        *,
        level: int = logging.INFO,
        **fields: Any,
    ) -> None:
        sink = self.sink
        to_file = sink.path is not None and level >= sink.level
        if to_file or sink.logger.isEnabledFor(level):
            super()._emit(event, run_id, parent_run_id, level=level, **fields)


class ProposedLogging:
    """The logging provider, making :class:`KeptOnlyEventLogHandler` handlers."""

    ai_assistant_config_schema = staticmethod(
        ai_assistant_logging.ai_assistant_config_schema
    )
    ai_assistant_start = staticmethod(ai_assistant_logging.ai_assistant_start)
    ai_assistant_flush = staticmethod(ai_assistant_logging.ai_assistant_flush)
    ai_assistant_shutdown = staticmethod(ai_assistant_logging.ai_assistant_shutdown)

    @hookimpl
    def ai_assistant_run_handlers(self, state: EventSink, run: RunContext) -> list[Any]:
        return [KeptOnlyEventLogHandler(state, run)]


class LeanGuardedHandler(BaseCallbackHandler):
    """The core's inline guard with its per-event lookups done once.

    Only failure reporting is kept (no background delivery, no guardrails):
    enough to measure what a guard must cost per event.
    """

    run_inline = True

    def __init__(
        self, inner: BaseCallbackHandler, report: Callable[[str, BaseException], None]
    ) -> None:
        self.inner = inner
        for name in IGNORES:
            setattr(self, name, bool(getattr(inner, name, False)))
        for event in EVENTS:
            setattr(self, event, _guarded(getattr(inner, event), event, report))


def _guarded(
    method: Callable[..., Any],
    event: str,
    report: Callable[[str, BaseException], None],
) -> Callable[..., Any]:
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except NotImplementedError:
            if event == "on_chat_model_start":
                raise
            return None
        except Exception as error:  # noqa: BLE001 - the provider's failure
            report(event, error)
            return None

    return call


for _name in IGNORES:
    # Plain class attributes shadow the base class's properties, so each
    # handler can keep its own flags as instance attributes.
    setattr(LeanGuardedHandler, _name, False)
