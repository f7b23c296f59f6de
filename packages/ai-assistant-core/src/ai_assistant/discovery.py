"""Finding installed providers from package metadata alone.

Nothing here imports a provider's module: listing, checking and disabling
read entry points and environment variables only. A provider's module is
imported by :meth:`ProviderSpec.load`, which the host calls only for
providers that are enabled.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

__all__ = [
    "ALLOW_ENV",
    "CALLBACK_GROUP",
    "DENY_ENV",
    "MODEL_GROUP",
    "ProviderSpec",
    "discover",
    "switched_off",
]

CALLBACK_GROUP: Final = "ai_assistant.callback_providers"
MODEL_GROUP: Final = "ai_assistant.model_providers"
DENY_ENV: Final = "AI_ASSISTANT_DISABLE_PROVIDERS"
ALLOW_ENV: Final = "AI_ASSISTANT_LOAD_PROVIDERS"


@dataclass(frozen=True, slots=True)
class ProviderSpec:
    """One provider as its distribution's metadata declares it."""

    name: str
    value: str
    distribution: str | None = None
    version: str | None = None

    def load(self) -> object:
        """Import the provider's module (and attribute, if one is named)."""
        module_name, _, attribute = self.value.partition(":")
        target: object = importlib.import_module(module_name.strip())
        for part in filter(None, attribute.strip().split(".")):
            target = getattr(target, part)
        return target


def discover(group: str = CALLBACK_GROUP) -> tuple[list[ProviderSpec], list[str]]:
    """List the group's providers, sorted by name, and duplicate warnings.

    When two distributions declare the same name, the first one in
    distribution-name order wins and a warning names both.
    """
    from importlib.metadata import entry_points

    found: dict[str, ProviderSpec] = {}
    warnings: list[str] = []
    candidates = [_spec(point) for point in entry_points(group=group)]
    for spec in sorted(candidates, key=lambda s: (s.name, s.distribution or "")):
        kept = found.get(spec.name)
        if kept is None:
            found[spec.name] = spec
        elif kept.distribution != spec.distribution or kept.value != spec.value:
            warnings.append(
                f"provider {spec.name!r} is declared by both {kept.distribution} "
                f"and {spec.distribution}; using {kept.distribution}"
            )
    return [found[name] for name in sorted(found)], warnings


def _spec(point: object) -> ProviderSpec:
    dist = getattr(point, "dist", None)
    metadata = getattr(dist, "metadata", None)
    return ProviderSpec(
        name=point.name,  # type: ignore[attr-defined]
        value=point.value,  # type: ignore[attr-defined]
        distribution=metadata["Name"] if metadata is not None else None,
        version=getattr(dist, "version", None),
    )


def _names(raw: str) -> list[str]:
    return [name.strip() for name in raw.split(",") if name.strip()]


def switched_off(name: str, environ: Mapping[str, str] = os.environ) -> str | None:
    """Return why the environment switches ``name`` off, or ``None``.

    ``AI_ASSISTANT_DISABLE_PROVIDERS`` is a comma list of names to keep off;
    ``AI_ASSISTANT_LOAD_PROVIDERS``, when set, is the only names allowed
    (set and empty allows none).
    """
    if name in _names(environ.get(DENY_ENV, "")):
        return f"named in {DENY_ENV}"
    allowed = environ.get(ALLOW_ENV)
    if allowed is not None and name not in _names(allowed):
        return f"not named in {ALLOW_ENV}"
    return None


def unknown_names(
    installed: set[str], environ: Mapping[str, str] = os.environ
) -> list[str]:
    """Return warnings for allow or deny list names no provider has."""
    warnings = []
    for variable in (DENY_ENV, ALLOW_ENV):
        for name in _names(environ.get(variable, "")):
            if name not in installed:
                warnings.append(
                    f"{variable} names {name!r}, but no installed provider has that "
                    "name; check the spelling with 'ai-assistant providers'"
                )
    return warnings
