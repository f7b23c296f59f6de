"""The assistant: one chat turn on a LangChain chat model, with providers.

A turn is one root chain run named after the run; inside it the model
streams (and calls tools when it asks to), so every provider sees one tree:
the turn, each model generation, each tool. The run config carries the
active providers' handlers, metadata, tags and the run id.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import uuid
import weakref
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, cast

from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.messages.ai import add_ai_message_chunks
from langchain_core.runnables import RunnableConfig, RunnableLambda

from ai_assistant.config import Config, load_config
from ai_assistant.context import Feedback, RunContext, new_run_id
from ai_assistant.errors import AssistantError
from ai_assistant.history import History, open_history
from ai_assistant.host import ProviderHost
from ai_assistant.models import resolve_model
from ai_assistant.tools import builtin_tools

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel
    from langchain_core.tools import BaseTool

__all__ = [
    "Assistant",
    "AsyncChatStream",
    "ChatResult",
    "ChatStream",
    "StreamCancelled",
]

RUN_NAME: Final = "ai-assistant"
TAG: Final = "ai-assistant"
MAX_TOOL_ROUNDS: Final = 5


@dataclass(frozen=True, slots=True)
class ChatResult:
    """What one turn produced."""

    answer: str
    run_id: str
    conversation_id: str
    model: str
    usage: dict[str, int]

    def as_dict(self) -> dict[str, Any]:
        """Return the result as ``chat --json`` prints it."""
        return {
            "answer": self.answer,
            "run_id": self.run_id,
            "conversation_id": self.conversation_id,
            "model": self.model,
            "usage": dict(self.usage),
        }


@dataclass
class _Turn:
    run: RunContext
    history: list[BaseMessage]
    new: list[BaseMessage]
    usage: dict[str, int] = field(
        default_factory=lambda: {
            "input_tokens": 0,
            "output_tokens": 0,
            "total_tokens": 0,
        }
    )
    answer: list[str] = field(default_factory=list)
    round_ended: bool = False
    cancelled: bool = False

    def piece(self, text: str) -> str:
        """Record streamed text; the first text of a later round starts a line."""
        if self.round_ended and self.answer and not self.answer[-1][-1:].isspace():
            text = "\n" + text if not text[:1].isspace() else text
        self.round_ended = False
        self.answer.append(text)
        return text

    def add(self, texts: list[str], marked: list[AIMessageChunk]) -> AIMessage:
        """Close one model call: its text, and what the marked chunks carry."""
        self.round_ended = True
        merged = (
            add_ai_message_chunks(marked[0], *marked[1:])
            if marked
            else AIMessageChunk(content="")
        )
        for key, value in (merged.usage_metadata or {}).items():
            if key in self.usage and isinstance(value, int):
                self.usage[key] += value
        final = AIMessage(
            content="".join(texts),
            tool_calls=merged.tool_calls,
            response_metadata=merged.response_metadata,
            usage_metadata=merged.usage_metadata,
            id=merged.id,
        )
        self.new.append(final)
        return final

    def result(self) -> ChatResult:
        return ChatResult(
            answer="".join(self.answer),
            run_id=str(self.run.run_id),
            conversation_id=self.run.conversation_id or "",
            model=self.run.model_id or "",
            usage=dict(self.usage),
        )


class StreamCancelled(Exception):  # noqa: N818 - names the event, as LangChain's do
    """The reader stopped reading the answer before it ended."""

    def __init__(self) -> None:
        super().__init__("the answer was abandoned before it ended")


class ChatStream:
    """The text of one streamed answer; ``result`` is set once it ends."""

    def __init__(self, chunks: Iterator[str], turn: _Turn, finish: Any) -> None:
        self._chunks = chunks
        self._turn = turn
        self._finish = finish
        self.result: ChatResult | None = None
        self.run_id = str(turn.run.run_id)
        self.conversation_id = turn.run.conversation_id
        self._started = False

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        self._started = True
        try:
            return next(self._chunks)
        except StopIteration:
            self.result = self._finish(self._turn)
            raise

    def close(self) -> None:
        """Abandon the stream; the run ends with an error event for every provider.

        The error is :class:`StreamCancelled`, so providers can tell a
        reader that went away from a failure.
        """
        if self._started and self.result is None:
            # Resume the run once with the turn marked cancelled: it raises
            # StreamCancelled from inside, so the model run ends before its
            # parent, and no further chunk is asked of the model.
            self._turn.cancelled = True
            with contextlib.suppress(StreamCancelled, StopIteration):
                next(self._chunks)
        self._chunks.close()  # type: ignore[attr-defined]


class AsyncChatStream:
    """The async form of :class:`ChatStream`.

    Building the run (reading the history, asking every provider for its
    handlers and metadata) and saving it afterwards happen on a worker
    thread, so neither holds the event loop.
    """

    def __init__(
        self,
        begin: Callable[[], tuple[_Turn, AsyncIterator[str]]],
        run_id: uuid.UUID,
        conversation_id: str,
        finish: Callable[[_Turn], ChatResult],
    ) -> None:
        self._begin = begin
        self._finish = finish
        self._turn: _Turn | None = None
        self._chunks: AsyncIterator[str] | None = None
        self.result: ChatResult | None = None
        self.run_id = str(run_id)
        self.conversation_id = conversation_id

    def __aiter__(self) -> AsyncIterator[str]:
        return self

    async def __anext__(self) -> str:
        if self._chunks is None:
            turn, started = await asyncio.to_thread(self._begin)
            self._turn, self._chunks = turn, started
        chunks = self._chunks
        assert chunks is not None
        try:
            return await chunks.__anext__()
        except StopAsyncIteration:
            assert self._turn is not None
            self.result = await asyncio.to_thread(self._finish, self._turn)
            raise

    async def aclose(self) -> None:
        """Abandon the stream; the run ends with :class:`StreamCancelled`."""
        if self._chunks is None or self._turn is None:
            return
        if self.result is None:
            self._turn.cancelled = True
            with contextlib.suppress(StreamCancelled, StopAsyncIteration):
                await self._chunks.__anext__()
        await self._chunks.aclose()  # type: ignore[attr-defined]


class Assistant:
    """A chat assistant whose runs reach every active callback provider.

    Build one with :meth:`from_config` (reads the YAML config) or pass a
    :class:`Config` and, for tests and embedding, a ready chat model.
    """

    def __init__(
        self,
        config: Config | None = None,
        *,
        model: BaseChatModel | None = None,
        model_id: str | None = None,
        tools: Sequence[BaseTool] | None = None,
        history: History | None = None,
        host: ProviderHost | None = None,
        plugins: dict[str, object] | None = None,
    ) -> None:
        self.config = config or load_config()
        core = self.config.core
        if model is None:
            self.model_id, self.model = resolve_model(
                model_id or core.model, core.model_options
            )
        else:
            self.model_id, self.model = model_id or _model_name(model), model
        self.tools = list(builtin_tools() if tools is None else tools)
        self._by_name = {item.name: item for item in self.tools}
        self._bound = _bind(self.model, self.tools)
        self.history = history or open_history(core.history)
        self.host = host or ProviderHost(self.config, plugins=plugins)
        self.host.start()
        if host is None:
            # The assistant owns its host: flush and shut the providers down
            # when it is collected or the interpreter exits, if close() was
            # never called (close() makes this a no-op).
            weakref.finalize(self, self.host.close)

    @classmethod
    def from_config(
        cls, path: str | None = None, *, overrides: Sequence[str] = (), **kwargs: Any
    ) -> Assistant:
        """Load the config (see :func:`ai_assistant.load_config`) and build."""
        return cls(load_config(path, overrides=overrides), **kwargs)

    def __enter__(self) -> Assistant:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self, deadline: float | None = None) -> None:
        """Flush and shut down every provider, within the flush deadline."""
        self.host.close(deadline)

    def chat(self, prompt: str, **options: Any) -> ChatResult:
        """Answer ``prompt`` and return the whole result."""
        stream = self.stream(prompt, **options)
        for _ in stream:
            pass
        assert stream.result is not None
        return stream.result

    async def achat(self, prompt: str, **options: Any) -> ChatResult:
        """Answer ``prompt`` without blocking the event loop."""
        stream = self.astream(prompt, **options)
        async for _ in stream:
            pass
        assert stream.result is not None
        return stream.result

    def stream(
        self,
        prompt: str,
        *,
        conversation_id: str | None = None,
        user_id: str | None = None,
        run_name: str | None = None,
        tags: Sequence[str] = (),
        run_id: uuid.UUID | None = None,
    ) -> ChatStream:
        """Stream the answer to ``prompt`` as text chunks."""
        turn, runnable, config = self._prepare(
            prompt, conversation_id, user_id, run_name, tags, run_id
        )
        chunks = runnable.stream({"input": prompt}, config=config)
        return ChatStream(chunks, turn, self._finish)

    def astream(
        self,
        prompt: str,
        *,
        conversation_id: str | None = None,
        user_id: str | None = None,
        run_name: str | None = None,
        tags: Sequence[str] = (),
        run_id: uuid.UUID | None = None,
    ) -> AsyncChatStream:
        """Stream the answer to ``prompt`` asynchronously."""
        run_id = run_id or new_run_id()
        conversation_id = conversation_id or uuid.uuid4().hex

        def begin() -> tuple[_Turn, AsyncIterator[str]]:
            turn, runnable, config = self._prepare(
                prompt, conversation_id, user_id, run_name, tags, run_id
            )
            return turn, runnable.astream({"input": prompt}, config=config)

        return AsyncChatStream(begin, run_id, conversation_id, self._finish)

    def feedback(
        self,
        run_id: str | uuid.UUID,
        value: float | str,
        *,
        name: str = "user-feedback",
        comment: str | None = None,
    ) -> dict[str, str | None]:
        """Give a score to the answer of ``run_id``; map provider to error."""
        return self.host.score(
            Feedback(
                run_id=uuid.UUID(str(run_id)), value=value, name=name, comment=comment
            )
        )

    def _prepare(
        self,
        prompt: str,
        conversation_id: str | None,
        user_id: str | None,
        run_name: str | None,
        tags: Sequence[str],
        run_id: uuid.UUID | None,
    ) -> tuple[_Turn, RunnableLambda[Any, str], RunnableConfig]:
        if self.host.closed:
            raise AssistantError(
                "this assistant was closed, so its providers record nothing; "
                "create a new Assistant"
            )
        run = RunContext(
            run_id=run_id or new_run_id(),
            run_name=run_name or RUN_NAME,
            model_id=self.model_id,
            user_id=user_id or self.config.core.user_id or login_name(),
            conversation_id=conversation_id or uuid.uuid4().hex,
            tags=(TAG, f"model:{self.model_id}", *tags),
        )
        past = recent(
            self.history.load(run.conversation_id or ""),
            self.config.core.history.max_messages,
        )
        turn = _Turn(run=run, history=past, new=[HumanMessage(content=prompt)])

        # The run's input is the prompt; the turn's growing state stays out
        # of it, so providers that record the input at the run's end do not
        # serialise every streamed piece.
        def run_sync(question: Any, config: RunnableConfig) -> Iterator[str]:
            yield from self._run_sync(turn, config)

        async def run_async(
            question: Any, config: RunnableConfig
        ) -> AsyncIterator[str]:
            async for piece in self._run_async(turn, config):
                yield piece

        # RunnableLambda streams generator functions chunk by chunk; its
        # type hints only describe plain functions, hence the casts.
        runnable: RunnableLambda[Any, str] = RunnableLambda(
            cast(Any, run_sync), afunc=cast(Any, run_async), name=run.run_name
        )
        return turn, runnable, self.run_config_for(run)

    def run_config_for(self, run: RunContext) -> RunnableConfig:
        """Return the ``RunnableConfig`` that attaches the providers to ``run``."""
        handlers, metadata = self.host.run_callbacks(run, core_metadata(run))
        return RunnableConfig(
            callbacks=handlers,
            tags=list(run.tags),
            metadata=metadata,
            run_id=run.run_id,
            run_name=run.run_name,
        )

    # Merging every chunk into the last (``final = final + chunk``) costs
    # about 10 µs a token; the text is joined once instead, and only chunks
    # that carry tool calls, usage or metadata are merged.

    def _run_sync(self, turn: _Turn, config: RunnableConfig) -> Iterator[str]:
        for _ in range(MAX_TOOL_ROUNDS):
            texts: list[str] = []
            marked: list[AIMessageChunk] = []
            chunks = self._bound.stream(self._messages(turn), config=config)
            try:
                for chunk in chunks:
                    if text := chunk.text:
                        texts.append(text)
                        yield turn.piece(text)
                        if turn.cancelled:
                            raise StreamCancelled
                    if _carries_more(chunk):
                        marked.append(chunk)
            finally:
                chunks.close()  # an abandoned model run ends before its parent
            message = turn.add(texts, marked)
            if not message.tool_calls:
                return
            for call in message.tool_calls:
                turn.new.append(self._call_tool(call, config))

    async def _run_async(
        self, turn: _Turn, config: RunnableConfig
    ) -> AsyncIterator[str]:
        for _ in range(MAX_TOOL_ROUNDS):
            texts: list[str] = []
            marked: list[AIMessageChunk] = []
            chunks = self._bound.astream(self._messages(turn), config=config)
            try:
                async for chunk in chunks:
                    if text := chunk.text:
                        texts.append(text)
                        yield turn.piece(text)
                        if turn.cancelled:
                            raise StreamCancelled
                    if _carries_more(chunk):
                        marked.append(chunk)
            finally:
                await chunks.aclose()  # an abandoned model run ends before its parent
            message = turn.add(texts, marked)
            if not message.tool_calls:
                return
            for call in message.tool_calls:
                turn.new.append(await self._acall_tool(call, config))

    def _messages(self, turn: _Turn) -> list[BaseMessage]:
        system = self.config.core.system_prompt
        prefix: list[BaseMessage] = [SystemMessage(content=system)] if system else []
        return prefix + turn.history + turn.new

    def _call_tool(self, call: Any, config: RunnableConfig) -> ToolMessage:
        chosen = self._by_name.get(call["name"])
        if chosen is None:
            return _unknown_tool(call)
        result = chosen.invoke(call, config=config)
        return (
            result
            if isinstance(result, ToolMessage)
            else ToolMessage(str(result), tool_call_id=call["id"])
        )

    async def _acall_tool(self, call: Any, config: RunnableConfig) -> ToolMessage:
        chosen = self._by_name.get(call["name"])
        if chosen is None:
            return _unknown_tool(call)
        result = await chosen.ainvoke(call, config=config)
        return (
            result
            if isinstance(result, ToolMessage)
            else ToolMessage(str(result), tool_call_id=call["id"])
        )

    def _finish(self, turn: _Turn) -> ChatResult:
        self.history.append(
            turn.run.conversation_id or "", str(turn.run.run_id), turn.new
        )
        return turn.result()


def _carries_more(chunk: AIMessageChunk) -> bool:
    return bool(
        chunk.tool_call_chunks
        or chunk.usage_metadata
        or chunk.response_metadata
        or chunk.additional_kwargs
    )


def recent(messages: list[BaseMessage], limit: int) -> list[BaseMessage]:
    """Return at most ``limit`` latest messages, starting at a user message.

    Starting at a user message keeps tool results with the request that
    asked for them.
    """
    kept = messages[-limit:] if limit > 0 else []
    while kept and not isinstance(kept[0], HumanMessage):
        kept.pop(0)
    return kept


def core_metadata(run: RunContext) -> dict[str, Any]:
    """Return the metadata the core itself puts on every run."""
    metadata: dict[str, Any] = {"ai_assistant_run_id": str(run.run_id)}
    if run.user_id:
        metadata["user_id"] = run.user_id
    if run.conversation_id:
        metadata["conversation_id"] = run.conversation_id
    if run.model_id:
        metadata["model_id"] = run.model_id
    return metadata


def login_name() -> str | None:
    """Return the login name of the user running the process, if known."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return None


def _unknown_tool(call: Any) -> ToolMessage:
    return ToolMessage(
        f"error: no tool named {call['name']!r}",
        tool_call_id=call["id"],
        status="error",
    )


def _model_name(model: BaseChatModel) -> str:
    return str(
        getattr(model, "model_name", None)
        or getattr(model, "model", None)
        or type(model).__name__
    )


def _bind(model: BaseChatModel, tools: list[BaseTool]) -> Any:
    if not tools:
        return model
    try:
        return model.bind_tools(tools)
    except NotImplementedError:
        return model
