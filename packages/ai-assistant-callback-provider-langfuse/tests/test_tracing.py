"""What an assistant run looks like in Langfuse: one trace, nested, attributed."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.documents import Document
from langchain_core.messages import AIMessage
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import RunnableLambda
from langchain_core.tools import tool

import ai_assistant
from ai_assistant import RunContext
from ai_assistant.testing import ScriptedChatModel
from ai_assistant_langfuse import trace_id_for
from ai_assistant_langfuse.handler import RunHandler

pytestmark = pytest.mark.allow_hosts(["127.0.0.1"])

USER = "user.id"
SESSION = "session.id"
TAGS = "langfuse.trace.tags"
TRACE_NAME = "langfuse.trace.name"
TYPE = "langfuse.observation.type"
USAGE = "langfuse.observation.usage_details"
MODEL = "langfuse.observation.model.name"
FIRST_TOKEN = "langfuse.observation.completion_start_time"
LEVEL = "langfuse.observation.level"


def _call(name: str, call_id: str, **args: object) -> AIMessage:
    return AIMessage(
        content="", tool_calls=[{"name": name, "args": args, "id": call_id}]
    )


def _run(name: str = "direct-call", **fields: object) -> RunContext:
    return RunContext(run_id=uuid.uuid4(), run_name=name, **fields)  # type: ignore[arg-type]


def test_a_run_is_one_trace_with_the_turn_as_its_agent_root(
    langfuse_server, config_for, assistant_for
):
    answers = [_call("calculator", "call-1", expression="6*7"), "It is 42."]
    assistant = assistant_for(config_for(), answers=answers)

    result = assistant.chat("What is 6*7?")
    assistant.close()

    assert {span.trace_id for span in langfuse_server.spans} == {
        trace_id_for(result.run_id)
    }
    (root,) = langfuse_server.named("ai-assistant")
    (calculator,) = langfuse_server.named("calculator")
    generations = langfuse_server.named("ScriptedChatModel")
    assert root.attributes[TYPE] == "agent"
    assert root.attributes["langfuse.internal.as_root"] is True
    assert calculator.attributes[TYPE] == "tool"
    assert calculator.json("langfuse.observation.input") == {"expression": "6*7"}
    assert [span.attributes[TYPE] for span in generations] == ["generation"] * 2
    children = [calculator, *generations]
    assert {span.parent_span_id for span in children} == {root.span_id}
    assert "What is 6*7?" in root.attributes["langfuse.observation.input"]
    assert root.attributes["langfuse.observation.output"] == "It is 42."


def test_every_observation_carries_the_runs_trace_attributes(
    langfuse_server, config_for, assistant_for
):
    config = config_for(environment="staging", release="2.4.1")
    assistant = assistant_for(
        config, answers=[_call("calculator", "c", expression="1"), "1"]
    )

    result = assistant.chat(
        "One?", user_id="alice", conversation_id="conv-7", tags=["beta"], run_name="ask"
    )
    assistant.close()

    assert len(langfuse_server.spans) == 4
    for span in langfuse_server.spans:
        assert span.attributes[USER] == "alice"
        assert span.attributes[SESSION] == result.conversation_id == "conv-7"
        assert set(span.attributes[TAGS]) == {"ai-assistant", "model:scripted", "beta"}
        assert span.attributes[TRACE_NAME] == "ask"
        assert span.attributes["langfuse.environment"] == "staging"
        assert span.attributes["langfuse.release"] == "2.4.1"


def test_a_generation_records_its_model_usage_and_first_token_time(
    langfuse_server, config_for, assistant_for
):
    assistant = assistant_for(config_for(), answers=["Paris is the capital."])
    began = datetime.now().astimezone()

    result = assistant.chat("Capital of France?")
    assistant.close()

    (generation,) = langfuse_server.named("ScriptedChatModel")
    assert generation.attributes[MODEL] == "scripted"
    assert generation.json(USAGE) == {
        "input": result.usage["input_tokens"],
        "output": result.usage["output_tokens"],
        "total": result.usage["total_tokens"],
    }
    assert datetime.fromisoformat(generation.json(FIRST_TOKEN)) >= began
    assert generation.json("langfuse.observation.output") == {
        "role": "assistant",
        "content": "Paris is the capital.",
    }


async def test_streamed_and_invoked_answers_record_the_same_usage(
    langfuse_server, config_for, assistant_for
):
    """C1: usage sent for stream() and astream() equals that of invoke()."""
    assistant = assistant_for(config_for(), answers=["Four words are here."])
    runs = {mode: _run(mode) for mode in ("invoke", "stream", "ainvoke", "astream")}
    configs = {mode: assistant.run_config_for(run) for mode, run in runs.items()}
    model = assistant.model

    invoked = model.invoke("Count these words", config=configs["invoke"])
    list(model.stream("Count these words", config=configs["stream"]))
    await model.ainvoke("Count these words", config=configs["ainvoke"])
    [
        chunk
        async for chunk in model.astream("Count these words", config=configs["astream"])
    ]
    assistant.close()

    usage = {
        mode: langfuse_server.spans_of(trace_id_for(run.run_id))[0].json(USAGE)
        for mode, run in runs.items()
    }
    expected = invoked.usage_metadata
    assert expected is not None and expected["output_tokens"] == 4
    totals = {
        "input": expected["input_tokens"],
        "output": expected["output_tokens"],
        "total": expected["total_tokens"],
    }
    assert usage == {mode: totals for mode in runs}


class _SnapshotModel(ScriptedChatModel):
    """Answers as a dated snapshot of the model asked for, as real APIs do."""

    def _stream(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        for chunk in super()._stream(*args, **kwargs):
            if chunk.message.response_metadata:
                chunk.message.response_metadata["model_name"] = "scripted-2026-01-01"
            yield chunk


class _LLMOutputSpy(BaseCallbackHandler):
    def __init__(self) -> None:
        self.llm_outputs: list[object] = []

    def on_llm_end(self, response, **kwargs):  # type: ignore[no-untyped-def]
        self.llm_outputs.append(response.llm_output)


def test_a_streamed_result_without_llm_output_still_names_model_and_usage(
    langfuse_server, config_for, assistant_for, logged_warnings
):
    """C2: llm_output is None; the message's metadata gives model and usage."""
    assistant = assistant_for(config_for())
    model = _SnapshotModel(answers=["Yes."])
    spy = _LLMOutputSpy()
    config = assistant.run_config_for(_run())
    config["callbacks"] = [*config["callbacks"], spy]

    list(model.stream("Ready?", config=config))
    assistant.close()

    (generation,) = langfuse_server.spans
    assert spy.llm_outputs == [None]
    assert generation.attributes[MODEL] == "scripted-2026-01-01"
    assert generation.json(USAGE) == {"input": 1, "output": 1, "total": 2}
    assert logged_warnings() == []


