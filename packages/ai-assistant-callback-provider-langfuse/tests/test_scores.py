"""Feedback on an answer becomes a score on that answer's trace."""

from __future__ import annotations

import json
import uuid

import pytest
from opentelemetry.sdk.trace.sampling import TraceIdRatioBased

from ai_assistant import RunContext
from ai_assistant_langfuse import trace_id_for

pytestmark = pytest.mark.allow_hosts(["127.0.0.1"])


def test_a_score_lands_on_the_trace_of_its_run(
    langfuse_server, config_for, assistant_for
):
    assistant = assistant_for(config_for(flush_interval=60))
    result = assistant.chat("Hello")
    assistant.chat("Another question")

    outcome = assistant.feedback(result.run_id, 0.5, comment="close enough")
    assistant.close()

    (root,) = [
        span
        for span in langfuse_server.spans_of(trace_id_for(result.run_id))
        if span.name == "ai-assistant"
    ]
    (score,) = langfuse_server.scores
    assert outcome == {"langfuse": None}
    assert score["traceId"] == root.trace_id
    assert score["name"] == "user-feedback"
    assert score["value"] == 0.5
    assert score["dataType"] == "NUMERIC"
    assert score["comment"] == "close enough"
    assert score["metadata"] == {"ai_assistant_run_id": result.run_id}


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


def test_feedback_from_a_later_process_scores_the_answers_trace(
    langfuse_server, config_for, run_cli
):
    """C7: each process exits at once; the spans and the score were delivered."""
    config = config_for(core={"model": "scripted:"}, flush_interval=60)
    answered = run_cli(config, "chat", "--json", "Capital of France?")
    run_id = json.loads(answered.stdout)["run_id"]

    scored = run_cli(
        config,
        "feedback",
        run_id,
        "--score",
        "1",
        "--name",
        "correct",
        "--comment",
        "ok",
    )

    assert (answered.returncode, scored.returncode) == (0, 0)
    assert (answered.stderr, scored.stderr) == ("", "")
    (root,) = langfuse_server.named("ai-assistant")
    (score,) = langfuse_server.scores
    assert score["traceId"] == root.trace_id == trace_id_for(run_id)
    assert (score["name"], score["value"], score["comment"]) == ("correct", 1.0, "ok")


def test_sampled_out_runs_are_not_traced_and_their_feedback_is_left_out(
    langfuse_server, config_for, assistant_for
):
    assistant = assistant_for(config_for(sample_rate=0.5))
    run_ids = [uuid.UUID(int=number * 7919) for number in range(1, 13)]
    sampler = TraceIdRatioBased(0.5)
    kept = {
        str(run_id)
        for run_id in run_ids
        if sampler.should_sample(
            None, int(trace_id_for(run_id), 16), "t"
        ).decision.is_sampled()
    }
    assert 0 < len(kept) < len(run_ids)

    for run_id in run_ids:
        assistant.chat("Hello", run_id=run_id)
    outcomes = [assistant.feedback(run_id, 1) for run_id in run_ids]
    handlers = {
        str(run_id): assistant.run_config_for(RunContext(run_id, "probe"))["callbacks"]
        for run_id in run_ids
    }
    assistant.close()

    assert outcomes == [{"langfuse": None}] * len(run_ids)
    assert {run_id for run_id, made in handlers.items() if made} == kept
    traced = {span.trace_id for span in langfuse_server.spans}
    assert traced == {trace_id_for(run_id) for run_id in kept}
    assert {score["traceId"] for score in langfuse_server.scores} == traced
    assert len(langfuse_server.scores) == len(kept)
