"""Start-up of the CLI with every bundled provider installed and configured.

Each command is a fresh process, timed on the wall clock from start to exit,
in alternating rounds: the bare interpreter, ``import ai_assistant``,
``ai-assistant --help`` and ``ai-assistant providers``. The config sets up
both callback providers (Langfuse pointed at a :mod:`benchmarks.sink` on
127.0.0.1), so ``providers`` finds them active.

Two witnesses say which modules the CLI's own process imports: the
``-X importtime`` report on its standard error, and
:mod:`benchmarks.importwatch`, an import hook that records ``sys.modules``
at exit in the CLI's process only. Neither looks into child processes.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Final

from benchmarks import harness

RATIO_TARGET: Final = 1.2
FORBIDDEN: Final = (
    "ai_assistant_langfuse",
    "ai_assistant_logging",
    "ai_assistant_llamacpp",
    "langfuse",
    "opentelemetry",
    "langsmith",
    "prometheus_client",
    "llama_cpp",
)
"""Provider modules and provider dependencies the CLI process must not import."""

_IMPORT_LINE: Final = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)\s*$")


METADATA_ONLY: Final = """
import os, sys
from ai_assistant.cli import build_parser
build_parser().parse_args(["providers"])
import yaml
from ai_assistant.discovery import discover, switched_off
with open(os.environ["AI_ASSISTANT_CONFIG"], encoding="utf-8") as file:
    sections = (yaml.safe_load(file)["ai_assistant"].get("callbacks") or {})
for spec in discover()[0]:
    off = (sections.get(spec.name) or {}).get("enabled") is False
    reason = "enabled: false" if off else switched_off(spec.name) or ""
    print(spec.name, "disabled" if reason else "enabled", spec.distribution,
          spec.version, reason)
"""
"""A ``providers`` that reads package metadata and the YAML file only: what
listing costs when no provider is imported or started anywhere."""


def commands() -> dict[str, list[str]]:
    """Return the timed commands, by label."""
    python = sys.executable
    cli = str(Path(python).with_name("ai-assistant"))
    return {
        "python -c pass": [python, "-c", "pass"],
        "import ai_assistant": [python, "-c", "import ai_assistant"],
        "ai-assistant --help": [cli, "--help"],
        "ai-assistant providers": [cli, "providers"],
        "providers from metadata only": [python, "-c", METADATA_ONLY],
    }


def run(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run one command; fail loudly if it fails."""
    done = subprocess.run(
        argv, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"{argv} exited {done.returncode}: {done.stderr[-2000:]}")
    return done


def timed(labelled: dict[str, list[str]], env: dict[str, str], rounds: int) -> Any:
    """Time each command once per round, rotating the order; return seconds."""
    names = list(labelled)
    seconds: dict[str, list[float]] = {name: [] for name in names}
    for name in names:
        run(labelled[name], env)
    for index in range(rounds):
        shift = index % len(names)
        for name in names[shift:] + names[:shift]:
            began = time.perf_counter()
            run(labelled[name], env)
            seconds[name].append(time.perf_counter() - began)
    return seconds


