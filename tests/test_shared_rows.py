"""Rows shared between different questions are never stale (issue 15, `bot/views/shared_rows`).

The chief executive's pages are asked (so their rows are shared), something changes, and the
same pages are asked again and compared with the full status built from scratch: after people
act, an import, a change of reachability, a sweep, and the clock passing the moment a briefing
on the page turns red.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from livebot import Bot
from sqlalchemy import select
from sqlmodel import col
from test_status import status
from test_status_queries import _page, acting  # noqa: F401 - the fixture, shared

from bot.decisions.rules import Flag
from bot.intake.forward_plan_csv import parse_forward_plan
from bot.intake.store import store_decisions
from bot.store.identities import remember
from bot.store.models import Briefing, BriefingState, StatusCount
from bot.views import question, shared_rows
from bot.views.cards import ActionKind
from bot.views.status import Rag

WINDOWS = (60, 61, 90)


def _chief(bot: Bot) -> str:
    with bot.app.session() as session:
        return next(iter(bot.app.directory(session).chief_executives))


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many rows each build of missing rows was asked for."""
    counted: list[int] = []
    real = question.build_status

    def build_status(**options: Any) -> Any:
        counted.append(len(options["refs"]))
        return real(**options)

    monkeypatch.setattr(question, "build_status", build_status)
    return counted


def _pages_equal_full(bot: Bot, viewer: str, per_page: int = 6) -> list[Any]:
    """Each window's first two pages against the full status built from scratch."""
    shown = []
    for days in WINDOWS:
        full = status(bot, viewer, days=days)
        for page in (1, 2):
            paged = _page(bot, viewer, days=days, page=page, per_page=per_page)
            assert paged is not None
            assert paged.report.counts == full.counts, (days, page)
            assert paged.rows == full.at_risk[(page - 1) * per_page :][:per_page], (days, page)
            shown += paged.rows
    assert shown
    return shown


def test_a_different_window_builds_no_row_it_has_built_already(
    acting: Bot,  # noqa: F811
    builds: list[int],
) -> None:
    chief = _chief(acting)
    _page(acting, chief, days=60, per_page=6)
    assert builds and builds[-1] > 0
    builds.clear()
    again = _page(acting, chief, days=61, per_page=6)
    assert again.rows and builds == []
    # Someone else (masking differs) does not get the chief executive's rows.
    with acting.app.session() as session:
        people = acting.app.directory(session).people.values()
        leader = sorted(p.email for p in people if p.has("leader"))[0]
    _page(acting, leader, days=61, per_page=6)
    assert builds and builds[-1] > 0


def test_forgetting_what_is_shared_makes_the_next_question_build_afresh(
    acting: Bot,  # noqa: F811
    builds: list[int],
) -> None:
    """What the benchmarks' "first after a change" figures rely on."""
    chief = _chief(acting)
    first = _page(acting, chief, days=60, per_page=6)
    builds.clear()
    _page(acting, chief, days=60, per_page=6)
    assert builds == []
    shared_rows.forget_shared()
    again = _page(acting, chief, days=60, per_page=6)
    assert builds and builds[-1] > 0
    assert again.rows == first.rows


async def test_shared_rows_follow_what_people_do(acting: Bot, builds: list[int]) -> None:  # noqa: F811
    chief = _chief(acting)
    shown = _pages_equal_full(acting, chief)
    open_ones = [r for r in shown if r.state == BriefingState.OPEN and r.briefing_id]
    assert len(open_ones) >= 2
    logged, not_needed = open_ones[0], next(r for r in open_ones if r.ref != open_ones[0].ref)
    steps = [
        (logged.briefer_email, ActionKind.LOG_BRIEFING, logged, {"how": "call"}),
        (logged.member_email, ActionKind.ACKNOWLEDGE, logged, {}),
        (logged.member_email, ActionKind.NOT_YET_BRIEFED, logged, {"note": "Not yet"}),
        (not_needed.briefer_email, ActionKind.NOT_NEEDED, not_needed, {"reason": "Told at panel"}),
    ]
    for actor, kind, row, inputs in steps:
        builds.clear()
        reply = await acting.click(actor, kind, row.briefing_id, inputs)
        assert reply.ok, (kind, reply)
        _pages_equal_full(acting, chief)
        assert builds, kind  # rebuilt, not served from before


