"""Helpers for testing the assistant and providers without a real model.

:class:`ScriptedChatModel` is a real LangChain chat model that answers from
a script: it streams each answer word by word, reports usage on its final
chunk like a provider API does, and can ask for tool calls. Provider
authors use it with :func:`make_assistant` to drive their provider through
real LangChain runs in their own tests.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.messages.tool import tool_call_chunk
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import ConfigDict, Field, PrivateAttr

from ai_assistant.assistant import Assistant
from ai_assistant.config import Config, load_config

__all__ = [
    "ScriptedChatModel",
    "make_assistant",
    "write_config",
    "write_distribution",
]

_WORDS = re.compile(r"\S+\s*|\s+")


class ScriptedChatModel(BaseChatModel):
    """A chat model whose answers are given in advance, cycling when used up.

    Each item of ``answers`` is a string, or an :class:`AIMessage` that may
    carry ``tool_calls``. Usage counts words: input words of every message
    sent, output words of the answer.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    answers: list[Any] = Field(
        default_factory=lambda: ["Hello from the scripted model."]
    )
    model_name: str = "scripted"
    _position: int = PrivateAttr(default=0)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> Any:
        """Accept tools; the script decides when they are called."""
        return self.bind(**kwargs)

    def _next(self) -> AIMessage:
        with self._lock:
            answer = self.answers[self._position % len(self.answers)]
            self._position += 1
        return (
            answer if isinstance(answer, AIMessage) else AIMessage(content=str(answer))
        )

    def _usage(self, messages: list[BaseMessage], output: int) -> dict[str, int]:
        words = sum(len(str(message.content).split()) for message in messages)
        return {
            "input_tokens": words,
            "output_tokens": output,
            "total_tokens": words + output,
        }

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        answer = self._next()
        output = len(_WORDS.findall(str(answer.content)))
        message = AIMessage(
            content=answer.content,
            tool_calls=answer.tool_calls,
            usage_metadata=self._usage(messages, output),
            response_metadata={"model_name": self.model_name, "finish_reason": "stop"},
        )
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        answer = self._next()
        pieces = _WORDS.findall(str(answer.content))
        for piece in pieces:
            chunk = ChatGenerationChunk(message=AIMessageChunk(content=piece))
            if run_manager:
                run_manager.on_llm_new_token(piece, chunk=chunk)
            yield chunk
        calls = [
            tool_call_chunk(
                name=c["name"], args=json.dumps(c["args"]), id=c["id"], index=i
            )
            for i, c in enumerate(answer.tool_calls)
        ]
        last = AIMessageChunk(
            content="",
            tool_call_chunks=calls,
            usage_metadata=self._usage(messages, len(pieces)),  # type: ignore[arg-type]
            response_metadata={"model_name": self.model_name, "finish_reason": "stop"},
            chunk_position="last",
        )
        yield ChatGenerationChunk(message=last)


def write_config(path: Path, body: Mapping[str, Any]) -> Path:
    """Write ``{"ai_assistant": body}`` as YAML to ``path`` and return it."""
    import yaml

    path.write_text(yaml.safe_dump({"ai_assistant": dict(body)}), encoding="utf-8")
    return path


def make_assistant(
    *,
    plugins: Mapping[str, object] | None = None,
    config: Config | Path | None = None,
    answers: Sequence[Any] | None = None,
    entry_points: bool = False,
    **kwargs: Any,
) -> Assistant:
    """Build an assistant on a :class:`ScriptedChatModel` for tests.

    History is kept in memory. Installed providers are ignored unless
    ``entry_points`` is true, so only ``plugins`` take part.
    """
    from ai_assistant.history import MemoryHistory
    from ai_assistant.host import ProviderHost

    loaded = config if isinstance(config, Config) else load_config(config or _empty())
    model = ScriptedChatModel(answers=list(answers)) if answers else ScriptedChatModel()
    host = ProviderHost(loaded, plugins=plugins, entry_points=entry_points)
    return Assistant(loaded, model=model, history=MemoryHistory(), host=host, **kwargs)


def _empty() -> Path:
    import tempfile

    handle = tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False)  # noqa: SIM115
    with handle:
        handle.write("ai_assistant: {}\n")
    return Path(handle.name)


def write_distribution(
    root: Path,
    name: str,
    *,
    modules: Mapping[str, str],
    entry_points: Mapping[str, Mapping[str, str]],
    version: str = "0.1.0",
) -> Path:
    """Lay out an installed distribution under ``root`` without pip.

    ``modules`` maps module file names (``my_provider.py``) to source;
    ``entry_points`` maps groups to ``{name: "module:attr"}``. Put ``root``
    on ``sys.path`` or ``PYTHONPATH`` and ``importlib.metadata`` lists the
    distribution's entry points as if it had been installed.
    """
    root.mkdir(parents=True, exist_ok=True)
    for file_name, source in modules.items():
        target = root / file_name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(source, encoding="utf-8")
    info = root / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n", encoding="utf-8"
    )
    lines = []
    for group, points in entry_points.items():
        lines.append(f"[{group}]")
        lines.extend(f"{point} = {value}" for point, value in points.items())
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root
