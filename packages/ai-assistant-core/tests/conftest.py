"""Fixtures: an isolated user environment and providers installed as
distributions (metadata and modules on a path), as pip would lay them out."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ai_assistant.testing import write_distribution

FAKES = Path(__file__).parent / "fake_providers"
CALLBACKS = "ai_assistant.callback_providers"
FAKE_DISTRIBUTIONS = [
    # distribution, module in fake_providers/, entry point name, group
    ("recorder-provider", "recorder_provider", "recorder", CALLBACKS),
    ("broken-import-provider", "broken_import", "broken_import", CALLBACKS),
    ("broken-start-provider", "broken_start", "broken_start", CALLBACKS),
    ("marker-provider", "marker_provider", "marker", CALLBACKS),
    (
        "scripted-model-provider",
        "scripted_model",
        "scripted",
        "ai_assistant.model_providers",
    ),
    ("hanging-provider", "hanging_import", "hanging", CALLBACKS),
    ("crashing-provider", "crashing_import", "crashing", CALLBACKS),
    ("fragile-provider", "fragile_provider", "fragile", CALLBACKS),
    ("declared-provider", "declared_secret", "declared", CALLBACKS),
]


def source(module: str) -> str:
    """Return the source of one of the fake providers in ``fake_providers/``."""
    return (FAKES / f"{module}.py").read_text(encoding="utf-8")


@pytest.fixture
def user_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point every per-user directory at a temporary home and clear our variables."""
    home = tmp_path / "home"
    home.mkdir()
    for variable in list(os.environ):
        if variable.startswith(("AI_ASSISTANT_", "LANGFUSE_")):
            monkeypatch.delenv(variable)
    monkeypatch.setenv("HOME", str(home))
    for kind in ("CONFIG", "DATA", "STATE", "CACHE"):
        monkeypatch.setenv(f"XDG_{kind}_HOME", str(home / kind.lower()))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, user_env: Path) -> Path:
    """A directory of fake installed distributions, on sys.path and PYTHONPATH."""
    root = tmp_path / "site"
    for distribution, module, name, group in FAKE_DISTRIBUTIONS:
        write_distribution(
            root,
            distribution,
            modules={f"{module}.py": source(module)},
            entry_points={group: {name: module}},
        )
    monkeypatch.syspath_prepend(str(root))
    monkeypatch.setenv("PYTHONPATH", str(root))
    monkeypatch.setenv("RECORDER_PATH", str(tmp_path / "recorded.jsonl"))
    monkeypatch.setenv("IMPORT_MARKER", str(tmp_path / "marker-imported"))
    monkeypatch.setenv(
        "AI_ASSISTANT_LOAD_PROVIDERS", "recorder,broken_import,broken_start,marker"
    )
    return root


@pytest.fixture
def run_cli() -> Iterator[object]:
    """Run ``python -m ai_assistant`` in a subprocess, as a user would."""

    def run(*args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "ai_assistant", *args],
            capture_output=True,
            text=True,
            input=input,
            timeout=120,
            check=False,
        )

    yield run
