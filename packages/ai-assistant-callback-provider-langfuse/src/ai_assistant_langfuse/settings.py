"""The ``callbacks.langfuse`` section: keys, server, export tuning and masking."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field, fields
from typing import Final
from urllib.parse import urlsplit

from ai_assistant import ConfigError, ProviderNotConfigured, setting
from ai_assistant.settings import REDACTED

__all__ = [
    "DEFAULT_BASE_URL",
    "PATTERN_NAMES",
    "SECTION",
    "LangfuseSettings",
    "MaskingSettings",
    "check",
]

DEFAULT_BASE_URL: Final = "https://cloud.langfuse.com"
SECTION: Final = "callbacks.langfuse"
# The names of the built-in masking patterns; masking.py holds the patterns.
PATTERN_NAMES: Final = ("api_keys", "emails")

_KEYS: Final = {
    "public_key": "LANGFUSE_PUBLIC_KEY",
    "secret_key": "LANGFUSE_SECRET_KEY",
}
_ENVIRONMENT: Final = re.compile(r"^(?!langfuse)[a-z0-9_-]{1,40}$")
_FUNCTION: Final = re.compile(r"^[A-Za-z_][\w.]*[:.][A-Za-z_]\w*$")
_SECRET_PREFIX: Final = "sk-lf-"


@dataclass
class MaskingSettings:
    """``callbacks.langfuse.masking``: what is masked before data leaves.

    ``patterns`` names built-in patterns (``api_keys``, ``emails``);
    ``function`` is ``"package.module:function"``, called as
    ``function(data=value)`` on every value sent and returning its masked
    form, the signature of the Langfuse SDK's own ``mask``.
    """

    patterns: list[str] = field(default_factory=list)
    function: str | None = None

    @property
    def enabled(self) -> bool:
        """Whether any masking is configured."""
        return bool(self.patterns or self.function)


@dataclass
class LangfuseSettings:
    """The ``callbacks.langfuse`` section.

    Without either key (and without their environment variables) the
    provider stays ``inactive``; with only one it fails, naming the other.
    ``None`` leaves a value to the Langfuse SDK's own default.
    """

    public_key: str | None = setting(None, env="LANGFUSE_PUBLIC_KEY")
    secret_key: str | None = setting(None, env="LANGFUSE_SECRET_KEY", secret=True)
    base_url: str = setting(
        DEFAULT_BASE_URL, env=("LANGFUSE_BASE_URL", "LANGFUSE_HOST")
    )
    environment: str | None = setting(None, env="LANGFUSE_TRACING_ENVIRONMENT")
    release: str | None = setting(None, env="LANGFUSE_RELEASE")
    sample_rate: float = setting(1.0, env="LANGFUSE_SAMPLE_RATE")
    flush_at: int | None = setting(None, env="LANGFUSE_FLUSH_AT")
    flush_interval: float | None = setting(None, env="LANGFUSE_FLUSH_INTERVAL")
    timeout: float = setting(5.0, env="LANGFUSE_TIMEOUT")
    flush_deadline: float | None = None
    masking: MaskingSettings = field(default_factory=MaskingSettings)

    def __repr__(self) -> str:
        """Show the settings with the secret key masked."""
        parts = []
        for item in fields(self):
            value = getattr(self, item.name)
            shown = REDACTED if item.name == "secret_key" else repr(value)
            parts.append(f"{item.name}={shown}")
        return f"{type(self).__name__}({', '.join(parts)})"


def check(settings: LangfuseSettings) -> LangfuseSettings:
    """Return ``settings`` with ``base_url`` normalised, or raise.

    Raises :class:`ProviderNotConfigured` when neither key is set anywhere
    and :class:`ConfigError` for anything else that is wrong. Messages name
    the key and what to do; they never repeat a key's value.
    """
    _check_keys(settings)
    settings.base_url = _checked_url(settings.base_url)
    _check_positive("flush_at", settings.flush_at)
    _check_positive("flush_interval", settings.flush_interval)
    _check_positive("timeout", settings.timeout)
    _check_positive("flush_deadline", settings.flush_deadline)
    rate = settings.sample_rate
    if not 0.0 <= rate <= 1.0:
        raise ConfigError(f"{SECTION}.sample_rate must be from 0 to 1, got {rate!r}")
    if settings.environment is not None and not _ENVIRONMENT.match(
        settings.environment
    ):
        raise ConfigError(
            f"{SECTION}.environment {settings.environment!r} is not allowed: use up "
            "to 40 lowercase letters, digits, '-' or '_', not starting with 'langfuse'"
        )
    _check_masking(settings.masking)
    return settings


def _wanted(name: str) -> str:
    """Say where the key ``name`` can be set: the config key and its variable."""
    return f"{SECTION}.{name} or ${_KEYS[name]}"


def _check_keys(settings: LangfuseSettings) -> None:
    missing = [name for name in _KEYS if not str(getattr(settings, name) or "").strip()]
    if len(missing) == len(_KEYS):
        raise ProviderNotConfigured(
            "not configured, nothing is sent to Langfuse: set "
            + ", ".join(_wanted(name) for name in missing)
            + f" (or switch it off with {SECTION}.enabled: false)"
        )
    if missing:
        raise ConfigError(
            f"{SECTION}: {missing[0]} is not set: set {_wanted(missing[0])}"
        )
    if str(settings.public_key).startswith(_SECRET_PREFIX):
        raise ConfigError(
            f"{SECTION}.public_key holds a secret key (it starts with "
            f"'{_SECRET_PREFIX}'); swap public_key and secret_key"
        )


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


def _check_masking(masking: MaskingSettings) -> None:
    for name in masking.patterns:
        if name not in PATTERN_NAMES:
            close = difflib.get_close_matches(name, PATTERN_NAMES, n=1)
            hint = (
                f"did you mean {close[0]!r}?"
                if close
                else f"known patterns: {', '.join(PATTERN_NAMES)}"
            )
            raise ConfigError(
                f"{SECTION}.masking.patterns: unknown pattern {name!r}; {hint}"
            )
    if masking.function is not None and not _FUNCTION.match(masking.function):
        raise ConfigError(
            f"{SECTION}.masking.function {masking.function!r} is not a dotted path; "
            "write it as 'package.module:function'"
        )
