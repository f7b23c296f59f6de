"""The logging provider, driven through real assistant runs."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration, LLMResult

import ai_assistant_logging
from ai_assistant import hookimpl
from ai_assistant.config import load_config
from ai_assistant.testing import make_assistant
from ai_assistant_logging.handler import EventLogHandler, usage_of

CALL_TOOL = AIMessage(
    content="Computing.",
    tool_calls=[{"name": "calculator", "args": {"expression": "6*7"}, "id": "c-1"}],
)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for variable in list(os.environ):
        if variable.startswith("AI_ASSISTANT_"):
            monkeypatch.delenv(variable)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    return tmp_path


def assistant_with(home: Path, section: str = "", **kwargs: Any) -> Any:
    path = home / "c.yaml"
    body = f"    logging:\n{section}" if section else "    logging: {}\n"
    path.write_text(f"ai_assistant:\n  callbacks:\n{body}", encoding="utf-8")
    return make_assistant(
        plugins={"logging": ai_assistant_logging}, config=load_config(path), **kwargs
    )


def read(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_every_event_of_a_tool_turn_is_one_line_with_ids_and_usage(home: Path) -> None:
    events = home / "events.jsonl"
    assistant = assistant_with(
        home, f"      path: {events}\n", answers=[CALL_TOOL, "It is 42."]
    )

    result = assistant.chat("6*7?", user_id="ana", conversation_id="c-9")
    assistant.close()

    records = read(events)
    assert [r["event"] for r in records] == [
        "chain_start",
        "chat_model_start",
        "llm_end",
        "tool_start",
        "tool_end",
        "chat_model_start",
        "llm_end",
        "chain_end",
    ]
    root = records[0]
    assert root["run_id"] == result.run_id and root["parent_run_id"] is None
    assert all(r["parent_run_id"] == result.run_id for r in records[1:-1])
    assert all(r["root_run_id"] == result.run_id for r in records)
    assert {(r["user_id"], r["conversation_id"]) for r in records} == {("ana", "c-9")}
    usages = [r["usage"] for r in records if r["event"] == "llm_end"]
    assert sum(u["output_tokens"] for u in usages) == result.usage["output_tokens"]
    assert records[-1]["duration_ms"] >= 0
    assert records[-1]["elapsed_ms"] >= records[0]["elapsed_ms"]


def test_default_file_is_in_the_user_log_directory(home: Path) -> None:
    assistant = make_assistant(plugins={"logging": ai_assistant_logging})

    assistant.chat("hello")
    assistant.close()

    default = home / "state" / "ai-assistant" / "log" / "events.jsonl"
    assert read(default)[0]["event"] == "chain_start"


def test_tokens_are_debug_records_kept_out_of_the_file_unless_asked(
    home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    quiet, loud = home / "quiet.jsonl", home / "loud.jsonl"
    first = assistant_with(home, f"      path: {quiet}\n")
    with caplog.at_level(logging.DEBUG, logger="ai_assistant.events"):
        first.chat("hello")
    first.close()
    second = assistant_with(home, f"      path: {loud}\n      level: DEBUG\n")
    second.chat("hello")
    second.close()

    assert "llm_new_token" not in [r["event"] for r in read(quiet)]
    assert "llm_new_token" in [r["event"] for r in read(loud)]
    tokens = [r for r in caplog.records if r.getMessage() == "llm_new_token"]
    assert tokens and all(r.levelno == logging.DEBUG for r in tokens)
    assert all(r.event["run_id"] for r in tokens)  # type: ignore[attr-defined]


def test_content_is_left_out_unless_switched_on(home: Path) -> None:
    without, with_content = home / "a.jsonl", home / "b.jsonl"
    for path, extra in ((without, ""), (with_content, "      content: true\n")):
        assistant = assistant_with(home, f"      path: {path}\n{extra}")
        assistant.chat("my secret question")
        assistant.close()

    assert "my secret question" not in without.read_text()
    assert "my secret question" in with_content.read_text()


def test_streamed_result_without_llm_output_still_gives_usage() -> None:
    message = AIMessage(
        content="hi",
        usage_metadata={"input_tokens": 3, "output_tokens": 1, "total_tokens": 4},
    )
    streamed = LLMResult(
        generations=[[ChatGeneration(message=message)]], llm_output=None
    )

    assert usage_of(streamed) == {
        "input_tokens": 3,
        "output_tokens": 1,
        "total_tokens": 4,
    }


def test_abandoned_stream_leaves_no_per_run_state(home: Path) -> None:
    made: list[EventLogHandler] = []

    def capture(state: Any, run: Any) -> list[Any]:
        made.extend(ai_assistant_logging.ai_assistant_run_handlers(state, run))
        return made[-1:]

    capturing = SimpleNamespace(
        ai_assistant_config_schema=ai_assistant_logging.ai_assistant_config_schema,
        ai_assistant_start=ai_assistant_logging.ai_assistant_start,
        ai_assistant_run_handlers=hookimpl(capture),
    )
    assistant = make_assistant(
        plugins={"logging": capturing}, answers=["one two three four five six"]
    )

    stream = assistant.stream("count")
    next(stream)
    stream.close()

    assert len(made) == 1
    assert made[0]._started == {}


def test_unwritable_path_fails_the_provider_with_one_line(home: Path) -> None:
    blocker = home / "a-file"
    blocker.write_text("")
    assistant = assistant_with(home, f"      path: {blocker}/events.jsonl\n")

    record = assistant.host.records[0]

    assert str(record.status) == "failed"
    assert "callbacks.logging.path: cannot open" in record.reason
    assert "\n" not in record.reason


def test_records_stay_off_stderr_when_the_application_configures_no_logging() -> None:
    import subprocess
    import sys

    script = (
        "import logging, ai_assistant_logging.sink\n"
        "logging.getLogger('ai_assistant.events').warning('llm_error')\n"
    )

    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )

    assert "llm_error" not in result.stderr
