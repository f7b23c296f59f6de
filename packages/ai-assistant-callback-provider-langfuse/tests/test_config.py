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


def test_without_keys_the_provider_is_inactive_and_says_what_to_set(
    tmp_path, assistant_for
):
    config = write_config(tmp_path / "ai-assistant.yaml", CORE_ONLY)

    record = _record(assistant_for(config))

    assert str(record.status) == "inactive"
    assert "callbacks.langfuse.public_key or $LANGFUSE_PUBLIC_KEY" in record.reason
    assert "callbacks.langfuse.secret_key or $LANGFUSE_SECRET_KEY" in record.reason


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


def test_a_missing_secret_fails_the_provider_by_name(
    langfuse_server, config_for, assistant_for
):
    record = _record(assistant_for(config_for(secret_key=None)))

    assert str(record.status) == "failed"
    assert "callbacks.langfuse.secret_key or $LANGFUSE_SECRET_KEY" in record.reason


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
        ({"environment": "Production"}, "environment 'Production' is not allowed"),
    ],
)
def test_a_bad_setting_fails_the_provider_with_its_key(
    config_for, assistant_for, section, words
):
    record = _record(assistant_for(config_for(**section)))

    assert str(record.status) == "failed"
    assert words in record.reason
    assert "pw@" not in record.reason
