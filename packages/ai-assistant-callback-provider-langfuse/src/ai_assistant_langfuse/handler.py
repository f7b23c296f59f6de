"""The per-run LangChain handler: each LangChain run becomes a Langfuse observation.

One handler serves one assistant run. Its runs nest as LangChain reports
them (the turn, each generation, tool and retriever, and whatever a tool
calls), all on the trace whose id derives from the run id, and every
observation carries the run's user, session, tags and name, whichever run
is the root. The handler talks to the provider's own Langfuse client only,
changes no OpenTelemetry context that outlives one event, and keeps state
for runs still open: a run that ends, fails or is abandoned is let go.

Imported when the first run's handlers are made: it loads the Langfuse SDK.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import ToolMessage
from langchain_core.outputs import LLMResult
from langfuse import Langfuse, propagate_attributes
from opentelemetry import context as otel_context

from ai_assistant import RunContext
from ai_assistant_langfuse.convert import (
    describe_error,
    generation_output,
    model_parameters,
    plain,
    requested_model,
    response_model,
    run_name,
    usage,
)
from ai_assistant_langfuse.masking import Masker

__all__ = ["RunHandler"]

logger = logging.getLogger("ai_assistant.langfuse")

# A run stopped by its caller (a closed stream, a cancelled task, Ctrl-C)
# is marked as a warning: nothing failed.
_CANCELLED: Final = (GeneratorExit, asyncio.CancelledError, KeyboardInterrupt)
# Metadata LangChain adds about itself: ``ls_*`` repeats what a generation
# records as fields, ``lc_*`` describes LangChain rather than the run.
_LANGCHAIN_KEYS: Final = ("ls_", "lc_")
# Langfuse drops (and warns about) trace attributes longer than this.
_MAX_ATTRIBUTE: Final = 200


@dataclass(slots=True)
class _Open:
    """A LangChain run whose observation has not ended yet."""

    observation: Any
    answering: bool = False


class RunHandler(BaseCallbackHandler):
    """Records one assistant run as one Langfuse trace.

    The assistant's own turn (the root run, when the run has a model id) is
    an agent observation; other chains are chains, or agents when their
    name says so. Every value sent is first made plain data and masked.
    """

    def __init__(
        self, client: Langfuse, run: RunContext, trace_id: str, mask: Masker
    ) -> None:
        self._client = client
        self._run = run
        self._trace = _trace_attributes_of(run)
        self._trace_id = trace_id
        self._mask = mask
        self._open: dict[UUID, _Open] = {}
        # A run abandoned without an end or error event (a stream dropped
        # while its generator stays suspended) ends when its handler goes.
        finalizer = weakref.finalize(self, _end_abandoned, self._open)
        finalizer.atexit = False

    def on_chain_start(
        self,
        serialized: dict[str, Any] | None,
        inputs: Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """Start a chain (or agent) observation."""
        name = run_name(serialized, kwargs)
        as_type = self._chain_type(run_id, name, serialized)
        self._start(run_id, parent_run_id, name, as_type, inputs, metadata)

    def on_chain_end(
        self, outputs: Any, *, run_id: UUID, inputs: Any = None, **kwargs: Any
    ) -> None:
        """End a chain observation with its outputs.

        A streamed chain's input is known only at its end; LangChain passes
        it then, and it replaces the empty input given at the start.
        """
        fields = {"output": self._masked(outputs)}
        if inputs is not None:
            fields["input"] = self._masked(inputs)
        self._end(run_id, **fields)

    def on_chain_error(
        self, error: BaseException, *, run_id: UUID, **kwargs: Any
    ) -> None:
        """End a chain observation as failed or cancelled."""
        self._fail(run_id, error)

    def on_chat_model_start(
        self,
        serialized: dict[str, Any] | None,
        messages: list[list[Any]],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """Start a generation with the messages sent to the model."""
        sent = [message for batch in messages for message in batch]
        self._start_generation(
            run_id, parent_run_id, serialized, sent, metadata, kwargs
        )

    def on_llm_start(
        self,
        serialized: dict[str, Any] | None,
        prompts: list[str],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """Start a generation with the prompts sent to a completion model."""
        sent = prompts[0] if len(prompts) == 1 else prompts
        self._start_generation(
            run_id, parent_run_id, serialized, sent, metadata, kwargs
        )

    def on_llm_new_token(self, token: Any, *, run_id: UUID, **kwargs: Any) -> None:
        """Record when the first token of a generation arrived."""
        opened = self._open.get(run_id)
        if opened is None or opened.answering:
            return
        opened.answering = True
        opened.observation.update(completion_start_time=datetime.now(UTC))

    def on_llm_end(self, response: LLMResult, *, run_id: UUID, **kwargs: Any) -> None:
        """End a generation with its answer, token usage and answering model."""
        fields: dict[str, Any] = {
            "output": self._masked(generation_output(response)),
            "usage_details": usage(response),
        }
        model = response_model(response)
        if model:
            fields["model"] = model
        self._end(run_id, **fields)

    def on_llm_error(
        self, error: BaseException, *, run_id: UUID, **kwargs: Any
    ) -> None:
        """End a generation as failed or cancelled."""
        self._fail(run_id, error)

    def on_tool_start(
        self,
        serialized: dict[str, Any] | None,
        input_str: str,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        metadata: dict[str, Any] | None = None,
        inputs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """Start a tool observation with the tool's arguments."""
        arguments = inputs if inputs is not None else input_str
        name = run_name(serialized, kwargs)
        self._start(run_id, parent_run_id, name, "tool", arguments, metadata)

    def on_tool_end(self, output: Any, *, run_id: UUID, **kwargs: Any) -> None:
        """End a tool observation; a tool message with error status is an error."""
        fields: dict[str, Any] = {"output": self._masked(output)}
        if isinstance(output, ToolMessage) and output.status == "error":
            fields["level"] = "ERROR"
            fields["status_message"] = self._mask.text(str(output.content))
        self._end(run_id, **fields)

    def on_tool_error(
        self, error: BaseException, *, run_id: UUID, **kwargs: Any
    ) -> None:
        """End a tool observation as failed or cancelled."""
        self._fail(run_id, error)

    def on_retriever_start(
        self,
        serialized: dict[str, Any] | None,
        query: str,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """Start a retriever observation with its query."""
        name = run_name(serialized, kwargs)
        self._start(run_id, parent_run_id, name, "retriever", query, metadata)

    def on_retriever_end(self, documents: Any, *, run_id: UUID, **kwargs: Any) -> None:
        """End a retriever observation with the documents found."""
        self._end(run_id, output=self._masked(documents))

    def on_retriever_error(
        self, error: BaseException, *, run_id: UUID, **kwargs: Any
    ) -> None:
        """End a retriever observation as failed or cancelled."""
        self._fail(run_id, error)

    def _start_generation(
        self,
        run_id: UUID,
        parent_run_id: UUID | None,
        serialized: dict[str, Any] | None,
        sent: Any,
        metadata: dict[str, Any] | None,
        kwargs: dict[str, Any],
    ) -> None:
        params = kwargs.get("invocation_params")
        self._start(
            run_id,
            parent_run_id,
            run_name(serialized, kwargs),
            "generation",
            sent,
            metadata,
            model=requested_model(serialized, metadata, params),
            model_parameters=model_parameters(params) or None,
        )

    def _start(
        self,
        run_id: UUID,
        parent_run_id: UUID | None,
        name: str,
        as_type: str,
        sent: Any,
        metadata: Mapping[str, Any] | None,
        **fields: Any,
    ) -> None:
        fields["input"] = self._masked(sent)
        fields["metadata"] = self._masked(_run_metadata(metadata))
        parent = self._open.get(parent_run_id) if parent_run_id else None
        start: Any
        if parent is None:
            start = self._client.start_observation
            fields["trace_context"] = {"trace_id": self._trace_id}
        else:
            start = parent.observation.start_observation
        with _trace_attributes(self._trace):
            observation = start(name=name, as_type=as_type, **fields)
        self._open[run_id] = _Open(observation)

    def _end(self, run_id: UUID, **fields: Any) -> None:
        opened = self._open.pop(run_id, None)
        if opened is not None:
            opened.observation.update(**fields).end()

    def _fail(self, run_id: UUID, error: BaseException) -> None:
        opened = self._open.pop(run_id, None)
        if opened is None:
            return
        if isinstance(error, _CANCELLED):
            level, message = "WARNING", f"cancelled ({type(error).__name__})"
        else:
            level, message = "ERROR", self._mask.text(describe_error(error))
        opened.observation.update(level=level, status_message=message).end()

    def _masked(self, value: Any) -> Any:
        return self._mask(plain(value))

    def _chain_type(
        self, run_id: UUID, name: str, serialized: dict[str, Any] | None
    ) -> str:
        if run_id == self._run.run_id and self._run.model_id:
            return "agent"
        path = (serialized or {}).get("id") or []
        if "agent" in name.lower() or any("agent" in str(p).lower() for p in path):
            return "agent"
        return "chain"


def _run_metadata(metadata: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not metadata:
        return None
    kept = {
        key: value
        for key, value in metadata.items()
        if not str(key).startswith(_LANGCHAIN_KEYS)
    }
    return kept or None


def _trace_attributes_of(run: RunContext) -> dict[str, Any]:
    """Return the run's user, session, tags and name as Langfuse takes them."""

    def fits(value: str | None) -> bool:
        return value is not None and len(value) <= _MAX_ATTRIBUTE

    tags = [tag for tag in run.tags if fits(tag)]
    attributes = {
        "user_id": run.user_id,
        "session_id": run.conversation_id,
        "trace_name": run.run_name,
    }
    kept: dict[str, Any] = {k: v for k, v in attributes.items() if fits(v)}
    if tags:
        kept["tags"] = tags
    return kept


@contextmanager
def _trace_attributes(attributes: dict[str, Any]) -> Iterator[None]:
    """Give an observation started here the run's trace attributes.

    It starts from an empty OpenTelemetry context, so that nothing of the
    caller's (an active span of another tracer, attributes it propagates)
    reaches the observation, and ends before the event returns, so that
    nothing of the run's reaches the caller's code.
    """
    token = otel_context.attach(otel_context.Context())
    try:
        with propagate_attributes(**attributes):
            yield
    finally:
        otel_context.detach(token)


def _end_abandoned(open_runs: dict[UUID, _Open]) -> None:
    for opened in list(open_runs.values()):
        try:
            opened.observation.update(
                level="WARNING", status_message="abandoned before it ended"
            ).end()
        except Exception as error:  # noqa: BLE001 - a finalizer must not raise
            logger.debug("provider 'langfuse': ending an abandoned run: %s", error)
    open_runs.clear()
