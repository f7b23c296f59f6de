"""A metadata hook that raises."""

from __future__ import annotations

from typing import Any

from ai_assistant import hookimpl


@hookimpl
def ai_assistant_run_metadata() -> dict[str, Any]:
    raise RuntimeError("metadata broke on purpose")
