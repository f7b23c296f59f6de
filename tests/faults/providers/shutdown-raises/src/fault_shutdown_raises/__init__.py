"""A provider whose shutdown hook raises."""

from __future__ import annotations

from typing import Final

from fault_kit import note

from ai_assistant import hookimpl

NAME: Final = "shutdown_raises"


@hookimpl
def ai_assistant_shutdown() -> None:
    note(NAME, "shutdown")
    raise RuntimeError("shutdown broke on purpose")
