"""The central promise: installing a provider's wheel is enough to enable it.

Every package's wheel is built; a fresh virtual environment gets the core
and the embedded model only, then the logging provider's wheel, with
nothing else changed between the two checks.
"""

from __future__ import annotations

import json
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow

PACKAGES = {
    "core": "ai-assistant-core",
    "model": "ai-assistant-model-provider-llamacpp",
    "logging": "ai-assistant-callback-provider-logging",
}


def run(
    args: list[str], env: dict[str, str], cwd: Path
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        args, env=env, cwd=cwd, capture_output=True, text=True, timeout=900, check=False
    )
    assert result.returncode == 0, f"{args}\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("wheels")
    built = {}
    for key, name in PACKAGES.items():
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "wheel",
                "--no-deps",
                "--quiet",
                "-w",
                str(out),
                str(ROOT / "packages" / name),
            ],
            check=True,
            capture_output=True,
            timeout=600,
        )
        built[key] = next(out.glob(f"{name.replace('-', '_')}-*.whl"))
    return built


def test_installing_the_logging_wheel_enables_it_and_chat_writes_events(
    wheels: dict[str, Path], tmp_path: Path, user_home: dict[str, str]
) -> None:
    env_dir = tmp_path / "fresh"
    venv.create(env_dir, with_pip=True)
    python = str(env_dir / "bin" / "python")
    cli = str(env_dir / "bin" / "ai-assistant")
    work = tmp_path / "work"
    work.mkdir()
    pip = [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]

    run([*pip, str(wheels["core"]), str(wheels["model"])], user_home, work)
    before = json.loads(run([cli, "providers", "--json"], user_home, work).stdout)
    run([*pip, str(wheels["logging"])], user_home, work)
    after = json.loads(run([cli, "providers", "--json"], user_home, work).stdout)
    answer = run([cli, "chat", "What is the capital of France?"], user_home, work)

    assert before == []
    assert [(p["name"], p["status"]) for p in after] == [("logging", "active")]
    assert after[0]["distribution"] == "ai-assistant-callback-provider-logging"
    assert "Paris" in answer.stdout
    log = Path(user_home["XDG_STATE_HOME"]) / "ai-assistant" / "log" / "events.jsonl"
    events = [json.loads(line) for line in log.read_text().splitlines()]
    kinds = [event["event"] for event in events]
    assert kinds[0] == "chain_start" and kinds[-1] == "chain_end"
    end = next(event for event in events if event["event"] == "llm_end")
    assert end["usage"]["input_tokens"] > 0 and end["usage"]["output_tokens"] > 0
    assert {event["root_run_id"] for event in events} == {events[0]["run_id"]}
