"""ai-assistant: a LangChain assistant whose callback providers are plugins.

Provider authors need :data:`hookimpl`, :func:`setting` and the types in
:mod:`ai_assistant.context`; users of the Python API need
:class:`Assistant` and :func:`run_config`. Importing this package is cheap:
LangChain, omegaconf and providers load when first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ai_assistant.context import Feedback, RunContext
from ai_assistant.errors import (
    AssistantError,
    ConfigError,
    ProviderError,
    ProviderNotConfigured,
)
from ai_assistant.hookspecs import hookimpl

if TYPE_CHECKING:
    from ai_assistant.assistant import Assistant, ChatResult, ChatStream
    from ai_assistant.config import Config, load_config
    from ai_assistant.runconfig import run_config
    from ai_assistant.settings import MISSING, setting

__all__ = [
    "MISSING",
    "Assistant",
    "AssistantError",
    "ChatResult",
    "ChatStream",
    "Config",
    "ConfigError",
    "Feedback",
    "ProviderError",
    "ProviderNotConfigured",
    "RunContext",
    "__version__",
    "hookimpl",
    "load_config",
    "run_config",
    "setting",
]

__version__ = "0.1.0"

_LAZY = {
    "Assistant": "ai_assistant.assistant",
    "ChatResult": "ai_assistant.assistant",
    "ChatStream": "ai_assistant.assistant",
    "Config": "ai_assistant.config",
    "load_config": "ai_assistant.config",
    "run_config": "ai_assistant.runconfig",
    "MISSING": "ai_assistant.settings",
    "setting": "ai_assistant.settings",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'ai_assistant' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
