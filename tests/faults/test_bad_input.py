"""Bad input: each mistake is one line naming the provider, the file and the
key, and the other providers keep working.

``required_secret`` is the provider whose section goes wrong; ``recorder``
shows that the others still get the run.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

import pytest
import yaml

if TYPE_CHECKING:
    from conftest import Cli

ANSWER = "Paris is the capital of France."
GOOD = {"endpoint": "http://127.0.0.1:9/hook", "token": "fault-token-1"}


@pytest.mark.parametrize(
    ("section", "key"),
    [
        pytest.param({**GOOD, "retries": "many"}, "retries", id="wrong-type"),
        pytest.param({**GOOD, "retires": 3}, "retires", id="unknown-key"),
        pytest.param({"endpoint": GOOD["endpoint"]}, "token", id="missing-secret"),
    ],
)
def test_bad_input_a_bad_section_is_one_line_naming_provider_file_and_key(
    cli: Cli, section: dict[str, Any], key: str
) -> None:
    path = cli.configure(callbacks={"required_secret": section})

    result = cli.run("chat", "hello", providers="recorder,required_secret")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ANSWER
    [line] = cli.lines(result.stderr, "required_secret")
    assert "provider 'required_secret'" in line
    assert str(path) in line
    assert f"callbacks.required_secret.{key}" in line
    assert len(cli.notes("recorder", "run_end")) == 1


def test_bad_input_an_unknown_key_comes_with_the_key_it_resembles(cli: Cli) -> None:
    cli.configure(callbacks={"required_secret": {**GOOD, "retires": 3}})

    result = cli.run("config", "check", providers="required_secret")

    assert result.returncode == 1
    [line] = cli.lines(result.stderr, "required_secret")
    assert "'retries'" in line


def test_bad_input_a_section_of_the_wrong_type_fails_that_provider_only(
    cli: Cli,
) -> None:
    path = cli.configure(callbacks={"required_secret": ["endpoint", "token"]})

    result = cli.run("chat", "hello", providers="recorder,required_secret")

    assert result.returncode == 0
    assert result.stdout.strip() == ANSWER
    [line] = cli.lines(result.stderr, "provider 'required_secret'")
    assert str(path) in line


def broken_yaml(cli: Cli) -> None:
    """Write a config whose provider section has a YAML syntax error."""
    text = yaml.safe_dump(
        {"ai_assistant": {"model": "scripted:", "callbacks": {"required_secret": GOOD}}}
    )
    text = text.replace("token: fault-token-1", "token: [fault-token-1")
    (cli.work / "ai-assistant.yaml").write_text(text)


def test_bad_input_malformed_yaml_is_one_line_naming_the_file_and_line(
    cli: Cli,
) -> None:
    broken_yaml(cli)

    result = cli.run("chat", "hello", providers="recorder,required_secret")

    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert "Traceback" not in result.stderr
    assert len(lines) == 1
    where = re.escape(str(cli.work / "ai-assistant.yaml"))
    assert re.search(rf"{where}:\d+: YAML", lines[0])


@pytest.mark.xfail(
    strict=True,
    reason="a YAML syntax error anywhere in the file stops every command "
    "(config._parse raises ConfigError) and names neither the provider nor the key",
)
def test_bad_input_malformed_yaml_in_a_provider_section_fails_that_provider_only(
    cli: Cli,
) -> None:
    broken_yaml(cli)

    result = cli.run("chat", "hello", providers="recorder,required_secret")

    assert result.returncode == 0
    assert result.stdout.strip() == ANSWER
    assert cli.lines(result.stderr, "required_secret", "callbacks.required_secret")


@pytest.mark.parametrize(
    ("variable", "allowed", "denied"),
    [
        ("AI_ASSISTANT_LOAD_PROVIDERS", "recorder,recordr", ""),
        ("AI_ASSISTANT_DISABLE_PROVIDERS", "recorder", "recordr"),
    ],
    ids=["allow-list", "deny-list"],
)
def test_bad_input_a_listed_name_no_provider_has_is_a_warning(
    cli: Cli, variable: str, allowed: str, denied: str
) -> None:
    env = {"AI_ASSISTANT_DISABLE_PROVIDERS": denied}

    result = cli.run("chat", "hello", providers=allowed, env=env)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ANSWER
    assert len(cli.lines(result.stderr, "warning", variable, "'recordr'")) == 1
    assert len(cli.notes("recorder", "run_end")) == 1


def test_bad_input_a_hook_with_a_wrong_signature_fails_its_provider_only(
    cli: Cli,
) -> None:
    chat = cli.run("chat", "hello", providers="recorder,wrong_signature")
    listed = cli.run("providers", "--json", providers="recorder,wrong_signature")

    assert chat.returncode == 0, chat.stderr
    assert chat.stdout.strip() == ANSWER
    [line] = cli.lines(chat.stderr, "provider 'wrong_signature'")
    assert "ai_assistant_start" in line
    assert "connection" in line
    rows = {row["name"]: row for row in json.loads(listed.stdout)}
    assert rows["wrong_signature"]["status"] == "failed"
    assert len(cli.notes("recorder", "run_end")) == 1


def test_bad_input_a_hook_with_a_wrong_signature_names_its_file(cli: Cli) -> None:
    result = cli.run("chat", "hello", providers="wrong_signature")

    [line] = cli.lines(result.stderr, "provider 'wrong_signature'")
    assert "fault_wrong_signature/__init__.py" in line
