"""A provider whose handler raises in every event of a run, tools included."""

from __future__ import annotations

from typing import Any, Final

from langchain_core.callbacks import BaseCallbackHandler

from ai_assistant import RunContext, hookimpl

EVENTS: Final = (
    "on_chain_start",
    "on_chain_end",
    "on_chat_model_start",
    "on_llm_new_token",
    "on_llm_end",
    "on_tool_start",
    "on_tool_end",
)


def _raising(event: str) -> Any:
    def handle(self: BaseCallbackHandler, *args: Any, **kwargs: Any) -> None:
        raise RuntimeError(f"{event} broke on purpose")

    handle.__name__ = event
    return handle


EverywhereRaiser = type(
    "EverywhereRaiser",
    (BaseCallbackHandler,),
    {event: _raising(event) for event in EVENTS},
)


@hookimpl
def ai_assistant_run_handlers(run: RunContext) -> list[BaseCallbackHandler]:
    return [EverywhereRaiser()]
