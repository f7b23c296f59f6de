"""The provider host: loads enabled providers and calls them one by one.

Each provider is imported, validated and started on its own; any failure
marks that provider ``failed`` with its reason and the others go on. Hooks
are called per provider, never as one pluggy fan-out, so a provider that
raises is reported by name and cannot hide another's results.
"""

from __future__ import annotations

import enum
import logging
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pluggy

from ai_assistant import hookspecs
from ai_assistant.config import Config
from ai_assistant.context import Feedback, RunContext
from ai_assistant.discovery import (
    CALLBACK_GROUP,
    ProviderSpec,
    discover,
    switched_off,
    unknown_names,
)
from ai_assistant.errors import ConfigError, ProviderNotConfigured
from ai_assistant.isolation import PASSING, Courier, guard

__all__ = ["ProviderHost", "ProviderRecord", "Status"]

logger = logging.getLogger("ai_assistant")
# Of the exit deadline, flushing gets this share; shutting down the rest.
_FLUSH_SHARE = 0.8


class Status(enum.StrEnum):
    """Where a provider stands after loading."""

    ACTIVE = "active"
    INACTIVE = "inactive"
    DISABLED = "disabled"
    FAILED = "failed"


@dataclass
class ProviderRecord:
    """One provider's identity, status and failure counts."""

    name: str
    distribution: str | None
    version: str | None
    status: Status = Status.INACTIVE
    reason: str = ""
    failures: Counter[str] = field(default_factory=Counter)
    plugin: object | None = field(default=None, repr=False)
    state: Any = field(default=None, repr=False)
    courier: Courier | None = field(default=None, repr=False)
    secret_keys: frozenset[str] = field(default=frozenset(), repr=False)

    def as_dict(self) -> dict[str, Any]:
        """Return the record as ``providers --json`` prints it."""
        return {
            "name": self.name,
            "distribution": self.distribution,
            "version": self.version,
            "status": str(self.status),
            "reason": self.reason,
            "failures": dict(self.failures),
        }


