"""Guardrails: a provider whose handler sets ``raise_error`` stops a run with
its own exception, in sync and async runs, whether the handler itself is
synchronous or asynchronous; other failures never stop a run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from conftest import InProcess

GUARDRAILS = ["guardrail", "async_guardrail"]


def policy_violation(in_process: InProcess) -> type[Exception]:
    error: type[Exception] = in_process.module("fault_guardrail").PolicyViolationError
    return error


@pytest.mark.parametrize(
    "provider",
    [
        "guardrail",
        pytest.param(
            "async_guardrail",
            marks=pytest.mark.xfail(
                strict=True,
                reason="in a sync run LangChain runs an async handler's coroutine "
                "itself and only logs what it raises (callbacks.manager._run_coros), "
                "so an async guardrail (isolation.AsyncGuardedHandler) cannot stop "
                "chat() or the CLI",
            ),
        ),
    ],
)
def test_c4_a_guardrail_stops_a_sync_run_with_its_own_exception(
    in_process: InProcess, provider: str
) -> None:
    assistant = in_process.assistant(provider)

    with pytest.raises(policy_violation(in_process), match="blocked"):
        assistant.chat("a forbidden question")


@pytest.mark.parametrize("provider", GUARDRAILS)
async def test_c4_a_guardrail_stops_an_async_run_with_its_own_exception(
    in_process: InProcess, provider: str
) -> None:
    assistant = in_process.assistant(provider)

    with pytest.raises(policy_violation(in_process), match="blocked"):
        await assistant.achat("a forbidden question")


@pytest.mark.parametrize("provider", GUARDRAILS)
async def test_c4_a_guardrail_lets_an_allowed_question_through(
    in_process: InProcess, provider: str
) -> None:
    assistant = in_process.assistant(provider)

    synchronous = assistant.chat("a fine question")
    asynchronous = await assistant.achat("a fine question")

    assert synchronous.answer == asynchronous.answer != ""


async def test_c4_a_raising_handler_without_raise_error_never_stops_an_async_run(
    in_process: InProcess,
) -> None:
    assistant = in_process.assistant("token_raises")

    result = await assistant.achat("count")

    [record] = assistant.host.active
    assert result.answer == "one two three four five six seven eight"
    assert record.failures["on_llm_new_token"] >= 8
