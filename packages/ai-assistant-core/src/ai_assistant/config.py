"""Finding, reading and validating the one YAML config file.

The file has one root key, ``ai_assistant``. The seed system's spelling
(root ``aiAssistant``, camelCase keys, ``${VAR}`` for environment variables)
is translated on load, so a file written for it works unchanged. Each
provider's section under ``callbacks`` is validated separately, against the
provider's own schema, so one bad section fails one provider only.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import yaml
from omegaconf import MISSING, DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from ai_assistant.errors import ConfigError, ProviderNotConfigured
from ai_assistant.settings import SECRET_MARK, env_names, redact

__all__ = [
    "CONFIG_ENV",
    "Config",
    "CoreSettings",
    "HistorySettings",
    "find_config_file",
    "load_config",
]

CONFIG_ENV: Final = "AI_ASSISTANT_CONFIG"
ROOT: Final = "ai_assistant"
SEED_ROOT: Final = "aiAssistant"
FILE_NAME: Final = "ai-assistant.yaml"
CORE_SECTION_KEYS: Final = frozenset({"enabled"})

_CAMEL: Final = re.compile(r"^[a-z][a-zA-Z0-9]*[A-Z][a-zA-Z0-9]*$")
_CAMEL_HUMP: Final = re.compile(r"(?<=[a-z0-9])([A-Z])")
_SEED_ENV: Final = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)\}")


@dataclass
class HistorySettings:
    """Where conversations are kept: ``sqlite`` (default) or ``memory``.

    ``max_messages`` bounds how much of a conversation is sent to the model
    with each turn (the most recent messages, starting at a user message);
    everything stays in the store.
    """

    backend: str = "sqlite"
    path: str | None = None
    max_messages: int = 40


@dataclass
class CoreSettings:
    """The core's own keys under ``ai_assistant``."""

    model: str | None = None
    model_options: dict[str, Any] = field(default_factory=dict)
    system_prompt: str | None = "You are a helpful assistant."
    user_id: str | None = None
    strict: bool = False
    flush_deadline: float = 5.0
    history: HistorySettings = field(default_factory=HistorySettings)
    callbacks: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Config:
    """A loaded config: the core's settings plus raw provider sections."""

    path: Path | None
    core: CoreSettings
    sections: Mapping[str, DictConfig]
    lines: Mapping[str, int] = field(default_factory=dict)
    overridden: frozenset[str] = frozenset()
    broken: Mapping[str, str] = field(default_factory=dict)

    @property
    def source(self) -> str:
        """Name the config's origin for messages: its path, or defaults."""
        return str(self.path) if self.path else "(no config file)"

    def where(self, key: str) -> str:
        """Return ``file:line`` (or just the file) for a dotted full key."""
        line = self.lines.get(key)
        if self.path is None:
            return "(no config file)"
        return f"{self.path}:{line}" if line else str(self.path)

    def origin(self, key: str) -> str:
        """Say where a dotted key under ``ai_assistant`` was set, for messages."""
        if key in self.overridden:
            return "set with -o"
        return f"in {self.source}"

    def section_enabled(self, name: str) -> bool:
        """Return the provider's ``enabled`` key (``True`` when absent)."""
        if name in self.broken:
            raise ConfigError(self.broken[name])
        section = self.sections.get(name)
        if section is None or "enabled" not in section:
            return True
        key = f"{ROOT}.callbacks.{name}.enabled"
        try:
            value = _resolve_key(section, "enabled")
        except OmegaConfBaseException as error:
            raise ConfigError(
                f"{self.where(key)}: {key}: {_first_line(error)}"
            ) from None
        if not isinstance(value, bool):
            raise ConfigError(
                f"{self.where(key)}: {key}: expected true or false, got {value!r}"
            )
        return value

    def provider_settings(
        self,
        name: str,
        schema: type | None,
        environ: Mapping[str, str] | None = None,
    ) -> Any:
        """Validate the provider's section against ``schema``.

        Returns the schema dataclass instance (``None`` without a schema).
        Raises :class:`ConfigError` naming the file, key and provider, or
        :class:`ProviderNotConfigured` when a required value is missing and
        the user configured nothing for the provider: no key in its section
        and no variable set for a required key.
        """
        return _validate_section(
            self, name, schema, os.environ if environ is None else environ
        )

    def show(self, secret_keys: frozenset[str] = frozenset()) -> dict[str, Any]:
        """Return the effective config with every secret redacted."""
        shown = dataclasses.asdict(self.core)
        shown["callbacks"] = {
            name: _resolve_leniently(section) for name, section in self.sections.items()
        }
        redacted: dict[str, Any] = redact({ROOT: shown}, secret_keys=secret_keys)
        return redacted


