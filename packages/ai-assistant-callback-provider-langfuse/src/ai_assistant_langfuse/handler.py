"""The per-run LangChain handler: Langfuse's own, bound to one run.

Imported when the first run's handlers are made: it loads the Langfuse SDK.
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any
from uuid import UUID

from langfuse import propagate_attributes
from langfuse.langchain import CallbackHandler

from ai_assistant import RunContext
from ai_assistant_langfuse.tracing import trace_id_for

__all__ = ["RunHandler"]


class RunHandler(CallbackHandler):
    """Langfuse's LangChain handler for one run, on the trace of its run id.

    Langfuse sets the trace's user, session and tags from the run metadata
    only when the root run is a chain; when a bare chat model or LLM is the
    root (``model.invoke(..., config=run_config())``), this handler sets
    them on the generation itself, so the trace keeps them either way.
    """

    def __init__(self, public_key: str, run: RunContext) -> None:
        super().__init__(
            public_key=public_key,
            trace_context={"trace_id": trace_id_for(run.run_id)},
        )
        self.run = run

    def on_chat_model_start(
        self, *args: Any, run_id: UUID, parent_run_id: UUID | None = None, **kwargs: Any
    ) -> Any:
        """Start a generation; as the root, with the run's trace attributes."""
        with self._root_attributes(parent_run_id):
            return super().on_chat_model_start(
                *args, run_id=run_id, parent_run_id=parent_run_id, **kwargs
            )

    def on_llm_start(
        self, *args: Any, run_id: UUID, parent_run_id: UUID | None = None, **kwargs: Any
    ) -> Any:
        """Start a generation; as the root, with the run's trace attributes."""
        with self._root_attributes(parent_run_id):
            return super().on_llm_start(
                *args, run_id=run_id, parent_run_id=parent_run_id, **kwargs
            )

    def _root_attributes(self, parent_run_id: UUID | None) -> Any:
        run = self.run
        if parent_run_id is not None:
            return nullcontext()
        return propagate_attributes(
            user_id=run.user_id,
            session_id=run.conversation_id,
            tags=list(run.tags) or None,
        )
