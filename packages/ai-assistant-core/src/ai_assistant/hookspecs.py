"""The hooks a provider may implement.

Every hook is optional. A callback provider is an importable module (or any
object) whose functions are marked with :data:`ai_assistant.hookimpl` and
named after the specifications below; the core calls each provider's
implementations on their own, so one provider's failure never reaches
another. Arguments may be left out of an implementation's signature: pluggy
passes only the names a function asks for.

``state`` in the per-run, score, flush and shutdown hooks is whatever the
provider's :func:`ai_assistant_start` returned (``None`` if it has no start
hook). Keeping clients on that object, not in module globals, lets several
assistants live in one process.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from langchain_core.callbacks import BaseCallbackHandler
    from langchain_core.language_models import BaseChatModel

    from ai_assistant.context import Feedback, RunContext

__all__ = ["PROJECT", "hookimpl", "hookspec"]

PROJECT = "ai_assistant"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def ai_assistant_config_schema() -> type | None:
    """Return the dataclass describing this provider's config section.

    The core validates the section ``ai_assistant.callbacks.<name>`` against
    it with omegaconf before start-up: unknown keys, wrong types and values
    left ``MISSING`` become one-line errors naming the file, key and
    provider. Declare environment fallbacks and secrets with
    :func:`ai_assistant.setting`. The key ``enabled`` belongs to the core
    and is never passed on.
    """


@hookspec
def ai_assistant_start(config: Any) -> Any:
    """Build the provider's clients from its validated config.

    ``config`` is an instance of the schema dataclass (``None`` when the
    provider declares no schema). Return any object: it is handed back as
    ``state`` to every later hook. Raise
    :class:`ai_assistant.ProviderNotConfigured` to mark the provider
    ``inactive`` with a reason; any other exception marks it ``failed``.
    No network I/O should happen here: the assistant waits for start-up.
    """


@hookspec
def ai_assistant_delivery(state: Any) -> str:
    """Say how this provider's handlers are called: ``"inline"`` or ``"background"``.

    ``"inline"`` (the default, when the hook is absent) calls the handlers on
    the thread that runs the model, which suits handlers that only append to
    memory or hand work to a thread of their own. ``"background"`` is for
    handlers that may block (network, disk): the core then delivers their
    events on a worker thread of the provider's own, in order, through a
    bounded queue that drops (and counts) events rather than make the
    assistant wait; a background handler cannot stop a run.
    """


@hookspec
def ai_assistant_run_handlers(
    state: Any, run: RunContext
) -> Sequence[BaseCallbackHandler]:
    """Return fresh LangChain callback handlers for one run.

    Called once per assistant turn or :func:`ai_assistant.run_config` call.
    Handlers made here see only this run, so per-user and per-conversation
    attributes never leak between concurrent runs.
    """


@hookspec
def ai_assistant_run_metadata(state: Any, run: RunContext) -> Mapping[str, Any]:
    """Return metadata to add to the run's ``RunnableConfig``.

    The core merges every provider's keys with its own; a key another party
    already set is reported and skipped, never overwritten.
    """


@hookspec
def ai_assistant_score(state: Any, feedback: Feedback) -> None:
    """Record a score given to an answer.

    ``feedback.run_id`` is the run id of the answer, the same value the
    provider saw in ``run.run_id``; it may arrive from another process long
    after the run ended.
    """


@hookspec
def ai_assistant_flush(state: Any, timeout: float) -> None:
    """Deliver everything buffered, giving up after ``timeout`` seconds.

    The core also stops waiting at the deadline and warns, naming the
    provider, so a flush that ignores ``timeout`` cannot stall the exit.
    """


@hookspec
def ai_assistant_shutdown(state: Any, timeout: float) -> None:
    """Release clients and threads; called once, after the last flush."""


@hookspec
def ai_assistant_chat_model(
    model_name: str, options: Mapping[str, Any]
) -> BaseChatModel:
    """Return the chat model ``model_name`` of a model provider.

    Model providers are found in the ``ai_assistant.model_providers``
    entry-point group; the model string ``<entry point name>:<model_name>``
    selects one. ``model_name`` is ``""`` when the user asked for the
    provider's default model. ``options`` is ``ai_assistant.model_options``
    from the config. Raise :class:`ai_assistant.ConfigError` for a name the
    provider does not know.
    """
