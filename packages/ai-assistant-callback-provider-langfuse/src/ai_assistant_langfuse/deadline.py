"""Bounding the provider's waits on the network by a deadline.

Flushing and shutting down wait on Langfuse; a slow server must cost an
exit no more than the flush deadline.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

__all__ = ["Worker"]


class Worker:
    """Runs blocking delivery work on a daemon thread, waiting up to a deadline.

    While work given up at its deadline is still running (the server
    stalls), later work does not wait: a flush returns at once and a
    shutdown is left to finish in the background. So one slow server costs
    an exit one deadline, not one per flush.
    """

    def __init__(self, name: str) -> None:
        self._name = name
        self._running: threading.Thread | None = None
        self._lock = threading.Lock()

    def run(
        self, action: Callable[[], None], timeout: float, *, when_busy: bool = False
    ) -> bool:
        """Run ``action``; tell whether it ended within ``timeout`` seconds.

        When earlier work is still running, ``action`` is skipped, or with
        ``when_busy`` started without waiting; either way ``False`` is
        returned. An exception ``action`` raises in time is raised here.
        """
        errors: list[Exception] = []

        def target() -> None:
            try:
                action()
            except Exception as error:  # noqa: BLE001 - handed to the caller
                errors.append(error)

        with self._lock:
            busy = self._running is not None and self._running.is_alive()
            if busy and not when_busy:
                return False
            thread = threading.Thread(target=target, name=self._name, daemon=True)
            thread.start()
            self._running = thread
        if busy:
            return False
        thread.join(max(0.0, timeout))
        if thread.is_alive():
            return False
        if errors:
            raise errors[0]
        return True
