"""Notes every hook call it gets: start, runs, metadata, score, flush, shutdown."""

from __future__ import annotations

from typing import Any, Final

from fault_kit import Noting, note
from langchain_core.callbacks import BaseCallbackHandler

from ai_assistant import Feedback, RunContext, hookimpl

NAME: Final = "recorder"


@hookimpl
def ai_assistant_start() -> str:
    note(NAME, "start")
    return NAME


@hookimpl
def ai_assistant_run_handlers(run: RunContext) -> list[BaseCallbackHandler]:
    return [Noting(NAME)]


@hookimpl
def ai_assistant_run_metadata() -> dict[str, Any]:
    return {"recorder_seen": True}


@hookimpl
def ai_assistant_score(feedback: Feedback) -> None:
    note(NAME, "score", run_id=str(feedback.run_id), value=feedback.value)


@hookimpl
def ai_assistant_flush(timeout: float) -> None:
    note(NAME, "flush", timeout=timeout)


@hookimpl
def ai_assistant_shutdown(timeout: float) -> None:
    note(NAME, "shutdown", timeout=timeout)
