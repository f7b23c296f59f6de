"""A provider whose start hook raises."""

from __future__ import annotations

from ai_assistant import hookimpl


@hookimpl
def ai_assistant_start() -> None:
    raise ConnectionError("cannot reach the backend on purpose")
