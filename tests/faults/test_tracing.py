"""What the bundled providers record of a run: usage, nesting, ids, masking.

Both bundled callback providers are on: ``logging`` writes JSONL to a file
of the test's own, ``langfuse`` exports to a Langfuse stand-in on 127.0.0.1.
"""

from __future__ import annotations

import json
import logging
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage
from langchain_core.runnables import RunnableLambda
from langchain_core.tools import tool

from ai_assistant import RunContext, hookimpl
from ai_assistant.context import new_run_id
from ai_assistant.testing import ScriptedChatModel
from ai_assistant.tools import calculator

if TYPE_CHECKING:
    from ai_assistant import Assistant
    from conftest import InProcess, LoopbackLangfuse, Span

ANSWER = "one two three four five six seven eight"
MARK = "MARK-7f3a9c"
QUESTION = "What is the capital of France?"
TOOL_CALL = {"name": "calculator", "args": {"expression": "6*7"}, "id": "call-1"}


def traced(
    in_process: InProcess, langfuse: LoopbackLangfuse, **options: Any
) -> Assistant:
    """An assistant with both bundled providers on; see the module docstring."""
    section = options.pop("langfuse_section", {})
    return in_process.assistant(
        options.pop("providers", "logging,langfuse"),
        callbacks={
            "logging": {"path": str(in_process.work / "events.jsonl")},
            "langfuse": langfuse.section(**section),
        },
        **options,
    )


def logged(in_process: InProcess) -> list[dict[str, Any]]:
    """Return the logging provider's records so far."""
    path = in_process.work / "events.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


def trace_of(langfuse: LoopbackLangfuse, run_id: object) -> list[Span]:
    from ai_assistant_langfuse import trace_id_for

    return langfuse.trace(trace_id_for(str(run_id)))


def generations(spans: list[Span]) -> list[Span]:
    return [
        span
        for span in spans
        if span.attributes.get("langfuse.observation.type") == "generation"
    ]


def usage(span: Span) -> dict[str, int]:
    details: dict[str, int] = json.loads(
        span.attributes["langfuse.observation.usage_details"]
    )
    return details


def a_run(
    name: str, user_id: str | None = None, conversation_id: str | None = None
) -> RunContext:
    return RunContext(
        run_id=new_run_id(),
        run_name=name,
        user_id=user_id,
        conversation_id=conversation_id,
    )


def usage_invoked_and_streamed(
    in_process: InProcess, langfuse: LoopbackLangfuse, model: BaseChatModel
) -> tuple[list[Any], list[Any]]:
    """Ask ``model`` the same question with invoke, then stream.

    Returns what the logging provider and what Langfuse recorded as usage,
    each as ``[invoked, streamed]``.
    """
    assistant = traced(in_process, langfuse)
    invoked, streamed = a_run("invoked"), a_run("streamed")

    model.invoke(QUESTION, config=assistant.run_config_for(invoked))
    for _ in model.stream(QUESTION, config=assistant.run_config_for(streamed)):
        pass
    assistant.host.flush(5)

    ends = {e["root_run_id"]: e for e in logged(in_process) if e["event"] == "llm_end"}
    logged_usage = [ends[str(run.run_id)]["usage"] for run in (invoked, streamed)]
    traced_usage = [
        usage(generation)
        for run in (invoked, streamed)
        for generation in generations(trace_of(langfuse, run.run_id))
    ]
    return logged_usage, traced_usage


def test_c1_streaming_reports_the_same_usage_as_invoke_to_every_provider(
    in_process: InProcess, langfuse: LoopbackLangfuse
) -> None:
    model = ScriptedChatModel(answers=[ANSWER])

    logged_usage, traced_usage = usage_invoked_and_streamed(in_process, langfuse, model)

    assert logged_usage[0] == logged_usage[1]
    assert logged_usage[1]["output_tokens"] == 8
    assert len(traced_usage) == 2
    assert traced_usage[0] == traced_usage[1]
    assert traced_usage[1]["output"] == 8


