"""A provider whose score hook raises."""

from __future__ import annotations

from ai_assistant import Feedback, hookimpl


@hookimpl
def ai_assistant_score(feedback: Feedback) -> None:
    raise ConnectionError("scores endpoint refused on purpose")
