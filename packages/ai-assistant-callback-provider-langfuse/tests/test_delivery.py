"""Delivery at exit, and a Langfuse server that refuses or stalls."""

from __future__ import annotations

import base64
import logging
import time

import pytest

pytestmark = pytest.mark.allow_hosts(["127.0.0.1"])

WRONG_SECRET = "sk-lf-wrong-Hj4kL6mN8pQ0"


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.levelno >= logging.WARNING
    ]


def test_closing_delivers_every_span_before_it_returns(
    langfuse_server, config_for, assistant_for
):
    assistant = assistant_for(config_for(flush_interval=60))
    assistant.chat("Hello")
    assert langfuse_server.spans == []

    assistant.close()

    assert sorted(span.name for span in langfuse_server.spans) == [
        "ScriptedChatModel",
        "ai-assistant",
    ]


@pytest.mark.parametrize("status", [401, 500])
def test_a_refusing_server_does_not_break_the_answer(
    langfuse_server, config_for, assistant_for, status
):
    langfuse_server.status = status
    assistant = assistant_for(config_for(), answers=["Still answered."])

    result = assistant.chat("Hello")
    assistant.close()

    assert result.answer == "Still answered."
    assert [request.status for request in langfuse_server.requests] == [status]
    assert langfuse_server.spans == []


def test_rejected_keys_are_reported_once_with_the_server_and_no_secret(
    caplog, langfuse_server, config_for, assistant_for
):
    caplog.set_level(logging.WARNING)
    assistant = assistant_for(config_for(secret_key=WRONG_SECRET))

    assistant.chat("Hello")
    assistant.host.flush()
    assistant.chat("Hello again")
    assistant.close()

    assert [request.status for request in langfuse_server.requests] == [401, 401]
    token = f"{langfuse_server.public_key}:{WRONG_SECRET}".encode()
    basic = base64.b64encode(token).decode("ascii")
    ours = [text for text in _warnings(caplog) if "provider 'langfuse'" in text]
    assert len(ours) == 1
    assert langfuse_server.url in ours[0]
    assert "did not accept" in ours[0]
    for text in _warnings(caplog):
        assert WRONG_SECRET not in text
        assert basic not in text


def test_a_stalled_server_cannot_hold_the_exit_past_the_deadline(
    caplog, langfuse_server, config_for, assistant_for
):
    caplog.set_level(logging.WARNING)
    langfuse_server.delay = 3.0
    config = config_for(core={"flush_deadline": 1.0}, timeout=2)
    assistant = assistant_for(config)
    assistant.chat("Hello")

    began = time.monotonic()
    assistant.close()
    took = time.monotonic() - began

    assert took < 1.5
    ours = [text for text in _warnings(caplog) if "provider 'langfuse'" in text]
    assert len(ours) == 1
    assert "flush did not finish" in ours[0]
    assert langfuse_server.url in ours[0]
    assert not any("did not finish within 1 s" in text for text in _warnings(caplog))
