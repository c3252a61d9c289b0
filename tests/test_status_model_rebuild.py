"""The status read model's rebuild writes exactly the rows a row-by-row reading gives.

The rebuild counts in SQL (per decision first, then by date, due time, state and portfolio),
judges each distinct flag list once, and writes through one executemany; here its stored rows
are compared with the same rows worked out briefing by briefing, item by item, in Python, on a
small synthetic council on both backends, after people have acted and a day has passed.
"""

from __future__ import annotations

import gc
import json
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from livebot import Bot, make_bot
from sqlalchemy import event, select, text
from sqlmodel import col

from bot.briefings.states import move
from bot.intake.directory_csv import parse_directory
from bot.intake.forward_plan_csv import parse_forward_plan
from bot.intake.store import store_decisions, store_directory
from bot.store.models import (
    Briefing,
    BriefingState,
    Decision,
    DecisionStatus,
    StatusCount,
    StatusUnbriefed,
    table_of,
)
from bot.ticks import sweep_and_refresh
from bot.timeutil import as_utc
from bot.views import status_model
from bot.views.access import is_exempt
from bot.views.rag_thresholds import close_at, thresholds
from bot.views.status import LOOKBACK_DAYS, has_standing_flags

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import synthetic


def _council(folder: Path, url: str) -> Bot:
    made = synthetic.generate(folder, decisions=160, people=120, wards=10, portfolios=5)
    now = datetime.combine(made.start, datetime.min.time(), UTC) + timedelta(hours=9)
    bot = make_bot(url, now, seed=False, migrate=True)
    people, portfolios, _ = parse_directory(made.people_csv, made.portfolios_csv)
    records, _ = parse_forward_plan(made.forward_plan_csv)
    with bot.app.session() as session:
        store_directory(session, people, portfolios, now=now)
        store_decisions(session, records, source="csv", now=now)
    return bot


def _tick(bot: Bot) -> None:
    with bot.app.session() as session:
        sweep_and_refresh(app=bot.app, session=session)


def _vary_states(bot: Bot) -> None:
    """Some briefings briefed, acknowledged, snoozed, withdrawn, so every kind of row is there."""
    moves = [
        BriefingState.BRIEFED,
        BriefingState.ACKNOWLEDGED,
        BriefingState.SNOOZED,
        BriefingState.WITHDRAWN,
    ]
    with bot.app.session() as session:
        briefings = list(session.scalars(select(Briefing).order_by(col(Briefing.id))))
        for i, briefing in enumerate(briefings[::5]):
            move(briefing, moves[i % len(moves)])


def _expected(bot: Bot) -> tuple[Counter[tuple[Any, ...]], set[tuple[Any, ...]]]:
    """The read model's rows, worked out one briefing and one item at a time."""
    settings, calendar = bot.app.settings, bot.calendar
    today = calendar.local_date(bot.now())
    counts: Counter[tuple[Any, ...]] = Counter()
    unbriefed: set[tuple[Any, ...]] = set()
    with bot.app.session() as session:
        decisions = {d.id: d for d in session.scalars(select(Decision))}
        live: set[int] = set()
        for b in session.scalars(select(Briefing)):
            if b.state == BriefingState.WITHDRAWN:
                continue
            live.add(b.decision_id)
            d = decisions[b.decision_id]
            due_at = as_utc(b.due_at)
            amber_at, red_at = thresholds(
                due_at=due_at, decision_due=d.decision_due, calendar=calendar, settings=settings
            )
            key = (d.decision_due, due_at, str(b.state), d.portfolio, d.portfolio_holder)
            counts[(*key, amber_at, red_at)] += 1
        for d in decisions.values():
            if d.status != DecisionStatus.FOR_DETERMINATION or d.id in live:
                continue
            if d.decision_due < today - timedelta(days=LOOKBACK_DAYS):
                continue
            flagged = has_standing_flags(d.flags)
            exempt = is_exempt(d.restriction)
            if not (flagged or exempt or d.decision_due < today + timedelta(days=7)):
                continue
            red_at = close_at(decision_due=d.decision_due, calendar=calendar, settings=settings)
            unbriefed.add(
                (d.id, d.ref, d.decision_due, flagged, exempt, d.portfolio, d.portfolio_holder)
                + (red_at,)
            )
    return counts, unbriefed