def test_shared_rows_follow_an_import_reachability_and_a_sweep(
    acting: Bot,  # noqa: F811
    builds: list[int],
    tmp_path: Path,
) -> None:
    from bot.ticks import sweep_and_refresh

    chief = _chief(acting)
    first = next(r for r in _pages_equal_full(acting, chief) if r.briefing_id)
    # A new title by an import (plain-table writes).
    records, _ = parse_forward_plan(tmp_path / "csv" / "forward_plan.csv")
    renamed = [
        replace(r, title="Renamed by the import") if r.ref == first.ref else r for r in records
    ]
    assert renamed != records
    with acting.app.session() as session:
        store_decisions(session, renamed, source="csv", now=acting.now())
    shown = _pages_equal_full(acting, chief)
    assert any(r.title == "Renamed by the import" for r in shown)
    # A member nobody can reach any more: the row gains the flag.
    remember(acting.app, platform="test", email=first.member_email, user_id="U9", reachable=False)
    shown = _pages_equal_full(acting, chief)
    assert any(f["code"] == Flag.UNREACHABLE for r in shown for f in r.flags)
    # The sweep (plain-table writes) and the model's rebuild.
    with acting.app.session() as session:
        sweep_and_refresh(app=acting.app, session=session)
    builds.clear()
    _pages_equal_full(acting, chief)
    assert builds


def test_shared_rows_turn_red_the_moment_a_briefing_is_overdue(
    acting: Bot,  # noqa: F811
    builds: list[int],
) -> None:
    """Asked at its due time, then a second later (the same minute): the row is red and late."""
    chief = _chief(acting)
    start = acting.now()
    with acting.app.session() as session:
        due_at = session.scalars(
            select(col(StatusCount.due_at))
            .where(
                col(StatusCount.state) == BriefingState.OPEN,
                col(StatusCount.due_at) > start,
                col(StatusCount.red_at) > col(StatusCount.due_at),
                col(StatusCount.amber_at) <= col(StatusCount.due_at),
            )
            .order_by(col(StatusCount.due_at))
        ).first()
        assert due_at is not None
        ids = set(session.scalars(select(col(Briefing.id)).where(col(Briefing.due_at) == due_at)))
    try:
        colours = []
        for moment in (due_at, due_at + timedelta(seconds=1)):
            acting.set(moment)
            shown = _pages_equal_full(acting, chief, per_page=500)
            colours.append({r.rag for r in shown if r.briefing_id in ids})
            builds.clear()
            _pages_equal_full(acting, chief, per_page=500)
            assert builds == []  # the same moment again: all shared
        assert colours == [{Rag.AMBER}, {Rag.RED}]
    finally:
        acting.set(start)