async def test_an_async_run_is_one_nested_trace_without_context_errors(
    langfuse_server, config_for, assistant_for, caplog
):
    """C3: astream with a synchronous handler makes one nested trace."""
    caplog.set_level("DEBUG", logger="opentelemetry")
    answers = [_call("calculator", "c", expression="2+2"), "Four."]
    assistant = assistant_for(config_for(), answers=answers)

    result = await assistant.achat("2+2?", user_id="alice")
    assistant.close()

    (root,) = langfuse_server.named("ai-assistant")
    others = [span for span in langfuse_server.spans if span is not root]
    assert len(others) == 3
    assert {span.parent_span_id for span in others} == {root.span_id}
    assert {span.trace_id for span in langfuse_server.spans} == {
        trace_id_for(result.run_id)
    }
    assert {span.attributes[USER] for span in langfuse_server.spans} == {"alice"}
    assert not [r for r in caplog.records if "context" in r.getMessage().lower()]


async def test_an_async_run_never_waits_on_a_slow_langfuse(
    langfuse_server, config_for, assistant_for
):
    """C3: export happens off the event loop, even when every request stalls."""
    langfuse_server.delay = 1.0
    assistant = assistant_for(
        config_for(flush_at=1, flush_deadline=0.2), answers=["one two three four"] * 3
    )
    gaps: list[float] = []
    stop = asyncio.Event()

    async def tick() -> None:
        last = time.monotonic()
        while not stop.is_set():
            await asyncio.sleep(0.005)
            now = time.monotonic()
            gaps.append(now - last)
            last = now

    ticker = asyncio.create_task(tick())
    began = time.monotonic()
    for _ in range(3):
        await assistant.achat("Count")
    took = time.monotonic() - began
    stop.set()
    await ticker
    assistant.close()

    assert took < 0.5
    assert max(gaps) < 0.2


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_a_handler_failing_on_a_token_neither_stops_the_run_nor_later_runs(
    langfuse_server, config_for, assistant_for, monkeypatch, logged_warnings, mode
):
    """C4: the failure is reported once, by name; every run is still traced."""

    def broken(self, token, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("token handling broke")

    monkeypatch.setattr(RunHandler, "on_llm_new_token", broken)
    assistant = assistant_for(config_for(), answers=["Still answered."])

    if mode == "sync":
        results = [assistant.chat("Hi"), assistant.chat("Hi again")]
    else:
        results = [await assistant.achat("Hi"), await assistant.achat("Hi again")]
    assistant.close()

    assert [result.answer for result in results] == ["Still answered."] * 2
    for result in results:
        assert len(langfuse_server.spans_of(trace_id_for(result.run_id))) == 2
    ours = [text for text in logged_warnings() if "on_llm_new_token" in text]
    assert len(ours) == 1
    assert "provider 'langfuse'" in ours[0]


def test_a_provider_registered_twice_traces_each_run_once(
    langfuse_server, config_for, assistant_for, monkeypatch, logged_warnings
):
    """C5: entry point plus explicit registration: one handler, one trace."""
    monkeypatch.setenv("AI_ASSISTANT_LOAD_PROVIDERS", "langfuse")
    assistant = assistant_for(config_for(), entry_points=True)

    result = assistant.chat("Hello")
    assistant.close()

    assert [record.name for record in assistant.host.active] == ["langfuse"]
    assert any("registered explicitly" in text for text in logged_warnings())
    spans = langfuse_server.spans
    assert sorted(span.name for span in spans) == ["ScriptedChatModel", "ai-assistant"]
    assert {span.trace_id for span in spans} == {trace_id_for(result.run_id)}


@tool
def lookup(city: str) -> str:
    """Ask a nested chain and a nested model about ``city``."""
    shout = RunnableLambda(lambda text: text.upper(), name="shout")
    model = ScriptedChatModel(answers=["A fine city."], model_name="nested")
    return shout.invoke(city) + " " + model.invoke(city).text


@tool
async def alookup(city: str) -> str:
    """Ask a nested chain and a nested model about ``city``, asynchronously."""
    shout = RunnableLambda(lambda text: text.upper(), name="shout")
    model = ScriptedChatModel(answers=["A fine city."], model_name="nested")
    return await shout.ainvoke(city) + " " + (await model.ainvoke(city)).text


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_runs_inside_a_tool_are_children_of_the_tool(
    langfuse_server, config_for, assistant_for, mode
):
    """C6: a tool's own chain and chat model nest under the tool's observation."""
    name = "lookup" if mode == "sync" else "alookup"
    answers = [_call(name, "c", city="Lyon"), "Noted."]
    assistant = assistant_for(config_for(), answers=answers, tools=[lookup, alookup])

    if mode == "sync":
        result = assistant.chat("Tell me about Lyon")
    else:
        result = await assistant.achat("Tell me about Lyon")
    assistant.close()

    (called,) = langfuse_server.named(name)
    (shout,) = langfuse_server.named("shout")
    nested = [
        span
        for span in langfuse_server.named("ScriptedChatModel")
        if span.attributes.get(MODEL) == "nested"
    ]
    assert len(nested) == 1
    assert shout.parent_span_id == nested[0].parent_span_id == called.span_id
    assert {span.trace_id for span in langfuse_server.spans} == {
        trace_id_for(result.run_id)
    }


@pytest.mark.parametrize("mode", ["invoke", "stream", "ainvoke", "astream"])
async def test_a_bare_chat_model_root_keeps_user_session_tags_and_name(
    langfuse_server, config_for, run_config_host, mode
):
    """C11: with run_config() and a chat model as the root run."""
    host = run_config_host(config_for())
    model = ScriptedChatModel(answers=["Hi there."])
    config = ai_assistant.run_config(
        run_name="greeting", user_id="carol", conversation_id="conv-9", tags=["direct"]
    )

    if mode == "invoke":
        model.invoke("Hello", config=config)
    elif mode == "stream":
        list(model.stream("Hello", config=config))
    elif mode == "ainvoke":
        await model.ainvoke("Hello", config=config)
    else:
        [chunk async for chunk in model.astream("Hello", config=config)]
    host.close()

    (generation,) = langfuse_server.spans
    assert generation.trace_id == trace_id_for(config["run_id"])
    assert generation.attributes[TYPE] == "generation"
    assert generation.attributes["langfuse.internal.as_root"] is True
    assert generation.attributes[USER] == "carol"
    assert generation.attributes[SESSION] == "conv-9"
    assert generation.attributes[TAGS] == ["ai-assistant", "direct"]
    assert generation.attributes[TRACE_NAME] == "greeting"
    assert generation.json(USAGE)["output"] == 2


class _Shelf(BaseRetriever):
    """Finds one document about anything."""

    def _get_relevant_documents(self, query, *, run_manager):  # type: ignore[no-untyped-def]
        return [Document(page_content=f"All about {query}.", metadata={"page": 3})]


def test_a_retriever_in_a_chain_is_a_retriever_observation(
    langfuse_server, config_for, run_config_host
):
    host = run_config_host(config_for())
    chain = _Shelf() | RunnableLambda(lambda docs: docs[0].page_content, name="first")
    config = ai_assistant.run_config(run_name="search")

    chain.invoke("owls", config=config)
    host.close()

    (root,) = langfuse_server.named("search")
    (shelf,) = langfuse_server.named("_Shelf")
    assert root.attributes[TYPE] == "chain"
    assert shelf.attributes[TYPE] == "retriever"
    assert shelf.parent_span_id == root.span_id
    assert shelf.attributes["langfuse.observation.input"] == "owls"
    assert shelf.json("langfuse.observation.output") == [
        {"page_content": "All about owls.", "metadata": {"page": 3}}
    ]


@tool
def explode(reason: str) -> str:
    """Fail with ``reason``."""
    raise ValueError(reason)


def test_a_failing_tool_ends_its_observations_as_errors(
    langfuse_server, config_for, assistant_for
):
    answers = [_call("explode", "c", reason="disk full")]
    assistant = assistant_for(config_for(), answers=answers, tools=[explode])

    with pytest.raises(ValueError, match="disk full"):
        assistant.chat("Try it")
    assistant.close()

    (failed,) = langfuse_server.named("explode")
    (root,) = langfuse_server.named("ai-assistant")
    for span in (failed, root):
        assert span.attributes[LEVEL] == "ERROR"
        assert span.status_message == "ValueError: disk full"


def test_concurrent_runs_keep_their_own_users(
    langfuse_server, config_for, assistant_for
):
    both_running = threading.Barrier(2, timeout=10)

    @tool
    def rendezvous() -> str:
        """Wait until the other run has reached its tool call too."""
        both_running.wait()
        return "met"

    answers = [_call("rendezvous", "a"), _call("rendezvous", "b"), "done", "done"]
    assistant = assistant_for(config_for(), answers=answers, tools=[rendezvous])

    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = {
            user: pool.submit(assistant.chat, "Hi", user_id=user)
            for user in ("alice", "bob")
        }
        results = {user: future.result() for user, future in runs.items()}
    assistant.close()

    for user, result in results.items():
        spans = langfuse_server.spans_of(trace_id_for(result.run_id))
        assert len(spans) == 4
        assert {span.attributes[USER] for span in spans} == {user}


def test_each_provider_sends_to_its_own_project(
    start_server, config_for, assistant_for
):
    first, second = start_server(), start_server()
    one = assistant_for(config_for(server=first))
    two = assistant_for(config_for(server=second))

    one_result = one.chat("Hello", user_id="alice")
    two_result = two.chat("Hello", user_id="bob")
    one.close()
    two.close()

    assert {span.trace_id for span in first.spans} == {trace_id_for(one_result.run_id)}
    assert {span.trace_id for span in second.spans} == {trace_id_for(two_result.run_id)}