def import_times(stderr: str) -> list[tuple[str, int, int, int]]:
    """Parse ``-X importtime`` lines: (module, self us, cumulative us, depth)."""
    found = []
    for line in stderr.splitlines():
        match = _IMPORT_LINE.match(line)
        if match:
            own, total, indent, name = match.groups()
            found.append((name, int(own), int(total), len(indent) // 2))
    return found


def forbidden(modules: list[str]) -> list[str]:
    """Return the modules that are, or belong to, a forbidden package."""
    return sorted(
        name
        for name in set(modules)
        if any(name == root or name.startswith(root + ".") for root in FORBIDDEN)
    )


def importtime_witness(argv: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Run ``argv`` under ``-X importtime`` in its own process; summarise."""
    done = run([sys.executable, "-X", "importtime", *argv], env)
    lines = import_times(done.stderr)
    top = sorted((line for line in lines if line[3] == 0), key=lambda x: -x[2])
    return {
        "modules": len(lines),
        "import_seconds": sum(line[2] for line in lines if line[3] == 0) / 1e6,
        "heaviest": [[name, total / 1e6] for name, _, total, _ in top[:8]],
        **_verdict(forbidden([line[0] for line in lines])),
    }


def hook_witness(arguments: list[str], env: dict[str, str], out: Path) -> Any:
    """Run the CLI under :mod:`benchmarks.importwatch`; summarise its modules."""
    run(
        [sys.executable, "-m", "benchmarks.importwatch", str(out), "--", *arguments],
        dict(env, PYTHONPATH=str(harness.REPO)),
    )
    found = json.loads(out.read_text(encoding="utf-8"))
    return {
        "modules": len(found["loaded"]),
        **_verdict(forbidden(found["loaded"])),
        "forbidden_requested": _roots(forbidden(found["requested"])),
    }


def _verdict(modules: list[str]) -> dict[str, Any]:
    """Name the forbidden packages found, and count their modules."""
    return {"forbidden": _roots(modules), "forbidden_modules": len(modules)}


def probe_child(config: Path, env: dict[str, str]) -> dict[str, Any] | None:
    """Time the provider check's child process, if this core has one."""
    request = json.dumps({"config": str(config), "overrides": []})
    argv = ["-m", "ai_assistant.probe", request]
    try:
        found = importtime_witness(argv, env)
    except RuntimeError:
        return None
    began = time.perf_counter()
    run([sys.executable, *argv], env)
    found["wall_seconds"] = time.perf_counter() - began
    return found


def measure(root: Path, sink: harness.Sink, quick: bool) -> dict[str, Any]:
    """Time the commands and collect both witnesses; return the figures."""
    config = harness.write_config(root, sink)
    env = dict(os.environ, AI_ASSISTANT_CONFIG=str(config))
    env.pop("PYTHONPATH", None)
    labelled = commands()
    seconds = timed(labelled, env, 3 if quick else 7)
    medians = {name: harness.median(values) for name, values in seconds.items()}
    listed = json.loads(
        run([*labelled["ai-assistant providers"], "--json"], env).stdout
    )

    witnesses: dict[str, Any] = {}
    for name in (
        "import ai_assistant",
        "ai-assistant --help",
        "ai-assistant providers",
    ):
        argv = labelled[name][1:] if name.startswith("import") else labelled[name]
        arguments = labelled[name][1:]
        witnesses[name] = {"importtime": importtime_witness(argv, env)}
        if not name.startswith("import"):
            out = root / f"modules-{len(witnesses)}.json"
            witnesses[name]["import_hook"] = hook_witness(arguments, env, out)
    return {
        "rounds": len(seconds["python -c pass"]),
        "seconds": seconds,
        "median_seconds": medians,
        "ratios_to_import": {
            name: medians[name] / medians["import ai_assistant"] for name in medians
        },
        "providers_listed": [
            {"name": row["name"], "status": row["status"], "reason": row["reason"]}
            for row in listed
        ],
        "witnesses": witnesses,
        "probe_child": probe_child(config, env),
    }


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the verdicts on the start-up targets."""
    ratio = results["ratios_to_import"]["ai-assistant providers"]
    verdicts = [
        {
            "item": 4,
            "what": "ai-assistant providers / import ai_assistant, wall time",
            "target": f"<= {RATIO_TARGET}",
            "value": round(ratio, 2),
            "met": ratio <= RATIO_TARGET,
        }
    ]
    for name, found in results["witnesses"].items():
        if name.startswith("import"):
            continue
        imported = sorted(
            set(found["importtime"]["forbidden"])
            | set(found["import_hook"]["forbidden"])
        )
        verdicts.append(
            {
                "item": 4,
                "what": f"{name}: provider modules or dependencies imported",
                "target": "none",
                "value": ", ".join(imported) or "none",
                "met": not imported,
            }
        )
    return verdicts


def _roots(modules: list[str]) -> list[str]:
    return sorted({name.split(".")[0] for name in modules})


def main() -> None:
    options = harness.part_arguments(__doc__.splitlines()[0])
    root = harness.isolate()
    with harness.Sink() as sink:
        results = measure(root, sink, options.quick)
    results["targets"] = targets(results)
    harness.emit(results, options.out)


if __name__ == "__main__":
    main()
