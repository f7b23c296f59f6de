"""A tracer's backend that is slow, down or refuses the keys, and a tracer
switched on without its keys.

The backend is the Langfuse stand-in on 127.0.0.1, or a loopback port that
nothing listens on; no other address is ever used.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from conftest import Cli, InProcess, LoopbackLangfuse

ANSWER = "Paris is the capital of France."


@pytest.mark.parametrize("failure", ["refused", "401", "500"])
def test_c8_p5_a_backend_that_is_down_or_refuses_gets_one_warning_naming_it(
    cli: Cli, langfuse: LoopbackLangfuse, refused_url: str, failure: str
) -> None:
    section = langfuse.section()
    if failure == "refused":
        section["base_url"] = refused_url
    elif failure == "401":
        section["secret_key"] = "sk-lf-fault-not-the-right-one"
    else:
        langfuse.status = 500
    cli.configure(flush_deadline=2, callbacks={"langfuse": section})

    result = cli.run("chat", "hello", providers="langfuse")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ANSWER
    warnings = cli.lines(result.stderr, "langfuse", section["base_url"])
    assert len(warnings) == 1, result.stderr
    assert section["secret_key"] not in result.stderr


def test_c8_a_slow_backend_delays_neither_the_first_token_nor_the_answer(
    in_process: InProcess, langfuse: LoopbackLangfuse
) -> None:
    langfuse.delay = 5
    assistant = in_process.assistant(
        "langfuse", callbacks={"langfuse": langfuse.section(flush_at=1)}
    )
    assistant.chat("warm up")

    began = time.monotonic()
    stream = assistant.stream("count")
    next(stream)
    first = time.monotonic() - began
    "".join(stream)
    answered = time.monotonic() - began

    assert first < 1
    assert answered < 2


def test_c8_a_slow_backend_delays_the_exit_by_at_most_the_flush_deadline(
    cli: Cli, langfuse: LoopbackLangfuse
) -> None:
    cli.configure(flush_deadline=2, callbacks={"langfuse": langfuse.section()})
    began = time.monotonic()
    cli.run("chat", "hello", providers="langfuse")
    plain = time.monotonic() - began
    langfuse.delay = 10

    began = time.monotonic()
    result = cli.run("chat", "hello", providers="langfuse")
    stalled = time.monotonic() - began

    assert result.stdout.strip() == ANSWER
    assert stalled - plain < 2 + 1
    assert cli.lines(result.stderr, "langfuse", langfuse.url)


def test_p5_a_tracer_given_only_one_key_warns_at_start_up(cli: Cli) -> None:
    keys = {"LANGFUSE_PUBLIC_KEY": "pk-lf-fault-only-the-public-one"}

    chat = cli.run("chat", "hello", providers="langfuse", env=keys)
    listed = cli.run("providers", "--json", providers="langfuse", env=keys)

    assert chat.returncode == 0
    [warning] = cli.lines(chat.stderr, "'langfuse'")
    assert "secret_key" in warning
    [row] = [row for row in json.loads(listed.stdout) if row["name"] == "langfuse"]
    assert row["status"] == "failed"
    assert "secret_key" in row["reason"]


def test_p5_a_tracer_switched_on_without_keys_warns_at_start_up(cli: Cli) -> None:
    cli.configure(callbacks={"langfuse": {"enabled": True}})

    chat = cli.run("chat", "hello", providers="langfuse")

    assert chat.returncode == 0
    [warning] = cli.lines(chat.stderr, "'langfuse'")
    assert "LANGFUSE_PUBLIC_KEY" in warning
    assert "LANGFUSE_SECRET_KEY" in warning
