"""Inputs and provider behaviour that once broke the assistant."""

from __future__ import annotations

import threading
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage

from ai_assistant import AssistantError, hookimpl
from ai_assistant.assistant import recent
from ai_assistant.config import load_config
from ai_assistant.history import SqliteHistory
from ai_assistant.testing import make_assistant, write_config
from ai_assistant.tools import calculator

from .test_config import KeysSettings


class Counting(BaseCallbackHandler):
    def __init__(self) -> None:
        self.starts = 0

    def on_llm_start(self, serialized: Any, prompts: Any, **kwargs: Any) -> None:
        self.starts += 1


def plugin(**hooks: Any) -> SimpleNamespace:
    return SimpleNamespace(**{name: hookimpl(f) for name, f in hooks.items()})


def test_a_single_handler_instead_of_a_list_is_accepted(user_env: Path) -> None:
    counting = Counting()
    assistant = make_assistant(
        plugins={"one": plugin(ai_assistant_run_handlers=lambda: counting)}
    )

    assistant.chat("hi")

    assert counting.starts == 1


def test_a_non_list_from_the_handler_hook_is_reported_and_the_run_goes_on(
    user_env: Path,
) -> None:
    assistant = make_assistant(
        plugins={"odd": plugin(ai_assistant_run_handlers=lambda: 7)}
    )

    result = assistant.chat("hi")

    assert result.answer
    assert assistant.host.records[0].failures["handlers"] == 1


def test_system_exit_in_start_fails_the_provider_not_the_process(
    user_env: Path,
) -> None:
    def start() -> None:
        raise SystemExit(4)

    assistant = make_assistant(plugins={"quits": plugin(ai_assistant_start=start)})

    record = assistant.host.records[0]
    assert (str(record.status), record.reason) == (
        "failed",
        "start failed: SystemExit: 4",
    )
    assert assistant.chat("hi").answer


def test_system_exit_in_a_handler_event_is_reported_not_raised(user_env: Path) -> None:
    class Quitting(BaseCallbackHandler):
        def on_llm_new_token(self, token: str, **kwargs: Any) -> None:
            raise SystemExit(5)

    assistant = make_assistant(
        plugins={"quits": plugin(ai_assistant_run_handlers=lambda: [Quitting()])}
    )

    assert assistant.chat("hi").answer
    assert assistant.host.records[0].failures["on_llm_new_token"] > 0


def test_deny_list_switches_off_a_provider_whose_enabled_key_is_broken(
    user_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AI_ASSISTANT_DISABLE_PROVIDERS", "odd")
    config = write_config(
        user_env / "c.yaml", {"callbacks": {"odd": {"enabled": "maybe"}}}
    )

    assistant = make_assistant(plugins={"odd": plugin()}, config=config)

    assert str(assistant.host.records[0].status) == "disabled"


def test_background_handler_without_chat_model_start_gets_llm_start(
    user_env: Path,
) -> None:
    counting = Counting()
    provider = plugin(
        ai_assistant_run_handlers=lambda: [counting],
        ai_assistant_delivery=lambda: "background",
    )
    assistant = make_assistant(plugins={"bg": provider})

    assistant.chat("hi")
    assistant.close()

    assert counting.starts == 1
    assert not assistant.host.records[0].failures


def test_closed_assistant_refuses_to_run(user_env: Path) -> None:
    assistant = make_assistant()
    assistant.close()

    with pytest.raises(AssistantError, match="was closed"):
        assistant.chat("hi")


def test_dates_in_the_config_stay_strings(user_env: Path) -> None:
    path = user_env / "c.yaml"
    path.write_text("ai_assistant:\n  callbacks:\n    x:\n      release: 2024-06-01\n")

    config = load_config(path)

    assert config.sections["x"]["release"] == "2024-06-01"


def test_nested_aliases_that_explode_are_refused(user_env: Path) -> None:
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]']
    for previous, name in zip("abcde", "bcdef", strict=True):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * 10) + "]")
    lines.append("ai_assistant:\n  model_options: {x: *f}")
    path = user_env / "c.yaml"
    path.write_text("\n".join(lines) + "\n")

    with pytest.raises(AssistantError, match="aliases"):
        load_config(path)


def test_environment_values_are_taken_literally(user_env: Path) -> None:
    config = load_config(write_config(user_env / "c.yaml", {}))
    environ = {"TEST_PUBLIC_KEY": "pk", "TEST_SECRET_KEY": "sk-${oc.env:HOME}-x"}

    settings = config.provider_settings("keys", KeysSettings, environ)

    assert settings.secret_key == "sk-${oc.env:HOME}-x"


