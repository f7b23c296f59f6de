"""What each layer between the model and the user costs per streamed chunk.

Tight loops over one layer at a time, timed on process CPU time, best of a
few repeats: steadier than whole runs on a shared machine, and they say
which part of a whole run's difference comes from where.

- LangChain's dispatch of ``on_llm_new_token`` to one handler that does
  nothing, directly, through the core's guard and through the guard
  :mod:`benchmarks.proposed` describes;
- the logging provider's handler for a token event, as it is and as
  :mod:`benchmarks.proposed` changes it;
- building the final message from a generation's chunks: one merge per
  chunk (the assistant today), one merge at the end (LangChain's own
  ``stream``), and :func:`benchmarks.proposed.merge`;
- the :class:`~ai_assistant.assistant.ChatStream` wrapper around the chunks.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks import harness

CHUNKS = 2000
REPEATS = 5


def best(action: Callable[[], object], count: int) -> float:
    """Return the best CPU microseconds per item of ``action`` over repeats."""
    times = []
    for _ in range(REPEATS):
        began = time.process_time()
        action()
        times.append(time.process_time() - began)
    return min(times) * 1e6 / count


def dispatch(handlers: list[Any]) -> Callable[[], None]:
    """Return a loop sending ``CHUNKS`` token events to ``handlers``."""
    from langchain_core.callbacks import CallbackManager
    from langchain_core.messages import AIMessageChunk, HumanMessage
    from langchain_core.outputs import ChatGenerationChunk

    manager = CallbackManager(handlers=handlers)
    (run,) = manager.on_chat_model_start({}, [[HumanMessage("Go on.")]])
    chunk = ChatGenerationChunk(message=AIMessageChunk(content="word "))

    def loop() -> None:
        for _ in range(CHUNKS):
            run.on_llm_new_token("word ", chunk=chunk)

    return loop


def measure(root: Path) -> dict[str, float]:
    """Return each layer's CPU microseconds per chunk."""
    from langchain_core.callbacks import BaseCallbackHandler

    from ai_assistant import RunContext
    from ai_assistant.assistant import ChatStream
    from ai_assistant.isolation import guard
    from ai_assistant.testing import ScriptedChatModel
    from ai_assistant_logging.handler import EventLogHandler
    from ai_assistant_logging.sink import EventSink
    from benchmarks.proposed import (
        KeptOnlyEventLogHandler,
        LeanGuardedHandler,
        merge,
    )

    def report(event: str, error: BaseException) -> None:
        raise RuntimeError(f"{event}: {error!r}")

    found: dict[str, float] = {}
    nothing = BaseCallbackHandler()
    found["langchain, no handler"] = best(dispatch([]), CHUNKS)
    found["langchain, a handler doing nothing"] = best(dispatch([nothing]), CHUNKS)
    found["langchain, that handler guarded"] = best(
        dispatch([guard(nothing, report)]), CHUNKS
    )
    found["langchain, that handler, proposed guard"] = best(
        dispatch([LeanGuardedHandler(nothing, report)]), CHUNKS
    )

    run = RunContext(uuid.uuid4(), "ai-assistant", "scripted", "bench", "c", ("t",))
    sink = EventSink(path=str(root / "events.jsonl"), level="INFO", content=False)
    logged = EventLogHandler(sink, run)
    kept = KeptOnlyEventLogHandler(sink, run)
    token_run = uuid.uuid4()
    for name, handler in (("as is", logged), ("proposed", kept)):
        found[f"logging handler, token event, {name}"] = best(
            lambda handler=handler: [
                handler.on_llm_new_token("word ", run_id=token_run)
                for _ in range(CHUNKS)
            ],
            CHUNKS,
        )
    sink.close()

    model = ScriptedChatModel(answers=[harness.answer_of(CHUNKS)])
    chunks = list(model.stream("Go on."))

    def each() -> object:
        final = None
        for chunk in chunks:
            final = chunk if final is None else final + chunk
        return final

    found["final message, merge per chunk"] = best(each, CHUNKS)
    found["final message, merge once"] = best(lambda: chunks[0] + chunks[1:], CHUNKS)
    found["final message, proposed"] = best(lambda: merge(chunks), CHUNKS)

    texts = [str(chunk.content) for chunk in chunks]
    found["plain iteration"] = best(lambda: [t for t in iter(texts)], len(texts))
    found["through ChatStream"] = best(
        lambda: [t for t in ChatStream(iter(texts), _Turn(), _nothing)], len(texts)
    )
    return found


def _nothing(turn: object) -> None:
    return None


class _Turn:
    """What :class:`ChatStream` reads from a turn at its start."""

    class run:  # noqa: N801 - stands in for the turn's run context
        run_id = uuid.uuid4()
        conversation_id = "bench"


def main() -> None:
    options = harness.part_arguments(__doc__.splitlines()[0])
    root = harness.isolate()
    harness.emit(measure(root), options.out)


if __name__ == "__main__":
    main()
