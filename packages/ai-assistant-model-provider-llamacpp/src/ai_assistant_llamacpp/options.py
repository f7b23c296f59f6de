"""The ``ai_assistant.model_options`` this provider accepts."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any, Final, TypedDict, cast

from ai_assistant_llamacpp.errors import ModelOptionError

__all__ = ["OPTION_NAMES", "ModelOptions", "check_option_names"]


class ModelOptions(TypedDict, total=False):
    """Options of a llama.cpp model; each maps to a ``ChatLlamaCpp`` field."""

    temperature: float
    seed: int
    max_tokens: int
    n_ctx: int
    n_threads: int | None
    top_p: float


OPTION_NAMES: Final = frozenset(ModelOptions.__optional_keys__)


def check_option_names(options: Mapping[str, Any]) -> ModelOptions:
    """Return ``options`` as :class:`ModelOptions` if every name is known.

    Raises :class:`ModelOptionError` naming the first unknown option, with a
    close match when there is one. Values are checked by ``ChatLlamaCpp``.
    """
    for name in sorted(options, key=str):
        if name not in OPTION_NAMES:
            raise ModelOptionError(_unknown(str(name)))
    return cast(ModelOptions, {str(name): value for name, value in options.items()})


def _unknown(name: str) -> str:
    message = f"unknown llamacpp model option {name!r} in ai_assistant.model_options"
    close = difflib.get_close_matches(name, OPTION_NAMES, n=1)
    if close:
        message += f"; did you mean {close[0]!r}?"
    return f"{message} (known options: {', '.join(sorted(OPTION_NAMES))})"
