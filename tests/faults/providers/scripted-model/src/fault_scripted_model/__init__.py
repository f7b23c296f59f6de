"""Scripted chat models: ``scripted:`` answers about Paris, ``scripted:long``
streams ``model_options.words`` words, ``scripted:tools`` calls the calculator."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage

from ai_assistant import ConfigError, hookimpl
from ai_assistant.testing import ScriptedChatModel

ANSWER: Final = "Paris is the capital of France."


def long_answer(words: int) -> str:
    """Return the answer of ``scripted:long``: ``w0 w1 ...``, ``words`` words."""
    return " ".join(f"w{index}" for index in range(words))


@hookimpl
def ai_assistant_chat_model(
    model_name: str, options: Mapping[str, Any]
) -> BaseChatModel:
    if model_name == "":
        return ScriptedChatModel(answers=[ANSWER])
    if model_name == "long":
        return ScriptedChatModel(answers=[long_answer(int(options.get("words", 50)))])
    if model_name == "tools":
        call = {"name": "calculator", "args": {"expression": "6*7"}, "id": "call-1"}
        return ScriptedChatModel(
            answers=[
                AIMessage(content="Computing.", tool_calls=[call]),
                "The answer is 42.",
            ]
        )
    raise ConfigError(f"scripted model {model_name!r} does not exist")
