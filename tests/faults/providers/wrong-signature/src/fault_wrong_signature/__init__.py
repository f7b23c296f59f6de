"""A provider whose start hook asks for an argument no hook passes."""

from __future__ import annotations

from typing import Any

from ai_assistant import hookimpl


@hookimpl
def ai_assistant_start(config: Any, connection: Any) -> None:
    """``connection`` is not an argument of ``ai_assistant_start``."""
