"""Errors the llama.cpp provider raises while turning config into a model.

Both are :class:`ai_assistant.ConfigError` subclasses, so the assistant
reports them as one line and exits; the message says what to change.
"""

from __future__ import annotations

from ai_assistant import ConfigError

__all__ = ["ModelFileNotFoundError", "ModelOptionError"]


class ModelFileNotFoundError(ConfigError):
    """The GGUF file a model name points at does not exist."""


class ModelOptionError(ConfigError):
    """An entry of ``ai_assistant.model_options`` is unknown or invalid."""
