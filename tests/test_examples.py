"""The examples run, and every YAML snippet in the docs loads."""

from __future__ import annotations

import importlib.util
import json
import logging
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ai_assistant.config import load_config
from ai_assistant.testing import make_assistant, write_config

ROOT = Path(__file__).resolve().parent.parent
YAML_BLOCK = re.compile(r"```yaml\n(.*?)```", re.DOTALL)


def load_example_provider() -> object:
    path = (
        ROOT / "examples/provider-first-token/src/ai_assistant_first_token/__init__.py"
    )
    spec = importlib.util.spec_from_file_location("ai_assistant_first_token", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_example_provider_logs_time_to_first_token(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = write_config(
        tmp_path / "c.yaml", {"callbacks": {"first_token": {"warn_after": 0}}}
    )
    assistant = make_assistant(
        plugins={"first_token": load_example_provider()}, config=config
    )

    with caplog.at_level(logging.INFO, logger="ai_assistant.first_token"):
        result = assistant.chat("hello")

    messages = [r for r in caplog.records if "first token after" in r.getMessage()]
    assert len(messages) == 1
    assert messages[0].levelno == logging.WARNING
    assert result.run_id in messages[0].getMessage()


@pytest.mark.slow
def test_langchain_chain_example_reaches_the_installed_providers(
    tmp_path: Path, user_home: dict[str, str]
) -> None:
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "examples/langchain_chain.py"),
            "Capital of France?",
        ],
        env=user_home,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    run_id = re.search(r"run id ([0-9a-f-]{36})", result.stdout)
    assert run_id, result.stdout
    log = Path(user_home["XDG_STATE_HOME"]) / "ai-assistant/log/events.jsonl"
    events = [json.loads(line) for line in log.read_text().splitlines()]
    assert events[0]["event"] == "chain_start"
    assert events[0]["name"] == "example-chain"
    assert events[0]["run_id"] == run_id.group(1)
    assert any(e["event"] == "llm_end" and e["usage"] for e in events)


DOCS = sorted((ROOT / "docs").rglob("*.md")) + sorted(ROOT.glob("packages/*/README.md"))


@pytest.mark.parametrize("page", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_yaml_snippets_in_docs_load(
    page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LANGFUSE_PUBLIC_KEY", "pk-lf-docs")
    monkeypatch.setenv("LANGFUSE_SECRET_KEY", "sk-lf-docs")
    for number, block in enumerate(YAML_BLOCK.findall(page.read_text())):
        path = tmp_path / f"snippet-{number}.yaml"
        path.write_text(block, encoding="utf-8")

        config = load_config(path)

        for name in config.sections:
            config.section_enabled(name)
