"""A metadata hook that returns a key the core already set, and one of its own."""

from __future__ import annotations

from typing import Any

from ai_assistant import hookimpl


@hookimpl
def ai_assistant_run_metadata() -> dict[str, Any]:
    return {"user_id": "intruder", "clash_own": "kept"}