def find_config_file(
    explicit: str | os.PathLike[str] | None = None,
    *,
    environ: Mapping[str, str] = os.environ,
    cwd: Path | None = None,
) -> Path | None:
    """Return the config file to use, or ``None`` when there is none.

    Order: ``explicit`` (``--config``), then ``$AI_ASSISTANT_CONFIG``, then
    ``./ai-assistant.yaml``, then ``config.yaml`` in the user config
    directory. A file named explicitly or by the variable must exist.
    """
    for origin, value in (
        ("--config", explicit),
        (CONFIG_ENV, environ.get(CONFIG_ENV)),
    ):
        if value:
            path = Path(value).expanduser()
            if path.exists() and not path.is_file():
                raise ConfigError(
                    f"{path}: not a regular file (named by {origin}); "
                    "name a YAML file instead"
                )
            if not path.is_file():
                raise ConfigError(
                    f"{path}: config file not found (named by {origin}); "
                    "check the path or create the file"
                )
            return path

    local = (cwd or Path.cwd()) / FILE_NAME
    if local.is_file():
        return local
    user = user_config_dir() / "config.yaml"
    return user if user.is_file() else None


def user_config_dir() -> Path:
    """Return the per-user config directory (``~/.config/ai-assistant``)."""
    from platformdirs import user_config_path

    return user_config_path("ai-assistant", appauthor=False)


def load_config(
    path: str | os.PathLike[str] | None = None,
    *,
    overrides: Iterable[str] = (),
    environ: Mapping[str, str] = os.environ,
) -> Config:
    """Find, read and validate the config; apply ``-o key=value`` overrides.

    Errors in the core's own keys raise :class:`ConfigError`; provider
    sections are only checked later, by :meth:`Config.provider_settings`.
    """
    found = find_config_file(path, environ=environ)
    text = _read(found) if found else ""
    tree, lines = _parse(text, found)
    try:
        root = OmegaConf.create(tree)
    except (OmegaConfBaseException, ValueError, TypeError) as error:
        where = str(found) if found else "config"
        raise ConfigError(f"{where}: unsupported value: {_first_line(error)}") from None
    overridden = frozenset(_apply_override(root, item) for item in overrides)
    return dataclasses.replace(_build(root, found, lines), overridden=overridden)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise ConfigError(f"{path}: cannot read config file: {reason}") from None


def _parse(text: str, path: Path | None) -> tuple[dict[str, Any], dict[str, int]]:
    where = str(path) if path else "config"
    try:
        node = yaml.compose(text, Loader=_Loader)
        data = _Loader(text).get_single_data() if node is not None else None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = f":{mark.line + 1}" if mark else ""
        problem = error.problem or error.context or "invalid YAML"
        raise ConfigError(f"{where}{line}: YAML syntax error: {problem}") from None
    except yaml.YAMLError as error:
        raise ConfigError(f"{where}: YAML syntax error: {_first_line(error)}") from None
    except RecursionError:
        raise ConfigError(f"{where}: YAML aliases refer to themselves") from None
    if _expanded_size(data, {}) > _MAX_VALUES:
        raise ConfigError(
            f"{where}: more than {_MAX_VALUES} values once YAML aliases are "
            "expanded; write the settings out instead of nesting aliases"
        )

    if data is None:
        return {}, {}
    if not isinstance(data, dict) or not ({ROOT, SEED_ROOT} & data.keys()):
        raise ConfigError(
            f"{where}: no '{ROOT}' root key; put the settings under '{ROOT}:'"
        )
    body = data.get(ROOT, data.get(SEED_ROOT)) or {}
    if not isinstance(body, dict):
        raise ConfigError(f"{where}: '{ROOT}' must be a mapping of settings")
    lines: dict[str, int] = {}
    _collect_lines(node, "", lines)
    return _translate(body), lines


