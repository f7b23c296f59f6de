"""Masking applies to everything that leaves the process, and fails closed."""

from __future__ import annotations

import textwrap
import uuid

import pytest
from langchain_core.messages import AIMessage
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableLambda
from langchain_core.tools import tool

import ai_assistant
from ai_assistant.testing import ScriptedChatModel
from ai_assistant_langfuse import trace_id_for
from ai_assistant_langfuse.masking import PATTERNS, REDACTED, Masker

pytestmark = pytest.mark.allow_hosts(["127.0.0.1"])

SECRETS = (
    "alice@example.com",
    "bob@example.com",
    "carol@example.com",
    "dave@example.com",
    "ops@example.com",
    "sk-proj-ABCDEFGHIJKLMNOPQRST1234",
    "sk-lf-0f3c2a9e-5b1d-4c7e-8a6f-2d9b7e1c4a30",
    "hunter2secret",
    "Zanzibar",
)
MASKS = textwrap.dedent(
    """\
    def customers(*, data, **kwargs):
        if isinstance(data, str):
            return data.replace("Zanzibar", "[CUSTOMER]")
        if isinstance(data, dict):
            return {key: customers(data=value) for key, value in data.items()}
        if isinstance(data, list):
            return [customers(data=value) for value in data]
        return data


    def broken(*, data, **kwargs):
        raise RuntimeError(f"cannot mask {data!r}")
    """
)


@pytest.fixture
def mask_module(tmp_path, monkeypatch) -> str:
    """A module of masking functions the config can name."""
    name = f"masks_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{name}.py").write_text(MASKS, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    return name


@tool
def remember(note: str) -> str:
    """Store ``note`` and say who was told."""
    return f"stored {note!r}; told ops@example.com"


def _masked_run(assistant):
    answers = [
        AIMessage(
            content="",
            tool_calls=[
                {
                    "name": "remember",
                    "args": {"note": "key sk-proj-ABCDEFGHIJKLMNOPQRST1234"},
                    "id": "call-1",
                }
            ],
        ),
        "Done; I mailed bob@example.com.",
    ]
    assistant.model.answers = answers
    return assistant.chat(
        "I am alice@example.com of Zanzibar; my Langfuse key is "
        "sk-lf-0f3c2a9e-5b1d-4c7e-8a6f-2d9b7e1c4a30"
    )


def _fail(question: str) -> str:
    raise ValueError("password=hunter2secret rejected for carol@example.com")


def test_every_field_sent_is_masked_by_patterns_and_function(
    langfuse_server, config_for, assistant_for, run_config_host, mask_module
):
    """C10: inputs, outputs, tools, templates, metadata, errors and scores."""
    masking = {
        "patterns": ["api_keys", "emails"],
        "function": f"{mask_module}:customers",
    }
    config = config_for(masking=masking)
    assistant = assistant_for(config, tools=[remember])
    host = run_config_host(config)
    template = ChatPromptTemplate.from_messages(
        [("system", "You support {customer}."), ("human", "{question}")]
    )
    chain = template | ScriptedChatModel(answers=["Ask dave@example.com."])
    failing = RunnableLambda(_fail, name="failing")
    settings = ai_assistant.run_config(run_name="templated")
    settings["metadata"]["contact"] = "carol@example.com"

    result = _masked_run(assistant)
    assistant.feedback(result.run_id, 0, comment="wrong: ask dave@example.com")
    chain.invoke(
        {"customer": "Zanzibar", "question": "Key sk-proj-ABCDEFGHIJKLMNOPQRST1234?"},
        config=settings,
    )
    with pytest.raises(ValueError):
        failing.invoke("Why?", config=ai_assistant.run_config(run_name="failing-run"))
    assistant.close()
    host.close()

    assert len(langfuse_server.spans) == 4 + 3 + 1
    for span in langfuse_server.spans:
        for secret in SECRETS:
            assert secret not in span.sent_text(), (span.name, secret)
    (score,) = langfuse_server.scores
    assert score["comment"] == "wrong: ask [REDACTED EMAIL]"
    assert "dave" not in str(score)
    sent = "\n".join(span.sent_text() for span in langfuse_server.spans)
    for placeholder in ("[REDACTED EMAIL]", "[REDACTED API KEY]", "[CUSTOMER]"):
        assert placeholder in sent
    (failed,) = langfuse_server.named("failing-run")
    assert failed.status_message == (
        "ValueError: password=[REDACTED API KEY] rejected for [REDACTED EMAIL]"
    )
    (tool_span,) = langfuse_server.named("remember")
    assert tool_span.json("langfuse.observation.input") == {
        "note": "key [REDACTED API KEY]"
    }


def test_a_masking_function_that_raises_redacts_every_value_in_full(
    langfuse_server, config_for, assistant_for, mask_module, logged_warnings
):
    """C10: a failing function never lets the raw value through."""
    config = config_for(masking={"function": f"{mask_module}.broken"})
    assistant = assistant_for(config, tools=[remember])

    result = _masked_run(assistant)
    assistant.close()

    spans = langfuse_server.spans_of(trace_id_for(result.run_id))
    assert len(spans) == 4
    for span in spans:
        for key, value in span.attributes.items():
            if key.endswith((".input", ".output")) or ".metadata" in key:
                assert value in (REDACTED, f'"{REDACTED}"'), (span.name, key)
        for secret in SECRETS:
            assert secret not in span.sent_text()
    (warning,) = logged_warnings()
    assert "masking failed (RuntimeError from" in warning
    assert f"{mask_module}.broken" in warning
    assert "alice" not in warning


@pytest.mark.parametrize(
    ("pattern", "text", "masked"),
    [
        ("emails", "mail a.b+c@mail.example.org now", "mail [REDACTED EMAIL] now"),
        ("api_keys", "use sk-ant-api03-abcdefghijklmnop12", "use [REDACTED API KEY]"),
        ("api_keys", "ghp_abcdefghijklmnopqrstuvwxyz0123456789", "[REDACTED API KEY]"),
        ("api_keys", "id AKIAIOSFODNN7EXAMPLE here", "id [REDACTED API KEY] here"),
        (
            "api_keys",
            "Authorization: Bearer abcdefghijklmnop.qrs",
            "Authorization: Bearer [REDACTED API KEY]",
        ),
        ("api_keys", 'api_key="abc123def456"', 'api_key="[REDACTED API KEY]"'),
        ("api_keys", "token: xoxb-1234-5678-abcdefgh", "token: [REDACTED API KEY]"),
    ],
)
def test_a_built_in_pattern_masks_what_it_names(pattern, text, masked):
    assert Masker([pattern])(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        "run 6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f is trace 4bf92f3577b34da6a3ce9",
        "the task-list and pk-12 are not keys; neither is user@localhost",
        "Paris is the capital of France.",
    ],
)
def test_the_built_in_patterns_leave_ordinary_text_alone(text):
    assert Masker(list(PATTERNS))(text) == text
