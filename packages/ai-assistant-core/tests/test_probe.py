"""P1/P2: reporting commands load providers in a child process."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

Run = Callable[..., subprocess.CompletedProcess[str]]


def test_p1_providers_and_config_check_import_no_provider_in_their_process(
    site: Path,
) -> None:
    script = (
        "import sys\n"
        "from ai_assistant.cli import main\n"
        "main(['providers', '--json']); main(['config', 'check'])\n"
        "loaded = {'recorder_provider', 'broken_start', 'marker_provider'}\n"
        "print('modules:', sorted(loaded & set(sys.modules)))\n"
    )

    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.stdout.splitlines()[-1] == "modules: []", result.stderr
    rows, _ = json.JSONDecoder().raw_decode(result.stdout)
    assert {row["name"]: row["status"] for row in rows}["recorder"] == "active"


def test_p2_hanging_and_crashing_imports_are_failed_and_the_rest_listed(
    site: Path, run_cli: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AI_ASSISTANT_LOAD_PROVIDERS", "recorder,hanging,crashing")
    monkeypatch.setenv("AI_ASSISTANT_PROBE_TIMEOUT", "3")

    result = run_cli("providers", "--json")

    assert result.returncode == 0, result.stderr
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert rows["recorder"]["status"] == "active"
    assert rows["hanging"]["status"] == "failed"
    assert rows["hanging"]["reason"] == "loading it did not finish within 3 s"
    assert rows["hanging"]["distribution"] == "hanging-provider"
    assert rows["crashing"]["status"] == "failed"
    assert rows["crashing"]["reason"] == "loading it ended the process with exit code 7"
