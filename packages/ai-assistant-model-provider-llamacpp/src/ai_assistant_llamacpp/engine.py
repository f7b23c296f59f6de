"""Loading GGUF files into llama.cpp and running one generation at a time.

This is the only module that imports ``llama_cpp``; :mod:`.chat_model`
imports it on first use, so importing the provider stays cheap.

A loaded model is cached per (file, context size, thread count) for the life
of the process and shared by every :class:`~.chat_model.ChatLlamaCpp` with
those settings. A llama.cpp context is not thread-safe, so each loaded model
runs one generation at a time; other callers wait for the lock. Every
generation starts from an empty context with its own seed, which makes the
answer depend only on the messages and the sampling settings, never on what
ran before.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Final, cast

import llama_cpp
from llama_cpp import Llama

__all__ = [
    "Completion",
    "Finished",
    "LoadedModel",
    "Message",
    "Sampling",
    "Usage",
    "load",
]

Message = dict[str, str]
"""One chat message as llama.cpp takes it: ``{"role": ..., "content": ...}``."""


@dataclass(frozen=True, slots=True)
class Sampling:
    """How to pick tokens for one generation."""

    temperature: float
    top_p: float
    seed: int
    max_tokens: int
    stop: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Usage:
    """Tokens read from the formatted prompt and tokens generated.

    ``output_tokens`` counts every generated token except the end-of-turn
    token that stopped generation, the way llama.cpp's own ``usage`` does.
    """

    input_tokens: int
    output_tokens: int

    @property
    def total_tokens(self) -> int:
        """Return the sum of input and output tokens."""
        return self.input_tokens + self.output_tokens


@dataclass(frozen=True, slots=True)
class Finished:
    """The last event of a stream: why generation stopped, and its usage."""

    finish_reason: str
    usage: Usage


@dataclass(frozen=True, slots=True)
class Completion:
    """A whole answer produced without streaming."""

    text: str
    finish_reason: str
    usage: Usage


class _CountingLlama(Llama):
    """A ``Llama`` that counts the tokens of its latest generation.

    llama.cpp reports ``usage`` only for non-streamed completions; counting
    in :meth:`generate`, which every completion goes through, gives streamed
    answers the same figures. The same hook lets a streaming consumer that
    went away stop the generation at the next token.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._vocab = llama_cpp.llama_model_get_vocab(self.model)
        self._prompt_tokens = 0
        self._sampled = 0
        self._last_token: int | None = None
        self._cancelled: threading.Event | None = None

    def begin(self, cancelled: threading.Event | None = None) -> None:
        """Prepare for one generation from an empty context.

        ``cancelled``, once set, ends the generation before its next token.
        """
        self.reset()  # type: ignore[no-untyped-call]
        self._prompt_tokens = 0
        self._sampled = 0
        self._last_token = None
        self._cancelled = cancelled

    def usage(self) -> Usage:
        """Return the token counts of the latest generation."""
        ended_on_eog = self._last_token is not None and bool(
            llama_cpp.llama_vocab_is_eog(self._vocab, self._last_token)
        )
        return Usage(self._prompt_tokens, self._sampled - int(ended_on_eog))

    def generate(
        self, tokens: Sequence[int], *args: Any, **kwargs: Any
    ) -> Generator[int, Sequence[int] | None, None]:
        """Yield sampled tokens as ``Llama.generate`` does, counting them."""
        self._prompt_tokens = len(tokens)
        inner = super().generate(tokens, *args, **kwargs)
        reply: Sequence[int] | None = None
        while True:
            if self._cancelled is not None and self._cancelled.is_set():
                inner.close()
                return
            try:
                token = inner.send(reply)
            except StopIteration:
                return
            self._sampled += 1
            self._last_token = token
            reply = yield token


class LoadedModel:
    """One GGUF file loaded into llama.cpp, used by one generation at a time."""

    def __init__(self, llama: _CountingLlama) -> None:
        self._llama = llama
        self._lock = threading.Lock()

    def complete(self, messages: Sequence[Message], sampling: Sampling) -> Completion:
        """Generate a whole answer, with llama.cpp's own token usage."""
        with self._lock:
            self._llama.begin()
            response = cast(
                dict[str, Any], self._chat(messages, sampling, stream=False)
            )

        choice = response["choices"][0]
        usage = response["usage"]
        return Completion(
            text=choice["message"].get("content") or "",
            finish_reason=choice.get("finish_reason") or "stop",
            usage=Usage(usage["prompt_tokens"], usage["completion_tokens"]),
        )

    def stream(
        self, messages: Sequence[Message], sampling: Sampling
    ) -> Iterator[str | Finished]:
        """Yield the answer's text pieces, then one :class:`Finished` event.

        Generation runs on a worker thread that holds the model's lock, so
        the lock never depends on how (or on which threads) the caller
        iterates. Closing the iterator early stops generation at the next
        token.
        """
        events: queue.SimpleQueue[str | Finished | BaseException] = queue.SimpleQueue()
        cancelled = threading.Event()
        worker = threading.Thread(
            target=self._produce,
            args=(messages, sampling, events, cancelled),
            name="llamacpp-generate",
        )
        worker.start()
        try:
            while True:
                event = events.get()
                if isinstance(event, BaseException):
                    raise event
                yield event
                if isinstance(event, Finished):
                    return
        finally:
            cancelled.set()

    def _produce(
        self,
        messages: Sequence[Message],
        sampling: Sampling,
        events: queue.SimpleQueue[str | Finished | BaseException],
        cancelled: threading.Event,
    ) -> None:
        try:
            with self._lock:
                if cancelled.is_set():
                    return
                self._llama.begin(cancelled)
                finish_reason = "stop"
                chunks = cast(
                    Iterator[Any], self._chat(messages, sampling, stream=True)
                )
                for chunk in chunks:
                    choice = chunk["choices"][0]
                    text = choice["delta"].get("content")
                    if text:
                        events.put(text)
                    finish_reason = choice.get("finish_reason") or finish_reason
                events.put(Finished(finish_reason, self._llama.usage()))
        except BaseException as error:  # noqa: BLE001 - re-raised by the consumer
            events.put(error)

    def _chat(
        self, messages: Sequence[Message], sampling: Sampling, *, stream: bool
    ) -> Any:
        return self._llama.create_chat_completion(
            messages=cast(Any, list(messages)),
            temperature=sampling.temperature,
            top_p=sampling.top_p,
            seed=sampling.seed,
            max_tokens=sampling.max_tokens,
            stop=list(sampling.stop),
            stream=stream,
        )


_CacheKey = tuple[str, int, int | None]
_loaded: Final[dict[_CacheKey, LoadedModel]] = {}
_loading: Final = threading.Lock()


def load(path: str, n_ctx: int, n_threads: int | None) -> LoadedModel:
    """Return the model for ``path`` with these settings, loading it once.

    Raises :class:`FileNotFoundError` naming the path when there is no such
    file, and :class:`ValueError` when llama.cpp cannot read it.
    """
    key = (os.path.realpath(path), n_ctx, n_threads)
    with _loading:
        model = _loaded.get(key)
        if model is None:
            model = _loaded[key] = LoadedModel(_open(*key))
    return model


def _open(path: str, n_ctx: int, n_threads: int | None) -> _CountingLlama:
    if not os.path.isfile(path):
        raise FileNotFoundError(f"GGUF model file not found: {path}")
    try:
        return _CountingLlama(
            model_path=path, n_ctx=n_ctx, n_threads=n_threads, verbose=False
        )
    except ValueError as error:
        raise ValueError(f"llama.cpp cannot load {path}: {error}") from error
