"""Giving any LangChain runnable the active providers.

:func:`run_config` is for LangChain and LangGraph code outside the
assistant: the providers are started on first use, from the same config
file, and flushed and shut down when the interpreter exits.
"""

from __future__ import annotations

import atexit
import threading
from collections.abc import Sequence

from langchain_core.runnables import RunnableConfig

from ai_assistant.assistant import RUN_NAME, TAG, core_metadata, login_name
from ai_assistant.config import load_config
from ai_assistant.context import RunContext, new_run_id
from ai_assistant.host import ProviderHost

__all__ = ["run_config", "shared_host"]

_host: ProviderHost | None = None
_lock = threading.Lock()


def shared_host() -> ProviderHost:
    """Return the process-wide provider host, starting it on first use."""
    global _host  # noqa: PLW0603 - one host per process, by design
    with _lock:
        if _host is None:
            _host = ProviderHost(load_config())
            _host.start()
            atexit.register(_host.close)
        return _host


def run_config(
    *,
    run_name: str | None = None,
    user_id: str | None = None,
    conversation_id: str | None = None,
    model_id: str | None = None,
    tags: Sequence[str] | None = None,
) -> RunnableConfig:
    """Return a ``RunnableConfig`` attaching every active provider to a run.

    Pass it to ``invoke``/``stream`` of any runnable. Each call makes a new
    run id and fresh handlers, so use one call per run.
    """
    host = shared_host()
    run = RunContext(
        run_id=new_run_id(),
        run_name=run_name or RUN_NAME,
        model_id=model_id,
        user_id=user_id or host.config.core.user_id or login_name(),
        conversation_id=conversation_id,
        tags=(TAG, *(tags or ())),
    )
    handlers, metadata = host.run_callbacks(run, core_metadata(run))
    return RunnableConfig(
        callbacks=handlers,
        tags=list(run.tags),
        metadata=metadata,
        run_id=run.run_id,
        run_name=run.run_name,
    )
