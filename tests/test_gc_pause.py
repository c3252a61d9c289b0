"""The full sweep runs with the cyclic garbage collector paused, and restores it (issue 15)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from livebot import make_bot, sqlite_url

import bot.briefings.escalate as escalate
from bot.gc_pause import collection_paused

NOW = datetime(2027, 1, 5, 9, 30, tzinfo=UTC)


@pytest.fixture
def collector_on() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def test_the_collector_is_off_inside_and_on_again_after(collector_on: None):
    with collection_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_the_collector_is_restored_after_an_error(collector_on: None):
    with pytest.raises(RuntimeError), collection_paused():
        raise RuntimeError("boom")
    assert gc.isenabled()


def test_a_collector_already_off_stays_off(collector_on: None):
    gc.disable()
    with collection_paused():
        pass
    assert not gc.isenabled()


def test_the_sweep_tick_runs_with_the_collector_paused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, collector_on: None
):
    bot = make_bot(sqlite_url(tmp_path), NOW)
    seen: list[bool] = []
    real = escalate.sweep

    def watched(**kwargs: Any) -> Any:
        seen.append(gc.isenabled())
        return real(**kwargs)

    monkeypatch.setattr(escalate, "sweep", watched)
    with bot.app.session() as session:
        report = escalate.run_sweep_tick(app=bot.app, session=session)
        session.commit()
    assert seen == [False] and report.sweep.assessed
    assert gc.isenabled()
