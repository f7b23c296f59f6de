"""What a started provider holds, and its flush and shutdown within deadlines.

Imported from the start hook only: it loads the Langfuse SDK.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from ai_assistant_langfuse.client import OwnClient, build
from ai_assistant_langfuse.deadline import Worker
from ai_assistant_langfuse.masking import Masker, build_masker
from ai_assistant_langfuse.settings import LangfuseSettings

__all__ = ["LangfuseState", "start"]

# Give up a little before the core's own deadline, so that the warning is
# this provider's, naming its server.
_MARGIN: Final = 0.9


@dataclass(eq=False)
class LangfuseState:
    """What the start hook returns and every later hook receives."""

    client: OwnClient
    settings: LangfuseSettings
    mask: Masker
    worker: Worker = field(default_factory=lambda: Worker("ai-assistant-langfuse"))
    closed: bool = False

    def budget(self, timeout: float) -> float:
        """Return the seconds a flush may take: the core's and our deadline."""
        ours = self.settings.flush_deadline
        given = max(0.0, timeout * _MARGIN)
        return given if ours is None else min(given, ours)

    def flush(self, timeout: float) -> None:
        """Deliver buffered spans and scores, giving up after the budget."""
        budget = self.budget(timeout)
        if not self.worker.run(self.client.flush, budget):
            self.client.report.stalled("flush", budget)

    def shutdown(self, timeout: float) -> None:
        """Flush and stop the client once; a stalled server is not waited for."""
        if self.closed:
            return
        self.closed = True
        budget = self.budget(timeout)
        if not self.worker.run(self.client.shutdown, budget, when_busy=True):
            self.client.report.stalled("shutdown", budget)


def start(settings: LangfuseSettings) -> LangfuseState:
    """Build the masker and the provider's own client for checked ``settings``."""
    mask = build_masker(settings.masking)
    return LangfuseState(build(settings), settings, mask)
