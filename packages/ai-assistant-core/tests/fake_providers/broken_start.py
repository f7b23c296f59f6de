"""A provider whose start hook raises."""

from ai_assistant import hookimpl


@hookimpl
def ai_assistant_start():
    raise ValueError("cannot reach the backend on purpose")
