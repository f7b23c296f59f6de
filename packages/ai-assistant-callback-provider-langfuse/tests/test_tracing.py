"""What an assistant run looks like in Langfuse: one trace, nested, attributed."""

from __future__ import annotations

import json
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from langchain_core.messages import AIMessage
from langchain_core.tools import tool

from ai_assistant import RunContext
from ai_assistant_langfuse import trace_id_for

pytestmark = pytest.mark.allow_hosts(["127.0.0.1"])

USER = "user.id"
SESSION = "session.id"
TAGS = "langfuse.trace.tags"
TYPE = "langfuse.observation.type"
USAGE = "langfuse.observation.usage_details"


def _call(name: str, call_id: str, **args: object) -> AIMessage:
    return AIMessage(
        content="", tool_calls=[{"name": name, "args": args, "id": call_id}]
    )


def test_a_run_is_one_trace_rooted_at_the_assistant_turn(
    langfuse_server, config_for, assistant_for
):
    assistant = assistant_for(config_for(), answers=["Paris is the capital."])

    result = assistant.chat("Capital of France?", user_id="alice")
    assistant.close()

    trace_ids = {span.trace_id for span in langfuse_server.spans}
    assert trace_ids == {trace_id_for(result.run_id)}
    (root,) = langfuse_server.named("ai-assistant")
    (generation,) = langfuse_server.named("ScriptedChatModel")
    assert root.attributes[TYPE] == "chain"
    assert root.attributes["langfuse.internal.as_root"] is True
    assert generation.attributes[TYPE] == "generation"
    assert generation.parent_span_id == root.span_id


def test_the_trace_carries_user_session_and_tags(
    langfuse_server, config_for, assistant_for
):
    assistant = assistant_for(config_for())

    result = assistant.chat(
        "Hello", user_id="alice", conversation_id="conv-7", tags=["beta"]
    )
    assistant.close()

    assert len(langfuse_server.spans) == 2
    for span in langfuse_server.spans:
        assert span.attributes[USER] == "alice"
        assert span.attributes[SESSION] == result.conversation_id == "conv-7"
        assert set(span.attributes[TAGS]) == {"ai-assistant", "model:scripted", "beta"}


def test_streamed_usage_is_recorded_on_the_generation(
    langfuse_server, config_for, assistant_for
):
    assistant = assistant_for(config_for(), answers=["Paris is the capital."])

    result = assistant.chat("Capital of France?")
    assistant.close()

    (generation,) = langfuse_server.named("ScriptedChatModel")
    assert result.usage["output_tokens"] == 4
    assert json.loads(generation.attributes[USAGE]) == {
        "input": result.usage["input_tokens"],
        "output": result.usage["output_tokens"],
        "total": result.usage["total_tokens"],
    }
    assert generation.attributes["langfuse.observation.model.name"] == "scripted"


def test_a_tool_call_is_a_child_of_the_run(langfuse_server, config_for, assistant_for):
    answers = [_call("calculator", "call-1", expression="6*7"), "It is 42."]
    assistant = assistant_for(config_for(), answers=answers)

    result = assistant.chat("What is 6*7?")
    assistant.close()

    assert result.answer == "It is 42."
    (root,) = langfuse_server.named("ai-assistant")
    (calculator,) = langfuse_server.named("calculator")
    generations = langfuse_server.named("ScriptedChatModel")
    assert calculator.attributes[TYPE] == "tool"
    assert calculator.parent_span_id == root.span_id
    assert '"6*7"' in calculator.attributes["langfuse.observation.input"]
    assert [span.parent_span_id for span in generations] == [root.span_id] * 2
    assert {span.trace_id for span in langfuse_server.spans} == {root.trace_id}


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


async def test_an_async_run_is_one_nested_trace(
    langfuse_server, config_for, assistant_for
):
    assistant = assistant_for(config_for(), answers=["Paris."])

    result = await assistant.achat("Capital of France?", user_id="alice")
    assistant.close()

    (root,) = langfuse_server.named("ai-assistant")
    (generation,) = langfuse_server.named("ScriptedChatModel")
    assert root.trace_id == generation.trace_id == trace_id_for(result.run_id)
    assert generation.parent_span_id == root.span_id
    assert generation.attributes[USER] == "alice"


def test_a_bare_chat_model_root_keeps_user_and_session(
    langfuse_server, config_for, assistant_for
):
    assistant = assistant_for(config_for())
    run = RunContext(
        run_id=uuid.uuid4(),
        run_name="direct-model-call",
        user_id="carol",
        conversation_id="conv-9",
        tags=("direct",),
    )

    assistant.model.invoke("Hello", config=assistant.run_config_for(run))
    assistant.close()

    (generation,) = langfuse_server.spans
    assert generation.trace_id == trace_id_for(run.run_id)
    assert generation.attributes[TYPE] == "generation"
    assert generation.attributes[USER] == "carol"
    assert generation.attributes[SESSION] == "conv-9"
    assert generation.attributes[TAGS] == ["direct"]


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
