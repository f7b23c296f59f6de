"""Turning LangChain's callback arguments into the fields of a Langfuse observation.

Every value is reduced to plain data (dicts, lists, strings, numbers) before
it is masked and handed to the Langfuse SDK, so masking sees each string
that will leave the process, wherever it sat in a LangChain object.
"""

from __future__ import annotations

import dataclasses
import datetime
import uuid
from collections.abc import Iterator, Mapping
from itertools import chain
from typing import Any, Final

from langchain_core.documents import Document
from langchain_core.messages import BaseMessage, convert_to_openai_messages
from langchain_core.outputs import LLMResult
from langchain_core.prompt_values import PromptValue
from pydantic import BaseModel

__all__ = [
    "describe_error",
    "generation_output",
    "model_parameters",
    "plain",
    "requested_model",
    "response_model",
    "run_name",
    "usage",
]

_MAX_DEPTH: Final = 32
_PARAMETERS: Final = (
    "temperature",
    "top_p",
    "top_k",
    "max_tokens",
    "max_completion_tokens",
    "frequency_penalty",
    "presence_penalty",
    "seed",
    "stop",
)
_MODEL_KEYS: Final = ("model_name", "model", "model_id")


def plain(value: Any, depth: int = 0) -> Any:
    """Return ``value`` as JSON-like data; messages in the OpenAI chat format."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if depth > _MAX_DEPTH:
        return "<nested too deep>"
    if isinstance(value, BaseMessage):
        return _message(value)
    if isinstance(value, PromptValue):
        return [_message(message) for message in value.to_messages()]
    if isinstance(value, Document):
        return {
            "page_content": value.page_content,
            "metadata": plain(value.metadata, depth + 1),
        }
    if isinstance(value, Mapping):
        return {str(key): plain(item, depth + 1) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(item, depth + 1) for item in value]
    if isinstance(value, BaseModel):
        return plain(value.model_dump(), depth + 1)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            item.name: plain(getattr(value, item.name), depth + 1)
            for item in dataclasses.fields(value)
        }
    if isinstance(value, datetime.datetime | datetime.date | uuid.UUID):
        return str(value)
    if isinstance(value, bytes | bytearray):
        return f"<{len(value)} bytes>"
    return str(value)


def _message(message: BaseMessage) -> Any:
    try:
        return plain(convert_to_openai_messages(message))
    except (ValueError, TypeError, KeyError):
        # Content blocks the converter does not know: keep the text and role.
        return {"role": message.type, "content": plain(message.content)}


def run_name(serialized: Mapping[str, Any] | None, kwargs: Mapping[str, Any]) -> str:
    """Return the name LangChain gives a run: its own, its class's, or ``run``."""
    if kwargs.get("name"):
        return str(kwargs["name"])
    serialized = serialized or {}
    if serialized.get("name"):
        return str(serialized["name"])
    path = serialized.get("id")
    if isinstance(path, list) and path:
        return str(path[-1])
    return "run"


def requested_model(
    serialized: Mapping[str, Any] | None,
    metadata: Mapping[str, Any] | None,
    invocation_params: Mapping[str, Any] | None,
) -> str | None:
    """Return the model a call asked for, as its integration names it."""
    if metadata and metadata.get("ls_model_name"):
        return str(metadata["ls_model_name"])
    arguments = (serialized or {}).get("kwargs")
    for source in (invocation_params, arguments):
        if isinstance(source, Mapping):
            found = _first(source, _MODEL_KEYS)
            if found:
                return found
    return None


def model_parameters(invocation_params: Mapping[str, Any] | None) -> dict[str, Any]:
    """Return the sampling parameters of a model call that are set."""
    params = invocation_params or {}
    return {
        key: plain(params[key]) for key in _PARAMETERS if params.get(key) is not None
    }


def generation_output(response: LLMResult) -> Any:
    """Return the last generation of ``response``: a message, or its text."""
    generations = list(_generations(response))
    if not generations:
        return None
    last = generations[-1]
    message = getattr(last, "message", None)
    if isinstance(message, BaseMessage):
        return _message(message)
    return last.text


def response_model(response: LLMResult) -> str | None:
    """Return the model that answered, when the response names it."""
    for generation in _generations(response):
        message = getattr(generation, "message", None)
        metadata = getattr(message, "response_metadata", None)
        if isinstance(metadata, Mapping):
            found = _first(metadata, _MODEL_KEYS)
            if found:
                return found
    if isinstance(response.llm_output, Mapping):
        return _first(response.llm_output, _MODEL_KEYS)
    return None


def usage(response: LLMResult) -> dict[str, int] | None:
    """Return token counts as Langfuse usage details, or ``None`` if unknown.

    A message's ``usage_metadata`` (set by chat models, streamed or not) is
    preferred; ``llm_output`` (absent when streaming) is the fallback. Cache,
    audio and reasoning tokens become their own usage types and are taken
    out of ``input``/``output``, so that the parts add up to ``total``.
    """
    for generation in _generations(response):
        message = getattr(generation, "message", None)
        counts = getattr(message, "usage_metadata", None)
        if isinstance(counts, Mapping) and counts:
            return _usage_details(counts)
    output = response.llm_output if isinstance(response.llm_output, Mapping) else {}
    for key in ("token_usage", "usage"):
        counts = output.get(key)
        if isinstance(counts, Mapping) and counts:
            return _usage_details(counts)
    return None


def _usage_details(counts: Mapping[str, Any]) -> dict[str, int] | None:
    details: dict[str, int] = {}
    for name, keys in (
        ("input", ("input_tokens", "prompt_tokens")),
        ("output", ("output_tokens", "completion_tokens")),
        ("total", ("total_tokens",)),
    ):
        value = next((counts[k] for k in keys if isinstance(counts.get(k), int)), None)
        if value is not None:
            details[name] = value
    for side in ("input", "output"):
        parts = counts.get(f"{side}_token_details")
        if not isinstance(parts, Mapping):
            continue
        for kind, value in parts.items():
            if isinstance(value, int) and value:
                details[f"{side}_{kind}"] = value
                if side in details:
                    details[side] = max(0, details[side] - value)
    return details or None


def describe_error(error: BaseException) -> str:
    """Return ``error`` as one line: its type, then its message."""
    text = str(error).strip()
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _generations(response: LLMResult) -> Iterator[Any]:
    return chain.from_iterable(response.generations or ())


def _first(source: Mapping[str, Any], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        if isinstance(source.get(key), str) and source[key]:
            return str(source[key])
    return None
