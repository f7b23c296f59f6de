"""The provider's own Langfuse client, and who may shut it down.

The Langfuse SDK keeps one set of exporter, queues and threads per public
key for the whole process, and its LangChain handler finds its client by
that key. So a start makes sure the set behind its key is one configured
like this provider: a set left shut down is replaced, a live one sending
elsewhere is refused, and a set is shut down only by the last provider
instance using it, and only if one of them built it.

Imported from the start hook only: it loads the Langfuse SDK.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from langfuse import Langfuse

from ai_assistant import ConfigError
from ai_assistant.settings import redact
from ai_assistant_langfuse.delivery import DeliveryReport, WatchedTracerProvider
from ai_assistant_langfuse.settings import SECTION, LangfuseSettings

__all__ = ["LangfuseState", "acquire", "release"]


@dataclass(eq=False)
class LangfuseState:
    """What the start hook returns and every later hook receives."""

    client: Langfuse
    settings: LangfuseSettings
    report: DeliveryReport
    released: bool = False
    stalled: bool = False

    @property
    def public_key(self) -> str:
        """The key the LangChain handler uses to find :attr:`client`."""
        return self.settings.public_key

    @property
    def server(self) -> str:
        """The Langfuse server, fit for messages."""
        return self.report.base_url


@dataclass(eq=False)
class _Lease:
    client: Langfuse
    report: DeliveryReport
    tracer_provider: WatchedTracerProvider | None
    built_here: bool
    users: int = 1


_leases: dict[str, _Lease] = {}
_lock = threading.Lock()


def acquire(settings: LangfuseSettings) -> LangfuseState:
    """Return a state whose client is the one the SDK holds for this key.

    Raises :class:`ConfigError` when another client in this process already
    uses the same public key with another server or secret key.
    """
    with _lock:
        lease = _leases.get(settings.public_key)
        if lease is not None:
            _check_compatible(_resources(lease.client), settings)
            lease.users += 1
            return LangfuseState(lease.client, settings, lease.report)

        foreign = _live_sdk_resources(settings.public_key)
        if foreign is not None:
            _check_compatible(foreign, settings)
        report = DeliveryReport(settings.base_url)
        provider = None if foreign is not None else WatchedTracerProvider(report)
        client = _build(settings, provider)
        lease = _Lease(client, report, provider, built_here=foreign is None)
        _leases[settings.public_key] = lease
        return LangfuseState(client, settings, report)


def release(state: LangfuseState) -> Callable[[], None]:
    """Give up ``state``'s share of its client; return the work still to do.

    The work shuts the client down when this was its last user and it was
    built here, and only flushes it otherwise. Releasing twice is harmless.
    """
    with _lock:
        if state.released:
            return _nothing
        state.released = True
        lease = _leases.get(state.public_key)
        if lease is None or lease.client is not state.client:
            return state.client.flush
        lease.users -= 1
        if lease.users > 0:
            return state.client.flush
        del _leases[state.public_key]
        if not lease.built_here:
            return state.client.flush
        # Retired before it is shut down, so a start racing the shutdown
        # builds a new client instead of joining the closing one.
        _forget(lease.client, state.public_key)
    return partial(_shut_down, lease)


def _nothing() -> None:
    return None


def _build(
    settings: LangfuseSettings, provider: WatchedTracerProvider | None
) -> Langfuse:
    return Langfuse(
        public_key=settings.public_key,
        secret_key=settings.secret_key,
        base_url=settings.base_url,
        environment=settings.environment,
        release=settings.release,
        flush_at=settings.flush_at,
        flush_interval=settings.flush_interval,
        timeout=settings.timeout,
        tracer_provider=provider,
    )


def _shut_down(lease: _Lease) -> None:
    lease.client.shutdown()
    if lease.tracer_provider is not None:
        lease.tracer_provider.shutdown()


def _resources(client: Langfuse) -> Any:
    return getattr(client, "_resources", None)


# The SDK offers no public way to look up or retire the resources it keeps
# per public key. When its private registry moves, these two do nothing:
# a key reused after a shutdown then reaches a closed client, whose spans
# are dropped, until the process restarts.


def _live_sdk_resources(public_key: str) -> Any:
    """Return the SDK's live resources for ``public_key``; drop shut-down ones."""
    lock, registry = _registry()
    with lock:
        found = registry.get(public_key)
        if found is not None and getattr(found, "_shutdown", False):
            del registry[public_key]
            return None
        return found


def _forget(client: Langfuse, public_key: str) -> None:
    """Remove the client's resources from the SDK's registry, if still there."""
    lock, registry = _registry()
    with lock:
        if registry.get(public_key) is _resources(client):
            del registry[public_key]


def _registry() -> tuple[Any, dict[str, Any]]:
    try:
        from langfuse._client.resource_manager import LangfuseResourceManager
    except ImportError:
        return threading.Lock(), {}
    lock = getattr(LangfuseResourceManager, "_lock", None)
    registry = getattr(LangfuseResourceManager, "_instances", None)
    if lock is None or not isinstance(registry, dict):
        return threading.Lock(), {}
    return lock, registry


def _check_compatible(resources: Any, settings: LangfuseSettings) -> None:
    if resources is None:
        return
    if getattr(resources, "base_url", settings.base_url) != settings.base_url:
        raise ConfigError(
            f"{SECTION}: another Langfuse client in this process uses the same "
            f"public_key with base_url {redact(resources.base_url)}, not "
            f"{redact(settings.base_url)}; the Langfuse SDK allows one server per "
            "public key in a process"
        )
    if getattr(resources, "secret_key", settings.secret_key) != settings.secret_key:
        raise ConfigError(
            f"{SECTION}: another Langfuse client in this process uses the same "
            "public_key with a different secret_key; use one key pair per project"
        )
