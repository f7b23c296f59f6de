"""A provider written for a newer core: it implements ``ai_assistant_run_started``,
a hook this core does not have."""

from __future__ import annotations

from fault_kit import Noting, note
from langchain_core.callbacks import BaseCallbackHandler

from ai_assistant import RunContext, hookimpl


@hookimpl
def ai_assistant_run_started(run: RunContext) -> None:
    note("unknown_hook", "run_started")


@hookimpl
def ai_assistant_run_handlers(run: RunContext) -> list[BaseCallbackHandler]:
    return [Noting("unknown_hook")]
