"""How one assistant run and the feedback on it map onto a Langfuse trace.

The trace id of a run is derived from its run id, so a score given later,
even from another process, lands on the run's trace without any lookup.
"""

from __future__ import annotations

import uuid
from typing import Any, Final

from ai_assistant import Feedback, RunContext

__all__ = [
    "USER_KEY",
    "SESSION_KEY",
    "TAGS_KEY",
    "run_metadata",
    "score_arguments",
    "trace_id_for",
]

# The run metadata keys Langfuse's LangChain handler reads at the root run.
USER_KEY: Final = "langfuse_user_id"
SESSION_KEY: Final = "langfuse_session_id"
TAGS_KEY: Final = "langfuse_tags"


def trace_id_for(run_id: uuid.UUID | str) -> str:
    """Return the Langfuse trace id of the run ``run_id`` (32 hex digits).

    It is ``Langfuse.create_trace_id(seed=str(run_id))``, so any Langfuse
    SDK can find the trace of an ai-assistant run id.
    """
    from langfuse import Langfuse

    return Langfuse.create_trace_id(seed=str(run_id))


def run_metadata(run: RunContext) -> dict[str, Any]:
    """Return the metadata that makes Langfuse set the trace's user, session, tags.

    The session is the run's conversation, so a conversation's turns group
    together in Langfuse's sessions view.
    """
    metadata: dict[str, Any] = {}
    if run.user_id:
        metadata[USER_KEY] = run.user_id
    if run.conversation_id:
        metadata[SESSION_KEY] = run.conversation_id
    if run.tags:
        metadata[TAGS_KEY] = list(run.tags)
    return metadata


def score_arguments(feedback: Feedback) -> dict[str, Any]:
    """Return the keyword arguments of ``Langfuse.create_score`` for ``feedback``.

    ``True``/``False`` become a boolean score, other numbers a numeric one,
    and text a categorical one.
    """
    value = feedback.value
    if isinstance(value, bool):
        data_type, value = "BOOLEAN", float(value)
    elif isinstance(value, int | float):
        data_type, value = "NUMERIC", float(value)
    else:
        data_type, value = "CATEGORICAL", str(value)

    details: dict[str, Any] = {
        "user_id": feedback.user_id,
        "conversation_id": feedback.conversation_id,
        **feedback.extra,
    }
    metadata = {key: item for key, item in details.items() if item is not None}
    return {
        "name": feedback.name,
        "value": value,
        "data_type": data_type,
        "trace_id": trace_id_for(feedback.run_id),
        "comment": feedback.comment,
        "metadata": metadata or None,
    }
