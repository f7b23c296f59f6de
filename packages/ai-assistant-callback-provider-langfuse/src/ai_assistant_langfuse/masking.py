"""Masking what leaves the process: built-in patterns and a function of the user's.

A :class:`Masker` is applied to every value the provider sends: inputs,
outputs, metadata, error messages, score comments and score metadata. It
never lets a value through unmasked: when the user's function (or anything
else in masking) raises, the whole value is replaced by :data:`REDACTED`.
"""

from __future__ import annotations

import importlib
import logging
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from ai_assistant import ConfigError
from ai_assistant_langfuse.settings import SECTION, MaskingSettings

__all__ = ["PATTERNS", "REDACTED", "Masker", "build_masker", "load_function"]

logger = logging.getLogger("ai_assistant.langfuse")

REDACTED: Final = "[REDACTED]"
_KEY: Final = "[REDACTED API KEY]"
_EMAIL: Final = "[REDACTED EMAIL]"

Rule = tuple[re.Pattern[str], str]

PATTERNS: Final[Mapping[str, tuple[Rule, ...]]] = {
    # API keys and tokens: prefixed keys of well-known services, JWTs,
    # Authorization header values, private key blocks, and values assigned
    # to a key named like a secret ("api_key=...", "password: ...").
    "api_keys": (
        (
            re.compile(
                r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?"
                r"-----END [A-Z ]*PRIVATE KEY-----",
                re.DOTALL,
            ),
            _KEY,
        ),
        (re.compile(r"\b(?:sk|pk|rk)-[A-Za-z0-9_-]{16,}"), _KEY),
        (re.compile(r"\b(?:sk|pk|rk)_(?:live|test)_[A-Za-z0-9]{16,}"), _KEY),
        (re.compile(r"\b(?:gh[pousr]|github_pat)_[A-Za-z0-9_]{20,}"), _KEY),
        (re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"), _KEY),
        (re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"), _KEY),
        (re.compile(r"\bAIza[0-9A-Za-z_-]{35}"), _KEY),
        (
            re.compile(
                r"\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}"
            ),
            _KEY,
        ),
        (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/-]{16,}=*"), rf"\1 {_KEY}"),
        (
            re.compile(
                r"(?i)\b((?:api[_-]?key|access[_-]?token|auth[_-]?token|secret"
                r"|password|passwd|token)[\"']?\s*[:=]\s*[\"']?)"
                r"(?!\[REDACTED)[^\s\"',;]{6,}"
            ),
            rf"\1{_KEY}",
        ),
    ),
    "emails": (
        (
            re.compile(
                r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b"
            ),
            _EMAIL,
        ),
    ),
}

MaskFunction = Callable[..., Any]


class Masker:
    """Masks values with the named patterns, then with ``function``.

    ``function`` is called as ``function(data=value)`` with plain data
    (dicts, lists, strings, numbers) and returns the masked value. A masker
    never raises: a failure redacts the whole value and is reported once.
    """

    def __init__(
        self,
        patterns: Sequence[str] = (),
        function: MaskFunction | None = None,
        function_name: str | None = None,
    ) -> None:
        self._rules: tuple[Rule, ...] = tuple(
            rule for name in patterns for rule in PATTERNS[name]
        )
        self._function = function
        self._function_name = function_name or getattr(function, "__name__", "?")
        self._reported = False
        self._lock = threading.Lock()

    def __call__(self, value: Any) -> Any:
        """Return ``value`` masked, or :data:`REDACTED` if masking failed."""
        if value is None:
            return None
        try:
            masked = _walk(value, self._rules) if self._rules else value
            if self._function is not None:
                masked = self._function(data=masked)
        except Exception as error:  # noqa: BLE001 - never let the raw value out
            self._report(error)
            return REDACTED
        return masked

    def text(self, value: str) -> str:
        """Mask a string that must stay a string (an error message)."""
        masked = self(value)
        return masked if isinstance(masked, str) else str(masked)

    def _report(self, error: Exception) -> None:
        with self._lock:
            if self._reported:
                return
            self._reported = True
        # The error's message may quote the data being masked: name its type only.
        logger.warning(
            "provider 'langfuse': masking failed (%s from %s); values it could "
            "not mask are sent as %s",
            type(error).__name__,
            self._function_name,
            REDACTED,
        )


def _walk(value: Any, rules: tuple[Rule, ...]) -> Any:
    if isinstance(value, str):
        for pattern, replacement in rules:
            value = pattern.sub(replacement, value)
        return value
    if isinstance(value, Mapping):
        return {_walk(str(k), rules): _walk(v, rules) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_walk(item, rules) for item in value]
    return value


def load_function(path: str) -> MaskFunction:
    """Import the masking function named ``package.module:function``.

    ``package.module.function`` works too. Raises :class:`ConfigError` naming
    the setting when the module cannot be imported or has no such function.
    """
    where = f"{SECTION}.masking.function"
    module_name, _, name = path.partition(":") if ":" in path else path.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except Exception as error:  # noqa: BLE001 - any import failure is the user's
        raise ConfigError(
            f"{where}: cannot import {module_name!r}: {type(error).__name__}: {error}"
        ) from None
    function = getattr(module, name, None)
    if not callable(function):
        raise ConfigError(f"{where}: module {module_name!r} has no function {name!r}")
    return function  # type: ignore[no-any-return]


def build_masker(settings: MaskingSettings) -> Masker:
    """Return the masker ``settings`` ask for; it changes nothing when off."""
    function = load_function(settings.function) if settings.function else None
    return Masker(settings.patterns, function, settings.function)
