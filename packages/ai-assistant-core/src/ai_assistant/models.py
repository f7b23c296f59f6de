"""Turning a model string into a LangChain chat model.

``<provider>:<name>`` picks a model provider from the
``ai_assistant.model_providers`` entry-point group when one has that name;
any other string goes to LangChain's ``init_chat_model`` (``openai:gpt-4o``,
``ollama:llama3``), which needs that integration's package installed. With
no model configured, the installed model provider is used (``llamacpp``
first when several are installed).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final, cast

import pluggy

from ai_assistant import hookspecs
from ai_assistant.discovery import MODEL_GROUP, ProviderSpec, discover
from ai_assistant.errors import ConfigError

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

__all__ = ["DEFAULT_MODEL_PROVIDER", "default_model_id", "resolve_model"]

DEFAULT_MODEL_PROVIDER: Final = "llamacpp"


def default_model_id(specs: list[ProviderSpec] | None = None) -> str:
    """Return the model string used when the config names none."""
    if specs is None:
        specs, _ = discover(MODEL_GROUP)
    names = [spec.name for spec in specs]
    if not names:
        raise ConfigError(
            "no model configured and no model provider installed; set "
            "ai_assistant.model (for example openai:gpt-4o-mini) or install "
            "ai-assistant-model-provider-llamacpp"
        )
    chosen = DEFAULT_MODEL_PROVIDER if DEFAULT_MODEL_PROVIDER in names else names[0]
    return f"{chosen}:"


def resolve_model(
    model_id: str | None, options: Mapping[str, Any] | None = None
) -> tuple[str, BaseChatModel]:
    """Return ``(model string, chat model)`` for ``model_id``.

    Raises :class:`ConfigError` for a string no model provider and no
    installed LangChain integration understands.
    """
    specs, _ = discover(MODEL_GROUP)
    model_id = model_id or default_model_id(specs)
    prefix, sep, name = model_id.partition(":")
    by_name = {spec.name: spec for spec in specs}
    if not sep and model_id in by_name:
        model_id, sep = f"{model_id}:", ":"  # a bare provider name: its default
    if sep and prefix in by_name:
        return model_id, _from_provider(by_name[prefix], name, dict(options or {}))
    return model_id, _from_langchain(model_id, dict(options or {}))


def _from_provider(
    spec: ProviderSpec, name: str, options: dict[str, Any]
) -> BaseChatModel:
    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)
    try:
        manager.register(spec.load(), name=spec.name)
    except ConfigError:
        raise
    except Exception as error:  # noqa: BLE001 - report the provider by name
        raise ConfigError(
            f"model provider {spec.name!r} ({spec.distribution}) cannot be loaded: "
            f"{type(error).__name__}: {error}"
        ) from None
    model = manager.hook.ai_assistant_chat_model(model_name=name, options=options)
    if isinstance(model, list):
        model = model[0] if model else None
    if model is None:
        raise ConfigError(
            f"model provider {spec.name!r} returned no model for {name!r}"
        )
    return model  # type: ignore[no-any-return]


def _from_langchain(model_id: str, options: dict[str, Any]) -> BaseChatModel:
    try:
        from langchain.chat_models import init_chat_model
    except ImportError:
        raise ConfigError(
            f"unknown model {model_id!r}: no model provider has that prefix, and "
            "LangChain's init_chat_model needs the 'langchain' package "
            "(pip install langchain langchain-openai, for example)"
        ) from None
    try:
        return cast("BaseChatModel", init_chat_model(model_id, **options))
    except (ImportError, ValueError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise ConfigError(f"unknown model {model_id!r}: {first}") from None
