"""Example ai-assistant provider: time to first token, per run."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler

from ai_assistant import RunContext, hookimpl, setting

logger = logging.getLogger("ai_assistant.first_token")


@dataclass
class Settings:
    """The ``callbacks.first_token`` section."""

    warn_after: float = setting(5.0, env="FIRST_TOKEN_WARN_AFTER")


class FirstToken(BaseCallbackHandler):
    """Records when the run's first model call started and first streamed."""

    run_inline = True

    def __init__(self, settings: Settings, run: RunContext) -> None:
        self.settings = settings
        self.run = run
        self.started: float | None = None
        self.seconds: float | None = None

    def on_chat_model_start(self, serialized: Any, messages: Any, **kw: Any) -> None:
        if self.started is None:
            self.started = time.monotonic()

    def on_llm_new_token(self, token: str, *, run_id: UUID, **kw: Any) -> None:
        if self.seconds is None and self.started is not None:
            self.seconds = time.monotonic() - self.started
            level = (
                logging.WARNING
                if self.seconds > self.settings.warn_after
                else logging.INFO
            )
            logger.log(
                level,
                "run %s: first token after %.3f s",
                self.run.run_id,
                self.seconds,
            )


@hookimpl
def ai_assistant_config_schema() -> type:
    return Settings


@hookimpl
def ai_assistant_start(config: Settings) -> Settings:
    return config


@hookimpl
def ai_assistant_run_handlers(state: Settings, run: RunContext) -> list[Any]:
    return [FirstToken(state, run)]
