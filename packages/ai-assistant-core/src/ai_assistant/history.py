"""Conversation history: SQLite on disk by default, or kept in memory.

A conversation is an ordered list of LangChain messages under an id; a turn
appends the user's message, any tool exchanges and the answer, so a later
turn (or a later process) can continue the conversation by id.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from langchain_core.messages import BaseMessage, messages_from_dict, messages_to_dict

from ai_assistant.config import HistorySettings
from ai_assistant.errors import AssistantError, ConfigError

__all__ = ["History", "HistoryError", "MemoryHistory", "SqliteHistory", "open_history"]

_BUSY_SECONDS = 10.0


class HistoryError(AssistantError):
    """The history store could not be read or written."""


_SELECT = "SELECT message FROM messages WHERE conversation_id = ? ORDER BY position"
_NEXT_POSITION = (
    "SELECT COALESCE(MAX(position) + 1, 0) FROM messages WHERE conversation_id = ?"
)
_INSERT = (
    "INSERT INTO messages (conversation_id, position, run_id, message)"
    " VALUES (?, ?, ?, ?)"
)


class History(Protocol):
    """Where conversations are kept."""

    def load(self, conversation_id: str) -> list[BaseMessage]:
        """Return the conversation's messages, oldest first (empty if new)."""
        ...

    def append(
        self, conversation_id: str, run_id: str, messages: Sequence[BaseMessage]
    ) -> None:
        """Add one turn's messages to the conversation."""
        ...


class MemoryHistory:
    """Conversations held in this process only."""

    def __init__(self) -> None:
        self._conversations: dict[str, list[BaseMessage]] = defaultdict(list)
        self._lock = threading.Lock()

    def load(self, conversation_id: str) -> list[BaseMessage]:
        with self._lock:
            return list(self._conversations.get(conversation_id, ()))

    def append(
        self, conversation_id: str, run_id: str, messages: Sequence[BaseMessage]
    ) -> None:
        with self._lock:
            self._conversations[conversation_id].extend(messages)


class SqliteHistory:
    """Conversations in one SQLite file, safe to share between threads."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).expanduser()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(
                self.path,
                check_same_thread=False,
                timeout=_BUSY_SECONDS,
                isolation_level=None,
            )
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS messages ("
                " conversation_id TEXT NOT NULL,"
                " position INTEGER NOT NULL,"
                " run_id TEXT NOT NULL,"
                " message TEXT NOT NULL,"
                " created_at TEXT NOT NULL DEFAULT (datetime('now')),"
                " PRIMARY KEY (conversation_id, position))"
            )
        except (OSError, sqlite3.Error) as error:
            raise ConfigError(
                f"{self.path}: cannot open the history database ({error}); set "
                "ai_assistant.history.path to a writable file"
            ) from None
        self._lock = threading.Lock()

    def load(self, conversation_id: str) -> list[BaseMessage]:
        try:
            with self._lock:
                rows = self._db.execute(_SELECT, (conversation_id,)).fetchall()
        except sqlite3.Error as error:
            raise HistoryError(
                f"{self.path}: cannot read the history: {error}"
            ) from None
        return messages_from_dict([json.loads(row[0]) for row in rows])

    def append(
        self, conversation_id: str, run_id: str, messages: Sequence[BaseMessage]
    ) -> None:
        encoded = [json.dumps(item) for item in messages_to_dict(list(messages))]
        try:
            with self._lock:
                self._append(conversation_id, run_id, encoded)
        except sqlite3.Error as error:
            raise HistoryError(
                f"{self.path}: the answer was not saved to the history: {error}"
            ) from None

    def _append(self, conversation_id: str, run_id: str, encoded: list[str]) -> None:
        # BEGIN IMMEDIATE takes the write lock before reading the next
        # position, so processes appending to one conversation take turns.
        self._db.execute("BEGIN IMMEDIATE")
        try:
            (start,) = self._db.execute(_NEXT_POSITION, (conversation_id,)).fetchone()
            rows = [
                (conversation_id, start + i, run_id, text)
                for i, text in enumerate(encoded)
            ]
            self._db.executemany(_INSERT, rows)
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._db.close()


def default_history_path() -> Path:
    """Return ``history.sqlite3`` in the user data directory."""
    from platformdirs import user_data_path

    return user_data_path("ai-assistant", appauthor=False) / "history.sqlite3"


def open_history(settings: HistorySettings) -> History:
    """Open the history store the settings describe."""
    if settings.backend == "memory":
        return MemoryHistory()
    if settings.backend == "sqlite":
        return SqliteHistory(settings.path or default_history_path())
    raise ConfigError(
        f"ai_assistant.history.backend: unknown backend {settings.backend!r}; "
        "use 'sqlite' or 'memory'"
    )
