"""Loading the config file: lookup order, seed spelling, errors, sections."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from ai_assistant import ConfigError, ProviderNotConfigured, setting
from ai_assistant.config import load_config
from ai_assistant.settings import REDACTED


@dataclass
class KeysSettings:
    public_key: str = setting(env="TEST_PUBLIC_KEY")
    secret_key: str = setting(env="TEST_SECRET_KEY", secret=True)
    base_url: str = setting("https://example.invalid", env="TEST_BASE_URL")
    flush_at: int = 15


SEED = """\
aiAssistant:
  callbacks:
    keys:
      secretKey: ${TEST_SECRET}
      publicKey: ${TEST_PUBLIC}
      baseUrl: http://127.0.0.1:3000
      flushAt: 3
"""

SNAKE = """\
ai_assistant:
  callbacks:
    keys:
      secret_key: ${oc.env:TEST_SECRET}
      public_key: ${oc.env:TEST_PUBLIC}
      base_url: http://127.0.0.1:3000
      flush_at: 3
"""


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_seed_spelling_gives_the_same_provider_settings_as_snake_case(
    user_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_SECRET", "sk-seed-secret")
    monkeypatch.setenv("TEST_PUBLIC", "pk-seed-public")

    seed = load_config(write(user_env / "seed.yaml", SEED))
    snake = load_config(write(user_env / "snake.yaml", SNAKE))

    expected = KeysSettings(
        "pk-seed-public", "sk-seed-secret", "http://127.0.0.1:3000", 3
    )
    assert seed.provider_settings("keys", KeysSettings) == expected
    assert snake.provider_settings("keys", KeysSettings) == expected


def test_environment_fallback_fills_keys_the_file_leaves_out(
    user_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_PUBLIC_KEY", "pk-env")
    monkeypatch.setenv("TEST_SECRET_KEY", "sk-env")
    config = load_config(write(user_env / "c.yaml", "ai_assistant: {}\n"))

    settings = config.provider_settings("keys", KeysSettings)

    assert (settings.public_key, settings.secret_key) == ("pk-env", "sk-env")
    assert settings.base_url == "https://example.invalid"


def test_unconfigured_provider_is_not_configured_and_names_what_to_set(
    user_env: Path,
) -> None:
    config = load_config(write(user_env / "c.yaml", "ai_assistant: {}\n"))

    with pytest.raises(ProviderNotConfigured) as raised:
        config.provider_settings("keys", KeysSettings)

    assert "callbacks.keys.public_key" in str(raised.value)
    assert "$TEST_SECRET_KEY" in str(raised.value)


def test_configured_provider_missing_a_secret_is_an_error_naming_file_and_key(
    user_env: Path,
) -> None:
    path = write(
        user_env / "c.yaml",
        "ai_assistant:\n  callbacks:\n    keys:\n      public_key: pk\n",
    )
    config = load_config(path)

    with pytest.raises(ConfigError) as raised:
        config.provider_settings("keys", KeysSettings)

    message = str(raised.value)
    assert str(path) in message
    assert "required secret missing" in message
    assert "callbacks.keys.secret_key or $TEST_SECRET_KEY" in message


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("public_key: pk\n      secret_key: sk\n      flush_att: 3", "flush_att"),
        ("public_key: pk\n      secret_key: sk\n      flush_at: many", "flush_at"),
    ],
    ids=["unknown-key", "wrong-type"],
)
def test_bad_section_is_one_line_naming_file_line_and_key(
    user_env: Path, body: str, expected: str
) -> None:
    path = write(
        user_env / "c.yaml", f"ai_assistant:\n  callbacks:\n    keys:\n      {body}\n"
    )
    config = load_config(path)

    with pytest.raises(ConfigError) as raised:
        config.provider_settings("keys", KeysSettings)

    message = str(raised.value)
    assert message.startswith(f"{path}:6: ai_assistant.callbacks.keys.{expected}:")
    assert "\n" not in message


def test_unset_environment_variable_in_section_fails_that_section_only(
    user_env: Path,
) -> None:
    path = write(
        user_env / "c.yaml",
        "ai_assistant:\n  model: m\n  callbacks:\n    keys:\n"
        "      public_key: ${oc.env:TEST_NOT_SET_ANYWHERE}\n",
    )
    config = load_config(path)

    assert config.core.model == "m"
    with pytest.raises(ConfigError, match=r"callbacks\.keys\.public_key"):
        config.provider_settings("keys", KeysSettings)


def test_lookup_order_is_flag_then_variable_then_cwd_then_user_dir(
    user_env: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    user_dir = Path(str(tmp_path / "home" / "config" / "ai-assistant"))
    user_dir.mkdir(parents=True)
    write(user_dir / "config.yaml", "ai_assistant:\n  model: from-user-dir\n")
    assert load_config().core.model == "from-user-dir"

    write(user_env / "ai-assistant.yaml", "ai_assistant:\n  model: from-cwd\n")
    assert load_config().core.model == "from-cwd"

    named = write(tmp_path / "named.yaml", "ai_assistant:\n  model: from-variable\n")
    monkeypatch.setenv("AI_ASSISTANT_CONFIG", str(named))
    assert load_config().core.model == "from-variable"

    flag = write(tmp_path / "flag.yaml", "ai_assistant:\n  model: from-flag\n")
    assert load_config(flag).core.model == "from-flag"


def test_overrides_set_core_and_provider_keys(user_env: Path) -> None:
    config = load_config(
        write(user_env / "c.yaml", "ai_assistant: {}\n"),
        overrides=["model=llamacpp:smollm2", "callbacks.keys.flushAt=7", "strict=true"],
    )

    assert config.core.model == "llamacpp:smollm2"
    assert config.core.strict is True
    assert config.sections["keys"]["flush_at"] == 7


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ai_assistant:\n  model: [unclosed\n", r"c\.yaml:3: YAML syntax error"),
        ("ai_assistant:\n  modle: x\n", r"c\.yaml:2: ai_assistant\.modle: .*'model'"),
        ("ai_assistant:\n  strict: perhaps\n", r"c\.yaml:2: ai_assistant\.strict:"),
        ("model: x\n", r"c\.yaml: no 'ai_assistant' root key"),
    ],
    ids=["yaml-syntax", "unknown-core-key", "wrong-core-type", "no-root-key"],
)
def test_core_config_errors_name_file_and_line(
    user_env: Path, text: str, expected: str
) -> None:
    with pytest.raises(ConfigError, match=expected):
        load_config(write(user_env / "c.yaml", text))


def test_missing_named_config_file_is_an_error(user_env: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(user_env / "absent.yaml")


def test_show_redacts_secrets_resolved_from_the_environment(
    user_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_SECRET", "sk-must-not-show")
    monkeypatch.setenv("TEST_PUBLIC", "pk-must-not-show")
    config = load_config(write(user_env / "c.yaml", SEED))

    shown = config.show()

    keys = shown["ai_assistant"]["callbacks"]["keys"]
    assert keys["secret_key"] == REDACTED
    assert keys["public_key"] == REDACTED
    assert keys["base_url"] == "http://127.0.0.1:3000"
    assert "must-not-show" not in repr(shown)


def test_only_an_optional_variable_set_leaves_the_provider_inactive(
    user_env: Path,
) -> None:
    config = load_config(write(user_env / "c.yaml", "ai_assistant: {}\n"))

    with pytest.raises(ProviderNotConfigured):
        config.provider_settings(
            "keys", KeysSettings, {"TEST_BASE_URL": "http://127.0.0.1:1"}
        )


def test_a_required_variable_set_makes_missing_ones_an_error(user_env: Path) -> None:
    config = load_config(write(user_env / "c.yaml", "ai_assistant: {}\n"))

    with pytest.raises(ConfigError, match=r"\$TEST_SECRET_KEY"):
        config.provider_settings("keys", KeysSettings, {"TEST_PUBLIC_KEY": "pk"})


def test_secret_settings_stay_out_of_repr(user_env: Path) -> None:
    settings = KeysSettings("pk-visible", "sk-hidden-value", "http://127.0.0.1:1")

    assert "sk-hidden-value" not in repr(settings)
    assert "pk-visible" in repr(settings)
