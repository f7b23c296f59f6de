"""Guardrails: handlers with ``raise_error`` that stop a forbidden run."""

from __future__ import annotations

from typing import Any

__all__ = ["PolicyViolationError", "forbidden"]


class PolicyViolationError(Exception):
    """The guardrail's own exception: the prompt asked for something forbidden."""


def forbidden(messages: list[list[Any]]) -> bool:
    """Tell whether any message of the model call mentions 'forbidden'."""
    return any(
        "forbidden" in str(message.content) for batch in messages for message in batch
    )