def _stored(bot: Bot) -> tuple[Counter[tuple[Any, ...]], set[tuple[Any, ...]]]:
    counts: Counter[tuple[Any, ...]] = Counter()
    unbriefed: set[tuple[Any, ...]] = set()
    with bot.app.session() as session:
        for c in session.scalars(select(StatusCount)):
            key = (c.decision_due, as_utc(c.due_at), c.state, c.portfolio, c.portfolio_holder)
            counts[(*key, as_utc(c.amber_at), as_utc(c.red_at))] += c.count
        for u in session.scalars(select(StatusUnbriefed)):
            unbriefed.add(
                (u.decision_id, u.ref, u.decision_due, u.flagged, u.exempt, u.portfolio)
                + (u.portfolio_holder, as_utc(u.red_at))
            )
    return counts, unbriefed


def test_the_rebuild_stores_what_a_row_by_row_reading_gives(
    database_url: str, tmp_path: Path
) -> None:
    bot = _council(tmp_path / "csv", database_url)
    _tick(bot)
    first = _stored(bot)
    assert first == _expected(bot)
    counts, unbriefed = first
    assert sum(counts.values()) > 100 and len(unbriefed) > 5
    assert any(row[3] for row in unbriefed) and any(row[4] for row in unbriefed)

    _vary_states(bot)
    bot.set(bot.now() + timedelta(days=9))  # a new day: the model is rebuilt for it
    _tick(bot)
    counts, unbriefed = _stored(bot)
    assert (counts, unbriefed) == _expected(bot)
    states = {key[2] for key in counts}
    assert {"briefed", "acknowledged", "snoozed"} <= states and "withdrawn" not in states
    # Some item lost its only live briefing and is now listed as unbriefed.
    assert len(unbriefed) != len(first[1])


def test_each_distinct_flag_list_is_judged_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = _council(tmp_path / "csv", f"sqlite:///{tmp_path / 'store.db'}")
    judged: list[Any] = []

    def counting(stored: list[dict[str, str]]) -> bool:
        judged.append(json.dumps(stored))
        return has_standing_flags(stored)

    monkeypatch.setattr(status_model, "has_standing_flags", counting)
    _tick(bot)
    with bot.app.session() as session:
        flagged = session.scalar(
            select(text("count(*)")).select_from(table_of(StatusUnbriefed)).where(text("flagged"))
        )
    assert judged and len(judged) == len(set(judged))
    assert flagged is not None and flagged > len(judged)  # many items, fewer distinct lists


def test_the_unbriefed_items_are_read_in_table_order_on_sqlite(tmp_path: Path) -> None:
    """Nearly every item is inside the look-back: a look-up through the date index per item
    cost three times a read of the table in order."""
    bot = _council(tmp_path / "csv", f"sqlite:///{tmp_path / 'store.db'}")
    seen: list[str] = []

    def explain(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "FROM decision" in statement and "NOT (EXISTS" in statement:
            plan = cursor.connection.execute(f"EXPLAIN QUERY PLAN {statement}", parameters)
            seen.extend(str(row[-1]) for row in plan)

    engine = bot.app.engine
    event.listen(engine, "before_cursor_execute", explain)
    try:
        _tick(bot)
    finally:
        event.remove(engine, "before_cursor_execute", explain)
    assert any(step.startswith("SCAN decision") for step in seen), seen
    assert not any("ix_decision_decision_due" in step for step in seen), seen


def test_the_rebuild_runs_with_the_sweeps_page_cache_and_no_collections(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = _council(tmp_path / "csv", f"sqlite:///{tmp_path / 'store.db'}")
    seen: list[tuple[bool, int]] = []
    rebuild = status_model.refresh_status_model

    def watched(*, session: Any, **options: Any) -> bool:
        driver = session.connection().connection.dbapi_connection
        seen.append((gc.isenabled(), driver.execute("PRAGMA cache_size").fetchone()[0]))
        return rebuild(session=session, **options)

    import bot.ticks as ticks

    monkeypatch.setattr(ticks, "refresh_status_model", watched)
    # The collector as a process normally has it (another test in this worker may have left
    # it off), put back as it was afterwards.
    was_enabled = gc.isenabled()
    gc.enable()
    try:
        _tick(bot)
        assert gc.isenabled()
    finally:
        if not was_enabled:
            gc.disable()
    assert seen == [(False, -65_536)]
