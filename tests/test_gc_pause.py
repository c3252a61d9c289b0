"""The full sweep runs with the cyclic garbage collector paused, and restores it (issue 15)."""

from __future__ import annotations

import gc
import threading
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


@pytest.mark.parametrize("thread_ends_first", [True, False])
def test_pauses_on_two_threads_keep_it_off_until_both_end(
    collector_on: None, thread_ends_first: bool
):
    """The server can rebuild on one thread while a sweep runs on another: whichever ends
    first, the collector stays off for the other and is on again once both have ended."""
    started, release = threading.Event(), threading.Event()
    seen_in_thread: list[bool] = []

    def pause_on_a_thread() -> None:
        with collection_paused():
            started.set()
            release.wait()
            seen_in_thread.append(gc.isenabled())

    thread = threading.Thread(target=pause_on_a_thread)
    thread.start()
    assert started.wait(5)
    with collection_paused():
        if thread_ends_first:
            release.set()
            thread.join()
        assert not gc.isenabled()
    if not thread_ends_first:
        assert not gc.isenabled()  # the thread's pause is still under way
        release.set()
        thread.join()
    assert seen_in_thread == [False]
    assert gc.isenabled()


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
