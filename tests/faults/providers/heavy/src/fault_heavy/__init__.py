"""A provider that imports something heavy at module load, and says so."""

from __future__ import annotations

import time
from typing import Final

from fault_kit import Noting, note
from langchain_core.callbacks import BaseCallbackHandler

from ai_assistant import RunContext, hookimpl

NAME: Final = "heavy"

note(NAME, "import")
time.sleep(0.2)  # stands in for a library that takes long to import


@hookimpl
def ai_assistant_run_handlers(run: RunContext) -> list[BaseCallbackHandler]:
    return [Noting(NAME)]
