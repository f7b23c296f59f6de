"""Returns a list holding something that is not a callback handler."""

from __future__ import annotations

from ai_assistant import hookimpl


@hookimpl
def ai_assistant_run_handlers() -> list[object]:
    return [42]
