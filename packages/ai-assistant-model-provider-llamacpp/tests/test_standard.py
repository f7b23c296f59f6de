"""LangChain's standard chat-model suites, run against the bundled model."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_tests.integration_tests import ChatModelIntegrationTests
from langchain_tests.unit_tests import ChatModelUnitTests

from ai_assistant_llamacpp import bundled_model_path
from ai_assistant_llamacpp.chat_model import ChatLlamaCpp


class _Capabilities:
    """What SmolLM2-135M through ``ChatLlamaCpp`` can and cannot do."""

    @property
    def chat_model_class(self) -> type[ChatLlamaCpp]:
        return ChatLlamaCpp

    @property
    def chat_model_params(self) -> dict[str, Any]:
        return {"model_path": str(bundled_model_path())}

    @property
    def has_tool_calling(self) -> bool:
        return False

    @property
    def has_tool_choice(self) -> bool:
        return False

    @property
    def has_structured_output(self) -> bool:
        return False

    @property
    def supports_json_mode(self) -> bool:
        return False

    @property
    def supports_image_inputs(self) -> bool:
        return False

    @property
    def supports_image_urls(self) -> bool:
        return False

    @property
    def supports_pdf_inputs(self) -> bool:
        return False

    @property
    def supports_audio_inputs(self) -> bool:
        return False

    @property
    def supports_video_inputs(self) -> bool:
        return False

    @property
    def returns_usage_metadata(self) -> bool:
        return True

    @property
    def supports_model_override(self) -> bool:
        # One instance runs one GGUF file; a per-call ``model`` is rejected.
        return False


class TestChatLlamaCppUnit(_Capabilities, ChatModelUnitTests):
    """Construction, parameters and tracing metadata."""

    @property
    def standard_chat_model_params(self) -> dict[str, Any]:
        # The suite's defaults add timeout, max_retries and api_key, which
        # only mean something for remote APIs; ChatLlamaCpp rejects unknown
        # fields instead of ignoring them.
        return {"temperature": 0, "max_tokens": 100, "stop": []}


@pytest.mark.slow
class TestChatLlamaCppIntegration(_Capabilities, ChatModelIntegrationTests):
    """Invoke, stream, batch, async and usage against the real model."""

    @property
    def chat_model_params(self) -> dict[str, Any]:
        # Short answers keep the suite fast; every test only needs some text.
        return {**super().chat_model_params, "max_tokens": 16}
