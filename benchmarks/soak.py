"""Memory and threads over many runs with every provider active.

One assistant, with every bundled callback provider found through its entry
point (Langfuse sending to a :mod:`benchmarks.sink` on 127.0.0.1), answers
``RUNS`` short questions after ``WARMUP`` runs; every other run is cancelled
by closing its stream after the first chunk. History is kept in SQLite, as
the CLI keeps it. Before each reading the providers are flushed and the
garbage collector runs, so what is left is what the process holds on to.
The count of memory blocks Python's allocator has handed out is read beside
the RSS: blocks that keep growing mean objects kept alive, while RSS that
grows without them is memory held below Python (SQLite's page cache, the
allocator's arenas).
"""

from __future__ import annotations

import gc
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any, Final

from benchmarks import harness

RUNS: Final = 10_000
WARMUP: Final = 1_000
TOKENS: Final = 12
READINGS: Final = 20
GROWTH_TARGET_MB: Final = 5.0


def rss_bytes() -> int:
    """Return this process's resident set size."""
    import psutil

    return int(psutil.Process().memory_info().rss)


def threads() -> list[str]:
    """Return the names of this process's live threads."""
    return sorted(thread.name for thread in threading.enumerate())


def reading(host: Any, runs: int, began: float) -> dict[str, Any]:
    """Flush, collect garbage, then read memory and threads."""
    host.flush()
    gc.collect()
    return {
        "runs": runs,
        "seconds": time.perf_counter() - began,
        "rss_mb": rss_bytes() / 2**20,
        "python_blocks": sys.getallocatedblocks(),
        "threads": threading.active_count(),
    }


def measure(root: Path, config_path: Path, quick: bool) -> dict[str, Any]:
    """Run the soak; return the readings and what grew."""
    from ai_assistant import Assistant
    from ai_assistant.config import load_config
    from ai_assistant.host import ProviderHost
    from ai_assistant.testing import ScriptedChatModel

    runs, warmup = (1_000, 200) if quick else (RUNS, WARMUP)
    config = load_config(config_path)
    host = ProviderHost(config)
    host.start()
    active = [record.name for record in host.active]
    if active != sorted(harness.CALLBACK_PROVIDERS):
        raise RuntimeError(f"expected every provider active: {host.records}")
    model = ScriptedChatModel(answers=[harness.answer_of(TOKENS)])
    assistant = Assistant(config, model=model, host=host)

    def run(index: int) -> None:
        stream = assistant.stream("Tell me something short.")
        if index % 2:
            next(stream)
            stream.close()
        else:
            for _ in stream:
                pass

    began = time.perf_counter()
    for index in range(warmup):
        run(index)
    start = reading(host, 0, began)
    names_after_warmup = threads()
    readings = [start]
    step = runs // READINGS
    for index in range(runs):
        run(index)
        if (index + 1) % step == 0:
            readings.append(reading(host, index + 1, began))
    names_at_end = threads()
    end = readings[-1]
    failures = {r.name: dict(r.failures) for r in host.records if r.failures}
    assistant.close()
    return {
        "runs": runs,
        "warmup_runs": warmup,
        "cancelled_runs": runs // 2,
        "tokens_per_answer": TOKENS,
        "history": str(config.core.history.backend),
        "rss_growth_mb": end["rss_mb"] - start["rss_mb"],
        "python_blocks_growth": end["python_blocks"] - start["python_blocks"],
        "threads_after_warmup": start["threads"],
        "threads_at_end": end["threads"],
        "thread_names_after_warmup": names_after_warmup,
        "thread_names_at_end": names_at_end,
        "runs_per_second": runs / (end["seconds"] - start["seconds"]),
        "readings": readings,
        "provider_failures": failures,
    }


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the verdicts on the memory and thread targets."""
    growth = results["rss_growth_mb"]
    before, after = results["threads_after_warmup"], results["threads_at_end"]
    return [
        {
            "item": 5,
            "what": f"RSS growth over {results['runs']:,} runs after warm-up",
            "target": f"<= {GROWTH_TARGET_MB:g} MB",
            "value": round(growth, 2),
            "met": growth <= GROWTH_TARGET_MB,
        },
        {
            "item": 5,
            "what": "threads after warm-up -> at end",
            "target": "constant",
            "value": f"{before} -> {after}",
            "met": before == after,
        },
    ]


def main() -> None:
    options = harness.part_arguments(__doc__.splitlines()[0])
    root = harness.isolate()
    with harness.Sink() as sink:
        history = {"backend": "sqlite", "path": str(root / "history.sqlite3")}
        config_path = harness.write_config(root, sink, history=history)
        results = measure(root, config_path, options.quick)
        results["sink"] = sink.stats()
    results["targets"] = targets(results)
    results["pid"] = os.getpid()
    harness.emit(results, options.out)


if __name__ == "__main__":
    main()
