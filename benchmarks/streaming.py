"""What dispatch through the core, and each provider, cost a streamed token.

Every variant streams the same scripted answer, one chunk per word, through
the same LangChain run: a root chain named like the assistant's turn, around
the chat model bound to the built-in tools, with the same system prompt,
tags, metadata and run id. The variants differ only in who attaches which
handlers:

- ``langchain``: no handler; ``langchain + NAME``: the handler provider
  ``NAME`` makes in its own hook, attached directly; ``, guarded``: the same
  handler wrapped by the core's guard, as the provider host wraps it;
- ``assistant``: :meth:`Assistant.stream`, with the providers the host found
  through their entry points and let through the allow list;
- ``proposed``: the core's and the logging provider's changes described
  in :mod:`benchmarks.proposed`, to show what each is worth.

A window is a few turns and a flush of the providers, timed on the wall
clock and on process CPU time (all threads). The assistant keeps no history
(:class:`~benchmarks.harness.ForgetfulHistory`). The Langfuse provider sends to
a :mod:`benchmarks.sink` process on 127.0.0.1. The layers of a token's path
are then timed one by one (:mod:`benchmarks.components`).
"""

from __future__ import annotations

import functools
import inspect
import os
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from benchmarks import components, harness
from benchmarks.harness import Sample

TOKENS = 2000
SHORT_TOKENS = 20
ROUNDS = 21
DISPATCH_TARGET = 1.03
ADDED_TARGET_US = 10.0


class Setup:
    """The config, hosts and model shared by every variant of one run."""

    def __init__(self, config_path: Path, answer: str) -> None:
        from ai_assistant.config import load_config
        from ai_assistant.testing import ScriptedChatModel
        from ai_assistant.tools import builtin_tools

        self.config = load_config(config_path)
        self.answer = answer
        self.bound = ScriptedChatModel(answers=[answer]).bind_tools(builtin_tools())
        self.hosts: dict[tuple[object, ...], Any] = {}

    def host(self, names: Sequence[str], *, logging_fix: bool = False) -> Any:
        """Return a started host with exactly the providers ``names`` active.

        The host finds the providers through their entry points; with
        ``logging_fix``, it gets the logging provider of
        :mod:`benchmarks.proposed` instead.
        """
        from ai_assistant.host import ProviderHost

        key = (*sorted(names), logging_fix)
        if key in self.hosts:
            return self.hosts[key]
        environ = dict(os.environ, AI_ASSISTANT_LOAD_PROVIDERS=",".join(names))
        if logging_fix:
            import ai_assistant_langfuse
            from benchmarks.proposed import ProposedLogging

            plugins = {"langfuse": ai_assistant_langfuse, "logging": ProposedLogging()}
            host = ProviderHost(
                self.config, plugins=plugins, entry_points=False, environ=environ
            )
        else:
            host = ProviderHost(self.config, environ=environ)
        host.start()
        if [record.name for record in host.active] != sorted(names):
            raise RuntimeError(f"expected {sorted(names)} active: {host.records}")
        self.hosts[key] = host
        return host

    def assistant(
        self, names: Sequence[str], *, proposed: bool = False, logging_fix: bool = False
    ) -> Any:
        """Return an assistant on the scripted model with ``names`` active."""
        from ai_assistant import Assistant
        from ai_assistant.testing import ScriptedChatModel
        from benchmarks.proposed import ProposedAssistant

        kind = ProposedAssistant if proposed else Assistant
        return kind(
            self.config,
            model=ScriptedChatModel(answers=[self.answer]),
            model_id="scripted",
            history=harness.ForgetfulHistory(),
            host=self.host(names, logging_fix=logging_fix),
        )

    def close(self) -> None:
        """Flush and shut down every host's providers."""
        for host in self.hosts.values():
            host.close()


FAILURES: list[str] = []
"""Failures the guard caught in directly attached handlers; none expected."""


def _record_failure(event: str, error: BaseException) -> None:
    FAILURES.append(f"{event}: {type(error).__name__}: {error}")


