"""The sweep runs with a larger SQLite page cache on its connection, then restores it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from livebot import make_bot, sqlite_url
from sqlmodel import Session

import bot.briefings.escalate as escalate
from bot.store.db import LARGE_PAGE_CACHE_KB, large_page_cache

NOW = datetime(2027, 1, 5, 9, 30, tzinfo=UTC)


def cache_size(session: Session) -> int:
    return int(session.connection().exec_driver_sql("PRAGMA cache_size").scalar() or 0)


def test_the_cache_is_larger_inside_and_restored_after_even_a_rollback(tmp_path: Path):
    bot = make_bot(sqlite_url(tmp_path), NOW)
    with bot.app.session() as session:
        before = cache_size(session)
        with large_page_cache(session):
            assert cache_size(session) == -LARGE_PAGE_CACHE_KB != before
            session.rollback()  # as a dry run does: the connection goes back to the pool
        assert cache_size(session) == before
        with pytest.raises(RuntimeError), large_page_cache(session, 4096):
            assert cache_size(session) == -4096
            raise RuntimeError("boom")
        assert cache_size(session) == before


def test_the_sweep_tick_runs_with_the_larger_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    bot = make_bot(sqlite_url(tmp_path), NOW)
    seen: list[int] = []
    real = escalate._sweep_tick

    def spy(**kwargs: Any) -> Any:
        seen.append(cache_size(kwargs["session"]))
        return real(**kwargs)

    monkeypatch.setattr(escalate, "_sweep_tick", spy)
    with bot.app.session() as session:
        escalate.run_sweep_tick(app=bot.app, session=session)
        assert seen == [-LARGE_PAGE_CACHE_KB] and cache_size(session) != seen[0]