class ProviderHost:
    """Loads the callback providers and calls their hooks, isolated.

    ``plugins`` registers provider objects explicitly, by name, besides the
    installed entry points (as ``pytest -p`` does); an explicit plugin with
    an installed provider's name replaces it, with a warning.
    """

    def __init__(
        self,
        config: Config,
        *,
        plugins: Mapping[str, object] | None = None,
        entry_points: bool = True,
        environ: Mapping[str, str] | None = None,
        on_loading: Callable[[str, str | None, str | None], None] | None = None,
        skip: set[str] | None = None,
    ) -> None:
        self.config = config
        self._on_loading = on_loading
        self._skip = skip or set()
        self.environ = os.environ if environ is None else environ
        self.warnings: list[str] = []
        self._explicit = dict(plugins or {})
        self._entry_points = entry_points
        self._manager = pluggy.PluginManager(hookspecs.PROJECT)
        self._manager.add_hookspecs(hookspecs)
        self._records: dict[str, ProviderRecord] = {}
        self._reported: set[tuple[str, str]] = set()
        self._report_lock = threading.Lock()
        self._lock = threading.Lock()
        self._started = False
        self._closed = False

    @property
    def records(self) -> list[ProviderRecord]:
        """Every provider known to the host, sorted by name."""
        return [self._records[name] for name in sorted(self._records)]

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` has run; closed providers record nothing."""
        return self._closed

    @property
    def active(self) -> list[ProviderRecord]:
        """The providers whose start-up succeeded."""
        return [r for r in self.records if r.status is Status.ACTIVE]

    def problems(self) -> list[str]:
        """Return one line per provider that failed, for ``strict`` mode."""
        return [
            f"provider {r.name!r}: {r.reason}"
            for r in self.records
            if r.status is Status.FAILED
        ]

    def start(self) -> None:
        """Import, validate and start every enabled provider, once."""
        with self._lock:
            if self._started:
                return
            self._started = True
            for spec in self._specs():
                if spec.name in self._skip:
                    continue
                self._records[spec.name] = self._load(spec)
            self._warn_about_names()

    def _specs(self) -> list[ProviderSpec]:
        specs: dict[str, ProviderSpec] = {}
        if self._entry_points:
            found, duplicates = discover(CALLBACK_GROUP)
            self._warn_all(duplicates)
            specs = {spec.name: spec for spec in found}
        for name, plugin in self._explicit.items():
            if name in specs:
                self._warn(
                    f"provider {name!r} from {specs[name].distribution} is also "
                    "registered explicitly; using the explicit registration"
                )
            specs[name] = ProviderSpec(name=name, value=f"<explicit {plugin!r}>")
        return [specs[name] for name in sorted(specs)]

    def _load(self, spec: ProviderSpec) -> ProviderRecord:
        record = ProviderRecord(spec.name, spec.distribution, spec.version)
        off = switched_off(spec.name, self.environ)
        if off:
            record.status, record.reason = Status.DISABLED, off
            return record
        try:
            enabled = self.config.section_enabled(spec.name)
        except ConfigError as error:
            return self._fail(record, "config", str(error))
        if not enabled:
            origin = self.config.origin(f"callbacks.{spec.name}.enabled")
            record.status, record.reason = Status.DISABLED, f"enabled: false {origin}"
            return record

        wanted = _core_requirement(spec.distribution)
        if wanted and not _admits(wanted, _core_version()):
            return self._fail(
                record,
                "version",
                f"{spec.distribution} {spec.version} is built for "
                f"ai-assistant-core{wanted}, but ai-assistant-core "
                f"{_core_version()} is installed; install a release of "
                f"{spec.distribution} made for this core",
            )
        if self._on_loading is not None:
            self._on_loading(spec.name, spec.distribution, spec.version)
        try:
            plugin = self._explicit.get(spec.name) or spec.load()
        except PASSING:
            raise
        except BaseException as error:  # noqa: BLE001 - even SystemExit is the provider's
            return self._fail(
                record, "import", f"import of {spec.value} failed: {_describe(error)}"
            )
        twin = self._manager.get_name(plugin)
        if twin is not None:
            record.status = Status.DISABLED
            record.reason = (
                f"same module as provider {twin!r}; it runs once, as {twin!r}"
            )
            origin = f" from {spec.distribution}" if spec.distribution else ""
            self._warn(
                f"provider {spec.name!r}{origin} is {twin!r} registered again; "
                f"using {twin!r}"
            )
            return record
        try:
            self._manager.register(plugin, name=spec.name)
        except (pluggy.PluginValidationError, ValueError) as error:
            where = _source_of(plugin)
            return self._fail(
                record,
                "hooks",
                f"invalid hook implementation{where}: {_one_line(error)}",
            )
        record.plugin = plugin
        unknown = self._unknown_hooks(plugin, _core_requirement(spec.distribution))
        if unknown:
            self._fail(record, "hooks", unknown)
            return self._unregister(record)
        return self._configure_and_start(record)

    def _unknown_hooks(self, plugin: object, wanted: str | None) -> str | None:
        import difflib

        known = [name for name in dir(hookspecs) if name.startswith("ai_assistant_")]
        for caller in self._manager.get_hookcallers(plugin) or ():
            if caller.has_spec():
                continue
            close = difflib.get_close_matches(caller.name, known, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            built_for = f"ai-assistant-core{wanted}" if wanted else "another core"
            return (
                f"implements unknown hook {caller.name!r}{hint} (built for "
                f"{built_for}; this is ai-assistant-core {_core_version()})"
            )
        return None

    def _configure_and_start(self, record: ProviderRecord) -> ProviderRecord:
        try:
            schema = self._call(record, "ai_assistant_config_schema")
            record.secret_keys = _declared_secrets(schema)
            settings = self.config.provider_settings(record.name, schema, self.environ)
            record.state = self._call(record, "ai_assistant_start", config=settings)
        except ProviderNotConfigured as reason:
            record.status, record.reason = Status.INACTIVE, str(reason)
            return self._unregister(record)
        except ConfigError as error:
            self._fail(record, "config", str(error))
            return self._unregister(record)
        except PASSING:
            raise
        except BaseException as error:  # noqa: BLE001 - start failures are the provider's
            self._fail(record, "start", f"start failed: {_describe(error)}")
            return self._unregister(record)
        delivery = self._safe(
            record, "start", "ai_assistant_delivery", state=record.state
        )
        if delivery == "background":
            record.courier = Courier(record.name, self._reporter(record))
        elif delivery not in (None, "inline"):
            self.report(
                record,
                "start",
                f"ai_assistant_delivery returned {delivery!r}; expected 'inline' "
                "or 'background' (using 'inline')",
            )
        record.status, record.reason = Status.ACTIVE, ""
        return record

    def _reporter(self, record: ProviderRecord) -> Callable[[str, BaseException], None]:
        def report(kind: str, error: BaseException) -> None:
            self.report(record, kind, f"{kind} failed: {_describe(error)}")

        return report

    def _unregister(self, record: ProviderRecord) -> ProviderRecord:
        if record.plugin is not None and self._manager.is_registered(record.plugin):
            self._manager.unregister(record.plugin)
        return record

    def _call(self, record: ProviderRecord, hook: str, **kwargs: Any) -> Any:
        impl = self._impl(record, hook)
        if impl is None:
            return None
        return impl.function(*[kwargs[name] for name in impl.argnames])

    def _impl(self, record: ProviderRecord, hook: str) -> pluggy.HookImpl | None:
        caller: pluggy.HookCaller = getattr(self._manager.hook, hook)
        for impl in caller.get_hookimpls():
            if impl.plugin is record.plugin:
                return impl
        return None

    def _fail(self, record: ProviderRecord, kind: str, reason: str) -> ProviderRecord:
        record.status, record.reason = Status.FAILED, reason
        self.report(record, kind, reason)
        return record

    def report(self, record: ProviderRecord, kind: str, reason: str) -> None:
        """Count a failure; log it the first time this provider has one of this kind."""
        with self._report_lock:
            record.failures[kind] += 1
            if (record.name, kind) in self._reported:
                return
            self._reported.add((record.name, kind))
        message = (
            reason
            if reason.startswith("provider ")
            else f"provider {record.name!r}: {reason}"
        )
        logger.warning(message)

    def _warn(self, message: str) -> None:
        self.warnings.append(message)
        logger.warning(message)

    def _warn_all(self, messages: list[str]) -> None:
        for message in messages:
            self._warn(message)

    def _warn_about_names(self) -> None:
        installed = set(self._records) | self._skip
        self._warn_all(unknown_names(installed, self.environ))
        for name in self.config.sections:
            if name not in installed:
                self._warn(
                    f"{self.config.source}: callbacks.{name} is configured, but no "
                    f"provider named {name!r} is installed"
                )

    def run_callbacks(
        self, run: RunContext, base: Mapping[str, Any] | None = None
    ) -> tuple[list[Any], dict[str, Any]]:
        """Return every active provider's handlers and the run's metadata.

        ``base`` is the caller's own metadata; providers' keys are added to
        it, and a provider key that is already taken is reported and skipped.
        """
        from langchain_core.callbacks import BaseCallbackHandler

        self.start()
        handlers: list[Any] = []
        metadata: dict[str, Any] = dict(base or {})
        owners = dict.fromkeys(metadata, "the core")
        for record in self.active:
            made = self._safe(
                record,
                "handlers",
                "ai_assistant_run_handlers",
                state=record.state,
                run=run,
            )
            for handler in self._handler_list(record, made):
                if isinstance(handler, BaseCallbackHandler):
                    handlers.append(
                        guard(handler, self._reporter(record), record.courier)
                    )
                else:
                    self.report(
                        record,
                        "handlers",
                        f"ai_assistant_run_handlers returned {type(handler).__name__}, "
                        "not a LangChain callback handler; it was left out",
                    )
            extra = self._safe(
                record,
                "metadata",
                "ai_assistant_run_metadata",
                state=record.state,
                run=run,
            )
            self._merge(record, extra or {}, metadata, owners)
        return handlers, metadata

    def _handler_list(self, record: ProviderRecord, made: Any) -> list[Any]:
        from langchain_core.callbacks import BaseCallbackHandler

        if made is None:
            return []
        if isinstance(made, BaseCallbackHandler):
            return [made]
        if isinstance(made, list | tuple):
            return list(made)
        self.report(
            record,
            "handlers",
            f"ai_assistant_run_handlers returned {type(made).__name__}; expected a "
            "list of LangChain callback handlers",
        )
        return []

    def _merge(
        self,
        record: ProviderRecord,
        extra: Mapping[str, Any],
        metadata: dict[str, Any],
        owners: dict[str, str],
    ) -> None:
        if not isinstance(extra, Mapping):
            self.report(
                record,
                "metadata",
                "ai_assistant_run_metadata returned "
                f"{type(extra).__name__}, not a mapping",
            )
            return
        for key, value in extra.items():
            if key in owners:
                self.report(
                    record,
                    "metadata",
                    f"metadata key {key!r} is already set by {owners[key]}; "
                    "the provider's value was skipped",
                )
                continue
            owners[key] = f"provider {record.name!r}"
            metadata[key] = value

    def _safe(self, record: ProviderRecord, kind: str, hook: str, **kwargs: Any) -> Any:
        try:
            return self._call(record, hook, **kwargs)
        except PASSING:
            raise
        except BaseException as error:  # noqa: BLE001 - isolate the provider
            self.report(record, kind, f"{hook} failed: {_describe(error)}")
            return None

    def score(self, feedback: Feedback) -> dict[str, str | None]:
        """Send feedback to every active provider; map name to error or None."""
        self.start()
        outcome: dict[str, str | None] = {}
        for record in self.active:
            if self._impl(record, "ai_assistant_score") is None:
                continue
            try:
                self._call(
                    record, "ai_assistant_score", state=record.state, feedback=feedback
                )
                outcome[record.name] = None
            except PASSING:
                raise
            except BaseException as error:  # noqa: BLE001 - isolate the provider
                reason = f"ai_assistant_score failed: {_describe(error)}"
                self.report(record, "score", reason)
                outcome[record.name] = reason
        return outcome

    def flush(self, deadline: float | None = None) -> None:
        """Flush every active provider at once; stop waiting at the deadline.

        A provider with background delivery first gets its queued events
        delivered, then its flush hook called, both within the deadline.
        """
        self._each_until("flush", self._flush_one, deadline)

    def close(self, deadline: float | None = None) -> None:
        """Flush, then shut every active provider down; safe to call twice."""
        with self._lock:
            if self._closed or not self._started:
                self._closed = True
                return
            self._closed = True
        budget = self.config.core.flush_deadline if deadline is None else deadline
        began = time.monotonic()
        interrupted: BaseException | None = None
        try:
            self.flush(budget * _FLUSH_SHARE)
        except (KeyboardInterrupt, SystemExit) as error:
            interrupted = error  # a second Ctrl-C or SIGTERM: still shut down
        # Never a negative timeout; at worst the exit runs 50 ms late.
        left = max(0.05, budget - (time.monotonic() - began))
        self._each_until("shutdown", self._shutdown_one, left)
        if interrupted is not None:
            raise interrupted

    def _flush_one(self, record: ProviderRecord, budget: float) -> None:
        began = time.monotonic()
        # Give up draining a little before the deadline, so this report,
        # not the caller's, is the one made for a queue that never emptied.
        if record.courier is not None and not record.courier.drain(budget * 0.9):
            self.report(
                record,
                "flush-deadline",
                f"flush did not finish within {budget:g} s: events were still "
                "queued for it and may be lost",
            )
            return
        left = max(0.0, budget - (time.monotonic() - began))
        self._safe(
            record, "flush", "ai_assistant_flush", state=record.state, timeout=left
        )

    def _shutdown_one(self, record: ProviderRecord, budget: float) -> None:
        self._safe(
            record,
            "shutdown",
            "ai_assistant_shutdown",
            state=record.state,
            timeout=budget,
        )
        if record.courier is not None:
            record.courier.stop(budget)

    def _each_until(
        self,
        kind: str,
        step: Callable[[ProviderRecord, float], None],
        deadline: float | None,
    ) -> None:
        budget = self.config.core.flush_deadline if deadline is None else deadline
        threads = []
        for record in self.active:
            thread = threading.Thread(
                target=step,
                args=(record, budget),
                name=f"ai-assistant-{kind}-{record.name}",
                daemon=True,
            )
            thread.start()
            threads.append((record, thread))
        end = time.monotonic() + budget
        for record, thread in threads:
            thread.join(max(0.0, end - time.monotonic()))
            if thread.is_alive():
                self.report(
                    record,
                    f"{kind}-deadline",
                    f"{kind} did not finish within {budget:g} s; data it still "
                    "held may be lost",
                )


def _declared_secrets(schema: Any) -> frozenset[str]:
    import dataclasses

    from ai_assistant.settings import SECRET_MARK

    if not dataclasses.is_dataclass(schema):
        return frozenset()
    return frozenset(
        item.name
        for item in dataclasses.fields(schema)
        if item.metadata.get(SECRET_MARK)
    )


def _source_of(plugin: object) -> str:
    import inspect

    try:
        path = inspect.getsourcefile(
            plugin if inspect.ismodule(plugin) else type(plugin)
        )
    except TypeError:
        path = None
    return f" in {path}" if path else ""


def _core_requirement(distribution: str | None) -> str | None:
    """Return the distribution's version range for ai-assistant-core, if any."""
    if not distribution:
        return None
    from importlib.metadata import PackageNotFoundError, requires

    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    try:
        declared = requires(distribution) or []
    except PackageNotFoundError:
        return None
    for line in declared:
        try:
            requirement = Requirement(line)
        except InvalidRequirement:
            continue
        if canonicalize_name(requirement.name) != "ai-assistant-core":
            continue
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        return str(requirement.specifier) or None
    return None


def _admits(specifier: str, version: str) -> bool:
    from packaging.specifiers import SpecifierSet

    return SpecifierSet(specifier).contains(version, prereleases=True)


def _core_version() -> str:
    from ai_assistant import __version__

    return __version__


def _one_line(error: BaseException) -> str:
    """Join a multi-line message (pluggy's validation errors) into one line."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return "; ".join(lines) or type(error).__name__


def _describe(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__
