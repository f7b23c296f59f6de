"""Many assistant runs in one fresh process, for the bounded-state tests.

``python -m fault_kit.soak CONFIG RUNS`` builds an assistant from CONFIG
with the providers that ``AI_ASSISTANT_LOAD_PROVIDERS`` allows, warms it up,
then makes RUNS runs in two halves; every other run is cancelled after its
first chunk. It prints one JSON object: resident memory (bytes), the
number of objects the garbage collector tracks and the number of threads,
after the warm-up, after the first half and at the end.
"""

from __future__ import annotations

import gc
import json
import logging
import sys
import threading
from collections.abc import Sequence
from typing import Final

from langchain_core.messages import BaseMessage

from ai_assistant import Assistant
from ai_assistant.config import load_config
from ai_assistant.host import ProviderHost
from ai_assistant.testing import ScriptedChatModel

WARM_UP: Final = 500
ANSWER: Final = "one two three four five six seven eight"


class Forgetful:
    """A history that keeps nothing, so only the providers could hold on to runs."""

    def load(self, conversation_id: str) -> list[BaseMessage]:
        return []

    def append(
        self, conversation_id: str, run_id: str, messages: Sequence[BaseMessage]
    ) -> None:
        """Forget the turn."""


def resident_bytes() -> int:
    """Return this process's resident memory, from ``/proc``."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def one_run(assistant: Assistant, index: int) -> None:
    """End the run, or cancel it after its first chunk when ``index`` is odd."""
    if index % 2 == 0:
        assistant.chat("count")
        return
    stream = assistant.stream("count")
    next(stream)
    stream.close()


def measure(assistant: Assistant, runs: int) -> dict[str, int]:
    """Make ``runs`` runs, let the providers deliver, and measure."""
    for index in range(runs):
        one_run(assistant, index)
    assistant.host.flush(10)
    gc.collect()
    return {
        "memory": resident_bytes(),
        "objects": len(gc.get_objects()),
        "threads": threading.active_count(),
    }


def main(argv: Sequence[str]) -> None:
    core = logging.getLogger("ai_assistant")
    core.addHandler(logging.NullHandler())
    core.propagate = False
    config = load_config(argv[1])
    host = ProviderHost(config)
    assistant = Assistant(
        config,
        model=ScriptedChatModel(answers=[ANSWER]),
        model_id="scripted:",
        tools=[],
        history=Forgetful(),
        host=host,
    )
    half = int(argv[2]) // 2
    found = {
        "active": [record.name for record in host.active],
        "warm": measure(assistant, WARM_UP),
        "middle": measure(assistant, half),
        "end": measure(assistant, half),
    }
    assistant.close(5)
    print(json.dumps(found))


if __name__ == "__main__":
    main(sys.argv)
