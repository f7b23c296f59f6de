"""A scripted chat model that streams at a model's pace, and its provider.

:class:`PacedChatModel` waits before its first chunk and between chunks, as
a fast remote model does, sleeping so other threads (a provider's export)
run meanwhile. ``benchmarks.paced`` is also a model provider: the
stalled-backend benchmark installs it under the entry point ``paced`` so the
real ``ai-assistant chat --model paced:`` can run on it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatGenerationChunk

from ai_assistant import hookimpl
from ai_assistant.testing import ScriptedChatModel

__all__ = ["PacedChatModel", "ai_assistant_chat_model"]

FIRST_TOKEN_DELAY = 0.05
TOKEN_INTERVAL = 0.002
TOKENS = 200


class PacedChatModel(ScriptedChatModel):
    """:class:`ScriptedChatModel` that takes its time, like a real model."""

    first_token_delay: float = FIRST_TOKEN_DELAY
    token_interval: float = TOKEN_INTERVAL

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        time.sleep(self.first_token_delay)
        chunks = super()._stream(messages, stop, run_manager, **kwargs)
        for index, chunk in enumerate(chunks):
            if index:
                time.sleep(self.token_interval)
            yield chunk


@hookimpl
def ai_assistant_chat_model(
    model_name: str, options: Mapping[str, Any]
) -> PacedChatModel:
    """Return a paced model answering with ``TOKENS`` words."""
    from benchmarks.harness import answer_of

    return PacedChatModel(answers=[answer_of(TOKENS)], model_name="paced")
