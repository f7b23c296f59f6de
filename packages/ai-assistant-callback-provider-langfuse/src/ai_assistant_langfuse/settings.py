"""The ``callbacks.langfuse`` section: keys, server and export tuning."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from typing import Final
from urllib.parse import urlsplit

from ai_assistant import ConfigError, setting
from ai_assistant.settings import REDACTED

__all__ = ["DEFAULT_BASE_URL", "LangfuseSettings", "check"]

DEFAULT_BASE_URL: Final = "https://cloud.langfuse.com"
SECTION: Final = "callbacks.langfuse"

_ENVIRONMENT: Final = re.compile(r"^(?!langfuse)[a-z0-9_-]+$")
_SECRET_PREFIX: Final = "sk-lf-"


@dataclass
class LangfuseSettings:
    """The ``callbacks.langfuse`` section.

    The two keys are required; without them (and without their environment
    variables) the provider stays ``inactive``. ``None`` leaves a value to
    the Langfuse SDK's own default.
    """

    public_key: str = setting(env="LANGFUSE_PUBLIC_KEY")
    secret_key: str = setting(env="LANGFUSE_SECRET_KEY", secret=True)
    base_url: str = setting(
        DEFAULT_BASE_URL, env=("LANGFUSE_BASE_URL", "LANGFUSE_HOST")
    )
    environment: str | None = setting(None, env="LANGFUSE_TRACING_ENVIRONMENT")
    release: str | None = setting(None, env="LANGFUSE_RELEASE")
    flush_at: int | None = setting(None, env="LANGFUSE_FLUSH_AT")
    flush_interval: float | None = setting(None, env="LANGFUSE_FLUSH_INTERVAL")
    timeout: int = setting(5, env="LANGFUSE_TIMEOUT")

    def __repr__(self) -> str:
        """Show the settings with the secret key masked."""
        parts = []
        for item in fields(self):
            value = getattr(self, item.name)
            shown = REDACTED if item.name == "secret_key" else repr(value)
            parts.append(f"{item.name}={shown}")
        return f"{type(self).__name__}({', '.join(parts)})"


def check(settings: LangfuseSettings) -> LangfuseSettings:
    """Return ``settings`` with ``base_url`` normalised, or raise ConfigError.

    Messages name the key and what to do; they never repeat a key's value.
    """
    for name in ("public_key", "secret_key"):
        if not str(getattr(settings, name)).strip():
            raise ConfigError(
                f"{SECTION}.{name} is empty; set it to your project's key"
            )
    if settings.public_key.startswith(_SECRET_PREFIX):
        raise ConfigError(
            f"{SECTION}.public_key holds a secret key (it starts with "
            f"'{_SECRET_PREFIX}'); swap public_key and secret_key"
        )

    settings.base_url = _checked_url(settings.base_url)
    _check_positive("flush_at", settings.flush_at)
    _check_positive("flush_interval", settings.flush_interval)
    _check_positive("timeout", settings.timeout)
    if settings.environment is not None and not _ENVIRONMENT.match(
        settings.environment
    ):
        raise ConfigError(
            f"{SECTION}.environment {settings.environment!r} is not allowed: use "
            "lowercase letters, digits, '-' or '_', not starting with 'langfuse'"
        )
    return settings


def _checked_url(value: str) -> str:
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"{SECTION}.base_url must be an http(s) URL such as {DEFAULT_BASE_URL} "
            "or https://us.cloud.langfuse.com"
        )
    if parts.username or parts.password:
        raise ConfigError(
            f"{SECTION}.base_url must not carry credentials; set public_key and "
            "secret_key instead"
        )
    return value.strip().rstrip("/")


def _check_positive(name: str, value: float | None) -> None:
    if value is not None and value <= 0:
        raise ConfigError(f"{SECTION}.{name} must be greater than 0, got {value!r}")
