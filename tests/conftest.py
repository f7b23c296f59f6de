"""Fixtures for the cross-package tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def user_home(tmp_path: Path) -> dict[str, str]:
    """An environment whose per-user directories live under a temporary home."""
    home = tmp_path / "home"
    home.mkdir()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AI_ASSISTANT_", "LANGFUSE_", "VIRTUAL_ENV", "PYTHON"))
    }
    env["HOME"] = str(home)
    for kind in ("CONFIG", "DATA", "STATE", "CACHE"):
        env[f"XDG_{kind}_HOME"] = str(home / kind.lower())
    env["PIP_CACHE_DIR"] = os.environ.get(
        "PIP_CACHE_DIR", str(Path.home() / ".cache" / "pip")
    )
    return env
