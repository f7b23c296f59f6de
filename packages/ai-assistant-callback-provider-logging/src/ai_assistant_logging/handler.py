"""The per-run LangChain handler that turns events into records."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.outputs import LLMResult

from ai_assistant import RunContext
from ai_assistant_logging.sink import EventSink

__all__ = ["EventLogHandler", "usage_of"]


def usage_of(response: LLMResult) -> dict[str, int] | None:
    """Return token usage from a model result, streamed or not.

    Streaming leaves ``llm_output`` empty; the counts then come from the
    message's ``usage_metadata``.
    """
    for generations in response.generations:
        for generation in generations:
            message = getattr(generation, "message", None)
            usage = getattr(message, "usage_metadata", None)
            if usage:
                return {k: v for k, v in dict(usage).items() if isinstance(v, int)}
    raw = (response.llm_output or {}).get("token_usage") or {}
    if isinstance(raw, Mapping) and raw:
        return {
            "input_tokens": int(raw.get("prompt_tokens", 0)),
            "output_tokens": int(raw.get("completion_tokens", 0)),
            "total_tokens": int(raw.get("total_tokens", 0)),
        }
    return None


def _model_of(response: LLMResult) -> str | None:
    for generations in response.generations:
        for generation in generations:
            metadata = getattr(
                getattr(generation, "message", None), "response_metadata", {}
            )
            name = metadata.get("model_name") or metadata.get("model")
            if name:
                return str(name)
    return (response.llm_output or {}).get("model_name")


class EventLogHandler(BaseCallbackHandler):
    """Emits one record per callback event of one assistant run.

    Per-run start times are dropped when a run ends or errors, so a handler
    holds nothing for finished runs.
    """

    run_inline = True

    def __init__(self, sink: EventSink, run: RunContext) -> None:
        self.sink = sink
        self.run = run
        self.began = time.monotonic()
        self._started: dict[UUID, float] = {}

    def _emit(
        self,
        event: str,
        run_id: UUID,
        parent_run_id: UUID | None,
        *,
        level: int = logging.INFO,
        **fields: Any,
    ) -> None:
        if not self.sink.wants(level):
            return  # nobody keeps it (token records at DEBUG, by default)
        now = time.monotonic()
        record: dict[str, Any] = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "event": event,
            "run_id": str(run_id),
            "parent_run_id": str(parent_run_id) if parent_run_id else None,
            "root_run_id": str(self.run.run_id),
            "elapsed_ms": round((now - self.began) * 1000, 3),
            "user_id": self.run.user_id,
            "conversation_id": self.run.conversation_id,
        }
        record.update(
            {key: value for key, value in fields.items() if value is not None}
        )
        self.sink.emit(level, record)

    def _begin(self, run_id: UUID) -> None:
        self._started[run_id] = time.monotonic()

    def _duration(self, run_id: UUID) -> float | None:
        began = self._started.pop(run_id, None)
        return None if began is None else round((time.monotonic() - began) * 1000, 3)

    def _text(self, value: Any) -> Any:
        return value if self.sink.content else None

    def on_chat_model_start(
        self,
        serialized: dict[str, Any],
        messages: list[list[Any]],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        self._begin(run_id)
        model = (metadata or {}).get("ls_model_name") or _name(serialized, kwargs)
        prompt = [[m.content for m in batch] for batch in messages]
        self._emit(
            "chat_model_start",
            run_id,
            parent_run_id,
            name=_name(serialized, kwargs),
            model=model,
            tags=tags,
            messages=sum(len(b) for b in messages),
            content=self._text(prompt),
        )

    def on_llm_start(
        self,
        serialized: dict[str, Any],
        prompts: list[str],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        **kwargs: Any,
    ) -> None:
        self._begin(run_id)
        self._emit(
            "llm_start",
            run_id,
            parent_run_id,
            name=_name(serialized, kwargs),
            tags=tags,
            content=self._text(prompts),
        )

    def on_llm_new_token(
        self,
        token: str,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> None:
        self._emit(
            "llm_new_token",
            run_id,
            parent_run_id,
            level=logging.DEBUG,
            chars=len(token),
            content=self._text(token),
        )

    def on_llm_end(
        self,
        response: LLMResult,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> None:
        text = [[g.text for g in batch] for batch in response.generations]
        self._emit(
            "llm_end",
            run_id,
            parent_run_id,
            duration_ms=self._duration(run_id),
            model=_model_of(response),
            usage=usage_of(response),
            content=self._text(text),
        )

    def on_llm_error(
        self,
        error: BaseException,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> None:
        self._error("llm_error", error, run_id, parent_run_id)

    def on_chain_start(
        self,
        serialized: dict[str, Any] | None,
        inputs: Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        **kwargs: Any,
    ) -> None:
        self._begin(run_id)
        self._emit(
            "chain_start",
            run_id,
            parent_run_id,
            name=_name(serialized, kwargs),
            tags=tags,
            content=self._text(_plain(inputs)),
        )

    def on_chain_end(
        self,
        outputs: Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> None:
        self._emit(
            "chain_end",
            run_id,
            parent_run_id,
            duration_ms=self._duration(run_id),
            content=self._text(_plain(outputs)),
        )

    def on_chain_error(
        self,
        error: BaseException,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> None:
        self._error("chain_error", error, run_id, parent_run_id)

    def on_tool_start(
        self,
        serialized: dict[str, Any] | None,
        input_str: str,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        **kwargs: Any,
    ) -> None:
        self._begin(run_id)
        self._emit(
            "tool_start",
            run_id,
            parent_run_id,
            name=_name(serialized, kwargs),
            tags=tags,
            content=self._text(input_str),
        )

    def on_tool_end(
        self,
        output: Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> None:
        self._emit(
            "tool_end",
            run_id,
            parent_run_id,
            duration_ms=self._duration(run_id),
            content=self._text(_plain(output)),
        )

    def on_tool_error(
        self,
        error: BaseException,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> None:
        self._error("tool_error", error, run_id, parent_run_id)

    def on_retriever_start(
        self,
        serialized: dict[str, Any],
        query: str,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> None:
        self._begin(run_id)
        self._emit(
            "retriever_start",
            run_id,
            parent_run_id,
            name=_name(serialized, kwargs),
            content=self._text(query),
        )

    def on_retriever_end(
        self,
        documents: Sequence[Any],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> None:
        self._emit(
            "retriever_end",
            run_id,
            parent_run_id,
            duration_ms=self._duration(run_id),
            documents=len(documents),
        )

    def on_retriever_error(
        self,
        error: BaseException,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> None:
        self._error("retriever_error", error, run_id, parent_run_id)

    def on_agent_action(
        self,
        action: Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> None:
        self._emit(
            "agent_action", run_id, parent_run_id, tool=getattr(action, "tool", None)
        )

    def on_agent_finish(
        self,
        finish: Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> None:
        self._emit("agent_finish", run_id, parent_run_id)

    def on_retry(
        self,
        retry_state: Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> None:
        self._emit(
            "retry",
            run_id,
            parent_run_id,
            attempt=getattr(retry_state, "attempt_number", None),
        )

    def on_custom_event(
        self,
        name: str,
        data: Any,
        *,
        run_id: UUID,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        self._emit(
            "custom_event", run_id, None, name=name, content=self._text(_plain(data))
        )

    def _error(
        self, event: str, error: BaseException, run_id: UUID, parent_run_id: UUID | None
    ) -> None:
        self._emit(
            event,
            run_id,
            parent_run_id,
            level=logging.WARNING,
            duration_ms=self._duration(run_id),
            error=type(error).__name__,
        )


def _name(
    serialized: Mapping[str, Any] | None, kwargs: Mapping[str, Any]
) -> str | None:
    if kwargs.get("name"):
        return str(kwargs["name"])
    if not serialized:
        return None
    if serialized.get("name"):
        return str(serialized["name"])
    ids = serialized.get("id") or []
    return str(ids[-1]) if ids else None


def _plain(value: Any) -> Any:
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return str(value)
