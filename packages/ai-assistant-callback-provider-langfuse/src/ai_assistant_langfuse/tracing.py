"""Where a run's trace lives in Langfuse, and how feedback on it becomes a score.

The trace id of a run is derived from its run id, so a score given later,
even from another process, lands on the run's trace without any lookup.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from ai_assistant import Feedback

__all__ = ["score_arguments", "trace_id_for"]


def trace_id_for(run_id: uuid.UUID | str) -> str:
    """Return the Langfuse trace id of the run ``run_id`` (32 hex digits).

    It is ``Langfuse.create_trace_id(seed=str(run_id))``, so any Langfuse
    SDK can find the trace of an ai-assistant run id.
    """
    from langfuse import Langfuse

    return Langfuse.create_trace_id(seed=str(run_id))


def score_arguments(
    feedback: Feedback, mask: Callable[[Any], Any] = lambda value: value
) -> dict[str, Any]:
    """Return the keyword arguments of ``Langfuse.create_score`` for ``feedback``.

    ``True``/``False`` become a boolean score, other numbers a numeric one,
    and text a categorical one. The comment and metadata pass ``mask``.
    """
    value = feedback.value
    if isinstance(value, bool):
        data_type, value = "BOOLEAN", float(value)
    elif isinstance(value, int | float):
        data_type, value = "NUMERIC", float(value)
    else:
        data_type, value = "CATEGORICAL", str(value)

    details: dict[str, Any] = {
        "ai_assistant_run_id": str(feedback.run_id),
        "user_id": feedback.user_id,
        "conversation_id": feedback.conversation_id,
        **feedback.extra,
    }
    metadata = {key: item for key, item in details.items() if item is not None}
    comment = mask(feedback.comment) if feedback.comment is not None else None
    return {
        "name": feedback.name,
        "value": value,
        "data_type": data_type,
        "trace_id": trace_id_for(feedback.run_id),
        "comment": comment if comment is None else str(comment),
        "metadata": mask(metadata),
    }
