"""Secrets never reach logs, warnings, error messages, ``config show``,
``providers`` or the logging provider's event log.

Every secret gets a value of its own, so a sweep of everything the commands
wrote finds any of them, in clear or as the Basic auth token Langfuse sends.
"""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conftest import Cli

SECRET_KEY = "sk-lf-SWEEP-1234"
PUBLIC_KEY = "pk-lf-SWEEP-5678"
URL_PASSWORD = "SWEEP-9012"
WEBHOOK = "https://127.0.0.1:9/hooks/SWEEP-3456"


def traces_of_secrets(text: str) -> list[str]:
    """Return every form of a swept secret that ``text`` holds."""
    basic = base64.b64encode(f"{PUBLIC_KEY}:{SECRET_KEY}".encode()).decode()
    forms = ["SWEEP-1234", "SWEEP-5678", URL_PASSWORD, "SWEEP-3456", basic]
    return [form for form in forms if form in text]


def test_secrets_never_reach_output_logs_or_the_event_log(
    cli: Cli, refused_url: str
) -> None:
    env = {
        "LANGFUSE_SECRET_KEY": SECRET_KEY,
        "LANGFUSE_BASE_URL": refused_url,
        "PYTHONWARNINGS": "always",
    }
    cli.configure(
        flush_deadline=1,
        callbacks={
            "langfuse": {
                "public_key": PUBLIC_KEY,
                "secret_key": "${LANGFUSE_SECRET_KEY}",
            },
            "logging": {"level": "DEBUG", "content": True},
        },
    )
    allowed = "langfuse,logging"

    chat = cli.run("-vv", "chat", "--json", "hello", providers=allowed, env=env)
    run_id = json.loads(chat.stdout)["run_id"]
    results = [
        chat,
        cli.run("-vv", "feedback", run_id, "--score", "1", providers=allowed, env=env),
        cli.run("config", "show", providers=allowed, env=env),
        cli.run("config", "check", providers=allowed, env=env),
        cli.run("providers", "--json", providers=allowed, env=env),
        cli.run(
            "-o",
            f"callbacks.langfuse.base_url=http://user:{URL_PASSWORD}@127.0.0.1:9",
            "chat",
            "hello",
            providers=allowed,
            env=env,
        ),
    ]

    written = "\n".join(r.stdout + r.stderr for r in results)
    assert "langfuse" in written
    assert cli.log_path.stat().st_size > 0
    assert traces_of_secrets(written) == []
    assert traces_of_secrets(cli.log_path.read_text()) == []


def test_secrets_a_key_declared_secret_is_redacted_by_config_show(cli: Cli) -> None:
    cli.configure(
        callbacks={
            "required_secret": {
                "endpoint": "http://127.0.0.1:9/hook",
                "token": "fault-token-1",
                "webhook": WEBHOOK,
            }
        }
    )

    shown = cli.run("config", "show", providers="required_secret")

    assert shown.returncode == 0
    assert "required_secret" in shown.stdout
    assert traces_of_secrets(shown.stdout) == []
