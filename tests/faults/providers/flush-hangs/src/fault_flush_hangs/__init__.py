"""A provider whose flush ignores its timeout and never returns."""

from __future__ import annotations

import time
from typing import Final

from fault_kit import note

from ai_assistant import hookimpl

NAME: Final = "flush_hangs"


@hookimpl
def ai_assistant_flush(timeout: float) -> None:
    note(NAME, "flush", timeout=timeout)
    time.sleep(3600)


@hookimpl
def ai_assistant_shutdown(timeout: float) -> None:
    note(NAME, "shutdown", timeout=timeout)
