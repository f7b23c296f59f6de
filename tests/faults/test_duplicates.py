"""The same provider reached twice gives one set of handlers and a warning.

Twice means an installed entry point plus an explicit registration, or two
distributions declaring the same provider name (the second one is installed
apart and put on ``PYTHONPATH``).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import pytest

from ai_assistant import RunContext
from ai_assistant.context import new_run_id
from ai_assistant.isolation import GuardedHandler

if TYPE_CHECKING:
    from conftest import Cli, InProcess, LoopbackLangfuse


def a_run() -> RunContext:
    return RunContext(run_id=new_run_id(), run_name="twice", user_id="ana")


def test_c5_two_distributions_with_one_name_warn_naming_both(cli: Cli) -> None:
    second = {"PYTHONPATH": str(cli.elsewhere)}

    result = cli.run("chat", "hello", providers="duplicate", env=second)

    assert result.returncode == 0, result.stderr
    [warning] = cli.lines(result.stderr, "'duplicate'")
    assert "ai-assistant-fault-duplicate-a" in warning
    assert "ai-assistant-fault-duplicate-b" in warning


def test_c5_two_distributions_with_one_name_give_one_set_of_handlers(cli: Cli) -> None:
    second = {"PYTHONPATH": str(cli.elsewhere)}

    cli.run("chat", providers="duplicate", env=second, input="one\ntwo\nexit\n")

    starts = cli.notes(event="run_start")
    assert len(starts) == 2
    assert len({note["provider"] for note in starts}) == 1


def test_c5_an_installed_provider_registered_again_gives_one_set_of_handlers(
    in_process: InProcess, caplog: pytest.LogCaptureFixture
) -> None:
    recorder = in_process.module("fault_recorder")

    with caplog.at_level(logging.WARNING):
        host = in_process.host("recorder", plugins={"recorder": recorder})
    handlers, _ = host.run_callbacks(a_run())

    assert len(handlers) == 1
    [warning] = [
        r.getMessage() for r in caplog.records if "'recorder'" in r.getMessage()
    ]
    assert "ai-assistant-fault-recorder" in warning


def test_c5_an_installed_provider_registered_under_another_name_runs_once(
    in_process: InProcess,
) -> None:
    recorder = in_process.module("fault_recorder")

    host = in_process.host("recorder,again", plugins={"again": recorder})
    handlers, _ = host.run_callbacks(a_run())

    assert len(handlers) == 1


def test_c5_an_installed_provider_registered_under_another_name_is_a_warning(
    in_process: InProcess, caplog: pytest.LogCaptureFixture
) -> None:
    recorder = in_process.module("fault_recorder")

    with caplog.at_level(logging.WARNING):
        host = in_process.host("recorder,again", plugins={"again": recorder})

    assert host.problems() == []
    assert [
        r for r in caplog.records if "ai-assistant-fault-recorder" in r.getMessage()
    ]


def test_c5_langfuse_installed_and_registered_again_records_one_trace_costed_once(
    in_process: InProcess, langfuse: LoopbackLangfuse
) -> None:
    from ai_assistant_langfuse import trace_id_for

    module = in_process.module("ai_assistant_langfuse")
    assistant = in_process.assistant(
        "langfuse",
        plugins={"langfuse": module},
        callbacks={"langfuse": langfuse.section()},
    )

    result = assistant.chat("count")
    assistant.host.flush(5)

    [handler] = assistant.run_config_for(a_run())["callbacks"]  # type: ignore[misc]
    assert isinstance(handler, GuardedHandler)
    spans = langfuse.trace(trace_id_for(result.run_id))
    kinds = [span.attributes.get("langfuse.observation.type") for span in spans]
    assert kinds.count("generation") == 1
    assert {span.trace_id for span in langfuse.spans} == {trace_id_for(result.run_id)}
