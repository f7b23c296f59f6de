"""ai-assistant provider: every assistant run as a Langfuse trace.

Each run becomes one trace whose root is the assistant turn, with the model
generations, tool calls and retrievals nested beneath it, the user, the
conversation as the Langfuse session, and the run's tags. Feedback becomes
a score on the run's trace. The Langfuse SDK is imported when the provider
starts, not when this module is imported.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ai_assistant import Feedback, ProviderNotConfigured, RunContext, hookimpl
from ai_assistant_langfuse.settings import LangfuseSettings, MaskingSettings, check
from ai_assistant_langfuse.tracing import trace_id_for

if TYPE_CHECKING:
    from langchain_core.callbacks import BaseCallbackHandler

    from ai_assistant_langfuse.state import LangfuseState

__all__ = ["LangfuseSettings", "MaskingSettings", "trace_id_for"]

__version__ = "0.1.0"

logger = logging.getLogger("ai_assistant.langfuse")


@hookimpl
def ai_assistant_config_schema() -> type:
    """Return the ``callbacks.langfuse`` schema."""
    return LangfuseSettings


@hookimpl
def ai_assistant_start(config: LangfuseSettings) -> LangfuseState:
    """Build this provider's own Langfuse client; no request is sent yet.

    Without keys the provider is ``inactive``, and says so once: a tracer
    that is installed and on but sends nothing should not stay silent.
    """
    from ai_assistant_langfuse.state import start

    try:
        settings = check(config)
    except ProviderNotConfigured as reason:
        logger.warning("provider 'langfuse': %s", reason)
        raise
    return start(settings)


@hookimpl
def ai_assistant_run_handlers(
    state: LangfuseState, run: RunContext
) -> Sequence[BaseCallbackHandler]:
    """Return a handler tracing ``run``, or none when its trace is sampled out."""
    from ai_assistant_langfuse.handler import RunHandler

    trace_id = trace_id_for(run.run_id)
    if not state.client.keeps(trace_id):
        logger.info("provider 'langfuse': run %s is sampled out", run.run_id)
        return []
    logger.info("provider 'langfuse': run %s is trace %s", run.run_id, trace_id)
    return [RunHandler(state.client.langfuse, run, trace_id, state.mask)]


@hookimpl
def ai_assistant_score(state: LangfuseState, feedback: Feedback) -> None:
    """Queue a score on the trace of ``feedback.run_id``; sent in the background.

    A run whose trace was sampled out has no trace to score: its feedback
    is left out, the same way in every process.
    """
    from ai_assistant_langfuse.tracing import score_arguments

    arguments = score_arguments(feedback, state.mask)
    if state.client.keeps(arguments["trace_id"]):
        state.client.langfuse.create_score(**arguments)


@hookimpl
def ai_assistant_flush(state: LangfuseState, timeout: float) -> None:
    """Deliver buffered spans and scores within ``timeout`` and ``flush_deadline``."""
    state.flush(timeout)


@hookimpl
def ai_assistant_shutdown(state: LangfuseState, timeout: float) -> None:
    """Flush and close the provider's client within the same deadlines."""
    state.shutdown(timeout)
