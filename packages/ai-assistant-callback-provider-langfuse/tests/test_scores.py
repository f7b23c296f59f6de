"""Feedback on an answer becomes a score on that answer's trace."""

from __future__ import annotations

import uuid

import pytest

from ai_assistant_langfuse import trace_id_for

pytestmark = pytest.mark.allow_hosts(["127.0.0.1"])


def test_a_score_lands_on_the_trace_of_its_run(
    langfuse_server, config_for, assistant_for
):
    assistant = assistant_for(config_for())
    result = assistant.chat("Hello")

    outcome = assistant.feedback(result.run_id, 0.5, comment="close enough")
    assistant.close()

    (root,) = langfuse_server.named("ai-assistant")
    (score,) = langfuse_server.scores
    assert outcome == {"langfuse": None}
    assert score["traceId"] == root.trace_id
    assert score["name"] == "user-feedback"
    assert score["value"] == 0.5
    assert score["dataType"] == "NUMERIC"
    assert score["comment"] == "close enough"


@pytest.mark.parametrize(
    ("value", "sent", "data_type"),
    [
        (True, 1.0, "BOOLEAN"),
        (3, 3.0, "NUMERIC"),
        ("helpful", "helpful", "CATEGORICAL"),
    ],
)
def test_a_score_for_a_run_of_another_process_uses_the_derived_trace_id(
    langfuse_server, config_for, assistant_for, value, sent, data_type
):
    assistant = assistant_for(config_for())
    run_id = uuid.uuid4()

    assistant.feedback(run_id, value, name="rating")
    assistant.close()

    (score,) = langfuse_server.scores
    assert score["traceId"] == trace_id_for(run_id)
    assert (score["name"], score["value"], score["dataType"]) == (
        "rating",
        sent,
        data_type,
    )
