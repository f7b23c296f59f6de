"""Declaring a provider's settings: defaults, environment fallbacks, secrets.

A provider's config schema is a plain dataclass. Fields made with
:func:`setting` can name environment variables to fall back on and can be
marked secret, so the core never shows their values::

    @dataclass
    class LangfuseSettings:
        public_key: str = setting(env="LANGFUSE_PUBLIC_KEY")
        secret_key: str = setting(env="LANGFUSE_SECRET_KEY", secret=True)
        base_url: str = setting("https://cloud.langfuse.com",
                                env="LANGFUSE_BASE_URL")
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from typing import Any, Final

from omegaconf import MISSING

__all__ = [
    "MISSING",
    "REDACTED",
    "SECRET_MARK",
    "env_names",
    "is_secret_key",
    "redact",
    "setting",
]

REDACTED: Final = "**********"

_ENV: Final = "ai_assistant.env"
SECRET_MARK: Final = "ai_assistant.secret"
_SECRET_WORDS: Final = re.compile(
    r"secret|password|passwd|token|api_?key|private|credential|auth|_key$",
    re.IGNORECASE,
)
_URL_CREDENTIALS: Final = re.compile(r"(?<=://)[^/@\s]+@")


def setting(
    default: Any = MISSING,
    *,
    env: str | Iterable[str] = (),
    secret: bool = False,
) -> Any:
    """Return a dataclass field with an environment fallback and secrecy.

    ``env`` names variables read, in order, when the config file leaves the
    key out. With ``default`` left ``MISSING`` the value is required. A
    mutable default (list, dict) is copied for each instance.
    """
    names = (env,) if isinstance(env, str) else tuple(env)
    metadata = {_ENV: names, SECRET_MARK: secret}
    shown = not secret  # keep secrets out of the dataclass's repr
    if isinstance(default, list | dict | set):
        factory = default.copy
        return dataclasses.field(default_factory=factory, metadata=metadata, repr=shown)
    return dataclasses.field(default=default, metadata=metadata, repr=shown)


def env_names(field: dataclasses.Field[Any]) -> tuple[str, ...]:
    """Return the environment variables a schema field falls back on."""
    names: tuple[str, ...] = field.metadata.get(_ENV, ())
    return names


def is_secret_key(name: str, field: dataclasses.Field[Any] | None = None) -> bool:
    """Tell whether a key holds a secret, by declaration or by its name."""
    if field is not None and field.metadata.get(SECRET_MARK):
        return True
    return bool(_SECRET_WORDS.search(name))


def redact(value: Any, *, secret_keys: frozenset[str] = frozenset()) -> Any:
    """Return a copy of ``value`` with secrets replaced by :data:`REDACTED`.

    Mappings are walked recursively; a key is secret when its name looks
    like one or is listed in ``secret_keys``. Credentials inside URLs
    (``https://user:pass@host``) are removed from every string.
    """
    if isinstance(value, Mapping):
        return {
            key: (
                REDACTED
                if _is_secret_item(str(key), item, secret_keys)
                else redact(item, secret_keys=secret_keys)
            )
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(item, secret_keys=secret_keys) for item in value]
    if isinstance(value, str):
        return _URL_CREDENTIALS.sub(REDACTED + "@", value)
    return value


def _is_secret_item(key: str, item: Any, secret_keys: frozenset[str]) -> bool:
    if isinstance(item, Mapping | list | tuple) or item is None:
        return False
    return key in secret_keys or is_secret_key(key)