def test_c1_the_embedded_model_reports_the_same_usage_streamed_or_invoked(
    in_process: InProcess, langfuse: LoopbackLangfuse
) -> None:
    from ai_assistant.models import resolve_model

    _, model = resolve_model("llamacpp:", {"max_tokens": 12})

    logged_usage, traced_usage = usage_invoked_and_streamed(in_process, langfuse, model)

    assert logged_usage[0] == logged_usage[1]
    assert logged_usage[1]["output_tokens"] > 0
    assert len(traced_usage) == 2
    assert traced_usage[0] == traced_usage[1]


class LlmOutputs(BaseCallbackHandler):
    """Remembers the ``llm_output`` of every ``on_llm_end``."""

    def __init__(self, seen: list[Any]) -> None:
        self.seen = seen

    def on_llm_end(self, response: Any, **kwargs: Any) -> None:
        self.seen.append(response.llm_output)


def test_c2_a_streamed_result_without_llm_output_takes_model_and_usage_from_the_message(
    in_process: InProcess, langfuse: LoopbackLangfuse, caplog: pytest.LogCaptureFixture
) -> None:
    outputs: list[Any] = []
    observer = SimpleNamespace(
        ai_assistant_run_handlers=hookimpl(lambda: [LlmOutputs(outputs)])
    )
    assistant = traced(
        in_process,
        langfuse,
        providers="logging,langfuse,observer",
        plugins={"observer": observer},
    )

    with caplog.at_level(logging.WARNING):
        result = assistant.chat("count to eight")
        assistant.host.flush(5)

    assert outputs == [None]
    assert [r.getMessage() for r in caplog.records] == []
    assert all(not record.failures for record in assistant.host.records)
    [end] = [e for e in logged(in_process) if e["event"] == "llm_end"]
    assert end["model"] == "scripted"
    assert end["usage"]["output_tokens"] == 8
    [generation] = generations(trace_of(langfuse, result.run_id))
    assert generation.attributes["langfuse.observation.model.name"] == "scripted"
    assert usage(generation)["output"] == 8


async def test_c3_an_async_run_with_sync_handlers_is_one_nested_trace(
    in_process: InProcess, langfuse: LoopbackLangfuse, caplog: pytest.LogCaptureFixture
) -> None:
    assistant = traced(
        in_process,
        langfuse,
        answers=[AIMessage(content="Computing.", tool_calls=[TOOL_CALL]), ANSWER],
        tools=[calculator],
    )

    with caplog.at_level(logging.WARNING):
        result = await assistant.achat("what is 6*7?")
        assistant.host.flush(5)

    spans = trace_of(langfuse, result.run_id)
    ids = {span.span_id for span in spans}
    roots = [span for span in spans if span.parent_span_id not in ids]
    assert [root.name for root in roots] == ["ai-assistant"]
    assert {span.name for span in spans} >= {"ai-assistant", "calculator"}
    assert len(generations(spans)) == 2
    assert len(spans) == len(langfuse.spans)
    assert not [r for r in caplog.records if "context" in r.getMessage().lower()]


async def test_c3_an_async_run_is_one_tree_in_the_logging_providers_view(
    in_process: InProcess, langfuse: LoopbackLangfuse
) -> None:
    assistant = traced(
        in_process,
        langfuse,
        answers=[AIMessage(content="Computing.", tool_calls=[TOOL_CALL]), ANSWER],
        tools=[calculator],
    )

    result = await assistant.achat("what is 6*7?")
    assistant.host.flush(5)

    records = logged(in_process)
    runs = {record["run_id"] for record in records}
    parents = {record["parent_run_id"] for record in records} - {None}
    assert {record["root_run_id"] for record in records} == {result.run_id}
    assert parents <= runs
    starts = [r for r in records if r["event"].endswith("_start")]
    assert [r["run_id"] for r in starts if r["parent_run_id"] is None] == [
        result.run_id
    ]


@tool
def ask_expert(question: str) -> str:
    """Ask a nested chat model."""
    return str(ScriptedChatModel(answers=["forty-two"]).invoke(question).content)


