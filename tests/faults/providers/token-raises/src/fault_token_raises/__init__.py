"""A provider whose handler raises on every streamed token."""

from __future__ import annotations

from typing import Any, Final

from fault_kit import Noting, note
from langchain_core.callbacks import BaseCallbackHandler

from ai_assistant import RunContext, hookimpl

NAME: Final = "token_raises"


class TokenRaiser(Noting):
    """Notes each run, then raises on every token."""

    def on_llm_new_token(self, token: Any, **kwargs: Any) -> None:
        note(NAME, "token")
        raise RuntimeError("token handler broke on purpose")


@hookimpl
def ai_assistant_run_handlers(run: RunContext) -> list[BaseCallbackHandler]:
    return [TokenRaiser(NAME)]