class _Loader(yaml.SafeLoader):
    """Safe YAML with dates left as strings (``release: 2024-06-01``)."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_MAX_VALUES: Final = 100_000


def _expanded_size(value: Any, seen: dict[int, int]) -> int:
    """Count values as they would be after expanding aliases, without expanding."""
    if not isinstance(value, dict | list):
        return 1
    known = seen.get(id(value))
    if known is not None:
        return known
    seen[id(value)] = _MAX_VALUES + 1  # a cycle counts as too large
    items = value.values() if isinstance(value, dict) else value
    total = 1
    for item in items:
        total += _expanded_size(item, seen)
        if total > _MAX_VALUES:
            break
    seen[id(value)] = total
    return total


def snake_case(key: str) -> str:
    """Turn a seed-style camelCase key into snake_case; others pass as-is."""
    if not _CAMEL.match(key):
        return key
    return _CAMEL_HUMP.sub(r"_\1", key).lower()


def _translate(value: Any) -> Any:
    if isinstance(value, dict):
        return {snake_case(str(key)): _translate(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_translate(item) for item in value]
    if isinstance(value, str):
        return _SEED_ENV.sub(r"${oc.env:\1,null}", value)
    return value


def _collect_lines(node: Any, prefix: str, lines: dict[str, int]) -> None:
    if not isinstance(node, yaml.MappingNode):
        return
    for key_node, value_node in node.value:
        key = snake_case(str(key_node.value))
        key = ROOT if not prefix and key == snake_case(SEED_ROOT) else key
        full = f"{prefix}.{key}" if prefix else key
        lines[full] = key_node.start_mark.line + 1
        _collect_lines(value_node, full, lines)


def _apply_override(root: DictConfig, item: str) -> str:
    key, sep, raw = item.partition("=")
    key = ".".join(snake_case(part) for part in key.strip().split("."))
    key = key.removeprefix(f"{ROOT}.")
    if not sep or not key:
        raise ConfigError(
            f"-o {item!r}: expected KEY=VALUE, for example -o strict=true"
        )
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    value = _translate(value)
    try:
        OmegaConf.update(root, key, value, merge=True, force_add=True)
    except OmegaConfBaseException as error:
        raise ConfigError(f"-o {item!r}: {_first_line(error)}") from None
    return key


def _build(root: DictConfig, path: Path | None, lines: dict[str, int]) -> Config:
    callbacks = root.get("callbacks") or OmegaConf.create({})
    where = str(path) if path else "config"
    if not isinstance(callbacks, DictConfig):
        raise ConfigError(f"{where}: {ROOT}.callbacks must be a mapping of providers")
    sections: dict[str, DictConfig] = {}
    broken: dict[str, str] = {}
    for name in map(str, callbacks):
        section = callbacks._get_node(name)
        if section is None or section._is_none():
            section = OmegaConf.create({})
        if not isinstance(section, DictConfig):
            key = f"{ROOT}.callbacks.{name}"
            line = lines.get(key)
            location = f"{where}:{line}" if line and path else where
            broken[name] = f"{location}: {key}: expected a mapping of settings"
            section = OmegaConf.create({})
        sections[name] = section

    core_only = OmegaConf.masked_copy(root, [str(k) for k in root if k != "callbacks"])
    core = _to_settings(core_only, path, lines)
    return Config(path=path, core=core, sections=sections, lines=lines, broken=broken)


def _to_settings(
    node: DictConfig, path: Path | None, lines: dict[str, int]
) -> CoreSettings:
    where = str(path) if path else "config"
    try:
        merged = OmegaConf.merge(OmegaConf.structured(CoreSettings), node)
        settings = OmegaConf.to_object(merged)
    except (OmegaConfBaseException, ValueError, TypeError) as error:
        full_key = getattr(error, "full_key", None)
        key = f"{ROOT}.{full_key}" if full_key else ROOT
        line = lines.get(key)
        location = f"{where}:{line}" if line and path else where
        raise ConfigError(f"{location}: {key}: {_first_line(error)}") from None
    assert isinstance(settings, CoreSettings)
    return settings


def _first_line(error: BaseException) -> str:
    text = getattr(error, "msg", None) or str(error)
    return (
        str(text).strip().splitlines()[0] if str(text).strip() else type(error).__name__
    )


def _resolve_key(section: DictConfig, key: Any) -> Any:
    """Resolve one key's interpolations (``${oc.env:...}``) on its own."""
    container = OmegaConf.to_container(
        OmegaConf.masked_copy(section, [key]), resolve=True
    )
    assert isinstance(container, dict)
    return container[key]


