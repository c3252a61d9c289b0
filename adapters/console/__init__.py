"""The console adapter's settings (the `[console]` table) and its plugin record.

The adapter itself is in `adapters.console.adapter`, imported only when it is built: finding
the installed adapters (every command does, to read the config) must not import aiohttp and
the whole core, so that `nosurprises --help` stays light.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from typing import TYPE_CHECKING, Any

from bot.config import SettingsTable
from bot.delivery.ports import AdapterPlugin

if TYPE_CHECKING:
    from adapters.console.adapter import ConsoleAdapter
    from bot.delivery.hub import Hub


@dataclass(frozen=True)
class ConsoleSettings:
    enabled: bool = True


def read_settings(table: SettingsTable) -> ConsoleSettings:
    """`[console] enabled` (on by default: it is how the bot is tried out)."""
    return ConsoleSettings(enabled=table.get("enabled", bool, True))


def create(hub: Hub, settings: ConsoleSettings) -> ConsoleAdapter:
    """The console adapter; its module (and aiohttp) is imported only now."""
    from adapters.console.adapter import ConsoleAdapter

    return ConsoleAdapter(hub)


def __getattr__(name: str) -> Any:
    # `from adapters.console import ConsoleAdapter, render_text` keeps working, lazily.
    if name.startswith("__"):
        raise AttributeError(name)
    adapter = import_module("adapters.console.adapter")
    try:
        return getattr(adapter, name)
    except AttributeError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None


PLUGIN = AdapterPlugin(
    name="console",
    read_settings=read_settings,
    create=create,
    interactive=True,
)