def call_hook(record: Any, hook: str, **arguments: Any) -> Any:
    """Call one provider's hook implementation directly, as pluggy would.

    Like pluggy, pass only the arguments the implementation names; return
    ``None`` when the provider does not implement the hook.
    """
    function = getattr(record.plugin, hook, None)
    if function is None:
        return None
    arguments["state"] = record.state
    return function(**{name: arguments[name] for name in _argnames(function)})


@functools.cache
def _argnames(function: Callable[..., Any]) -> tuple[str, ...]:
    return tuple(inspect.signature(function).parameters)


def sdk_window(setup: Setup, turns: int) -> Callable[[], None]:
    """Return a window of direct runs with Langfuse's own LangChain handler.

    ``langfuse.langchain.CallbackHandler`` on a client of the SDK's own,
    sending to the same loopback sink with the same keys: what a LangChain
    developer would attach without this project.
    """
    from langfuse import Langfuse
    from langfuse.langchain import CallbackHandler
    from omegaconf import OmegaConf

    keys = OmegaConf.to_container(setup.config.sections["langfuse"], resolve=True)
    assert isinstance(keys, dict)
    client = Langfuse(
        public_key=keys["public_key"],
        secret_key=keys["secret_key"],
        base_url=keys["base_url"],
    )

    def run() -> None:
        for _ in range(turns):
            handler = CallbackHandler(public_key=keys["public_key"])
            direct_turn(setup, None, False, extra=[handler])
        client.flush()

    return run


def direct_turn(
    setup: Setup, host: Any | None, guarded: bool, extra: Sequence[Any] = ()
) -> None:
    """Stream one answer with the host's providers' handlers attached directly."""
    from langchain_core.messages import HumanMessage, SystemMessage
    from langchain_core.runnables import RunnableConfig, RunnableLambda

    from ai_assistant.assistant import RUN_NAME, TAG, core_metadata
    from ai_assistant.context import RunContext, new_run_id
    from ai_assistant.isolation import guard

    run = RunContext(
        run_id=new_run_id(),
        run_name=RUN_NAME,
        model_id="scripted",
        user_id="bench",
        conversation_id=uuid.uuid4().hex,
        tags=(TAG, "model:scripted"),
    )
    handlers: list[Any] = list(extra)
    metadata = core_metadata(run)
    for record in host.active if host is not None else ():
        made = call_hook(record, "ai_assistant_run_handlers", run=run) or []
        if guarded:
            made = [guard(handler, _record_failure) for handler in made]
        handlers.extend(made)
        metadata.update(call_hook(record, "ai_assistant_run_metadata", run=run) or {})
    config = RunnableConfig(
        callbacks=handlers,
        tags=list(run.tags),
        metadata=metadata,
        run_id=run.run_id,
        run_name=run.run_name,
    )
    prompt = "Go on."
    system = setup.config.core.system_prompt
    messages = [SystemMessage(content=system)] if system else []
    messages.append(HumanMessage(prompt))

    def answer(_: str, config: RunnableConfig) -> Iterator[str]:
        for chunk in setup.bound.stream(messages, config=config):
            if text := chunk.text:
                yield text

    for _ in RunnableLambda(answer, name=run.run_name).stream(prompt, config=config):
        pass


def window(
    turn: Callable[[], None], turns: int, host: Any | None
) -> Callable[[], None]:
    """Return a timed window: ``turns`` turns, then a flush of ``host``."""

    def run() -> None:
        for _ in range(turns):
            turn()
        if host is not None:
            host.flush()

    return run


def assistant_window(assistant: Any, turns: int) -> Callable[[], None]:
    """Return a timed window of ``turns`` whole answers from ``assistant``."""

    def turn() -> None:
        for _ in assistant.stream("Go on."):
            pass

    return window(turn, turns, assistant.host)


def direct_window(
    setup: Setup, names: Sequence[str], turns: int, **options: bool
) -> Callable[[], None]:
    """Return a timed window of direct runs with ``names``' handlers."""
    guarded = options.pop("guarded", False)
    host = setup.host(names, **options) if names else None
    return window(lambda: direct_turn(setup, host, guarded), turns, host)


