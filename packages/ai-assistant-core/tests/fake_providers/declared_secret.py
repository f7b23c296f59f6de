"""A provider whose secret setting has a name that does not look secret."""

from dataclasses import dataclass

from ai_assistant import hookimpl, setting


@dataclass
class Settings:
    webhook: str = setting("", secret=True)


@hookimpl
def ai_assistant_config_schema():
    return Settings