def test_shared_heads_up_lines_follow_new_ones_acknowledgements_and_the_fortnight(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The leader's heads-up lines, asked with different windows, against lines read afresh:
    after a heads-up is given, acknowledged, and as it leaves the last 14 days."""
    from livebot import HELEN, OWEN, email, local, make_bot, sqlite_url

    from bot.headsups import record as headsups
    from bot.store.models import HeadsUpRecipient
    from bot.store.secrets import payload_key
    from bot.ticks import sweep_and_refresh
    from bot.views.cards import PayloadSigner
    from bot.views.commands import answer

    bot = make_bot(sqlite_url(tmp_path), local(2027, 1, 26, 9, 30))
    with bot.app.session() as session:
        sweep_and_refresh(app=bot.app, session=session)  # nothing is shared without the model
    leader = email("Alan Brook")

    def context(session: Any) -> headsups.Context:
        signer = PayloadSigner(payload_key(session))
        return headsups.Context(bot.app.settings, bot.calendar, bot.app.directory(session), signer)

    read: list[int] = []
    real = headsups.recent

    def counted(*args: Any, **options: Any) -> tuple[list[str], datetime]:
        read.append(1)
        return real(*args, **options)

    monkeypatch.setattr(headsups, "recent", counted)

    def asked(days: int) -> tuple[str, ...]:
        with bot.app.session() as session:
            [card] = answer(
                app=bot.app, session=session, text=f"days {days}", actor_email=leader, direct=True
            )
            fresh = headsups.recent_lines(
                session,
                directory=bot.app.directory(session),
                calendar=bot.calendar,
                viewer=leader,
                direct=True,
                now=bot.now(),
            )
        assert card.lines[-len(fresh) :] == tuple(fresh)
        return card.lines

    def twice() -> tuple[str, ...]:
        read.clear()
        first = asked(30)
        assert read == [1]  # built afresh
        assert asked(31)[-3:] == first[-3:] and read == [1]  # then shared
        return first

    before = twice()
    with bot.app.session() as session:
        given = headsups.give(
            session,
            context(session),
            sender=OWEN,
            text=f"/headsup {REF} press release: {SAID}",
            platform="test",
            now=bot.now(),
        )
        assert given.ok
    given_lines = twice()
    assert given_lines[-1] != before[-1] and REF in given_lines[-1]
    with bot.app.session() as session:
        told = session.scalars(
            select(HeadsUpRecipient).where(col(HeadsUpRecipient.email) == HELEN)
        ).one()
        done = headsups.acknowledge(
            session,
            context(session),
            recipient_id=told.id or 0,
            actor=HELEN,
            platform="test",
            now=bot.now(),
        )
        assert done.ok
    acknowledged = twice()
    assert acknowledged[-1] != given_lines[-1]  # "1 of 4"
    start = bot.now()
    bot.set(start + timedelta(days=14) - timedelta(seconds=1))
    assert twice()[-1] == acknowledged[-1]
    bot.set(start + timedelta(days=14, seconds=1))
    assert twice()[-1] != acknowledged[-1]


REF = "HBC-2027-005"
SAID = "We will announce the new play area on Friday"


def test_a_shared_row_is_drawn_once_per_language_and_setting(
    acting: Bot,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bot.views import commands
    from bot.views.bilingual import speaking

    chief = _chief(acting)
    row = _page(acting, chief, days=60, per_page=6).rows[0]
    drawn: list[Any] = []
    real = commands._draw_row

    def counted(calendar: Any, row: Any, direct: bool) -> str:
        drawn.append((row, direct))
        return real(calendar, row, direct)

    monkeypatch.setattr(commands, "_draw_row", counted)
    english = commands._row_line(acting.calendar, row, False)
    assert commands._row_line(acting.calendar, row, False) == english and len(drawn) == 1
    with speaking("cy"):
        welsh = commands._row_line(acting.calendar, row, False)
    assert welsh != english and len(drawn) == 2
    # An equal row built afresh (another question after a change) is drawn again.
    commands._row_line(acting.calendar, replace(row), False)
    assert len(drawn) == 3


def test_a_state_set_without_an_audit_is_seen_and_nothing_is_shared_without_the_model(
    acting: Bot,  # noqa: F811
    builds: list[int],
) -> None:
    from bot.briefings.states import move

    chief = _chief(acting)
    shown = _pages_equal_full(acting, chief)
    row = next(r for r in shown if r.state == BriefingState.OPEN and r.briefing_id)
    with acting.app.session() as session:
        briefing = session.get(Briefing, row.briefing_id)
        assert briefing is not None
        move(briefing, BriefingState.BRIEFED)  # no action, no audit: only the model's count
    builds.clear()
    after = _pages_equal_full(acting, chief)
    assert builds and row not in after
    with acting.app.session() as session:
        briefing = session.get(Briefing, row.briefing_id)
        assert briefing is not None
        move(briefing, BriefingState.WITHDRAWN)  # the model is out of date until the sweep
    _pages_equal_full(acting, chief)
    builds.clear()
    _pages_equal_full(acting, chief)
    assert len(builds) == len(WINDOWS) * 2  # every question builds its own rows


def test_one_answer_reads_the_datas_version_once(acting: Bot) -> None:  # noqa: F811
    from sqlalchemy import event

    from bot.views.commands import answer

    chief = _chief(acting)
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "changecounter.name" in statement and "audithead.seq" in statement:
            seen.append(statement)

    event.listen(acting.app.engine, "before_cursor_execute", note)
    try:
        for days in (70, 71):
            seen.clear()
            with acting.app.session() as session:
                answer(
                    app=acting.app,
                    session=session,
                    text=f"days {days}",
                    actor_email=chief,
                    direct=True,
                )
            assert len(seen) == 1, days
    finally:
        event.remove(acting.app.engine, "before_cursor_execute", note)


def test_an_answer_reads_no_signing_key_for_its_heads_up_lines(acting: Bot) -> None:  # noqa: F811
    """The lines sign nothing, so a question does not read the button key for them."""
    from sqlalchemy import event

    from bot.headsups.record import recent_until
    from bot.views.commands import answer

    chief = _chief(acting)
    seen: list[str] = []
    with acting.app.session() as session:
        recent = recent_until(session, acting.app.now()).year < 9999

    def note(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement.lower())

    event.listen(acting.app.engine, "before_cursor_execute", note)
    try:
        for text in ("days 70", "mine"):
            shared_rows.forget_shared()  # the lines are built, not found kept
            seen.clear()
            with acting.app.session() as session:
                answer(app=acting.app, session=session, text=text, actor_email=chief, direct=True)
            looked = [s for s in seen if "headsup" in s]
            assert looked, text  # the lines were looked for
            assert not any("appsecret" in s for s in seen), text
            if not recent:
                # Nobody has given a heads-up in the fortnight: one look, none for the viewer's.
                assert len(looked) == 1 and "min(" in looked[0], looked
    finally:
        event.remove(acting.app.engine, "before_cursor_execute", note)