def variants(setup: Setup, turns: int) -> dict[str, Callable[[], None]]:
    """Return every variant of the long-answer comparison, by name."""
    providers = harness.CALLBACK_PROVIDERS
    found = {"langchain": direct_window(setup, [], turns)}
    for name in providers:
        found[f"langchain + {name}"] = direct_window(setup, [name], turns)
        found[f"langchain + {name}, guarded"] = direct_window(
            setup, [name], turns, guarded=True
        )
    found["langchain + langfuse SDK handler"] = sdk_window(setup, turns)
    found["langchain + logging, proposed"] = direct_window(
        setup, ["logging"], turns, logging_fix=True
    )
    groups = [("", []), *((f" + {n}", [n]) for n in providers), (" + all", providers)]
    for proposed in (False, True):
        for suffix, names in groups:
            label = ("proposed " if proposed else "") + "assistant" + suffix
            assistant = setup.assistant(names, proposed=proposed)
            found[label] = assistant_window(assistant, turns)
    for suffix, names in (" + logging", ["logging"]), (" + all", providers):
        found[f"proposed assistant{suffix}, proposed logging"] = assistant_window(
            setup.assistant(names, proposed=True, logging_fix=True), turns
        )
    return found


def per_token(samples: list[Sample], tokens: int) -> dict[str, Any]:
    """Summarise a variant's windows as microseconds per streamed token."""
    return {
        "cpu_us_per_token": harness.median(s.cpu for s in samples) * 1e6 / tokens,
        "wall_us_per_token": harness.median(s.wall for s in samples) * 1e6 / tokens,
        "samples": [[s.wall, s.cpu] for s in samples],
    }


def added(
    samples: dict[str, list[Sample]], top: str, bottom: str, tokens: int
) -> dict[str, float]:
    """Return what ``top`` adds to ``bottom`` per token, paired by round."""
    return {
        clock + "_us": harness.paired_difference(samples[top], samples[bottom], clock)
        * 1e6
        / tokens
        for clock in ("cpu", "wall")
    }


def measure(config_path: Path, quick: bool) -> dict[str, Any]:
    """Run the long-answer and short-answer comparisons; return the figures."""
    tokens = 500 if quick else TOKENS
    rounds = 3 if quick else ROUNDS
    turns = 2
    setup = Setup(config_path, harness.answer_of(tokens))
    try:
        samples = harness.alternate(variants(setup, turns), rounds)
    finally:
        setup.close()
    streamed = tokens * turns

    def cost(top: str, bottom: str) -> dict[str, float]:
        return added(samples, top, bottom, streamed)

    def ratio(top: str, bottom: str) -> dict[str, float]:
        return {
            clock: harness.paired_ratio(samples[top], samples[bottom], clock)
            for clock in ("cpu", "wall")
        }

    dispatch: dict[str, Any] = {
        name: {
            "ratio": ratio(f"assistant + {name}", f"langchain + {name}"),
            "proposed_ratio": ratio(
                f"proposed assistant + {name}", f"langchain + {name}"
            ),
            "guard_us": cost(f"langchain + {name}, guarded", f"langchain + {name}"),
        }
        for name in harness.CALLBACK_PROVIDERS
    }
    dispatch["langfuse"]["sdk_handler_ratio"] = ratio(
        "assistant + langfuse", "langchain + langfuse SDK handler"
    )
    dispatch["assistant_own_us"] = cost("assistant", "langchain")
    dispatch["proposed_assistant_own_us"] = cost("proposed assistant", "langchain")

    added_per_token: dict[str, Any] = {
        name: {
            "direct": cost(f"langchain + {name}", "langchain"),
            "assistant": cost(f"assistant + {name}", "assistant"),
            "proposed_assistant": cost(
                f"proposed assistant + {name}", "proposed assistant"
            ),
        }
        for name in harness.CALLBACK_PROVIDERS
    }
    added_per_token["langfuse"]["sdk_handler"] = cost(
        "langchain + langfuse SDK handler", "langchain"
    )
    added_per_token["logging"]["direct_proposed"] = cost(
        "langchain + logging, proposed", "langchain"
    )
    added_per_token["logging"]["proposed_assistant_and_logging"] = cost(
        "proposed assistant + logging, proposed logging", "proposed assistant"
    )
    added_per_token["all"] = {
        "assistant": cost("assistant + all", "assistant"),
        "proposed_assistant": cost("proposed assistant + all", "proposed assistant"),
        "proposed_assistant_and_logging": cost(
            "proposed assistant + all, proposed logging", "proposed assistant"
        ),
    }
    return {
        "tokens_per_answer": tokens,
        "turns_per_window": turns,
        "rounds": rounds,
        "variants": {name: per_token(s, streamed) for name, s in samples.items()},
        "dispatch": dispatch,
        "added_per_token": added_per_token,
        "short_answers": short_answers(config_path, quick),
    }


