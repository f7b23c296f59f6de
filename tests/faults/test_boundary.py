"""Isolation at the provider boundary, seen from the command line.

A provider that fails on import, start, an event, its handler factory, its
metadata, a score, flush or shutdown is reported once per kind of failure,
by name and with what failed; the other providers and the answer go on.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from conftest import Cli

ANSWER = "Paris is the capital of France."
RUN_ID = str(uuid.UUID(int=7))

UNIMPORTABLE = [
    pytest.param(
        "import_raises",
        ("RuntimeError: broken on purpose at import",),
        id="import-raises",
    ),
    pytest.param(
        "missing_dependency",
        ("ModuleNotFoundError", "fault_absent_dependency"),
        id="dependency-missing",
    ),
    pytest.param(
        "missing_attribute",
        ("fault_missing_attribute:nothing", "AttributeError"),
        id="entry-point-names-nothing",
    ),
]


@pytest.mark.parametrize(("provider", "words"), UNIMPORTABLE)
def test_p2_chat_answers_beside_a_provider_that_cannot_be_imported(
    cli: Cli, provider: str, words: tuple[str, ...]
) -> None:
    result = cli.run("chat", "hello", providers=f"recorder,{provider}")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ANSWER
    assert len(cli.lines(result.stderr, f"provider {provider!r}", *words)) == 1
    assert len(cli.notes("recorder", "run_end")) == 1


@pytest.mark.parametrize(("provider", "words"), UNIMPORTABLE)
def test_p2_providers_lists_a_provider_that_cannot_be_imported_as_failed(
    cli: Cli, provider: str, words: tuple[str, ...]
) -> None:
    result = cli.run("providers", "--json", providers=f"recorder,{provider}")

    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert rows[provider]["status"] == "failed"
    assert all(word in rows[provider]["reason"] for word in words)
    assert rows[provider]["failures"] == {"import": 1}
    assert rows["recorder"]["status"] == "active"


@pytest.mark.parametrize("provider", ["import_raises", "missing_dependency"])
def test_p2_every_command_works_beside_a_broken_provider_and_can_turn_it_off(
    cli: Cli, provider: str
) -> None:
    allowed = f"recorder,{provider}"

    works = [
        cli.run("chat", "hello", providers=allowed),
        cli.run("providers", providers=allowed),
        cli.run("config", "show", providers=allowed),
        cli.run("feedback", RUN_ID, "--score", "1", providers=allowed),
    ]
    check = cli.run("config", "check", providers=allowed)
    off_by_option = cli.run(
        "-o",
        f"callbacks.{provider}.enabled=false",
        "config",
        "check",
        providers=allowed,
    )
    off_by_name = cli.run(
        "config",
        "check",
        providers=allowed,
        env={"AI_ASSISTANT_DISABLE_PROVIDERS": provider},
    )

    assert [result.returncode for result in works] == [0, 0, 0, 0]
    assert check.returncode == 1
    assert cli.lines(check.stderr, f"provider {provider!r}")
    assert off_by_option.returncode == 0, off_by_option.stderr
    assert off_by_name.returncode == 0, off_by_name.stderr


def test_p2_chat_answers_beside_a_provider_whose_import_exits(cli: Cli) -> None:
    result = cli.run("chat", "hello", providers="recorder,exit_on_import")

    assert result.returncode == 0
    assert result.stdout.strip() == ANSWER
    assert len(cli.lines(result.stderr, "provider 'exit_on_import'")) == 1


def test_isolation_a_start_failure_is_reported_once_and_the_chat_answers(
    cli: Cli,
) -> None:
    result = cli.run("chat", "hello", providers="recorder,start_raises")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ANSWER
    reports = cli.lines(result.stderr, "provider 'start_raises'", "start")
    reports = [line for line in reports if "cannot reach the backend" in line]
    assert len(reports) == 1
    assert "ConnectionError" in reports[0]


def test_isolation_providers_json_counts_each_providers_failures(cli: Cli) -> None:
    result = cli.run("providers", "--json", providers="recorder,start_raises")

    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert rows["start_raises"]["failures"] == {"start": 1}
    assert rows["recorder"]["failures"] == {}


def test_isolation_the_providers_table_shows_failure_counts(cli: Cli) -> None:
    result = cli.run("providers", providers="recorder,start_raises")

    header = result.stdout.splitlines()[0]
    assert "FAILURES" in header


def test_c4_a_handler_raising_on_every_token_is_reported_once_across_runs(
    cli: Cli,
) -> None:
    result = cli.run(
        "chat", providers="recorder,token_raises", input="first\nsecond\nexit\n"
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.count(ANSWER) == 2
    reports = cli.lines(result.stderr, "provider 'token_raises'", "on_llm_new_token")
    reports = [line for line in reports if "token handler broke on purpose" in line]
    assert len(reports) == 1
    assert "RuntimeError" in reports[0]


EVENTS = (
    "on_chain_start",
    "on_chain_end",
    "on_chat_model_start",
    "on_llm_new_token",
    "on_llm_end",
    "on_tool_start",
    "on_tool_end",
)


def test_isolation_a_handler_raising_in_every_event_is_reported_once_per_event(
    cli: Cli,
) -> None:
    cli.configure(model="scripted:tools")

    result = cli.run("chat", "what is 6*7?", providers="recorder,event_raises")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("The answer is 42.")
    reports = {
        event: len(
            cli.lines(
                result.stderr, "provider 'event_raises'", f"{event} broke on purpose"
            )
        )
        for event in EVENTS
    }
    assert reports == dict.fromkeys(EVENTS, 1)


def test_c4_later_runs_still_reach_a_provider_whose_handler_raised(cli: Cli) -> None:
    cli.run("chat", providers="token_raises", input="first\nsecond\nexit\n")

    assert len(cli.notes("token_raises", "run_start")) == 2
    assert len(cli.notes("token_raises", "run_end")) == 2


def test_c4_the_end_of_a_chat_shows_how_often_a_provider_failed(cli: Cli) -> None:
    result = cli.run("chat", "hello", providers="token_raises")

    failures = len(cli.notes("token_raises", "token"))
    counted = [
        line
        for line in cli.lines(result.stderr, "token_raises")
        if re.search(rf"\b{failures}\b", line)
    ]
    assert failures > 1
    assert counted, result.stderr


def test_c4_a_guardrail_stops_a_chat_with_its_own_exception(cli: Cli) -> None:
    allowed = cli.run("chat", "a fine question", providers="recorder,guardrail")
    blocked = cli.run("chat", "a forbidden question", providers="recorder,guardrail")

    assert allowed.returncode == 0
    assert allowed.stdout.strip() == ANSWER
    assert blocked.returncode != 0
    assert "Traceback" not in blocked.stderr
    assert cli.lines(
        blocked.stderr, "PolicyViolationError", "blocked by the sync guardrail"
    )


def test_isolation_a_factory_returning_a_non_handler_is_reported_and_left_out(
    cli: Cli,
) -> None:
    result = cli.run("chat", "hello", providers="recorder,factory_not_handler")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ANSWER
    reports = cli.lines(
        result.stderr, "provider 'factory_not_handler'", "ai_assistant_run_handlers"
    )
    assert len(reports) == 1
    assert "int" in reports[0]


def test_isolation_a_factory_returning_one_handler_not_in_a_list_still_takes_part(
    cli: Cli,
) -> None:
    result = cli.run("chat", "hello", providers="recorder,factory_bare_handler")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ANSWER
    assert "Traceback" not in result.stderr
    assert len(cli.notes("factory_bare_handler", "run_end")) == 1


def test_isolation_a_metadata_hook_that_raises_leaves_the_run_its_metadata(
    cli: Cli,
) -> None:
    result = cli.run(
        "chat", "--user", "ana", "hello", providers="recorder,metadata_raises"
    )

    assert result.returncode == 0, result.stderr
    [start] = cli.notes("recorder", "run_start")
    assert start["metadata"]["user_id"] == "ana"
    assert start["metadata"]["recorder_seen"] is True
    reports = cli.lines(
        result.stderr, "provider 'metadata_raises'", "metadata broke on purpose"
    )
    assert len(reports) == 1
    assert "RuntimeError" in reports[0]


def test_isolation_a_clashing_metadata_key_is_reported_and_never_overwrites(
    cli: Cli,
) -> None:
    result = cli.run(
        "chat", "--user", "ana", "hello", providers="recorder,metadata_clash"
    )

    [start] = cli.notes("recorder", "run_start")
    assert start["metadata"]["user_id"] == "ana"
    assert start["metadata"]["clash_own"] == "kept"
    assert len(cli.lines(result.stderr, "provider 'metadata_clash'", "'user_id'")) == 1


def test_isolation_a_score_hook_that_raises_is_reported_and_others_get_the_score(
    cli: Cli,
) -> None:
    result = cli.run(
        "feedback", RUN_ID, "--score", "0.5", providers="recorder,score_raises"
    )

    [score] = cli.notes("recorder", "score")
    assert (score["run_id"], score["value"]) == (RUN_ID, 0.5)
    reports = cli.lines(
        result.stderr, "provider 'score_raises'", "scores endpoint refused on purpose"
    )
    assert len(reports) == 1
    assert "ConnectionError" in reports[0]
    assert "Traceback" not in result.stderr


def test_c7_a_flush_that_hangs_gets_one_warning_naming_the_provider(cli: Cli) -> None:
    cli.configure(flush_deadline=1)

    result = cli.run("chat", "hello", providers="recorder,flush_hangs")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ANSWER
    assert (
        len(cli.lines(result.stderr, "provider 'flush_hangs'", "flush", "within")) == 1
    )


def test_c7_a_flush_that_hangs_delays_the_exit_by_at_most_the_flush_deadline(
    cli: Cli,
) -> None:
    cli.configure(flush_deadline=2)

    began = time.monotonic()
    cli.run("chat", "hello", providers="recorder")
    plain = time.monotonic() - began
    began = time.monotonic()
    cli.run("chat", "hello", providers="recorder,flush_hangs")
    hanging = time.monotonic() - began

    assert hanging - plain < 2 + 1


def test_isolation_a_shutdown_that_raises_is_reported_and_others_shut_down(
    cli: Cli,
) -> None:
    result = cli.run("chat", "hello", providers="recorder,shutdown_raises")

    assert result.returncode == 0, result.stderr
    reports = cli.lines(
        result.stderr, "provider 'shutdown_raises'", "shutdown broke on purpose"
    )
    assert len(reports) == 1
    assert "RuntimeError" in reports[0]
    assert len(cli.notes("recorder", "shutdown")) == 1
