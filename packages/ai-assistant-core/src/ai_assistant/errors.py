"""Exceptions the core raises, each carrying a message a user can act on."""

from __future__ import annotations

__all__ = [
    "AssistantError",
    "ConfigError",
    "ProviderError",
    "ProviderNotConfigured",
]


class AssistantError(Exception):
    """Base class: the CLI prints ``str(error)`` as one line and exits 2."""


class ConfigError(AssistantError):
    """The configuration cannot be used: a file, key or value is wrong."""


class ProviderError(AssistantError):
    """One provider failed at a boundary; ``provider`` names it."""

    def __init__(self, provider: str, message: str) -> None:
        super().__init__(f"provider {provider!r}: {message}")
        self.provider = provider
        self.message = message


class ProviderNotConfigured(AssistantError):  # noqa: N818 - reads as a state
    """Raised by a provider's start hook when it has nothing to work with.

    The provider is then listed ``inactive`` with this message as the reason,
    which should say what to set.
    """
