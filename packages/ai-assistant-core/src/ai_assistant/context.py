"""The data a provider receives about one run and about feedback on it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

__all__ = ["Feedback", "RunContext", "new_run_id"]


def new_run_id() -> uuid.UUID:
    """Return a fresh run id (a random UUID, as LangChain uses)."""
    return uuid.uuid4()


@dataclass(frozen=True, slots=True)
class RunContext:
    """Who and what one run is about; identical for every provider.

    ``run_id`` is the LangChain run id of the run's root, so the ids a
    provider records match what LangChain reports to its handlers.
    """

    run_id: uuid.UUID
    run_name: str
    model_id: str | None = None
    user_id: str | None = None
    conversation_id: str | None = None
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Feedback:
    """A score given to one answer, identified by that answer's run id."""

    run_id: uuid.UUID
    value: float | str
    name: str = "user-feedback"
    comment: str | None = None
    user_id: str | None = None
    conversation_id: str | None = None
    extra: dict[str, object] = field(default_factory=dict)
