"""``ChatLlamaCpp``: a LangChain chat model running a GGUF file in-process.

The model formats messages with the chat template stored in the GGUF file
and streams one chunk per piece of text llama.cpp produces. It handles text
only: no tool calling, structured output or images.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import PurePath
from typing import TYPE_CHECKING, Any, Final

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LangSmithParams
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    ChatMessage,
    UsageMetadata,
)
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import ConfigDict, Field, field_validator

if TYPE_CHECKING:
    from ai_assistant_llamacpp.engine import (
        Finished,
        LoadedModel,
        Message,
        Sampling,
        Usage,
    )

__all__ = ["ChatLlamaCpp"]

PROVIDER: Final = "llamacpp"

_CALL_OPTIONS: Final = ("max_tokens", "seed", "temperature", "top_p")
_ROLES: Final = {"human": "user", "ai": "assistant", "system": "system"}
_NO_TOOLS: Final = "ChatLlamaCpp does not support tool calling"


class ChatLlamaCpp(BaseChatModel):
    """Chat model that runs a local GGUF file with llama.cpp.

    Answers are deterministic by default: temperature 0 picks the most
    likely token, and every call starts from an empty context with the same
    ``seed``, so the same messages give the same answer. With a temperature
    above 0, pass a different ``seed`` per call to get varied answers.

    ``temperature``, ``top_p``, ``seed`` and ``max_tokens`` can also be given
    per call (``model.invoke(messages, max_tokens=32)``); other call options
    are rejected. The GGUF file is loaded on first use and shared by every
    instance with the same file, ``n_ctx`` and ``n_threads``.
    """

    model_config = ConfigDict(extra="forbid")

    model_path: str
    """Path of the GGUF file to run."""

    temperature: float = Field(default=0.0, ge=0.0)
    """Sampling temperature; 0 always picks the most likely token."""

    seed: int = 0
    """Seed of the sampler, reset at the start of every call."""

    max_tokens: int = Field(default=256, ge=1)
    """Most tokens to generate per answer."""

    n_ctx: int = Field(default=2048, ge=16)
    """Context window in tokens: prompt and answer together must fit."""

    n_threads: int | None = Field(default=None, ge=1)
    """CPU threads for generation; ``None`` lets llama.cpp choose."""

    top_p: float = Field(default=0.95, gt=0.0, le=1.0)
    """Nucleus sampling: keep the most likely tokens up to this mass."""

    stop: list[str] | None = None
    """Strings that end the answer when generated (they are not returned)."""

    streaming: bool = False
    """Whether ``invoke`` should go through the streaming path."""

    @field_validator("model_path", mode="before")
    @classmethod
    def _path_as_str(cls, value: Any) -> Any:
        return os.fspath(value) if isinstance(value, os.PathLike) else value

    @property
    def model_name(self) -> str:
        """Return the GGUF file's name without extension, e.g. ``...Q4_1``."""
        return PurePath(self.model_path).stem

    @property
    def _llm_type(self) -> str:
        return "llamacpp-chat"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {
            "model_name": self.model_name,
            "model_path": self.model_path,
            "temperature": self.temperature,
            "top_p": self.top_p,
            "seed": self.seed,
            "max_tokens": self.max_tokens,
            "n_ctx": self.n_ctx,
            "n_threads": self.n_threads,
            "stop": self.stop,
        }

    def _get_ls_params(
        self, stop: list[str] | None = None, **kwargs: Any
    ) -> LangSmithParams:
        # A per-call ``model`` is rejected by the call itself; the trace still
        # names what the caller asked for.
        model = kwargs.get("model")
        params = LangSmithParams(
            ls_provider=PROVIDER,
            ls_model_name=model if isinstance(model, str) else self.model_name,
            ls_model_type="chat",
            ls_temperature=kwargs.get("temperature", self.temperature),
            ls_max_tokens=kwargs.get("max_tokens", self.max_tokens),
        )
        if stop := stop or self.stop:
            params["ls_stop"] = stop
        return params

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        prompt, sampling = self._request(messages, stop, kwargs)
        completion = self._model().complete(prompt, sampling)
        message = AIMessage(
            content=completion.text,
            usage_metadata=_usage_metadata(completion.usage),
            response_metadata=self._response_metadata(completion.finish_reason),
        )
        generation = ChatGeneration(
            message=message,
            generation_info={"finish_reason": completion.finish_reason},
        )
        return ChatResult(
            generations=[generation], llm_output={"model_name": self.model_name}
        )

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        from ai_assistant_llamacpp.engine import Finished

        prompt, sampling = self._request(messages, stop, kwargs)
        for event in self._model().stream(prompt, sampling):
            if isinstance(event, Finished):
                yield self._last_chunk(event)
                continue
            chunk = ChatGenerationChunk(message=AIMessageChunk(content=event))
            if run_manager is not None:
                run_manager.on_llm_new_token(event, chunk=chunk)
            yield chunk

    def _last_chunk(self, finished: Finished) -> ChatGenerationChunk:
        message = AIMessageChunk(
            content="",
            usage_metadata=_usage_metadata(finished.usage),
            response_metadata=self._response_metadata(finished.finish_reason),
            chunk_position="last",
        )
        return ChatGenerationChunk(
            message=message, generation_info={"finish_reason": finished.finish_reason}
        )

    def _response_metadata(self, finish_reason: str) -> dict[str, Any]:
        return {
            "model_name": self.model_name,
            "model_provider": PROVIDER,
            "finish_reason": finish_reason,
        }

    def _model(self) -> LoadedModel:
        from ai_assistant_llamacpp import engine

        return engine.load(self.model_path, self.n_ctx, self.n_threads)

    def _request(
        self,
        messages: Sequence[BaseMessage],
        stop: list[str] | None,
        call_options: Mapping[str, Any],
    ) -> tuple[list[Message], Sampling]:
        from ai_assistant_llamacpp.engine import Sampling

        options = _check_call_options(call_options)
        sampling = Sampling(
            temperature=float(options.get("temperature", self.temperature)),
            top_p=float(options.get("top_p", self.top_p)),
            seed=int(options.get("seed", self.seed)),
            max_tokens=int(options.get("max_tokens", self.max_tokens)),
            stop=tuple(stop if stop is not None else self.stop or ()),
        )
        if sampling.max_tokens < 1:
            raise ValueError(
                f"max_tokens must be at least 1, got {sampling.max_tokens}"
            )
        return [_to_llama_message(message) for message in messages], sampling


