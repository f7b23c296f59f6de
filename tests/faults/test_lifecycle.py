"""Lifecycle: flush and shutdown are called once each, with deadlines, on a
normal exit, on Ctrl-C and on SIGTERM; a one-shot run has delivered its data
before the process ends.
"""

from __future__ import annotations

import json
import signal
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from conftest import Cli, LoopbackLangfuse

FLUSH_DEADLINE = 3.0
EXITS = ["normal", "ctrl-c", "sigterm"]
STATUS = {"normal": 0, "ctrl-c": 130, "sigterm": 128 + signal.SIGTERM}


@dataclass(frozen=True)
class Ended:
    """How one chat ended: its status, its errors and the recorder's notes."""

    status: int
    errors: str
    notes: list[dict[str, Any]]

    def of(self, event: str) -> list[dict[str, Any]]:
        return [note for note in self.notes if note["event"] == event]


def end_chat(cli: Cli, how: str) -> Ended:
    """Answer one question with the recorder on, then end the way ``how`` says."""
    cli.configure(flush_deadline=FLUSH_DEADLINE)
    if how == "normal":
        result = cli.run("chat", "hello", providers="recorder")
        return Ended(result.returncode, result.stderr, cli.notes("recorder"))
    session = cli.start("chat", providers="recorder")
    assert session.stdin is not None
    session.stdin.write("hello\n")
    session.stdin.flush()
    cli.wait_for_note("recorder", "run_end")
    time.sleep(0.5)  # back at the prompt
    signum = signal.SIGINT if how == "ctrl-c" else signal.SIGTERM
    errors = cli.stop(session, signum)
    return Ended(session.returncode, errors, cli.notes("recorder"))


@pytest.fixture(scope="module", params=EXITS)
def ended(
    request: pytest.FixtureRequest,
    new_cli: Callable[[Path], Cli],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, Ended]]:
    """A chat that answered once and ended normally, on Ctrl-C or on SIGTERM."""
    how: str = request.param
    cli = new_cli(tmp_path_factory.mktemp(f"ended-{how}"))
    yield how, end_chat(cli, how)
    cli.close()


def test_lifecycle_the_chat_ends_with_its_status_and_no_traceback(
    ended: tuple[str, Ended],
) -> None:
    how, chat = ended

    assert chat.status == STATUS[how]
    assert "Traceback" not in chat.errors


def test_lifecycle_shutdown_is_called_once_with_a_deadline_after_a_flush(
    ended: tuple[str, Ended],
) -> None:
    _, chat = ended

    events = [note["event"] for note in chat.notes]
    [shutdown] = chat.of("shutdown")
    assert events[-1] == "shutdown"
    assert "flush" in events
    assert 0 < shutdown["timeout"] <= FLUSH_DEADLINE


def test_lifecycle_flush_is_called_once_with_a_deadline(
    ended: tuple[str, Ended],
) -> None:
    _, chat = ended

    [flush] = chat.of("flush")
    assert 0 < flush["timeout"] <= FLUSH_DEADLINE


def test_c9_ctrl_c_during_an_answer_cancels_it_ends_the_run_and_the_session_goes_on(
    cli: Cli,
) -> None:
    cli.configure(
        model="scripted:long",
        model_options={"words": 400},
        callbacks={"slow": {"delivery": "inline", "sleep": 0.02}},
    )
    session = cli.start("chat", providers="recorder,slow")
    assert session.stdin is not None

    session.stdin.write("count to four hundred\n")
    session.stdin.flush()
    cli.wait_for_note("slow", "token")
    session.send_signal(signal.SIGINT)
    _, errors = session.communicate("exit\n", timeout=30)

    assert session.returncode == 0, errors
    assert "cancelled" in errors
    assert len(cli.notes("slow", "token")) < 400
    ends = cli.notes("recorder", "run_end") + cli.notes("recorder", "run_error")
    assert len(ends) == 1


def test_c7_a_one_shot_chat_has_delivered_its_trace_when_it_exits(
    cli: Cli, langfuse: LoopbackLangfuse
) -> None:
    from ai_assistant_langfuse import trace_id_for

    cli.configure(callbacks={"langfuse": langfuse.section()})

    result = cli.run("chat", "--json", "hello", providers="langfuse")

    run_id = json.loads(result.stdout)["run_id"]
    names = {span.name for span in langfuse.trace(trace_id_for(run_id))}
    assert "ai-assistant" in names
    assert len(names) >= 2


def test_c7_a_one_shot_chat_has_written_every_event_when_it_exits(cli: Cli) -> None:
    cli.configure(callbacks={"logging": {"level": "DEBUG"}})

    result = cli.run("chat", "--json", "hello", providers="logging")

    run_id = json.loads(result.stdout)["run_id"]
    events = [json.loads(line) for line in cli.log_path.read_text().splitlines()]
    mine = [event["event"] for event in events if event["root_run_id"] == run_id]
    assert mine[0] == "chain_start"
    assert mine[-1] == "chain_end"
    assert "llm_end" in mine


@pytest.mark.parametrize(
    "signum", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "ctrl-c"]
)
def test_lifecycle_a_signal_while_flushing_at_exit_still_shuts_every_provider_down(
    cli: Cli, signum: signal.Signals
) -> None:
    cli.configure(flush_deadline=2)
    session = cli.start("chat", "hello", providers="recorder,flush_hangs")

    cli.wait_for_note("flush_hangs", "flush")
    session.send_signal(signum)
    session.communicate(timeout=10)

    assert len(cli.notes("recorder", "shutdown")) == 1
    assert len(cli.notes("flush_hangs", "shutdown")) == 1
