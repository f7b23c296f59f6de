"""Which providers are imported, which are on, and why: P1, P3 and P4.

``heavy`` leaves a note, with its process id, when its module is imported.
"""

from __future__ import annotations

import json
from importlib.metadata import version
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from conftest import Cli


def test_p1_help_imports_no_provider(cli: Cli) -> None:
    result = cli.run("--help", providers="heavy,recorder")

    assert result.returncode == 0
    assert cli.notes("heavy", "import") == []


@pytest.mark.parametrize("command", [["providers"], ["config", "check"]])
def test_p1_listing_and_checking_import_no_provider_into_the_command(
    cli: Cli, command: list[str]
) -> None:
    session = cli.start(*command, providers="heavy,recorder")
    session.communicate(timeout=60)

    assert session.returncode == 0
    importers = {note["pid"] for note in cli.notes("heavy", "import")}
    assert session.pid not in importers


@pytest.mark.parametrize(("enabled", "imports"), [(True, 1), (False, 0)])
def test_p1_a_chat_imports_only_the_providers_enabled_for_it(
    cli: Cli, enabled: bool, imports: int
) -> None:
    cli.configure(callbacks={"heavy": {"enabled": enabled}})

    result = cli.run("chat", "hello", providers="heavy,recorder")

    assert result.returncode == 0, result.stderr
    assert len(cli.notes("heavy", "import")) == imports
    assert len(cli.notes("recorder", "run_end")) == 1


SWITCHES: list[Any] = [
    pytest.param(
        {"callbacks": {"heavy": {"enabled": False}}},
        [],
        {},
        "enabled: false",
        id="config",
    ),
    pytest.param(
        {},
        [],
        {"AI_ASSISTANT_DISABLE_PROVIDERS": "heavy"},
        "named in AI_ASSISTANT_DISABLE_PROVIDERS",
        id="deny-list",
    ),
    pytest.param(
        {},
        [],
        {"AI_ASSISTANT_LOAD_PROVIDERS": "recorder"},
        "not named in AI_ASSISTANT_LOAD_PROVIDERS",
        id="allow-list",
    ),
    pytest.param(
        {},
        ["-o", "callbacks.heavy.enabled=false"],
        {},
        "enabled: false",
        id="option",
    ),
]


@pytest.mark.parametrize(("core", "options", "env", "reason"), SWITCHES)
def test_p3_a_provider_switched_off_by_name_is_listed_with_why_and_not_imported(
    cli: Cli,
    core: dict[str, Any],
    options: list[str],
    env: dict[str, str],
    reason: str,
) -> None:
    cli.configure(**core)

    result = cli.run(
        *options, "providers", "--json", providers="heavy,recorder", env=env
    )

    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert rows["heavy"]["status"] == "disabled"
    assert reason in rows["heavy"]["reason"]
    assert rows["recorder"]["status"] == "active"
    assert cli.notes("heavy", "import") == []


def test_p3_a_provider_switched_off_by_an_option_is_listed_as_such(cli: Cli) -> None:
    result = cli.run(
        "-o",
        "callbacks.heavy.enabled=false",
        "providers",
        "--json",
        providers="heavy,recorder",
    )

    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert rows["heavy"]["status"] == "disabled"
    assert str(cli.work / "ai-assistant.yaml") not in rows["heavy"]["reason"]


def test_p4_a_provider_for_another_core_fails_with_a_hint_and_the_rest_works(
    cli: Cli,
) -> None:
    result = cli.run("chat", "hello", providers="recorder,unknown_hook")

    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert len(cli.lines(result.stderr, "provider 'unknown_hook'")) == 1
    assert len(cli.notes("recorder", "run_end")) == 1
    assert cli.notes("unknown_hook") == []


def test_p4_the_message_names_the_core_version_and_the_one_the_provider_needs(
    cli: Cli,
) -> None:
    result = cli.run("providers", "--json", providers="unknown_hook")

    [row] = [row for row in json.loads(result.stdout) if row["name"] == "unknown_hook"]
    assert version("ai-assistant-core") in row["reason"]
    assert ">=0.3" in row["reason"]
