"""Each source's health, for status and /healthz: read on every answer, so it imports no HTTP
client and no source reader (issue 15: `status` start-up)."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import select

from bot.config import ModernGovSource, Settings
from bot.store import tables_core
from bot.store.reads import Reads, connection


def source_name(source: ModernGovSource) -> str:
    return f"moderngov:{source.name}"


@cache
def _stale() -> Any:
    # Built once: every answer asks, and building the statement cost more than running it.
    state = tables_core.sourcestate
    return select(state.c.name, state.c.stale_since).where(state.c.stale_since.is_not(None))


@cache
def _every_state() -> Any:
    return select(tables_core.sourcestate)


def stale_sources(session: Reads) -> list[tuple[str, datetime]]:
    """Sources whose last pulls failed, and since when."""
    return [(name, since) for name, since in session.connection().execute(_stale())]


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def source_health(session: Reads, configured: list[str]) -> list[dict[str, object]]:
    """Each source's last good pull and whether it is stale (its last pull failed, or it has
    never been pulled), for `status --json` and /healthz."""
    states = {s.name: s for s in connection(session).execute(_every_state())}
    names = list(dict.fromkeys([*configured, *sorted(states)]))
    report: list[dict[str, object]] = []
    for name in names:
        state = states.get(name)
        last_good = state.last_success_at if state else None
        stale_since = state.stale_since if state else None
        report.append(
            {
                "name": name,
                "last_good_pull": _iso(last_good),
                "last_attempt": _iso(state.last_attempt_at if state else None),
                "stale": stale_since is not None or last_good is None,
                "stale_since": _iso(stale_since),
                "error": state.last_error if state else "",
            }
        )
    return report


def configured_sources(settings: Settings) -> list[str]:
    """The names under which the configured sources are recorded."""
    return [source_name(source) for source in settings.moderngov]
