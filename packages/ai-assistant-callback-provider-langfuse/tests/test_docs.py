"""Every config snippet of the provider's documentation is a valid config."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ai_assistant.config import load_config
from ai_assistant_langfuse import LangfuseSettings
from ai_assistant_langfuse.settings import check

PAGE = Path(__file__).parents[3] / "docs" / "providers" / "langfuse.md"
YAML_BLOCK = re.compile(r"```yaml\n(.*?)```", re.DOTALL)
ENVIRONMENT = {
    "LANGFUSE_PUBLIC_KEY": "pk-lf-docs",
    "LANGFUSE_SECRET_KEY": "sk-lf-docs",
    "APP_VERSION": "1.0.0",
}
SNIPPETS = YAML_BLOCK.findall(PAGE.read_text(encoding="utf-8"))


def test_the_page_has_config_snippets():
    assert len(SNIPPETS) >= 5


@pytest.mark.parametrize("number", range(len(SNIPPETS)))
def test_a_snippet_is_a_valid_langfuse_config(number, tmp_path, monkeypatch):
    for name, value in ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    path = tmp_path / f"snippet-{number}.yaml"
    path.write_text(SNIPPETS[number], encoding="utf-8")

    config = load_config(path)
    settings = config.provider_settings("langfuse", LangfuseSettings)

    assert check(settings) is settings
    assert settings.public_key == "pk-lf-docs"
    assert settings.secret_key == "sk-lf-docs"
