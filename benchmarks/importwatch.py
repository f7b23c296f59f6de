"""Run the ``ai-assistant`` CLI and record every module its own process imports.

``python -m benchmarks.importwatch OUT -- ARGS...`` runs
``ai_assistant.cli.main(ARGS)`` exactly as the ``ai-assistant`` script does,
with an import hook first on ``sys.meta_path`` that notes each module name
asked for. At exit, in this process only (never in a child it forked), it
writes the names asked for and the names in ``sys.modules`` to OUT as JSON.
Child processes the CLI starts are not watched: what they import is theirs.
"""

from __future__ import annotations

import atexit
import json
import os
import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from pathlib import Path
from types import ModuleType


class _Recorder:
    """A meta path finder that finds nothing and remembers every request."""

    def __init__(self) -> None:
        self.requested: list[str] = []

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> ModuleSpec | None:
        self.requested.append(fullname)
        return None


def main() -> None:
    out = Path(sys.argv[1])
    arguments = sys.argv[sys.argv.index("--") + 1 :]
    recorder = _Recorder()
    sys.meta_path.insert(0, recorder)
    pid = os.getpid()

    def write() -> None:
        if os.getpid() != pid:
            return
        found = {
            "pid": pid,
            "argv": arguments,
            "requested": sorted(set(recorder.requested)),
            "loaded": sorted(sys.modules),
        }
        out.write_text(json.dumps(found), encoding="utf-8")

    atexit.register(write)
    sys.argv = ["ai-assistant", *arguments]
    from ai_assistant.cli import main as cli

    sys.exit(cli(arguments))


if __name__ == "__main__":
    main()
