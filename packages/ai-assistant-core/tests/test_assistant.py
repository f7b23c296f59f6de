"""The assistant's turn: streaming, tools, history, async, run_config."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from uuid import UUID

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.runnables import RunnableLambda

from ai_assistant import Assistant, RunContext, hookimpl
from ai_assistant.config import load_config
from ai_assistant.history import SqliteHistory
from ai_assistant.testing import ScriptedChatModel, make_assistant, write_config

CALL_TOOL = AIMessage(
    content="Computing.",
    tool_calls=[{"name": "calculator", "args": {"expression": "6*7"}, "id": "call-1"}],
)


class Recorder(BaseCallbackHandler):
    """Keeps (event, run id, parent run id, name) for each event it sees."""

    def __init__(self, run: RunContext) -> None:
        self.run = run
        self.events: list[tuple[str, UUID, UUID | None, Any]] = []

    def on_chain_start(self, serialized: Any, inputs: Any, **kw: Any) -> None:
        self.events.append(
            ("chain_start", kw["run_id"], kw.get("parent_run_id"), kw.get("name"))
        )

    def on_chat_model_start(self, serialized: Any, messages: Any, **kw: Any) -> None:
        self.events.append(
            ("chat_model_start", kw["run_id"], kw.get("parent_run_id"), None)
        )

    def on_tool_start(self, serialized: Any, input_str: str, **kw: Any) -> None:
        name = kw.get("name") or serialized.get("name")
        self.events.append(("tool_start", kw["run_id"], kw.get("parent_run_id"), name))

    def on_tool_end(self, output: Any, **kw: Any) -> None:
        self.events.append(
            ("tool_end", kw["run_id"], kw.get("parent_run_id"), str(output.content))
        )

    def on_llm_end(self, response: Any, **kw: Any) -> None:
        usage = response.generations[0][0].message.usage_metadata
        self.events.append(("llm_end", kw["run_id"], kw.get("parent_run_id"), usage))


def recording() -> tuple[SimpleNamespace, list[Recorder]]:
    made: list[Recorder] = []

    def handlers(run: RunContext) -> list[Recorder]:
        made.append(Recorder(run))
        return made[-1:]

    return SimpleNamespace(ai_assistant_run_handlers=hookimpl(handlers)), made


def test_stream_yields_the_answer_in_pieces_and_then_a_result(user_env: Path) -> None:
    assistant = make_assistant(answers=["The capital of France is Paris."])

    stream = assistant.stream("What is the capital of France?")
    pieces = list(stream)

    assert len(pieces) > 1
    assert "".join(pieces) == "The capital of France is Paris."
    assert stream.result is not None
    assert stream.result.answer == "The capital of France is Paris."
    assert stream.result.usage["output_tokens"] == 6
    assert stream.result.usage["input_tokens"] == 11  # 5 system + 6 question words
    assert stream.result.run_id == stream.run_id


def test_one_turn_is_one_tree_rooted_at_the_run_id(user_env: Path) -> None:
    provider, made = recording()
    assistant = make_assistant(
        plugins={"rec": provider}, answers=[CALL_TOOL, "It is 42."]
    )

    result = assistant.chat("What is 6*7?", run_name="question")

    events = made[0].events
    root = events[0]
    assert root[0] == "chain_start" and root[3] == "question"
    assert str(root[1]) == result.run_id and root[2] is None
    tool = next(e for e in events if e[0] == "tool_start")
    assert tool[3] == "calculator" and tool[2] == root[1]
    assert ("tool_end", tool[1], root[1], "42") in events
    models = [e for e in events if e[0] == "chat_model_start"]
    assert len(models) == 2 and all(e[2] == root[1] for e in models)


def test_usage_is_summed_over_every_model_call_of_a_turn(user_env: Path) -> None:
    provider, made = recording()
    assistant = make_assistant(
        plugins={"rec": provider}, answers=[CALL_TOOL, "It is 42."]
    )

    result = assistant.chat("What is 6*7?")

    seen = [e[3] for e in made[0].events if e[0] == "llm_end"]
    assert result.usage["output_tokens"] == sum(u["output_tokens"] for u in seen)
    assert result.usage["input_tokens"] == sum(u["input_tokens"] for u in seen)


def test_each_run_gets_fresh_handlers_with_its_own_context(user_env: Path) -> None:
    provider, made = recording()
    assistant = make_assistant(plugins={"rec": provider})

    first = assistant.chat("hi", user_id="ana", conversation_id="c-1")
    second = assistant.chat("hi", user_id="bo", conversation_id="c-2")

    assert len(made) == 2 and made[0] is not made[1]
    assert (made[0].run.user_id, made[0].run.conversation_id) == ("ana", "c-1")
    assert (made[1].run.user_id, made[1].run.conversation_id) == ("bo", "c-2")
    assert str(made[1].run.run_id) == second.run_id != first.run_id


def test_conversation_continues_by_id_across_processes(user_env: Path) -> None:
    path = user_env / "history.sqlite3"
    config = load_config(_empty_config(user_env))
    seen: list[list[BaseMessage]] = []

    class Watching(ScriptedChatModel):
        def _stream(
            self, messages: list[BaseMessage], *args: Any, **kwargs: Any
        ) -> Any:
            seen.append(list(messages))
            return super()._stream(messages, *args, **kwargs)

    first = Assistant(
        config,
        model=Watching(answers=["Nice to meet you."]),
        history=SqliteHistory(path),
    )
    opened = first.chat("My name is Ana.")
    later = Assistant(
        config,
        model=Watching(answers=["Your name is Ana."]),
        history=SqliteHistory(path),
    )
    later.chat("What is my name?", conversation_id=opened.conversation_id)

    contents = [m.content for m in seen[-1]]
    assert contents == [
        "You are a helpful assistant.",
        "My name is Ana.",
        "Nice to meet you.",
        "What is my name?",
    ]


def test_system_prompt_can_be_changed_or_left_out(user_env: Path) -> None:
    custom = write_config(user_env / "a.yaml", {"system_prompt": "Be brief."})
    none = write_config(user_env / "b.yaml", {"system_prompt": None})

    with_custom = make_assistant(config=custom).chat("hi there")
    without = make_assistant(config=none).chat("hi there")

    assert with_custom.usage["input_tokens"] == 4
    assert without.usage["input_tokens"] == 2


def test_async_stream_gives_the_same_tree(user_env: Path) -> None:
    provider, made = recording()
    assistant = make_assistant(
        plugins={"rec": provider}, answers=[CALL_TOOL, "It is 42."]
    )

    async def talk() -> Any:
        stream = assistant.astream("What is 6*7?")
        pieces = [piece async for piece in stream]
        return pieces, stream.result

    pieces, result = asyncio.run(talk())

    assert "".join(pieces) == result.answer
    names = [e[0] for e in made[0].events]
    assert names.count("chat_model_start") == 2 and "tool_start" in names
    assert all(e[2] is not None for e in made[0].events[1:])


def test_abandoned_stream_saves_no_history(user_env: Path) -> None:
    assistant = make_assistant(answers=["one two three four five"])

    stream = assistant.stream("count", conversation_id="c-abandoned")
    next(stream)
    stream.close()

    assert assistant.history.load("c-abandoned") == []


def test_run_config_attaches_providers_to_a_plain_langchain_runnable(
    user_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ai_assistant.runconfig as runconfig

    provider, made = recording()
    config = load_config(_empty_config(user_env))
    from ai_assistant.host import ProviderHost

    host = ProviderHost(config, plugins={"rec": provider}, entry_points=False)
    monkeypatch.setattr(runconfig, "_host", host)
    chain = RunnableLambda(lambda text: text.upper(), name="shout")

    settings = runconfig.run_config(run_name="mine", user_id="ana", tags=["x"])
    output = chain.invoke("hi", config=settings)

    assert output == "HI"
    assert made[0].events[0][:3] == ("chain_start", settings["run_id"], None)
    assert settings["metadata"]["user_id"] == "ana"
    assert settings["tags"] == ["ai-assistant", "x"]


def _empty_config(directory: Path) -> Path:
    path = directory / "empty.yaml"
    path.write_text("ai_assistant: {}\n", encoding="utf-8")
    return path