def _resolve_leniently(section: DictConfig) -> dict[str, Any]:
    shown: dict[str, Any] = {}
    for key in section:
        try:
            value = _resolve_key(section, key)
        except OmegaConfBaseException:
            raw = OmegaConf.to_container(section, resolve=False)
            value = raw[key] if isinstance(raw, dict) else None
        shown[str(key)] = value
    return shown


def _section_error(
    config: Config, name: str, error: OmegaConfBaseException, key: str = ""
) -> ConfigError:
    full = f"{ROOT}.callbacks.{name}"
    sub = key or getattr(error, "full_key", None)
    full = f"{full}.{sub}" if sub else full
    return ConfigError(f"{config.where(full)}: {full}: {_first_line(error)}")


def _validate_section(
    config: Config, name: str, schema: type | None, environ: Mapping[str, str]
) -> Any:
    section = config.sections.get(name)
    values = _resolve_section(config, name, section)
    if schema is None:
        return None
    if not dataclasses.is_dataclass(schema):
        raise ConfigError(
            f"its config schema {schema!r} is not a dataclass; "
            "report this to the provider's author"
        )

    configured = bool(values) or _required_from_env(schema, environ)
    _fill_from_env(schema, values, environ)
    try:
        merged = OmegaConf.merge(OmegaConf.structured(schema), values)
    except OmegaConfBaseException as error:
        raise _section_error(config, name, error) from None

    missing = sorted(OmegaConf.missing_keys(merged))
    if missing:
        _report_missing(config, name, schema, missing, configured=configured)
    try:
        return OmegaConf.to_object(merged)
    except OmegaConfBaseException as error:
        raise _section_error(config, name, error) from None


def _resolve_section(
    config: Config, name: str, section: DictConfig | None
) -> dict[str, Any]:
    if section is None:
        return {}
    values: dict[str, Any] = {}
    for key in section:
        if key in CORE_SECTION_KEYS:
            continue
        try:
            value = _resolve_key(section, key)
        except OmegaConfBaseException as error:
            raise _section_error(config, name, error, str(key)) from None
        if value is not None:
            values[str(key)] = value
    return values


def _fill_from_env(
    schema: type, values: dict[str, Any], environ: Mapping[str, str]
) -> None:
    for item in dataclasses.fields(schema):
        if item.name in values:
            continue
        for variable in env_names(item):
            if environ.get(variable):
                # A value from the environment is data, never an interpolation.
                values[item.name] = environ[variable].replace("${", "\\${")
                break


def _required_from_env(schema: type, environ: Mapping[str, str]) -> bool:
    """Tell whether a variable is set for any required (``MISSING``) key."""
    return any(
        environ.get(variable)
        for item in dataclasses.fields(schema)
        if item.default is MISSING and item.default_factory is dataclasses.MISSING
        for variable in env_names(item)
    )


def _report_missing(
    config: Config, name: str, schema: type, missing: list[str], *, configured: bool
) -> None:
    fields = {item.name: item for item in dataclasses.fields(schema)}
    wanted = []
    for key in missing:
        variables = env_names(fields[key]) if key in fields else ()
        hint = f" or ${variables[0]}" if variables else ""
        wanted.append(f"callbacks.{name}.{key}{hint}")
    if not configured:
        raise ProviderNotConfigured("not configured: set " + ", ".join(wanted))
    secret = any(
        key in fields and fields[key].metadata.get(SECRET_MARK) for key in missing
    )
    what = "required secret" if secret else "required setting"
    where = config.where(f"{ROOT}.callbacks.{name}")
    raise ConfigError(f"{where}: {what} missing: set {', '.join(wanted)}")
