"""The provider host: discovery, controls, isolation at the boundary."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from langchain_core.callbacks import BaseCallbackHandler

from ai_assistant import ProviderNotConfigured, RunContext, hookimpl
from ai_assistant.config import load_config
from ai_assistant.context import new_run_id
from ai_assistant.host import ProviderHost


def host_for(
    directory: Path, text: str = "ai_assistant: {}\n", **kwargs: Any
) -> ProviderHost:
    path = directory / "c.yaml"
    path.write_text(text, encoding="utf-8")
    host = ProviderHost(load_config(path), **kwargs)
    host.start()
    return host


def statuses(host: ProviderHost) -> dict[str, tuple[str, str]]:
    return {r.name: (str(r.status), r.reason) for r in host.records}


def a_run() -> RunContext:
    return RunContext(run_id=new_run_id(), run_name="test", user_id="u")


def plugin(**hooks: Any) -> SimpleNamespace:
    return SimpleNamespace(
        **{name: hookimpl(function) for name, function in hooks.items()}
    )


def test_broken_import_and_broken_start_fail_alone(site: Path, user_env: Path) -> None:
    host = host_for(user_env)

    found = statuses(host)

    assert found["recorder"] == ("active", "")
    assert found["broken_import"][0] == "failed"
    assert "RuntimeError: broken on purpose at import" in found["broken_import"][1]
    assert found["broken_start"] == (
        "failed",
        "start failed: ValueError: cannot reach the backend on purpose",
    )


def test_disabled_provider_is_never_imported(site: Path, user_env: Path) -> None:
    host = host_for(
        user_env, "ai_assistant:\n  callbacks:\n    marker:\n      enabled: false\n"
    )

    assert statuses(host)["marker"] == (
        "disabled",
        f"enabled: false in {user_env / 'c.yaml'}",
    )
    assert not Path(str(site.parent / "marker-imported")).exists()


def test_deny_list_disables_by_name(
    site: Path, user_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AI_ASSISTANT_DISABLE_PROVIDERS", "broken_import, broken_start")

    found = statuses(host_for(user_env))

    assert found["broken_import"] == (
        "disabled",
        "named in AI_ASSISTANT_DISABLE_PROVIDERS",
    )
    assert found["broken_start"][0] == "disabled"
    assert found["recorder"][0] == "active"


def test_empty_allow_list_allows_none(
    site: Path, user_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AI_ASSISTANT_LOAD_PROVIDERS", "")

    found = statuses(host_for(user_env))

    assert {status for status, _ in found.values()} == {"disabled"}
    assert found["recorder"][1] == "not named in AI_ASSISTANT_LOAD_PROVIDERS"


def test_unknown_name_in_allow_list_is_a_warning(
    site: Path, user_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AI_ASSISTANT_LOAD_PROVIDERS", "recorder,recordr")

    host = host_for(user_env)

    assert any("'recordr'" in warning for warning in host.warnings)


def test_provider_raising_not_configured_is_inactive_with_its_reason(
    user_env: Path,
) -> None:
    def start() -> None:
        raise ProviderNotConfigured("set callbacks.quiet.token or $QUIET_TOKEN")

    host = host_for(
        user_env,
        plugins={"quiet": plugin(ai_assistant_start=start)},
        entry_points=False,
    )

    assert statuses(host)["quiet"] == (
        "inactive",
        "set callbacks.quiet.token or $QUIET_TOKEN",
    )
    assert host.run_callbacks(a_run()) == ([], {})


def test_handler_factory_returning_a_non_handler_is_reported_and_skipped(
    user_env: Path, caplog: pytest.LogCaptureFixture
) -> None:
    good = BaseCallbackHandler()
    wrong = plugin(ai_assistant_run_handlers=lambda: [good, "not a handler"])
    host = host_for(user_env, plugins={"wrong": wrong}, entry_points=False)

    with caplog.at_level(logging.WARNING, logger="ai_assistant"):
        handlers, _ = host.run_callbacks(a_run())
        host.run_callbacks(a_run())

    assert [h.inner for h in handlers] == [good]
    assert host.records[0].failures["handlers"] == 2
    reports = [
        r for r in caplog.records if "not a LangChain callback handler" in r.message
    ]
    assert len(reports) == 1
    assert "provider 'wrong'" in reports[0].message


def test_metadata_clash_is_reported_never_overwritten(user_env: Path) -> None:
    first = plugin(ai_assistant_run_metadata=lambda: {"team": "a", "user_id": "x"})
    second = plugin(ai_assistant_run_metadata=lambda: {"team": "b"})
    host = host_for(
        user_env, plugins={"first": first, "second": second}, entry_points=False
    )

    _, metadata = host.run_callbacks(a_run(), {"user_id": "core-user"})

    assert metadata == {"user_id": "core-user", "team": "a"}
    by_name = {r.name: r for r in host.records}
    assert by_name["first"].failures["metadata"] == 1
    assert by_name["second"].failures["metadata"] == 1


def test_hook_failure_in_one_provider_leaves_the_others(user_env: Path) -> None:
    def explode() -> None:
        raise RuntimeError("boom")

    good = BaseCallbackHandler()
    host = host_for(
        user_env,
        plugins={
            "bad": plugin(ai_assistant_run_handlers=explode),
            "good": plugin(ai_assistant_run_handlers=lambda: [good]),
        },
        entry_points=False,
    )

    handlers, _ = host.run_callbacks(a_run())

    assert [h.inner for h in handlers] == [good]
    assert {r.name: r.failures["handlers"] for r in host.records} == {
        "bad": 1,
        "good": 0,
    }


def test_wrong_hook_signature_fails_validation(user_env: Path) -> None:
    wrong = plugin(ai_assistant_run_handlers=lambda state, run, surprise: [])

    host = host_for(user_env, plugins={"wrong": wrong}, entry_points=False)

    status, reason = statuses(host)["wrong"]
    assert status == "failed"
    assert "invalid hook implementation" in reason
    assert "surprise" in reason


def test_stalled_flush_stops_at_the_deadline_with_a_warning(
    user_env: Path, caplog: pytest.LogCaptureFixture
) -> None:
    stalled = plugin(ai_assistant_flush=lambda: time.sleep(30))
    host = host_for(user_env, plugins={"stalled": stalled}, entry_points=False)

    began = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="ai_assistant"):
        host.close(deadline=0.3)
    took = time.monotonic() - began

    assert took < 5
    assert any(
        "provider 'stalled'" in r.message and "flush did not finish" in r.message
        for r in caplog.records
    )


def test_flush_and_shutdown_are_called_once_each(user_env: Path) -> None:
    calls: list[str] = []
    counted = plugin(
        ai_assistant_start=lambda: "state",
        ai_assistant_flush=lambda state, timeout: calls.append(f"flush:{state}"),
        ai_assistant_shutdown=lambda state: calls.append(f"shutdown:{state}"),
    )
    host = host_for(user_env, plugins={"counted": counted}, entry_points=False)

    host.close()
    host.close()

    assert calls == ["flush:state", "shutdown:state"]


def test_explicit_registration_replaces_the_entry_point_of_the_same_name(
    site: Path, user_env: Path
) -> None:
    own = BaseCallbackHandler()
    explicit = plugin(ai_assistant_run_handlers=lambda: [own])

    host = host_for(user_env, plugins={"recorder": explicit})
    handlers, _ = host.run_callbacks(a_run())

    assert [h.inner for h in handlers] == [own]
    assert any("recorder-provider" in w and "explicit" in w for w in host.warnings)


def test_unknown_hook_name_fails_with_a_suggestion(user_env: Path) -> None:
    typo = plugin(ai_assistant_run_handler=lambda: [])

    host = host_for(user_env, plugins={"typo": typo}, entry_points=False)

    status, reason = statuses(host)["typo"]
    assert status == "failed"
    assert "unknown hook 'ai_assistant_run_handler'" in reason
    assert "did you mean 'ai_assistant_run_handlers'" in reason
