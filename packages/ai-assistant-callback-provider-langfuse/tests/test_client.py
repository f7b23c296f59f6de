"""The provider's Langfuse client: its own, shared safely, rebuilt when closed."""

from __future__ import annotations

import pytest
from opentelemetry import trace

from ai_assistant_langfuse import trace_id_for

pytestmark = pytest.mark.allow_hosts(["127.0.0.1"])


def _state(assistant):
    (record,) = assistant.host.active
    return record.state


def test_the_global_opentelemetry_provider_is_left_alone(config_for, assistant_for):
    assistant = assistant_for(config_for())

    # The SDK's default would put its exporter on the global provider (or
    # make its own provider the global one); either way they would be equal.
    resources = _state(assistant).client._resources

    assert resources.tracer_provider is not trace.get_tracer_provider()


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

    assert _state(second).client is _state(first).client
    assert len(langfuse_server.spans_of(trace_id_for(result.run_id))) == 2


def test_one_public_key_cannot_send_to_two_servers(
    start_server, config_for, assistant_for
):
    first, elsewhere = start_server(), start_server()
    assistant_for(config_for(server=first))
    clash = config_for(server=first, base_url=elsewhere.url)

    (record,) = assistant_for(clash).host.records

    assert str(record.status) == "failed"
    assert f"base_url {first.url}, not {elsewhere.url}" in record.reason
    assert first.secret_key not in record.reason
