"""Where event records go: the ``ai_assistant.events`` logger and a JSONL file."""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path
from typing import IO, Any, Final

from ai_assistant import ConfigError

__all__ = ["LOGGER_NAME", "EventSink", "default_path"]

LOGGER_NAME: Final = "ai_assistant.events"

# Records reach whatever handlers the application configures; without any,
# they go nowhere rather than to Python's last-resort stderr handler.
logging.getLogger(LOGGER_NAME).addHandler(logging.NullHandler())


def default_path() -> str:
    """Return ``events.jsonl`` in the user log directory."""
    from platformdirs import user_log_path

    return str(user_log_path("ai-assistant", appauthor=False) / "events.jsonl")


class EventSink:
    """Writes each record once to the logger and, if set, to the file."""

    def __init__(self, *, path: str | None, level: str, content: bool) -> None:
        self.logger = logging.getLogger(LOGGER_NAME)
        self.content = content
        self.level = _level(level)
        self._lock = threading.Lock()
        self._file: IO[str] | None = None
        self.path = Path(path).expanduser() if path else None
        if self.path is not None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._file = self.path.open("a", encoding="utf-8")
            except OSError as error:
                raise ConfigError(
                    f"callbacks.logging.path: cannot open {self.path} for appending "
                    f"({error.strerror or error}); choose a writable file"
                ) from None

    def wants(self, level: int) -> bool:
        """Tell whether a record at ``level`` would be kept anywhere."""
        in_file = self._file is not None and level >= self.level
        return in_file or self.logger.isEnabledFor(level)

    def emit(self, level: int, record: dict[str, Any]) -> None:
        """Send one event record to the logger and the file."""
        if self.logger.isEnabledFor(level):
            self.logger.log(level, "%s", record["event"], extra={"event": record})
        if self._file is not None and level >= self.level:
            line = json.dumps(record, default=str, ensure_ascii=False)
            with self._lock:
                if self._file is not None:
                    self._file.write(line + "\n")

    def flush(self) -> None:
        """Push written lines to the operating system."""
        with self._lock:
            if self._file is not None:
                self._file.flush()

    def close(self) -> None:
        """Close the file; later records go to the logger only."""
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None


def _level(name: str) -> int:
    value = logging.getLevelName(str(name).upper())
    if not isinstance(value, int):
        raise ConfigError(
            f"callbacks.logging.level: unknown level {name!r}; use DEBUG, INFO, "
            "WARNING or ERROR"
        )
    return value