def short_answers(config_path: Path, quick: bool) -> dict[str, Any]:
    """Return what a run costs, and what the providers add, on short answers."""
    turns = 10 if quick else 50
    rounds = 3 if quick else ROUNDS
    setup = Setup(config_path, harness.answer_of(SHORT_TOKENS))
    try:
        samples = harness.alternate(
            {
                "langchain": direct_window(setup, [], turns),
                "assistant": assistant_window(setup.assistant([]), turns),
                "assistant + all": assistant_window(
                    setup.assistant(harness.CALLBACK_PROVIDERS), turns
                ),
            },
            rounds,
        )
    finally:
        setup.close()
    return {
        "tokens_per_answer": SHORT_TOKENS,
        "turns_per_window": turns,
        "rounds": rounds,
        "per_run_us": {
            name: {
                "cpu": harness.median(s.cpu for s in runs) * 1e6 / turns,
                "wall": harness.median(s.wall for s in runs) * 1e6 / turns,
            }
            for name, runs in samples.items()
        },
        "all_providers_add_per_run_us": {
            clock: harness.paired_difference(
                samples["assistant + all"], samples["assistant"], clock
            )
            * 1e6
            / turns
            for clock in ("cpu", "wall")
        },
    }


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the verdicts on the dispatch and added-cost targets (CPU time)."""
    verdicts = []
    for name in harness.CALLBACK_PROVIDERS:
        ratio = results["dispatch"][name]["ratio"]["cpu"]
        verdicts.append(
            {
                "item": 1,
                "what": f"dispatch overhead with {name}: assistant / direct handler",
                "target": f"<= {DISPATCH_TARGET}",
                "value": round(ratio, 3),
                "met": ratio <= DISPATCH_TARGET,
            }
        )
    langfuse = results["added_per_token"]["langfuse"]
    ours, theirs = langfuse["assistant"]["cpu_us"], langfuse["sdk_handler"]["cpu_us"]
    verdicts.append(
        {
            "item": 1,
            "what": "CPU per token added by the Langfuse provider through the "
            "assistant / by langfuse.langchain.CallbackHandler attached directly",
            "target": "<= 1.0",
            "value": round(ours / theirs, 3),
            "met": ours <= theirs,
        }
    )
    cost = results["added_per_token"]["all"]["assistant"]["cpu_us"]
    verdicts.append(
        {
            "item": 2,
            "what": "all providers vs none: added CPU per streamed token",
            "target": f"<= {ADDED_TARGET_US:g} us",
            "value": round(cost, 2),
            "met": cost <= ADDED_TARGET_US,
        }
    )
    return verdicts


def main() -> None:
    options = harness.part_arguments(__doc__.splitlines()[0])
    root = harness.isolate()
    with harness.Sink() as sink:
        config_path = harness.write_config(root, sink)
        results = measure(config_path, options.quick)
        results["sink"] = sink.stats()
    results["components_us_per_chunk"] = components.measure(root)
    results["handler_failures"] = FAILURES
    results["targets"] = targets(results)
    harness.emit(results, options.out)


if __name__ == "__main__":
    main()
