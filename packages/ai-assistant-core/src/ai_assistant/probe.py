"""Loading providers in a child process, for commands that only report.

``providers`` and ``config check`` must say whether each provider imports,
validates and starts, without importing any provider into the command's
own process: a provider that imports a heavy library, hangs on import or
crashes the interpreter then costs the command nothing but its report. The
child prints one JSON line as it begins each provider, so when it hangs or
dies the parent knows which provider did it, marks that one ``failed`` and
probes the rest again without it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

__all__ = ["PROBE_TIMEOUT_ENV", "Probe", "probe"]

PROBE_TIMEOUT_ENV: Final = "AI_ASSISTANT_PROBE_TIMEOUT"
_SKIP_ENV: Final = "AI_ASSISTANT_PROBE_SKIP"
_DEFAULT_TIMEOUT: Final = 30.0
_MAX_ROUNDS: Final = 5


@dataclass
class Probe:
    """What the child found: one row per provider, warnings, problems."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    secret_keys: list[str] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        """One line per failed provider."""
        return [
            f"provider {row['name']!r}: {row['reason']}"
            for row in self.rows
            if row["status"] == "failed"
        ]


def probe(
    config: str | None, overrides: Sequence[str], environ: Mapping[str, str]
) -> Probe:
    """Load, validate and start every enabled provider in a child process."""
    timeout = _timeout(environ)
    skipped: dict[str, dict[str, Any]] = {}
    for _ in range(_MAX_ROUNDS):
        found = _run_child(config, overrides, environ, skipped, timeout)
        if isinstance(found, Probe):
            return _merge(found, skipped)
        skipped[found["name"]] = found
    names = ", ".join(sorted(skipped))
    return Probe(
        rows=sorted(skipped.values(), key=lambda row: row["name"]),
        warnings=[f"stopped checking providers after failures in {names}"],
    )


def _timeout(environ: Mapping[str, str]) -> float:
    try:
        return float(environ.get(PROBE_TIMEOUT_ENV, _DEFAULT_TIMEOUT))
    except ValueError:
        return _DEFAULT_TIMEOUT


def _run_child(
    config: str | None,
    overrides: Sequence[str],
    environ: Mapping[str, str],
    skipped: Mapping[str, Any],
    timeout: float,
) -> Probe | dict[str, Any]:
    env = dict(environ)
    env[_SKIP_ENV] = ",".join(skipped)
    request = json.dumps({"config": config, "overrides": list(overrides)})
    try:
        done = subprocess.run(
            [sys.executable, "-m", "ai_assistant.probe", request],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        output, code = done.stdout, done.returncode
    except subprocess.TimeoutExpired as expired:
        output = _text(expired.stdout)
        code = None
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    if lines and "rows" in lines[-1]:
        last = lines[-1]
        return Probe(last["rows"], last["warnings"], last.get("secret_keys", []))
    culprit = next((line for line in reversed(lines) if "loading" in line), None)
    if culprit is None:
        reason = f"checking providers failed before loading any{_how(code, timeout)}"
        return Probe(warnings=[reason])
    return {
        "name": culprit["loading"],
        "distribution": culprit.get("distribution"),
        "version": culprit.get("version"),
        "status": "failed",
        "reason": f"loading it{_how(code, timeout)}",
        "failures": {"load": 1},
    }


def _how(code: int | None, timeout: float) -> str:
    if code is None:
        return f" did not finish within {timeout:g} s"
    return f" ended the process with exit code {code}"


def _text(value: bytes | str | None) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value or ""


def _merge(found: Probe, skipped: Mapping[str, dict[str, Any]]) -> Probe:
    rows = {row["name"]: row for row in found.rows}
    rows.update(skipped)
    return Probe(
        rows=[rows[name] for name in sorted(rows)],
        warnings=found.warnings,
        secret_keys=found.secret_keys,
    )


def _child(request: str) -> None:
    import logging

    from ai_assistant.config import load_config
    from ai_assistant.host import ProviderHost

    logging.getLogger("ai_assistant").disabled = True
    asked = json.loads(request)
    config = load_config(asked["config"], overrides=asked["overrides"])
    skip = set(filter(None, os.environ.get(_SKIP_ENV, "").split(",")))

    def loading(name: str, distribution: str | None, version: str | None) -> None:
        line = {"loading": name, "distribution": distribution, "version": version}
        print(json.dumps(line), flush=True)

    host = ProviderHost(config, on_loading=loading, skip=skip)
    host.start()
    rows = [record.as_dict() for record in host.records]
    secrets = sorted({key for record in host.records for key in record.secret_keys})
    found = {"rows": rows, "warnings": host.warnings, "secret_keys": secrets}
    print(json.dumps(found), flush=True)
    # Nothing was sent, so there is nothing to flush: leave at once rather
    # than wait on providers' exit hooks.
    os._exit(0)


if __name__ == "__main__":
    _child(sys.argv[1])
