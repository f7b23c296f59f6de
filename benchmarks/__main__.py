"""Run the benchmark suite: ``python -m benchmarks [--quick] [--only PARTS]``.

Each part runs in a fresh process (see its module), one after the other, so
no part's imports, threads or memory reach another's figures. The results
go to ``docs/performance/results.json``, the plot to
``docs/performance/per-token-cost.png``, and the table to standard output.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any, Final

from benchmarks import report
from benchmarks.harness import REPO

PARTS: Final = {
    "streaming": "dispatch overhead and per-token cost (items 1 and 2)",
    "stall": "a provider whose backend stalls (item 3)",
    "startup": "CLI start-up and what it imports (item 4)",
    "soak": "memory and threads over many runs (item 5)",
    "embedded": "the embedded model (item 6)",
}
DISTRIBUTIONS: Final = (
    "langchain-core",
    "langfuse",
    "omegaconf",
    "pluggy",
    "llama_cpp_python",
    "opentelemetry-sdk",
)


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="fewer rounds and runs: a smoke run"
    )
    parser.add_argument(
        "--only",
        metavar="PARTS",
        help=f"comma list of parts to run, of: {', '.join(PARTS)}",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=REPO / "docs" / "performance",
        help="directory for results.json and per-token-cost.png",
    )
    return parser.parse_args()


def environment() -> dict[str, Any]:
    """Describe the machine, the versions and the commit measured."""
    versions = {}
    for name in DISTRIBUTIONS:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    described = subprocess.run(
        ["git", "describe", "--always", "--dirty"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": described or None,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "versions": versions,
    }


def run_part(name: str, quick: bool, scratch: Path) -> dict[str, Any]:
    """Run one part in its own process; return its results or its failure."""
    out = scratch / f"{name}.json"
    command = [sys.executable, "-m", f"benchmarks.{name}", "--out", str(out)]
    print(f"== {name}: {PARTS[name]}", file=sys.stderr, flush=True)
    load = os.getloadavg()[0]
    began = time.perf_counter()
    done = subprocess.run(
        [*command, *(["--quick"] if quick else [])],
        env=dict(os.environ, PYTHONPATH=str(REPO)),
        check=False,
    )
    seconds = time.perf_counter() - began
    print(f"   {name} took {seconds:.0f} s", file=sys.stderr, flush=True)
    if done.returncode != 0 or not out.is_file():
        return {"failed": f"exit status {done.returncode}", "seconds": seconds}
    found: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    found["seconds"] = seconds
    found["load_average"] = {"before": load, "after": os.getloadavg()[0]}
    return found


def main() -> int:
    options = arguments()
    chosen = options.only.split(",") if options.only else list(PARTS)
    unknown = [name for name in chosen if name not in PARTS]
    if unknown:
        print(f"unknown part(s): {', '.join(unknown)}", file=sys.stderr)
        return 2

    options.out.mkdir(parents=True, exist_ok=True)
    results_path = options.out / "results.json"
    results: dict[str, Any] = {}
    if options.only and results_path.is_file():
        results = json.loads(results_path.read_text(encoding="utf-8"))
    results["environment"] = measured = environment()
    results["quick"] = options.quick
    with tempfile.TemporaryDirectory(prefix="ai-assistant-bench-") as scratch:
        for name in chosen:
            results[name] = run_part(name, options.quick, Path(scratch))
            results[name]["environment"] = measured

    results_path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    report.print_table(results)
    if "failed" not in results.get("streaming", {"failed": True}):
        report.plot(results, options.out / "per-token-cost.png")
    failed = [name for name in chosen if "failed" in results[name]]
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
