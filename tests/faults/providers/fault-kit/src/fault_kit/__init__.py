"""What the fault providers share.

A fault provider leaves notes, one JSON line each, in the file named by
``$FAULT_NOTES``, so a test running the assistant in another process can
read what each provider was asked to do, from which thread, and when.
"""

from __future__ import annotations

import json
import os
import threading
import time
from typing import Any, Final

from langchain_core.callbacks import BaseCallbackHandler

__all__ = ["NOTES_ENV", "Noting", "explode", "hide", "note"]

NOTES_ENV: Final = "FAULT_NOTES"

_lock = threading.Lock()


def note(provider: str, event: str, **fields: Any) -> None:
    """Append one note for ``provider`` to ``$FAULT_NOTES``, if it is set."""
    path = os.environ.get(NOTES_ENV)
    if not path:
        return
    record = {
        "provider": provider,
        "event": event,
        "pid": os.getpid(),
        "thread": threading.current_thread().name,
        "time": time.monotonic(),
        **fields,
    }
    with _lock, open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(record, default=str) + "\n")


class Noting(BaseCallbackHandler):
    """Notes the root run's start (with its metadata), its end and its error."""

    def __init__(self, provider: str) -> None:
        self.provider = provider

    def on_chain_start(
        self, serialized: Any, inputs: Any, *, parent_run_id: Any = None, **kw: Any
    ) -> None:
        if parent_run_id is None:
            note(
                self.provider,
                "run_start",
                run_id=kw.get("run_id"),
                metadata=kw.get("metadata") or {},
            )

    def on_chain_end(
        self, outputs: Any, *, parent_run_id: Any = None, **kw: Any
    ) -> None:
        if parent_run_id is None:
            note(self.provider, "run_end", run_id=kw.get("run_id"))

    def on_chain_error(
        self, error: BaseException, *, parent_run_id: Any = None, **kw: Any
    ) -> None:
        if parent_run_id is None:
            note(self.provider, "run_error", error=type(error).__name__)


def hide(data: Any, **kwargs: Any) -> Any:
    """A masking rule: every string becomes ``<hidden>``."""
    if isinstance(data, str):
        return "<hidden>"
    if isinstance(data, dict):
        return {key: hide(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [hide(value) for value in data]
    return data


def explode(data: Any, **kwargs: Any) -> Any:
    """A masking rule that always raises."""
    raise RuntimeError("masking rule broke on purpose")