EXPERT_CALL = {"name": "ask_expert", "args": {"question": "6*7?"}, "id": "call-2"}


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_c6_a_model_called_inside_a_tool_is_a_child_of_the_tool_run(
    in_process: InProcess, langfuse: LoopbackLangfuse, mode: str
) -> None:
    assistant = traced(
        in_process,
        langfuse,
        answers=[AIMessage(content="Asking.", tool_calls=[EXPERT_CALL]), ANSWER],
        tools=[ask_expert],
    )

    if mode == "sync":
        result = assistant.chat("what is 6*7?")
    else:
        result = await assistant.achat("what is 6*7?")
    assistant.host.flush(5)

    records = logged(in_process)
    [tool_run] = [r for r in records if r["event"] == "tool_start"]
    model_starts = [r for r in records if r["event"] == "chat_model_start"]
    assert [r["parent_run_id"] for r in model_starts].count(tool_run["run_id"]) == 1
    spans = trace_of(langfuse, result.run_id)
    [tool_span] = [span for span in spans if span.name == "ask_expert"]
    nested = [
        span
        for span in generations(spans)
        if "forty-two" in str(span.attributes.get("langfuse.observation.output"))
    ]
    assert [span.parent_span_id for span in nested] == [tool_span.span_id]


@tool
def echo(text: str) -> str:
    """Repeat the text."""
    return f"echoed {text}"


@tool
def refuse(text: str) -> str:
    """Refuse the text."""
    raise ValueError(f"refused {text}")


def send_everywhere(assistant: Assistant) -> None:
    """Run turns whose prompt, tool text, metadata and error all carry MARK."""
    model = ScriptedChatModel(answers=[f"answer {MARK}"])

    def turn(question: str) -> str:
        echo.invoke({"text": question})
        return str(model.invoke(f"prompt {question}").content)

    config = assistant.run_config_for(a_run("leaky"))
    config["metadata"] = {**config.get("metadata", {}), "note": f"meta {MARK}"}
    RunnableLambda(turn).invoke(f"question {MARK}", config=config)
    failing = RunnableLambda(lambda text: refuse.invoke({"text": text}))
    with pytest.raises(ValueError, match=MARK):
        failing.invoke(MARK, config=assistant.run_config_for(a_run("failing")))
    assistant.host.flush(5)


def test_c10_the_logging_provider_keeps_text_out_unless_content_is_on(
    in_process: InProcess, langfuse: LoopbackLangfuse
) -> None:
    assistant = traced(in_process, langfuse, providers="logging")

    send_everywhere(assistant)

    text = (in_process.work / "events.jsonl").read_text()
    kinds = {record["event"] for record in logged(in_process)}
    assert {"tool_start", "tool_end", "tool_error", "chain_error"} <= kinds
    assert MARK not in text


@pytest.mark.parametrize(
    "function", ["fault_kit:hide", "fault_kit:explode"], ids=["masks", "raises"]
)
def test_c10_a_langfuse_masking_rule_covers_every_field_that_leaves(
    in_process: InProcess, langfuse: LoopbackLangfuse, function: str
) -> None:
    assistant = traced(
        in_process,
        langfuse,
        providers="langfuse",
        langfuse_section={"masking": {"function": function}},
    )

    send_everywhere(assistant)

    [record] = assistant.host.active
    assert record.name == "langfuse"
    sent = list(langfuse.spans)
    assert {"echo", "refuse"} <= {span.name for span in sent}
    assert MARK not in json.dumps([span.attributes for span in sent])


def test_c11_a_bare_chat_model_run_keeps_the_user_and_session_ids(
    in_process: InProcess, langfuse: LoopbackLangfuse
) -> None:
    assistant = traced(in_process, langfuse)
    run = a_run("bare", user_id="ana", conversation_id="conv-7")

    ScriptedChatModel().invoke("hello", config=assistant.run_config_for(run))
    assistant.host.flush(5)

    [generation] = trace_of(langfuse, run.run_id)
    assert generation.attributes["user.id"] == "ana"
    assert generation.attributes["session.id"] == "conv-7"
    [end] = [e for e in logged(in_process) if e["event"] == "llm_end"]
    assert (end["user_id"], end["conversation_id"]) == ("ana", "conv-7")