def _check_call_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """Return the per-call sampling options, rejecting any other option.

    ``stream`` is LangChain's own switch between invoke and stream and is
    not an option of the model, so it is dropped.
    """
    checked = {name: value for name, value in options.items() if name != "stream"}
    for name in checked:
        if name in _CALL_OPTIONS:
            continue
        if name in ("tools", "tool_choice", "functions", "function_call"):
            raise ValueError(f"{_NO_TOOLS}; call option {name!r} cannot be used")
        if name == "model":
            raise ValueError(
                "ChatLlamaCpp runs the one GGUF file it was made with; create "
                "another ChatLlamaCpp(model_path=...) instead of passing 'model'"
            )
        raise ValueError(
            f"ChatLlamaCpp got unknown call option {name!r}; per-call options "
            f"are {', '.join(_CALL_OPTIONS)}"
        )
    return checked


def _to_llama_message(message: BaseMessage) -> Message:
    """Convert one LangChain message to llama.cpp's role/content form."""
    role = (
        message.role if isinstance(message, ChatMessage) else _ROLES.get(message.type)
    )
    if role is None:
        raise ValueError(f"{_NO_TOOLS}; it cannot take a {message.type!r} message")
    if isinstance(message, AIMessage) and message.tool_calls:
        raise ValueError(f"{_NO_TOOLS}; an AI message in the history has tool calls")
    return {"role": role, "content": _text_of(message)}


def _text_of(message: BaseMessage) -> str:
    if isinstance(message.content, str):
        return message.content
    parts: list[str] = []
    for block in message.content:
        if isinstance(block, str):
            parts.append(block)
        elif block.get("type") == "text":
            parts.append(str(block.get("text", "")))
        else:
            raise ValueError(
                f"ChatLlamaCpp handles text only; a {message.type!r} message holds "
                f"a {block.get('type')!r} content block"
            )
    return "".join(parts)


def _usage_metadata(usage: Usage) -> UsageMetadata:
    return UsageMetadata(
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        total_tokens=usage.total_tokens,
    )
