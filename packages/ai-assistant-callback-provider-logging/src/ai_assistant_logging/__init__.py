"""ai-assistant provider: callback events as structured log records.

Every LangChain callback event of a run becomes one record on the logger
``ai_assistant.events`` (token events at DEBUG, the rest at INFO), and one
JSON line in a file: ``path``, or ``events.jsonl`` in the user log
directory when ``path`` is unset; ``file: false`` keeps to the logger.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ai_assistant import RunContext, hookimpl, setting
from ai_assistant_logging.sink import EventSink, default_path

__all__ = ["LoggingSettings"]


@dataclass
class LoggingSettings:
    """The ``callbacks.logging`` section."""

    file: bool = True
    path: str | None = setting(None, env="AI_ASSISTANT_EVENTS_PATH")
    level: str = "INFO"
    content: bool = False


@hookimpl
def ai_assistant_config_schema() -> type:
    return LoggingSettings


@hookimpl
def ai_assistant_start(config: LoggingSettings) -> EventSink:
    path = (config.path or default_path()) if config.file else None
    return EventSink(path=path, level=config.level, content=config.content)


@hookimpl
def ai_assistant_run_handlers(state: EventSink, run: RunContext) -> list[Any]:
    from ai_assistant_logging.handler import EventLogHandler

    return [EventLogHandler(state, run)]


@hookimpl
def ai_assistant_flush(state: EventSink) -> None:
    state.flush()


@hookimpl
def ai_assistant_shutdown(state: EventSink) -> None:
    state.close()
