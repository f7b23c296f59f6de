"""The ``ai-assistant`` command line.

Every error the user can fix is one line on stderr and a non-zero exit,
never a traceback. ``--help`` and argument parsing import nothing heavier
than the standard library.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

from ai_assistant.errors import AssistantError

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from ai_assistant.assistant import Assistant
    from ai_assistant.config import Config
    from ai_assistant.context import Feedback
    from ai_assistant.host import ProviderHost

__all__ = ["main"]

PROG: Final = "ai-assistant"
EVENTS_LOGGER: Final = "ai_assistant.events"
EXIT_ERROR: Final = 2
EXIT_FAILED: Final = 1
EXIT_INTERRUPTED: Final = 130
EXIT_BROKEN_PIPE: Final = 141


class _Formatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        level = record.levelname.lower()
        return f"{PROG}: {level}: {record.getMessage()}"


def _common() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config",
        metavar="PATH",
        default=argparse.SUPPRESS,
        help="config file (default: $AI_ASSISTANT_CONFIG, ./ai-assistant.yaml, "
        "then the user config directory)",
    )
    common.add_argument(
        "-o",
        "--option",
        metavar="KEY=VALUE",
        action="append",
        dest="options",
        default=argparse.SUPPRESS,
        help="override one config key, e.g. -o callbacks.logging.path=events.jsonl",
    )
    common.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=argparse.SUPPRESS,
        help="show provider and event logs on stderr (-vv for debug)",
    )
    return common


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser (exposed for documentation and tests)."""
    common = _common()
    parser = argparse.ArgumentParser(
        prog=PROG,
        parents=[common],
        description="A chat assistant whose installed providers trace every run.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    chat = commands.add_parser("chat", parents=[common], help="ask a question, or talk")
    chat.add_argument("prompt", nargs="?", help="one question; omit for a session")
    chat.add_argument("--conversation", metavar="ID", help="continue this conversation")
    chat.add_argument("--user", metavar="ID", help="user id (default: your login name)")
    chat.add_argument(
        "--model", metavar="MODEL", help="model string, e.g. llamacpp:smollm2"
    )
    chat.add_argument("--json", action="store_true", help="print one JSON object")

    providers = commands.add_parser(
        "providers", parents=[common], help="list callback providers"
    )
    providers.add_argument("--json", action="store_true", help="print a JSON list")

    feedback = commands.add_parser("feedback", parents=[common], help="score an answer")
    feedback.add_argument("run_id", metavar="RUN_ID", help="the run id of the answer")
    feedback.add_argument("--score", required=True, help="a number, or a label")
    feedback.add_argument("--name", default="user-feedback", help="score name")
    feedback.add_argument("--comment", help="free text")

    config = commands.add_parser(
        "config", parents=[common], help="show or check the config"
    )
    actions = config.add_subparsers(dest="action", metavar="ACTION", required=True)
    actions.add_parser(
        "show", parents=[common], help="print the effective config, secrets redacted"
    )
    actions.add_parser(
        "check", parents=[common], help="validate every provider's section"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the exit status."""
    args = build_parser().parse_args(argv)
    _setup_logging(getattr(args, "verbose", 0))
    signal.signal(signal.SIGTERM, _terminate)
    try:
        return _dispatch(args)
    except AssistantError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (``| head``): stop quietly, as other tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except OSError as error:
        print(
            f"{PROG}: error: cannot write the output: {error.strerror}", file=sys.stderr
        )
        return EXIT_ERROR


def _terminate(signum: int, frame: object) -> None:
    """Turn SIGTERM into an exit that still flushes and shuts providers down."""
    raise SystemExit(128 + signum)


def _setup_logging(verbosity: int) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Formatter())
    if not verbosity:
        # Event records (ai_assistant.events) are for -v and for files.
        handler.addFilter(lambda record: not record.name.startswith(EVENTS_LOGGER))
    root = logging.getLogger("ai_assistant")
    root.handlers[:] = [handler]
    root.propagate = False
    levels = {0: logging.WARNING, 1: logging.INFO}
    root.setLevel(levels.get(verbosity, logging.DEBUG))


def _load(args: argparse.Namespace) -> Config:
    from ai_assistant.config import load_config

    return load_config(
        getattr(args, "config", None), overrides=getattr(args, "options", [])
    )


def _host(config: Config) -> ProviderHost:
    from ai_assistant.host import ProviderHost

    host = ProviderHost(config)
    host.start()
    return host


def _dispatch(args: argparse.Namespace) -> int:
    config = _load(args)
    if args.command == "config" and args.action == "show":
        return _config_show(config, args)
    if args.command in {"providers", "config"}:
        return _report(config, args)
    model = _model(config, args) if args.command == "chat" else None
    feedback = _feedback_of(args) if args.command == "feedback" else None
    host = _host(config)
    try:
        _refuse_when_strict(config, host)
        if feedback is not None:
            return _feedback(host, feedback)
        assert model is not None
        return _chat(config, host, model, args)
    finally:
        host.close()


def _report(config: Config, args: argparse.Namespace) -> int:
    """Run ``providers`` or ``config check`` on a child process's findings."""
    import os

    from ai_assistant.probe import probe

    path = str(config.path) if config.path else None
    found = probe(path, getattr(args, "options", []), os.environ)
    for warning in found.warnings:
        print(f"{PROG}: warning: {warning}", file=sys.stderr)
    if args.command == "providers":
        return _providers(config, found.rows, found.problems, as_json=args.json)
    return _config_check(config, found.rows, found.problems)


def _refuse_when_strict(config: Config, host: ProviderHost) -> None:
    problems = host.problems()
    if config.core.strict and problems:
        raise AssistantError(f"{problems[0]} (strict: true in {config.source})")


def _config_show(config: Config, args: argparse.Namespace) -> int:
    """Print the effective config; keys providers declare secret are redacted too."""
    import os

    import yaml

    from ai_assistant.probe import probe

    path = str(config.path) if config.path else None
    found = probe(path, getattr(args, "options", []), os.environ)
    shown = config.show(secret_keys=frozenset(found.secret_keys))
    print(yaml.safe_dump(shown, sort_keys=False).rstrip())
    return 0


def _config_check(
    config: Config, rows: list[dict[str, Any]], problems: list[str]
) -> int:
    for problem in problems:
        print(f"{PROG}: error: {problem}", file=sys.stderr)
    if problems:
        return EXIT_FAILED
    active = ", ".join(row["name"] for row in rows if row["status"] == "active")
    print(f"{config.source}: ok (active providers: {active or 'none'})")
    return 0


def _providers(
    config: Config, rows: list[dict[str, Any]], problems: list[str], *, as_json: bool
) -> int:
    if as_json:
        print(json.dumps(rows, indent=2))
    elif not rows:
        print("no callback providers installed")
    else:
        _print_table(rows)
    if config.core.strict and problems:
        print(
            f"{PROG}: error: {len(problems)} provider(s) failed and "
            f"strict: true is set in {config.source}",
            file=sys.stderr,
        )
        return EXIT_FAILED
    return 0


def _print_table(rows: list[dict[str, Any]]) -> None:
    columns = ("name", "status", "distribution", "version", "failures", "reason")
    cells = [
        [
            str(sum(row["failures"].values()) or "")
            if column == "failures"
            else str(row[column] or "")
            for column in columns
        ]
        for row in rows
    ]
    widths = [
        max(len(c), *(len(line[i]) for line in cells)) for i, c in enumerate(columns)
    ]
    print(
        "  ".join(
            c.upper().ljust(w) for c, w in zip(columns, widths, strict=True)
        ).rstrip()
    )
    for line in cells:
        print("  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)).rstrip())


def _feedback_of(args: argparse.Namespace) -> Feedback:
    import math
    import uuid

    from ai_assistant.context import Feedback

    try:
        run_id = uuid.UUID(args.run_id)
    except ValueError:
        raise AssistantError(
            f"RUN_ID {args.run_id!r} is not a run id (a UUID, as printed by "
            "'chat --json')"
        ) from None
    value: float | str
    try:
        value = float(args.score)
    except ValueError:
        value = args.score.strip()
    if value == "" or (isinstance(value, float) and not math.isfinite(value)):
        raise AssistantError(
            f"--score {args.score!r}: give a finite number or a label such as 'good'"
        )
    return Feedback(run_id, value, name=args.name, comment=args.comment)


def _feedback(host: ProviderHost, feedback: Feedback) -> int:
    outcome = host.score(feedback)
    if not outcome:
        print(
            f"{PROG}: warning: no active provider records scores; the score was "
            "not saved anywhere",
            file=sys.stderr,
        )
    failed = [name for name, error in outcome.items() if error]
    return EXIT_FAILED if failed else 0


def _model(config: Config, args: argparse.Namespace) -> tuple[str, BaseChatModel]:
    """Resolve the model before any provider starts, so a typo fails fast."""
    from ai_assistant.models import resolve_model

    return resolve_model(args.model or config.core.model, config.core.model_options)


def _chat(
    config: Config,
    host: ProviderHost,
    model: tuple[str, BaseChatModel],
    args: argparse.Namespace,
) -> int:
    from ai_assistant.assistant import Assistant

    assistant = Assistant(config, model_id=model[0], model=model[1], host=host)
    if args.prompt is None:
        return _session(assistant, args)
    _answer(assistant, args.prompt, args, as_json=args.json)
    # A one-shot run ends here: deliver what providers hold before exiting.
    host.close()
    _show_failure_counts(host)
    return 0


def _answer(
    assistant: Assistant, prompt: str, args: argparse.Namespace, *, as_json: bool
) -> int:
    stream = assistant.stream(
        prompt, conversation_id=args.conversation, user_id=args.user
    )
    try:
        for chunk in stream:
            if not as_json:
                sys.stdout.write(chunk)
                sys.stdout.flush()
    except (KeyboardInterrupt, AssistantError, OSError):
        stream.close()
        raise
    except Exception as error:  # noqa: BLE001 - the model failed; say so in one line
        stream.close()
        raise AssistantError(
            f"the answer from {assistant.model_id!r} failed: "
            f"{type(error).__name__}: {_first(error)}"
        ) from None
    assert stream.result is not None
    if as_json:
        print(json.dumps(stream.result.as_dict()))
    else:
        print()
    return 0


def _first(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else ""


def _show_failure_counts(host: ProviderHost) -> None:
    """Print one line per provider that failed at something during this process."""
    for record in host.records:
        if record.status.value != "active" or not record.failures:
            continue
        kinds = ", ".join(f"{kind} x{count}" for kind, count in record.failures.items())
        total = sum(record.failures.values())
        print(
            f"{PROG}: warning: provider {record.name!r}: {total} failures so far "
            f"({kinds})",
            file=sys.stderr,
        )


def _session(assistant: Assistant, args: argparse.Namespace) -> int:
    import uuid

    args.conversation = args.conversation or uuid.uuid4().hex
    print(
        f"Chatting with {assistant.model_id} (conversation {args.conversation}). "
        "Type 'exit' or press Ctrl-D to end.",
        file=sys.stderr,
    )
    while True:
        try:
            prompt = input("> ")
        except EOFError:
            print(file=sys.stderr)
            return 0
        if prompt.strip() in {"exit", "quit"}:
            return 0
        if prompt.strip():
            try:
                _answer(assistant, prompt, args, as_json=False)
            except KeyboardInterrupt:
                print("\n(answer cancelled)", file=sys.stderr)
            except AssistantError as error:
                print(f"{PROG}: error: {error}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
