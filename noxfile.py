"""Sessions: tests, lint, typecheck, wheels, demo, bench.

``nox -s tests`` and ``nox -s demo`` set up everything they need on a fresh
machine with Python 3.11+ and pip; their environments are reused between
runs (building llama-cpp-python from source takes minutes the first time;
pip caches the wheel after that).
"""

from __future__ import annotations

from pathlib import Path

import nox

ROOT = Path(__file__).parent
PACKAGES = [
    "packages/ai-assistant-core",
    "packages/ai-assistant-model-provider-llamacpp",
    "packages/ai-assistant-callback-provider-logging",
    "packages/ai-assistant-callback-provider-langfuse",
]
TEST_DEPS = [
    "pytest>=8",
    "pytest-asyncio>=0.24",
    "langchain-tests>=1.0,<2",
    "opentelemetry-proto>=1.20",
    "hatchling>=1.25",  # tests/faults builds its fault providers without isolation
]
BENCH_DEPS = ["matplotlib>=3.8", "psutil>=5.9", "pyinstrument>=4.6"]

nox.options.sessions = ["tests"]
nox.options.default_venv_backend = "venv"


def _install_workspace(session: nox.Session) -> None:
    editable = [arg for package in PACKAGES for arg in ("-e", package)]
    session.install(*editable)


@nox.session(reuse_venv=True)
def tests(session: nox.Session) -> None:
    """Run every package's tests and the cross-package tests."""
    _install_workspace(session)
    session.install(*TEST_DEPS)
    session.run("pytest", *session.posargs)


@nox.session(reuse_venv=True)
def lint(session: nox.Session) -> None:
    """Check formatting and lint rules."""
    session.install("ruff>=0.6")
    session.run("ruff", "format", "--check", ".")
    session.run("ruff", "check", ".")


@nox.session(reuse_venv=True)
def typecheck(session: nox.Session) -> None:
    """Run mypy in strict mode on the core."""
    session.install("mypy>=1.10", "types-PyYAML", "-e", PACKAGES[0])
    session.run("mypy")


@nox.session(reuse_venv=True)
def wheels(session: nox.Session) -> None:
    """Build every package's wheel into dist/."""
    session.install("build>=1")
    for package in PACKAGES:
        session.run("python", "-m", "build", "--wheel", "--outdir", "dist", package)


@nox.session(reuse_venv=True)
def demo(session: nox.Session) -> None:
    """Install the core, the embedded model and the logging provider, then ask.

    The answer streams from the embedded model while the logging provider
    writes each callback event to events.jsonl in the user log directory.
    """
    session.install(*PACKAGES[:3])
    prompt = session.posargs[0] if session.posargs else "What is the capital of France?"
    session.run("ai-assistant", "providers")
    session.run("ai-assistant", "chat", prompt)
    session.run(
        "python",
        "-c",
        "from ai_assistant_logging.sink import default_path; "
        "import json, pathlib; "
        "lines = pathlib.Path(default_path()).read_text().splitlines(); "
        "last = [json.loads(line) for line in lines[-50:]]; "
        "end = [r for r in last if r['event'] == 'llm_end'][-1]; "
        "print(f'logging provider: {len(lines)} events in {default_path()}; "
        'last llm_end usage: {end["usage"]}\')',
    )


@nox.session(reuse_venv=True)
def bench(session: nox.Session) -> None:
    """Measure what providers cost a run, start-up, memory and the embedded model.

    Not part of the tests. Variants run side by side in alternating rounds;
    the table is printed and the raw figures and the plot are written to
    docs/performance/. ``nox -s bench -- --quick`` runs fewer rounds;
    ``nox -s bench -- --only streaming,startup`` runs some parts only.
    """
    _install_workspace(session)
    session.install(*BENCH_DEPS)
    session.run("python", "-m", "benchmarks", *session.posargs)
