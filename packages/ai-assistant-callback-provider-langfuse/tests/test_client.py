"""The provider's Langfuse client: its own, per provider config, shared with nobody."""

from __future__ import annotations

import pytest
from langfuse import Langfuse, get_client
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider

from ai_assistant_langfuse import trace_id_for

pytestmark = pytest.mark.allow_hosts(["127.0.0.1"])


def _state(assistant):
    (record,) = assistant.host.active
    return record.state


def test_the_global_opentelemetry_provider_is_left_alone(config_for, assistant_for):
    before = trace.get_tracer_provider()

    assistant = assistant_for(config_for())
    assistant.chat("Hello")

    assert trace.get_tracer_provider() is before
    assert _state(assistant).client.tracer_provider is not before


def test_an_applications_own_client_for_the_same_key_is_neither_used_nor_changed(
    start_server, config_for, assistant_for
):
    ours, theirs = start_server(), start_server()
    theirs.public_key = ours.public_key
    application = Langfuse(
        public_key=ours.public_key,
        secret_key=ours.secret_key,
        base_url=theirs.url,
        tracer_provider=TracerProvider(),
    )
    assistant = assistant_for(config_for(server=ours))

    result = assistant.chat("Hello")
    assistant.close()
    application.start_observation(name="application-span").end()
    application.flush()

    assert {span.name for span in ours.spans} == {"ai-assistant", "ScriptedChatModel"}
    assert {span.trace_id for span in ours.spans} == {trace_id_for(result.run_id)}
    assert [span.name for span in theirs.spans] == ["application-span"]
    assert get_client(public_key=ours.public_key)._resources is application._resources
    application.shutdown()


def test_one_public_key_may_send_to_two_servers(
    start_server, config_for, assistant_for
):
    first, second = start_server(), start_server()
    second.public_key = first.public_key
    one = assistant_for(config_for(server=first))
    two = assistant_for(config_for(server=second))

    one_result = one.chat("Hello")
    two_result = two.chat("Hello")
    one.close()
    two.close()

    assert {span.trace_id for span in first.spans} == {trace_id_for(one_result.run_id)}
    assert {span.trace_id for span in second.spans} == {trace_id_for(two_result.run_id)}


def test_a_closed_assistants_keys_work_again_in_a_new_one(
    langfuse_server, config_for, assistant_for
):
    config = config_for()
    first = assistant_for(config)
    first.chat("Hello")
    first.close()
    second = assistant_for(config)

    result = second.chat("Hello again")
    second.close()

    assert len(langfuse_server.spans_of(trace_id_for(result.run_id))) == 2


def test_closing_one_of_two_assistants_leaves_the_other_delivering(
    langfuse_server, config_for, assistant_for
):
    config = config_for(flush_interval=60)
    first, second = assistant_for(config), assistant_for(config)
    first.close()

    result = second.chat("Hello")
    second.close()

    assert _state(second).client is not _state(first).client
    assert len(langfuse_server.spans_of(trace_id_for(result.run_id))) == 2


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_an_applications_active_span_is_neither_parent_nor_touched(
    langfuse_server, config_for, assistant_for, mode
):
    application = TracerProvider().get_tracer("application")
    assistant = assistant_for(config_for())

    with application.start_as_current_span("request") as request:
        if mode == "sync":
            result = assistant.chat("Hello", user_id="alice")
        else:
            result = await assistant.achat("Hello", user_id="alice")
        current = trace.get_current_span()
    assistant.close()

    assert current is request
    assert "user.id" not in request.attributes
    (root,) = langfuse_server.named("ai-assistant")
    assert root.trace_id == trace_id_for(result.run_id)
    assert root.parent_span_id != format(request.get_span_context().span_id, "016x")
