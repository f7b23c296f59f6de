"""ai-assistant provider: every assistant run as a Langfuse trace.

Each run becomes one trace whose root is the assistant turn, with the model
generations and tool calls as its children, the user, the conversation as
the Langfuse session, and the run's tags. Feedback becomes a score on the
run's trace. The Langfuse SDK is imported when the provider starts, not
when this module is imported.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

from ai_assistant import Feedback, RunContext, hookimpl
from ai_assistant_langfuse.settings import LangfuseSettings
from ai_assistant_langfuse.tracing import run_metadata, score_arguments, trace_id_for

if TYPE_CHECKING:
    from langchain_core.callbacks import BaseCallbackHandler

    from ai_assistant_langfuse.client import LangfuseState

__all__ = ["LangfuseSettings", "trace_id_for"]

__version__ = "0.1.0"

logger = logging.getLogger("ai_assistant.langfuse")

PROVIDER: Final = "langfuse"
_MARGIN: Final = 0.9


@hookimpl
def ai_assistant_config_schema() -> type:
    """Return the ``callbacks.langfuse`` schema."""
    return LangfuseSettings


@hookimpl
def ai_assistant_start(config: LangfuseSettings) -> LangfuseState:
    """Build this provider's own Langfuse client; no request is sent yet."""
    from ai_assistant_langfuse.client import acquire
    from ai_assistant_langfuse.settings import check

    return acquire(check(config))


@hookimpl
def ai_assistant_run_handlers(
    state: LangfuseState, run: RunContext
) -> Sequence[BaseCallbackHandler]:
    """Return a fresh Langfuse handler whose trace id derives from the run id."""
    from ai_assistant_langfuse.handler import RunHandler

    return [RunHandler(state.public_key, run)]


@hookimpl
def ai_assistant_run_metadata(run: RunContext) -> dict[str, Any]:
    """Return the keys that set the trace's user, session and tags."""
    return run_metadata(run)


@hookimpl
def ai_assistant_score(state: LangfuseState, feedback: Feedback) -> None:
    """Queue a score on the trace of ``feedback.run_id``; delivered in background."""
    state.client.create_score(**score_arguments(feedback))


@hookimpl
def ai_assistant_flush(state: LangfuseState, timeout: float) -> None:
    """Deliver buffered spans and scores, returning within ``timeout``."""
    if not _within(state.client.flush, timeout, "flush") and _first_stall(state):
        logger.warning(
            "provider %r: flush did not finish within %.3g s; spans and scores not "
            "yet delivered to %s may be lost",
            PROVIDER,
            timeout * _MARGIN,
            state.server,
        )


@hookimpl
def ai_assistant_shutdown(state: LangfuseState, timeout: float) -> None:
    """Release the client, shutting it down if this was its last user."""
    from ai_assistant_langfuse.client import release

    if not _within(release(state), timeout, "shutdown") and _first_stall(state):
        logger.warning(
            "provider %r: shutdown did not finish within %.3g s; data not yet "
            "delivered to %s may be lost",
            PROVIDER,
            timeout * _MARGIN,
            state.server,
        )


def _first_stall(state: LangfuseState) -> bool:
    # A server that stalled the flush usually stalls the shutdown after it;
    # one warning says enough.
    first = not state.stalled
    state.stalled = True
    return first


def _within(action: Any, timeout: float, what: str) -> bool:
    # Give up a little before the core's own deadline, so one warning is
    # logged, with the server it concerns.
    from ai_assistant_langfuse.delivery import run_within

    return run_within(action, timeout * _MARGIN, name=f"ai-assistant-langfuse-{what}")
