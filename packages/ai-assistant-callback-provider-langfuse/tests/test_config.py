"""Where the provider's settings come from, and what happens when they are wrong."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from ai_assistant.testing import write_config
from ai_assistant_langfuse import LangfuseSettings, trace_id_for

pytestmark = pytest.mark.allow_hosts(["127.0.0.1"])

CORE_ONLY = {"history": {"backend": "memory"}}
SECRET_KEY = "sk-lf-never-shown-3fa9"


def _record(assistant):
    (record,) = assistant.host.records
    return record


def test_importing_the_provider_does_not_import_langfuse():
    code = "import sys, ai_assistant_langfuse; print('langfuse' in sys.modules)"

    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )

    assert done.stdout.strip() == "False"


def test_the_settings_never_show_the_secret_key():
    settings = LangfuseSettings(public_key="pk-lf-1", secret_key=SECRET_KEY)

    assert SECRET_KEY not in repr(settings)
    assert "pk-lf-1" in repr(settings)


def test_starting_sends_nothing_to_the_server(
    langfuse_server, config_for, assistant_for
):
    assistant = assistant_for(config_for())

    assert str(_record(assistant).status) == "active"
    assert langfuse_server.requests == []


def test_without_keys_the_provider_is_inactive_and_says_so_at_start(
    tmp_path, assistant_for, logged_warnings
):
    """P5: a tracer that is on but has no keys is listed and warns once."""
    config = write_config(tmp_path / "ai-assistant.yaml", CORE_ONLY)

    record = _record(assistant_for(config))

    assert str(record.status) == "inactive"
    assert "callbacks.langfuse.public_key or $LANGFUSE_PUBLIC_KEY" in record.reason
    assert "callbacks.langfuse.secret_key or $LANGFUSE_SECRET_KEY" in record.reason
    assert logged_warnings() == [f"provider 'langfuse': {record.reason}"]


def test_without_keys_providers_and_chat_tell_the_user(tmp_path, run_cli):
    """P5: `providers` lists why; `chat` answers with one warning line."""
    config = write_config(
        tmp_path / "ai-assistant.yaml", {**CORE_ONLY, "model": "scripted:"}
    )

    listed = run_cli(config, "providers")
    chatted = run_cli(config, "chat", "Capital of France?")

    (row,) = [line for line in listed.stdout.splitlines() if "langfuse" in line]
    assert row.split()[1] == "inactive"
    assert "$LANGFUSE_PUBLIC_KEY" in row
    assert chatted.returncode == 0
    assert chatted.stdout.strip() == "Paris is the capital of France."
    (warning,) = chatted.stderr.splitlines()
    assert warning.startswith(
        "ai-assistant: warning: provider 'langfuse': not configured"
    )


def test_keys_and_server_come_from_langfuse_variables(
    monkeypatch, tmp_path, langfuse_server, assistant_for
):
    monkeypatch.setenv("LANGFUSE_PUBLIC_KEY", langfuse_server.public_key)
    monkeypatch.setenv("LANGFUSE_SECRET_KEY", langfuse_server.secret_key)
    monkeypatch.setenv("LANGFUSE_BASE_URL", langfuse_server.url)
    config = write_config(tmp_path / "ai-assistant.yaml", CORE_ONLY)
    assistant = assistant_for(config)

    result = assistant.chat("Hello")
    assistant.close()

    assert {span.trace_id for span in langfuse_server.spans} == {
        trace_id_for(result.run_id)
    }


def test_the_older_langfuse_host_variable_names_the_server(
    monkeypatch, tmp_path, langfuse_server, assistant_for
):
    monkeypatch.setenv("LANGFUSE_PUBLIC_KEY", langfuse_server.public_key)
    monkeypatch.setenv("LANGFUSE_SECRET_KEY", langfuse_server.secret_key)
    monkeypatch.setenv("LANGFUSE_HOST", langfuse_server.url + "/")
    config = write_config(tmp_path / "ai-assistant.yaml", CORE_ONLY)
    assistant = assistant_for(config)

    assistant.chat("Hello")
    assistant.close()

    assert len(langfuse_server.spans) == 2


def test_the_seed_systems_spelling_configures_the_provider(
    monkeypatch, tmp_path, langfuse_server, assistant_for
):
    monkeypatch.setenv("SEED_LANGFUSE_SECRET", langfuse_server.secret_key)
    config = tmp_path / "seed.yaml"
    config.write_text(
        textwrap.dedent(
            f"""\
            aiAssistant:
              callbacks:
                langfuse:
                  publicKey: {langfuse_server.public_key}
                  secretKey: ${{SEED_LANGFUSE_SECRET}}
                  baseUrl: {langfuse_server.url}
            """
        ),
        encoding="utf-8",
    )
    assistant = assistant_for(config)

    result = assistant.chat("Hello")
    assistant.close()

    assert {span.trace_id for span in langfuse_server.spans} == {
        trace_id_for(result.run_id)
    }


@pytest.mark.parametrize("missing", ["public_key", "secret_key"])
def test_one_missing_key_fails_the_provider_naming_it(
    langfuse_server, config_for, assistant_for, missing
):
    record = _record(assistant_for(config_for(**{missing: None})))

    assert str(record.status) == "failed"
    variable = f"$LANGFUSE_{missing.upper()}"
    assert record.reason.endswith(f"set callbacks.langfuse.{missing} or {variable}")
    assert langfuse_server.secret_key not in record.reason


def test_swapped_keys_are_reported_without_showing_them(
    langfuse_server, config_for, assistant_for
):
    swapped = config_for(
        public_key=langfuse_server.secret_key, secret_key=langfuse_server.public_key
    )

    record = _record(assistant_for(swapped))

    assert str(record.status) == "failed"
    assert "swap public_key and secret_key" in record.reason
    assert langfuse_server.secret_key not in record.reason
    assert langfuse_server.public_key not in record.reason


@pytest.mark.parametrize(
    ("section", "words"),
    [
        ({"base_url": "cloud.langfuse.com"}, "base_url must be an http(s) URL"),
        ({"base_url": "https://user:pw@cloud.langfuse.com"}, "must not carry"),
        ({"flush_interval": 0}, "flush_interval must be greater than 0"),
        ({"flush_deadline": -1}, "flush_deadline must be greater than 0"),
        ({"sample_rate": 1.5}, "sample_rate must be from 0 to 1"),
        ({"environment": "Production"}, "environment 'Production' is not allowed"),
        ({"masking": {"patterns": ["email"]}}, "unknown pattern 'email'; did you"),
        ({"masking": {"function": "no spaces"}}, "masking.function 'no spaces' is"),
        ({"masking": {"function": "no_such_module:f"}}, "cannot import 'no_such_"),
        ({"masking": {"function": "json:no_such_function"}}, "has no function"),
    ],
)
def test_a_bad_setting_fails_the_provider_with_its_key(
    config_for, assistant_for, section, words
):
    record = _record(assistant_for(config_for(**section)))

    assert str(record.status) == "failed"
    assert words in record.reason
    assert "pw@" not in record.reason


def test_an_unknown_key_fails_the_provider_with_a_hint(config_for, assistant_for):
    record = _record(assistant_for(config_for(sample_rte=0.5)))

    assert str(record.status) == "failed"
    assert "sample_rte" in record.reason
    assert "sample_rate" in record.reason


def test_tuning_comes_from_langfuse_variables(
    monkeypatch, tmp_path, langfuse_server, assistant_for
):
    for name, value in {
        "LANGFUSE_PUBLIC_KEY": langfuse_server.public_key,
        "LANGFUSE_SECRET_KEY": langfuse_server.secret_key,
        "LANGFUSE_BASE_URL": langfuse_server.url,
        "LANGFUSE_TRACING_ENVIRONMENT": "staging",
        "LANGFUSE_RELEASE": "7.0",
        "LANGFUSE_SAMPLE_RATE": "0.25",
        "LANGFUSE_TIMEOUT": "3",
    }.items():
        monkeypatch.setenv(name, value)
    config = write_config(tmp_path / "ai-assistant.yaml", CORE_ONLY)

    settings = _record(assistant_for(config)).state.settings

    assert (settings.environment, settings.release) == ("staging", "7.0")
    assert (settings.sample_rate, settings.timeout) == (0.25, 3.0)
