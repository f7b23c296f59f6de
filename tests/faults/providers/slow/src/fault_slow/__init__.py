"""A provider whose handler blocks on every token, as network I/O would.

``delivery`` says how the core should call it; ``sleep`` is the time each
token takes; with ``gate`` the first token waits until a test sets
:data:`GATE`; ``factory_sleep`` slows the handler factory down.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any, Final

from fault_kit import note
from langchain_core.callbacks import BaseCallbackHandler

from ai_assistant import RunContext, hookimpl

NAME: Final = "slow"
GATE: Final = threading.Event()


@dataclass
class SlowSettings:
    """The ``callbacks.slow`` section."""

    delivery: str = "background"
    sleep: float = 0.0
    gate: bool = False
    factory_sleep: float = 0.0


@dataclass
class SlowState:
    """The settings and every token the handlers were given, in order."""

    settings: SlowSettings
    seen: list[tuple[str, str]] = field(default_factory=list)


class SlowHandler(BaseCallbackHandler):
    def __init__(self, state: SlowState) -> None:
        self.state = state

    def on_llm_new_token(self, token: Any, **kwargs: Any) -> None:
        if self.state.settings.gate:
            GATE.wait(60)
        time.sleep(self.state.settings.sleep)
        thread = threading.current_thread().name
        self.state.seen.append((thread, str(token)))
        note(NAME, "token", token=token)


@hookimpl
def ai_assistant_config_schema() -> type:
    return SlowSettings


@hookimpl
def ai_assistant_start(config: SlowSettings) -> SlowState:
    return SlowState(config)


@hookimpl
def ai_assistant_delivery(state: SlowState) -> str:
    return state.settings.delivery


@hookimpl
def ai_assistant_run_handlers(
    state: SlowState, run: RunContext
) -> list[BaseCallbackHandler]:
    time.sleep(state.settings.factory_sleep)
    return [SlowHandler(state)]
