"""Delivery at exit, and a Langfuse server that stalls, refuses, fails or is gone."""

from __future__ import annotations

import base64
import time

import pytest

pytestmark = pytest.mark.allow_hosts(["127.0.0.1"])

WRONG_SECRET = "sk-lf-wrong-Hj4kL6mN8pQ0"
STALL = 5.0  # seconds the stalled server takes to answer each request


def _secrets(server, secret: str) -> list[str]:
    token = f"{server.public_key}:{secret}".encode()
    return [secret, base64.b64encode(token).decode("ascii")]


def test_closing_delivers_every_span_and_score_before_it_returns(
    langfuse_server, config_for, assistant_for
):
    assistant = assistant_for(config_for(flush_interval=60, flush_at=1000))
    result = assistant.chat("Hello")
    assistant.feedback(result.run_id, 1)
    time.sleep(0.2)
    assert langfuse_server.requests == []

    assistant.close()

    assert sorted(span.name for span in langfuse_server.spans) == [
        "ScriptedChatModel",
        "ai-assistant",
    ]
    assert len(langfuse_server.scores) == 1


def test_a_one_shot_chat_delivers_everything_before_the_process_exits(
    langfuse_server, config_for, run_cli
):
    """C7: nothing is left for a next run; the exit flush sends it all."""
    config = config_for(core={"model": "scripted:"}, flush_interval=60, flush_at=1000)

    done = run_cli(config, "chat", "Capital of France?")

    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert sorted(span.name for span in langfuse_server.spans) == [
        "ScriptedChatModel",
        "ai-assistant",
    ]


def test_a_stalled_server_costs_the_answer_nothing_and_the_exit_one_deadline(
    langfuse_server, config_for, assistant_for, logged_warnings
):
    """C8, slow: every request stalls; answers and close() do not wait for it."""
    langfuse_server.delay = STALL
    config = config_for(core={"flush_deadline": 1.0}, flush_at=1)
    assistant = assistant_for(config, answers=["one two three four"])

    began = time.monotonic()
    results = [assistant.chat("Count") for _ in range(3)]
    answered = time.monotonic() - began
    assistant.feedback(results[0].run_id, 1)
    began = time.monotonic()
    assistant.close()
    closed = time.monotonic() - began

    assert answered < 0.5
    assert closed < 1.0
    (warning,) = logged_warnings()
    assert warning.startswith("provider 'langfuse': flush did not finish within 0.")
    assert langfuse_server.url in warning


def test_the_providers_flush_deadline_bounds_the_exit_below_the_cores(
    langfuse_server, config_for, assistant_for, logged_warnings
):
    langfuse_server.delay = STALL
    config = config_for(core={"flush_deadline": 5.0}, flush_deadline=0.3)
    assistant = assistant_for(config)
    assistant.chat("Hello")

    began = time.monotonic()
    assistant.close()
    closed = time.monotonic() - began

    assert closed < 0.6
    (warning,) = logged_warnings()
    assert warning.startswith("provider 'langfuse': flush did not finish within 0.3 s")


def test_after_a_flush_given_up_on_a_stalled_server_closing_does_not_wait_again(
    langfuse_server, config_for, assistant_for
):
    """C8, slow: one outage costs one deadline, however often data is flushed."""
    langfuse_server.delay = STALL
    assistant = assistant_for(config_for(core={"flush_deadline": 1.0}))
    assistant.chat("Hello")
    assistant.host.flush()

    began = time.monotonic()
    assistant.close()
    closed = time.monotonic() - began

    assert closed < 0.2


def test_a_stalled_server_delays_a_one_shot_chats_exit_by_one_deadline(
    start_server, config_for, run_cli
):
    """C8, slow: the process exits within flush_deadline of a healthy one."""
    healthy, stalled = start_server(), start_server()
    stalled.delay = STALL
    core = {"model": "scripted:", "flush_deadline": 1.0}

    began = time.monotonic()
    normal = run_cli(config_for(server=healthy, core=core), "chat", "Hi")
    baseline = time.monotonic() - began
    began = time.monotonic()
    slow = run_cli(config_for(server=stalled, core=core), "chat", "Hi")
    took = time.monotonic() - began

    assert (normal.returncode, slow.returncode) == (0, 0)
    assert slow.stdout == normal.stdout
    assert took - baseline < 1.0 + 0.5
    (warning,) = slow.stderr.splitlines()
    assert "provider 'langfuse': flush did not finish" in warning
    assert stalled.url in warning


@pytest.mark.parametrize(
    ("failure", "detail"),
    [
        (401, "HTTP 401"),
        (500, "HTTP 500"),
        ("unreachable", "connection failed"),
    ],
)
def test_a_failing_server_gets_one_warning_with_its_url_and_no_secret(
    langfuse_server,
    unreachable_url,
    config_for,
    assistant_for,
    logged_warnings,
    failure,
    detail,
):
    """C8, down: refused keys, server errors or no server: one clear warning."""
    section = {"timeout": 1, "flush_deadline": 3.0, "flush_at": 1}
    if failure == "unreachable":
        section["base_url"] = unreachable_url
    else:
        langfuse_server.status = failure
    assistant = assistant_for(config_for(**section), answers=["Still answered."])

    results = [assistant.chat("Hello"), assistant.chat("Hello again")]
    assistant.feedback(results[0].run_id, 1)
    began = time.monotonic()
    assistant.close()
    closed = time.monotonic() - began

    assert [result.answer for result in results] == ["Still answered."] * 2
    assert closed < 3.5
    (warning,) = logged_warnings()
    url = unreachable_url if failure == "unreachable" else langfuse_server.url
    assert warning.startswith(f"provider 'langfuse': Langfuse at {url} did not accept")
    assert f"({detail})" in warning
    for secret in _secrets(langfuse_server, langfuse_server.secret_key):
        assert secret not in warning


def test_rejected_keys_are_reported_once_and_again_after_a_recovery(
    langfuse_server, config_for, assistant_for, logged_warnings
):
    """P5: wrong credentials show up as a warning naming what to check."""
    assistant = assistant_for(config_for(secret_key=WRONG_SECRET))

    assistant.chat("Hello")
    assistant.host.flush()
    assistant.chat("Hello again")
    assistant.host.flush()
    langfuse_server.secret_key = WRONG_SECRET
    assistant.chat("Accepted now")
    assistant.host.flush()
    langfuse_server.status = 401
    assistant.chat("Refused again")
    assistant.close()

    statuses = [request.status for request in langfuse_server.requests]
    assert statuses == [401, 401, 200, 401]
    warnings = logged_warnings()
    assert len(warnings) == 2
    assert (
        "did not accept 2 spans (HTTP 401); check callbacks.langfuse.public_key"
        in (warnings[0])
    )
    for secret in _secrets(langfuse_server, WRONG_SECRET):
        assert all(secret not in text for text in warnings)


def test_a_refused_chat_prints_one_warning_line(langfuse_server, config_for, run_cli):
    """C8 and P5 from the command line: one line, naming the server."""
    langfuse_server.status = 401

    done = run_cli(config_for(core={"model": "scripted:"}), "chat", "Hi")

    assert done.returncode == 0
    assert done.stdout.strip() == "Paris is the capital of France."
    (line,) = done.stderr.splitlines()
    assert line.startswith("ai-assistant: warning: provider 'langfuse': Langfuse at ")
    assert langfuse_server.url in line
    assert "HTTP 401" in line
