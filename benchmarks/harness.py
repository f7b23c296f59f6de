"""What every part of the suite shares: an isolated user, the sink, timing.

Each part runs in a process of its own, started by ``python -m benchmarks``,
and calls :func:`isolate` first, so no run reads or writes the real user's
config, logs or history, and no variable of the developer's (a Langfuse
key, LangChain tracing) changes what is measured.
"""

from __future__ import annotations

import argparse
import atexit
import gc
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

REPO: Final = Path(__file__).resolve().parent.parent
PUBLIC_KEY: Final = "pk-lf-bench"
SECRET_KEY: Final = "sk-lf-bench-3f9a1c"
CALLBACK_PROVIDERS: Final = ("langfuse", "logging")
"""The callback providers in this repository, by entry-point name."""

_DROPPED: Final = (
    "AI_ASSISTANT_",
    "LANGFUSE_",
    "LANGCHAIN_",
    "LANGSMITH_",
    "OTEL_",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
)


def isolate() -> Path:
    """Give this process a temporary home and working directory; return it.

    ``HOME`` and the XDG directories point into it, the project's and its
    dependencies' variables are dropped, loopback traffic bypasses any
    proxy, and the directory is removed at exit.
    """
    root = Path(tempfile.mkdtemp(prefix="ai-assistant-bench-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    for name in list(os.environ):
        if name.startswith(_DROPPED):
            del os.environ[name]
    os.environ["HOME"] = str(root / "home")
    for kind in ("CONFIG", "DATA", "STATE", "CACHE"):
        os.environ[f"XDG_{kind}_HOME"] = str(root / "home" / kind.lower())
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"
    work = root / "work"
    work.mkdir(parents=True)
    os.chdir(work)
    _quiet_event_records()
    return root


def _quiet_event_records() -> None:
    """Drop the logging provider's logger records instead of printing them.

    The process has no logging set up, so Python would print each
    WARNING record (an ``llm_error`` for every cancelled run) on standard
    error. The records are still made, as in any process that keeps them;
    the provider's file is where they are kept here.
    """
    import logging

    events = logging.getLogger("ai_assistant.events")
    events.addHandler(logging.NullHandler())
    events.propagate = False


class Sink:
    """A :mod:`benchmarks.sink` process: a Langfuse stand-in on 127.0.0.1."""

    def __init__(self, delay: float = 0.0, public_key: str = PUBLIC_KEY) -> None:
        self.public_key = public_key
        self.secret_key = SECRET_KEY
        self.delay = delay
        self._process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "benchmarks.sink",
                f"--delay={delay}",
                f"--public-key={public_key}",
                f"--secret-key={SECRET_KEY}",
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=dict(os.environ, PYTHONPATH=str(REPO)),
        )
        assert self._process.stdout is not None
        self.url = self._process.stdout.readline().strip()
        if not self.url.startswith("http://127.0.0.1:"):
            self.stop()
            raise RuntimeError("the loopback sink did not start")

    def stats(self) -> dict[str, int]:
        """Return what the sink has received so far."""
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(f"{self.url}/stats", timeout=5) as answer:
            counts: dict[str, int] = json.load(answer)
        return counts

    def stop(self) -> None:
        """End the sink process."""
        if self._process.poll() is None:
            assert self._process.stdin is not None
            self._process.stdin.close()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()

    def __enter__(self) -> Sink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def write_config(
    root: Path,
    sink: Sink | None,
    *,
    name: str = "ai-assistant.yaml",
    langfuse: Mapping[str, Any] | None = None,
    **core: Any,
) -> Path:
    """Write a config with every bundled callback provider set up; return it.

    The logging provider writes to a file under ``root``; the Langfuse
    provider sends to ``sink``. ``core`` holds the core's own keys.
    """
    import yaml

    callbacks: dict[str, Any] = {
        "logging": {"path": str(root / "events.jsonl")},
    }
    if sink is not None:
        callbacks["langfuse"] = {
            "public_key": sink.public_key,
            "secret_key": sink.secret_key,
            "base_url": sink.url,
            **(langfuse or {}),
        }
    body = {"history": {"backend": "memory"}, **core, "callbacks": callbacks}
    path = root / name
    path.write_text(yaml.safe_dump({"ai_assistant": body}), encoding="utf-8")
    return path


class ForgetfulHistory:
    """A conversation history that keeps nothing: every turn starts afresh.

    Saving the turn is the assistant's own work, not dispatch; a history
    kept in memory would also grow with every timed run and tax the garbage
    collector of later ones.
    """

    def load(self, conversation_id: str) -> list[Any]:
        """Return no earlier messages."""
        return []

    def append(self, conversation_id: str, run_id: str, messages: Any) -> None:
        """Drop the turn's messages."""


def answer_of(tokens: int) -> str:
    """Return a scripted answer that streams as exactly ``tokens`` chunks."""
    words = ("alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta")
    return " ".join(words[i % len(words)] for i in range(tokens))


@dataclass(frozen=True, slots=True)
class Sample:
    """One timed window: wall-clock and process CPU seconds."""

    wall: float
    cpu: float


def alternate(
    variants: Mapping[str, Callable[[], object]], rounds: int
) -> dict[str, list[Sample]]:
    """Time each variant once per round, in an order that rotates each round.

    Every variant runs once untimed first. The garbage collector runs
    before each window, so one variant's garbage is not collected on
    another's time. Process CPU time counts every thread of the process,
    so a provider's background export is part of its cost.
    """
    names = list(variants)
    for name in names:
        variants[name]()
    samples: dict[str, list[Sample]] = {name: [] for name in names}
    for index in range(rounds):
        shift = index % len(names)
        for name in names[shift:] + names[:shift]:
            gc.collect()
            wall, cpu = time.perf_counter(), time.process_time()
            variants[name]()
            samples[name].append(
                Sample(time.perf_counter() - wall, time.process_time() - cpu)
            )
    return samples


def median(values: Iterable[float]) -> float:
    """Return the median of ``values``."""
    return statistics.median(list(values))


def paired_ratio(top: list[Sample], bottom: list[Sample], clock: str) -> float:
    """Return the median over rounds of ``top / bottom`` on one clock."""
    return median(
        getattr(a, clock) / getattr(b, clock) for a, b in zip(top, bottom, strict=True)
    )


def paired_difference(top: list[Sample], bottom: list[Sample], clock: str) -> float:
    """Return the median over rounds of ``top - bottom`` on one clock, seconds."""
    return median(
        getattr(a, clock) - getattr(b, clock) for a, b in zip(top, bottom, strict=True)
    )


def part_arguments(description: str) -> argparse.Namespace:
    """Parse the options every part takes: ``--out`` and ``--quick``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--out", type=Path, help="write the results here as JSON")
    parser.add_argument(
        "--quick", action="store_true", help="fewer rounds and runs, for a smoke run"
    )
    return parser.parse_args()


def emit(results: Mapping[str, Any], out: Path | None) -> None:
    """Write a part's results as JSON to ``out``, or print them."""
    text = json.dumps(results, indent=2)
    if out is None:
        print(text)
    else:
        out.write_text(text + "\n", encoding="utf-8")
