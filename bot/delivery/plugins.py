"""Finding the installed adapters: entry points in the group `nosurprises.adapters`."""

from __future__ import annotations

from functools import cache
from importlib.metadata import entry_points

from bot.delivery.ports import ADAPTER_GROUP, AdapterPlugin


@cache
def installed_adapters() -> dict[str, AdapterPlugin]:
    """Every adapter plugin installed, by name, in a stable order."""
    found: dict[str, AdapterPlugin] = {}
    for entry in sorted(entry_points(group=ADAPTER_GROUP), key=lambda e: e.name):
        plugin = entry.load()
        if not isinstance(plugin, AdapterPlugin):
            raise TypeError(f"entry point {entry.name} is not an AdapterPlugin")
        found[entry.name] = plugin
    return found