def test_concurrent_appends_from_two_connections_lose_nothing(user_env: Path) -> None:
    path = user_env / "h.sqlite3"
    stores = [SqliteHistory(path), SqliteHistory(path)]

    def write(store: SqliteHistory, who: str) -> None:
        for turn in range(25):
            store.append("c", f"{who}-{turn}", [HumanMessage(content=f"{who} {turn}")])

    threads = [
        threading.Thread(target=write, args=(store, f"w{i}"))
        for i, store in enumerate(stores)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(stores[0].load("c")) == 50


def test_recent_keeps_the_latest_messages_starting_at_a_user_message() -> None:
    messages = [
        HumanMessage(content="q1"),
        AIMessage(content="", tool_calls=[{"name": "t", "args": {}, "id": "1"}]),
        ToolMessage(content="r", tool_call_id="1"),
        AIMessage(content="a1"),
        HumanMessage(content="q2"),
        AIMessage(content="a2"),
    ]

    assert [m.content for m in recent(messages, 4)] == ["q2", "a2"]
    assert recent(messages, 6)[0].content == "q1"
    assert recent(messages, 0) == []


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("(2 + 3) * 4.5", "22.5"),
        ("2 ** -2", "0.25"),
        ("1 / 0", "error: division by zero"),
        ("(-8) ** 0.5", "error: the result is not a real number"),
        ("9 ** 9 ** 9", "error: result would have more than 1000 digits"),
        ("__import__('os')", "error: only numbers and + - * / // % ** ( ) are allowed"),
    ],
)
def test_calculator_answers_or_explains(expression: str, expected: str) -> None:
    assert calculator.invoke({"expression": expression}) == expected


def test_c9_an_abandoned_stream_ends_the_model_run_then_the_turn_with_an_error(
    user_env: Path,
) -> None:
    events: list[tuple[str, str]] = []

    class Ends(BaseCallbackHandler):
        def on_llm_error(self, error: BaseException, **kwargs: Any) -> None:
            events.append(("llm_error", type(error).__name__))

        def on_chain_error(self, error: BaseException, **kwargs: Any) -> None:
            events.append(("chain_error", type(error).__name__))

        def on_chain_end(self, outputs: Any, **kwargs: Any) -> None:
            events.append(("chain_end", ""))

    assistant = make_assistant(
        plugins={"ends": plugin(ai_assistant_run_handlers=lambda: [Ends()])},
        answers=["one two three four"],
    )

    stream = assistant.stream("count")
    next(stream)
    stream.close()

    assert events == [
        ("llm_error", "GeneratorExit"),
        ("chain_error", "StreamCancelled"),
    ]


def test_p4_a_provider_built_for_another_core_fails_naming_both_versions(
    user_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ai_assistant.testing import write_distribution

    root = write_distribution(
        tmp_path / "old",
        "old-provider",
        modules={"old_provider.py": "raise RuntimeError('must not be imported')\n"},
        entry_points={"ai_assistant.callback_providers": {"old": "old_provider"}},
        version="2.0.0",
    )
    info = next(root.glob("*.dist-info"))
    with (info / "METADATA").open("a") as metadata:
        metadata.write("Requires-Dist: ai-assistant-core<0.1,>=0.0.1\n")
    monkeypatch.syspath_prepend(str(root))
    monkeypatch.setenv("AI_ASSISTANT_LOAD_PROVIDERS", "old")
    config = load_config(write_config(user_env / "c.yaml", {}))
    from ai_assistant.host import ProviderHost

    host = ProviderHost(config)
    host.start()

    record = next(r for r in host.records if r.name == "old")
    assert str(record.status) == "failed"
    assert record.reason.startswith(
        "old-provider 2.0.0 is built for ai-assistant-core<0.1,>=0.0.1, but "
        "ai-assistant-core 0.1.0 is installed"
    )


def test_p3_a_provider_switched_off_with_an_option_says_so(user_env: Path) -> None:
    config = load_config(
        write_config(user_env / "c.yaml", {}), overrides=["callbacks.off.enabled=false"]
    )

    assistant = make_assistant(plugins={"off": plugin()}, config=config)

    assert assistant.host.records[0].reason == "enabled: false set with -o"


def test_c5_the_same_module_under_two_names_runs_once_with_a_warning(
    user_env: Path,
) -> None:
    counting = Counting()
    shared = plugin(ai_assistant_run_handlers=lambda: [counting])

    assistant = make_assistant(plugins={"first": shared, "second": shared})
    assistant.chat("hi")

    statuses = {r.name: str(r.status) for r in assistant.host.records}
    assert statuses == {"first": "active", "second": "disabled"}
    assert counting.starts == 1
    assert any(
        "'second' is 'first' registered again" in w for w in assistant.host.warnings
    )


def test_a_section_that_is_not_a_mapping_fails_only_that_provider(
    user_env: Path,
) -> None:
    path = user_env / "c.yaml"
    path.write_text("ai_assistant:\n  callbacks:\n    odd: 3\n    fine: {}\n")

    assistant = make_assistant(
        plugins={"odd": plugin(), "fine": plugin()}, config=load_config(path)
    )

    statuses = {r.name: (str(r.status), r.reason) for r in assistant.host.records}
    assert statuses["fine"] == ("active", "")
    assert statuses["odd"] == (
        "failed",
        f"{path}:3: ai_assistant.callbacks.odd: expected a mapping of settings",
    )
