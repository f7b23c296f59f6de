"""A provider with a required setting, a required secret and an optional one.

``webhook`` is declared secret although its name does not look like one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from fault_kit import Noting, note
from langchain_core.callbacks import BaseCallbackHandler

from ai_assistant import RunContext, hookimpl, setting

NAME: Final = "required_secret"


@dataclass
class Settings:
    """The ``callbacks.required_secret`` section."""

    endpoint: str = setting(env="FAULT_SECRET_ENDPOINT")
    token: str = setting(env="FAULT_SECRET_TOKEN", secret=True)
    webhook: str | None = setting(None, env="FAULT_SECRET_WEBHOOK", secret=True)
    retries: int = 3


@hookimpl
def ai_assistant_config_schema() -> type:
    return Settings


@hookimpl
def ai_assistant_start(config: Settings) -> Settings:
    note(NAME, "start", endpoint=config.endpoint, retries=config.retries)
    return config


@hookimpl
def ai_assistant_run_handlers(run: RunContext) -> list[BaseCallbackHandler]:
    return [Noting(NAME)]
