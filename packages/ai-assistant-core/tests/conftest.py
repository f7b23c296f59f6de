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
    write_distribution(
        root,
        "recorder-provider",
        modules={"recorder_provider.py": source("recorder_provider")},
        entry_points={
            "ai_assistant.callback_providers": {"recorder": "recorder_provider"}
        },
    )
    write_distribution(
        root,
        "broken-import-provider",
        modules={"broken_import.py": source("broken_import")},
        entry_points={
            "ai_assistant.callback_providers": {"broken_import": "broken_import"}
        },
    )
    write_distribution(
        root,
        "broken-start-provider",
        modules={"broken_start.py": source("broken_start")},
        entry_points={
            "ai_assistant.callback_providers": {"broken_start": "broken_start"}
        },
    )
    write_distribution(
        root,
        "marker-provider",
        modules={"marker_provider.py": source("marker_provider")},
        entry_points={"ai_assistant.callback_providers": {"marker": "marker_provider"}},
    )
    write_distribution(
        root,
        "scripted-model-provider",
        modules={"scripted_model.py": source("scripted_model")},
        entry_points={"ai_assistant.model_providers": {"scripted": "scripted_model"}},
    )
    for module, name in (
        ("hanging_import", "hanging"),
        ("crashing_import", "crashing"),
        ("fragile_provider", "fragile"),
        ("declared_secret", "declared"),
    ):
        write_distribution(
            root,
            f"{name}-provider",
            modules={f"{module}.py": source(module)},
            entry_points={"ai_assistant.callback_providers": {name: module}},
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
