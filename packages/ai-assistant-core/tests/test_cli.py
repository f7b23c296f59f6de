"""The command line, run as a user runs it, with providers installed."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess

import pytest

Run = Callable[..., CompletedProcess[str]]


def one_error_line(result: CompletedProcess[str]) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert "Traceback" not in result.stderr
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("ai-assistant: error: ")
    return lines[0]


def test_providers_lists_broken_ones_as_failed_with_reasons(
    site: Path, run_cli: Run
) -> None:
    result = run_cli("providers", "--json")

    assert result.returncode == 0, result.stderr
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert rows["recorder"]["status"] == "active"
    assert rows["recorder"]["distribution"] == "recorder-provider"
    assert rows["recorder"]["version"] == "0.1.0"
    assert rows["broken_import"]["status"] == "failed"
    assert "broken on purpose at import" in rows["broken_import"]["reason"]
    assert rows["broken_start"]["status"] == "failed"
    assert "cannot reach the backend" in rows["broken_start"]["reason"]


def test_every_command_works_beside_broken_providers(
    site: Path, run_cli: Run, tmp_path: Path
) -> None:
    chat = run_cli("chat", "--model", "scripted:", "--json", "Capital of France?")
    show = run_cli("config", "show")
    table = run_cli("providers")

    assert chat.returncode == 0, chat.stderr
    assert json.loads(chat.stdout)["answer"] == "Paris is the capital of France."
    assert "provider 'broken_import'" in chat.stderr
    assert show.returncode == 0 and "ai_assistant:" in show.stdout
    assert table.returncode == 0 and "broken_start" in table.stdout
    events = (tmp_path / "recorded.jsonl").read_text().splitlines()
    assert json.loads(events[0])["event"] == "chain_start"


def test_config_check_fails_until_the_broken_providers_are_disabled(
    site: Path, run_cli: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    failing = run_cli("config", "check")
    monkeypatch.setenv("AI_ASSISTANT_DISABLE_PROVIDERS", "broken_import,broken_start")
    passing = run_cli("config", "check")

    assert failing.returncode == 1
    assert "provider 'broken_import'" in failing.stderr
    assert passing.returncode == 0, passing.stderr
    assert "active providers: marker, recorder" in passing.stdout


def test_chat_json_has_answer_ids_model_and_usage(site: Path, run_cli: Run) -> None:
    result = run_cli(
        "chat", "--model", "scripted:tools", "--json", "--user", "ana", "6*7?"
    )

    payload = json.loads(result.stdout)
    assert set(payload) == {"answer", "run_id", "conversation_id", "model", "usage"}
    assert payload["answer"].endswith("The answer is 42.")
    assert payload["model"] == "scripted:tools"
    assert payload["usage"]["output_tokens"] > 0


def test_conversation_continues_from_the_command_line(site: Path, run_cli: Run) -> None:
    first = json.loads(
        run_cli("chat", "--model", "scripted:", "--json", "hello").stdout
    )
    again = run_cli(
        "chat",
        "--model",
        "scripted:",
        "--json",
        "--conversation",
        first["conversation_id"],
        "and again",
    )

    assert json.loads(again.stdout)["conversation_id"] == first["conversation_id"]
    assert (
        json.loads(again.stdout)["usage"]["input_tokens"]
        > first["usage"]["input_tokens"]
    )


def test_interactive_session_answers_each_line(site: Path, run_cli: Run) -> None:
    result = run_cli("chat", "--model", "scripted:", input="first\nsecond\nexit\n")

    assert result.returncode == 0, result.stderr
    assert result.stdout.count("Paris is the capital of France.") == 2


def test_strict_mode_turns_provider_errors_into_a_failing_exit(
    site: Path, run_cli: Run, user_env: Path
) -> None:
    (user_env / "ai-assistant.yaml").write_text("ai_assistant:\n  strict: true\n")

    result = run_cli("chat", "--model", "scripted:", "hi")

    assert result.returncode == 2
    assert "strict: true" in result.stderr.splitlines()[-1]


@pytest.mark.parametrize(
    ("args", "text", "expected"),
    [
        (
            ("--config", "missing.yaml", "providers"),
            None,
            "missing.yaml: config file not found",
        ),
        (
            ("providers",),
            "ai_assistant:\n  model: [x\n",
            "ai-assistant.yaml:3: YAML syntax error",
        ),
        (("providers",), "ai_assistant:\n  modle: x\n", "Did you mean: 'model'"),
        (
            ("chat", "hi"),
            "ai_assistant:\n  model: nosuch:thing\n",
            "unknown model 'nosuch:thing'",
        ),
        (("-o", "strict", "providers"), None, "-o 'strict': expected KEY=VALUE"),
        (("feedback", "not-a-run", "--score", "1"), None, "is not a run id"),
    ],
    ids=[
        "missing-file",
        "yaml-syntax",
        "unknown-key",
        "unknown-model",
        "bad-override",
        "bad-run-id",
    ],
)
def test_bad_input_is_one_line_and_a_non_zero_exit(
    site: Path,
    run_cli: Run,
    user_env: Path,
    args: tuple[str, ...],
    text: str | None,
    expected: str,
) -> None:
    if text is not None:
        (user_env / "ai-assistant.yaml").write_text(text)

    result = run_cli(*args)

    assert result.returncode == 2
    assert expected in one_error_line(result)


def test_help_imports_no_provider(site: Path, run_cli: Run, tmp_path: Path) -> None:
    result = run_cli("--help")

    assert result.returncode == 0
    assert not (tmp_path / "marker-imported").exists()


def test_sigterm_during_a_session_still_flushes_the_providers(
    site: Path, tmp_path: Path
) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    session = subprocess.Popen(
        [sys.executable, "-m", "ai_assistant", "-v", "chat", "--model", "scripted:"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "AI_ASSISTANT_LOAD_PROVIDERS": "recorder"},
    )
    assert session.stdin is not None
    session.stdin.write("hello\n")
    session.stdin.flush()
    recorded = tmp_path / "recorded.jsonl"
    deadline = time.monotonic() + 60
    while not recorded.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)

    session.send_signal(signal.SIGTERM)
    _, stderr = session.communicate(timeout=30)

    events = [json.loads(line)["event"] for line in recorded.read_text().splitlines()]
    assert session.returncode == 128 + signal.SIGTERM
    assert "Traceback" not in stderr
    assert events[-1] == "shutdown"
    assert events.count("shutdown") == 1


def test_c4_chat_reports_a_failing_handler_once_and_counts_it(
    site: Path, run_cli: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AI_ASSISTANT_LOAD_PROVIDERS", "fragile,recorder")

    result = run_cli("chat", "--model", "scripted:", "Capital of France?")

    assert result.returncode == 0
    assert result.stdout.strip() == "Paris is the capital of France."
    assert result.stderr.count("token handler broke") == 1
    counts = [line for line in result.stderr.splitlines() if "failures so far" in line]
    assert len(counts) == 1
    assert "provider 'fragile':" in counts[0]
    assert "on_llm_new_token x" in counts[0]


def test_c7_one_shot_chat_flushes_and_shuts_down_exactly_once(
    site: Path, run_cli: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AI_ASSISTANT_LOAD_PROVIDERS", "recorder")

    result = run_cli("chat", "--model", "scripted:", "hi")

    events = [
        json.loads(line)["event"]
        for line in (tmp_path / "recorded.jsonl").read_text().splitlines()
    ]
    assert result.returncode == 0
    assert events.count("flush") == 1 and events.count("shutdown") == 1
    assert events[-2:] == ["flush", "shutdown"]


@pytest.mark.parametrize("score", ["nan", "inf", ""])
def test_feedback_rejects_scores_that_are_not_finite_or_empty(
    site: Path, run_cli: Run, score: str
) -> None:
    run_id = "6f1c2b8e-2f7a-4f59-9d43-0d1f0e7c9a11"

    result = run_cli("feedback", run_id, "--score", score)

    assert result.returncode == 2
    assert "give a finite number or a label" in one_error_line(result)


def test_config_show_redacts_keys_a_provider_declares_secret(
    site: Path, run_cli: Run, user_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AI_ASSISTANT_LOAD_PROVIDERS", "declared")
    (user_env / "ai-assistant.yaml").write_text(
        "ai_assistant:\n  callbacks:\n    declared:\n"
        "      webhook: https://hooks.example.invalid/T0/B0/s3cr3t-path\n"
    )

    result = run_cli("config", "show")

    assert result.returncode == 0, result.stderr
    assert "s3cr3t-path" not in result.stdout
    assert "webhook: '**********'" in result.stdout
