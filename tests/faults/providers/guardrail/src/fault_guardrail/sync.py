"""A synchronous guardrail."""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import BaseCallbackHandler

from ai_assistant import hookimpl
from fault_guardrail import PolicyViolationError, forbidden


class Guardrail(BaseCallbackHandler):
    raise_error = True

    def on_chat_model_start(
        self, serialized: Any, messages: list[list[Any]], **kwargs: Any
    ) -> None:
        if forbidden(messages):
            raise PolicyViolationError("blocked by the sync guardrail")


@hookimpl
def ai_assistant_run_handlers() -> list[BaseCallbackHandler]:
    return [Guardrail()]
