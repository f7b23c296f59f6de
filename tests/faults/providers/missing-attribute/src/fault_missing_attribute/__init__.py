"""A valid provider module; its entry point names ``nothing``, which is not here."""

from __future__ import annotations

from fault_kit import Noting
from langchain_core.callbacks import BaseCallbackHandler

from ai_assistant import RunContext, hookimpl


@hookimpl
def ai_assistant_run_handlers(run: RunContext) -> list[BaseCallbackHandler]:
    return [Noting("missing_attribute")]
