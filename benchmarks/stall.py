"""A provider whose backend stalls: the answer's pace, and the way out.

The Langfuse provider sends to a :mod:`benchmarks.sink` that holds every
request for ``STALL`` seconds before answering; ``flush_at: 1`` makes it
export from the first span on, so its exporter is stuck for the whole run.
The model is a :class:`~benchmarks.paced.PacedChatModel`, so the time to
first token and the total time are a model's, not only the core's.

- API: in a child process, ``Assistant.stream`` with no provider, with
  Langfuse on a healthy sink and with Langfuse on the stalled one, in
  alternating rounds; then ``close()`` and the process's exit, timed
  against the flush deadline.
- CLI: ``ai-assistant chat --model paced:`` in the same three set-ups:
  first output, end of the answer and exit, from the process's start.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Final

from benchmarks import harness

STALL: Final = 5.0
FLUSH_DEADLINE: Final = 5.0
PACE_TARGET: Final = 1.05
LANGFUSE: Final = {"flush_at": 1}
VARIANTS: Final = ("no provider", "langfuse, healthy sink", "langfuse, stalled sink")


def configs(root: Path, healthy: harness.Sink, stalled: harness.Sink) -> Any:
    """Write one config per sink; return them and the environment per variant."""
    paths = {
        name: harness.write_config(
            root,
            sink,
            name=f"{name}.yaml",
            langfuse=LANGFUSE,
            flush_deadline=FLUSH_DEADLINE,
        )
        for name, sink in (("healthy", healthy), ("stalled", stalled))
    }
    allow = {"AI_ASSISTANT_LOAD_PROVIDERS": "langfuse"}
    return {
        "no provider": (paths["stalled"], {"AI_ASSISTANT_LOAD_PROVIDERS": ""}),
        "langfuse, healthy sink": (paths["healthy"], allow),
        "langfuse, stalled sink": (paths["stalled"], allow),
    }


def api_child(plan_path: Path, out: Path) -> None:
    """Time the three variants through the API, then close and exit."""
    from ai_assistant import Assistant
    from ai_assistant.config import load_config
    from ai_assistant.host import ProviderHost
    from benchmarks.paced import TOKENS, PacedChatModel

    plan = json.loads(plan_path.read_text(encoding="utf-8"))
    assistants = {}
    for name, (path, extra) in plan["variants"].items():
        config = load_config(path)
        host = ProviderHost(config, environ=dict(os.environ, **extra))
        host.start()
        wanted = ["langfuse"] if "langfuse" in name else []
        if [record.name for record in host.active] != wanted:
            raise RuntimeError(f"{name}: expected {wanted} active: {host.records}")
        model = PacedChatModel(answers=[harness.answer_of(TOKENS)])
        assistants[name] = Assistant(
            config, model=model, history=harness.ForgetfulHistory(), host=host
        )
    samples: dict[str, list[list[float]]] = {name: [] for name in assistants}
    names = list(assistants)
    for index in range(plan["rounds"] + 1):
        shift = index % len(names)
        for name in names[shift:] + names[:shift]:
            began = time.perf_counter()
            stream = assistants[name].stream("Tell me more.")
            next(stream)
            first = time.perf_counter() - began
            for _ in stream:
                pass
            if index:  # the first round warms up
                samples[name].append([first, time.perf_counter() - began])

    closed = {}
    for name in names:
        if name == VARIANTS[2]:
            print("closing", flush=True)
        began = time.perf_counter()
        assistants[name].close()
        closed[name] = time.perf_counter() - began
    left = [f"{t.name}{' (daemon)' if t.daemon else ''}" for t in threading.enumerate()]
    found = {"samples": samples, "close_seconds": closed, "threads_left": left}
    out.write_text(json.dumps(found), encoding="utf-8")


def api(root: Path, plan: dict[str, Any]) -> dict[str, Any]:
    """Run :func:`api_child` in a child process; time its close and exit."""
    plan_path, out = root / "plan.json", root / "api.json"
    plan_path.write_text(json.dumps(plan), encoding="utf-8")
    child = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.stall", "--api", str(plan_path), str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(harness.REPO)),
    )
    assert child.stdout is not None
    for line in child.stdout:
        if line.strip() == "closing":
            break
    closing = time.perf_counter()
    _, stderr = child.communicate(timeout=120)
    close_to_exit = time.perf_counter() - closing
    if child.returncode != 0:
        raise RuntimeError(f"the API run failed: {stderr[-3000:]}")
    found = json.loads(out.read_text(encoding="utf-8"))
    variants = {
        name: {
            "ttft_ms": harness.median(s[0] for s in runs) * 1e3,
            "total_ms": harness.median(s[1] for s in runs) * 1e3,
            "samples": runs,
        }
        for name, runs in found["samples"].items()
    }
    none, healthy, stalled = (variants[name] for name in VARIANTS)
    return {
        "variants": variants,
        "ratios_to_no_provider": {
            "ttft": stalled["ttft_ms"] / none["ttft_ms"],
            "total": stalled["total_ms"] / none["total_ms"],
        },
        "ratios_to_healthy_sink": {
            "ttft": stalled["ttft_ms"] / healthy["ttft_ms"],
            "total": stalled["total_ms"] / healthy["total_ms"],
        },
        "close_seconds": found["close_seconds"],
        "close_to_exit_seconds": close_to_exit,
        "threads_left_after_close": found["threads_left"],
        "warnings": _warnings(stderr),
    }


def cli(root: Path, plan: dict[str, Any], rounds: int) -> dict[str, Any]:
    """Time ``ai-assistant chat`` on the paced model in each variant."""
    from ai_assistant.testing import write_distribution

    site = write_distribution(
        root / "site",
        "ai-assistant-bench-paced",
        modules={},
        entry_points={"ai_assistant.model_providers": {"paced": "benchmarks.paced"}},
    )
    command = [
        str(Path(sys.executable).with_name("ai-assistant")),
        "chat",
        "--model",
        "paced:",
        "Tell me more.",
    ]
    base = dict(os.environ, PYTHONPATH=os.pathsep.join([str(site), str(harness.REPO)]))
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in VARIANTS}
    warnings: dict[str, list[str]] = {}
    for index in range(rounds):
        for name in VARIANTS[index % 3 :] + VARIANTS[: index % 3]:
            path, extra = plan["variants"][name]
            env = dict(base, AI_ASSISTANT_CONFIG=path, **extra)
            timing, stderr = _chat(command, env)
            runs[name].append(timing)
            warnings[name] = _warnings(stderr)
    return {
        "variants": {
            name: {
                key: harness.median(run[key] for run in found)
                for key in ("first_output", "answer_end", "exit", "exit_after_answer")
            }
            | {"runs": found, "warnings": warnings[name]}
            for name, found in runs.items()
        }
    }


def _chat(command: list[str], env: dict[str, str]) -> tuple[dict[str, float], str]:
    """Run one chat; return when its output began, its answer ended, it exited."""
    began = time.perf_counter()
    child = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )
    assert child.stdout is not None
    first = end = None
    while end is None:
        piece = os.read(child.stdout.fileno(), 65536)
        if not piece:
            break
        now = time.perf_counter() - began
        first = now if first is None else first
        end = now if b"\n" in piece else None
    _, stderr = child.communicate(timeout=120)
    exited = time.perf_counter() - began
    if child.returncode != 0 or first is None or end is None:
        raise RuntimeError(f"chat failed ({child.returncode}): {stderr[-3000:]!r}")
    timing = {
        "first_output": first,
        "answer_end": end,
        "exit": exited,
        "exit_after_answer": exited - end,
    }
    return timing, stderr.decode("utf-8", "replace")


def _warnings(stderr: str) -> list[str]:
    lines = [line.strip() for line in stderr.splitlines() if "warning" in line]
    return sorted(set(lines))


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the verdicts on the stalled-backend targets."""
    ratios = results["api"]["ratios_to_no_provider"]
    verdicts = [
        {
            "item": 3,
            "what": f"stalled backend: {what} / no provider (API)",
            "target": f"<= {PACE_TARGET}",
            "value": round(ratios[key], 3),
            "met": ratios[key] <= PACE_TARGET,
        }
        for key, what in (("ttft", "time to first token"), ("total", "total time"))
    ]
    api_exit = results["api"]["close_to_exit_seconds"]
    verdicts.append(
        {
            "item": 3,
            "what": "stalled backend: close() to process exit (API)",
            "target": f"<= {FLUSH_DEADLINE:g} s (flush deadline)",
            "value": round(api_exit, 2),
            "met": api_exit <= FLUSH_DEADLINE,
        }
    )
    cli_exit = results["cli"]["variants"][VARIANTS[2]]["exit_after_answer"]
    verdicts.append(
        {
            "item": 3,
            "what": "stalled backend: end of answer to exit (ai-assistant chat)",
            "target": f"<= {FLUSH_DEADLINE:g} s (flush deadline)",
            "value": round(cli_exit, 2),
            "met": cli_exit <= FLUSH_DEADLINE,
        }
    )
    return verdicts


def main() -> None:
    if sys.argv[1:2] == ["--api"]:
        api_child(Path(sys.argv[2]), Path(sys.argv[3]))
        return
    options = harness.part_arguments(__doc__.splitlines()[0])
    root = harness.isolate()
    healthy_sink = harness.Sink(public_key="pk-lf-bench-healthy")
    stalled_sink = harness.Sink(delay=STALL, public_key="pk-lf-bench-stalled")
    with healthy_sink, stalled_sink:
        plan = {
            "rounds": 3 if options.quick else 9,
            "variants": {
                name: (str(path), extra)
                for name, (path, extra) in configs(
                    root, healthy_sink, stalled_sink
                ).items()
            },
        }
        results: dict[str, Any] = {
            "stall_seconds": STALL,
            "flush_deadline": FLUSH_DEADLINE,
            "api": api(root, plan),
            "cli": cli(root, plan, 1 if options.quick else 3),
            "sinks": {"healthy": healthy_sink.stats(), "stalled": stalled_sink.stats()},
        }
    results["targets"] = targets(results)
    harness.emit(results, options.out)


if __name__ == "__main__":
    main()
