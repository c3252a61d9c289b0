"""One bad item never stops the council: the sweep skips and flags an item that raises,
reconciles the rest, and /healthz names it; the calendar copes with dates at its ends."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from livebot import Bot, email, make_bot, reimport_decisions, sqlite_url
from sqlalchemy import select, text
from sqlmodel import col
from test_sweep import NOW, tick

from bot.briefings import reconcile
from bot.decisions.calendar import CouncilCalendar, Nation
from bot.delivery.hub import Hub
from bot.server import build_web_app, health
from bot.store.models import Briefing, BriefingState, Nudge
from bot.views.phrases import NOT_ASSESSED_DATE

BAD = "HBC-2027-002"


@pytest.fixture
def bot(tmp_path: Path) -> Bot:
    return make_bot(sqlite_url(tmp_path), NOW)


def briefings_per_item(bot: Bot) -> dict[str, int]:
    with bot.app.engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT d.ref, count(*) FROM briefing b JOIN decision d ON d.id = b.decision_id "
                "GROUP BY d.ref"
            )
        )
        return dict(rows.all())


def set_due(bot: Bot, ref: str, due: str) -> None:
    # Straight into the database, as a bad import or a hand edit would leave it.
    with bot.app.engine.begin() as connection:
        connection.execute(
            text("UPDATE decision SET decision_due = :due WHERE ref = :ref"),
            {"due": due, "ref": ref},
        )


def break_assessment_of(monkeypatch: pytest.MonkeyPatch, ref: str) -> None:
    real = reconcile.assess

    def assess(facts, **kwargs):
        if facts.ref == ref:
            raise OverflowError("date value out of range")
        return real(facts, **kwargs)

    monkeypatch.setattr(reconcile, "assess", assess)


@pytest.mark.parametrize("due", ["0001-01-01", "0001-01-03", "9999-12-30"])
def test_a_decision_dated_at_the_ends_of_the_calendar_no_longer_stops_the_sweep(bot: Bot, due):
    set_due(bot, "HBC-2027-001", due)
    report = tick(bot)
    assert report.sweep.not_assessed == {}
    per_item = briefings_per_item(bot)
    assert "HBC-2027-001" not in per_item  # long past, or far beyond the horizon
    assert per_item["HBC-2027-002"] == 5 and len(per_item) == 10
    assert health(bot.app)["status"] == "ok"


def test_an_item_that_raises_is_skipped_and_flagged_and_the_rest_are_reconciled(
    bot: Bot,
    monkeypatch,
):
    break_assessment_of(monkeypatch, BAD)
    report = tick(bot)
    assert report.sweep.not_assessed == {BAD: NOT_ASSESSED_DATE}
    per_item = briefings_per_item(bot)
    assert BAD not in per_item and per_item["HBC-2027-001"] == 2 and len(per_item) == 10
    with bot.app.engine.connect() as connection:
        flags, error = connection.execute(
            text("SELECT flags, assess_error FROM decision WHERE ref = :r"), {"r": BAD}
        ).one()
    assert "could not be assessed: a date on it is outside the range" in flags
    assert error == NOT_ASSESSED_DATE
    # Tried again at every sweep until it works; then the flag and the health note go.
    assert tick(bot).sweep.not_assessed == {BAD: NOT_ASSESSED_DATE}
    monkeypatch.undo()
    assert tick(bot).sweep.not_assessed == {}
    assert briefings_per_item(bot)[BAD] == 5
    assert health(bot.app)["not_assessed"] == [] and health(bot.app)["status"] == "ok"


def test_half_done_work_of_a_failing_item_is_undone(bot: Bot, monkeypatch):
    real = reconcile._Reconciler.reconcile

    def reconcile_then_fail(self, decision, *args):
        real(self, decision, *args)  # queues its briefings and their audit events…
        if decision.ref == BAD:
            raise RuntimeError("boom")  # …then fails: none of it may be written

    monkeypatch.setattr(reconcile._Reconciler, "reconcile", reconcile_then_fail)
    report = tick(bot)
    assert report.sweep.not_assessed == {
        BAD: "an unexpected problem (RuntimeError) stopped the rules working it out"
    }
    assert all(a.ref != BAD for a in report.sweep.actions)
    assert BAD not in briefings_per_item(bot)
    with bot.app.engine.connect() as connection:
        audited = connection.execute(
            text(
                "SELECT count(*) FROM auditevent WHERE decision_ref = :r "
                "AND action LIKE 'briefing%'"
            ),
            {"r": BAD},
        ).scalar()
    assert audited == 0


async def test_healthz_says_degraded_and_names_the_item(bot: Bot, monkeypatch):
    break_assessment_of(monkeypatch, BAD)
    tick(bot)
    async with TestClient(TestServer(build_web_app(bot.app, Hub(bot.app)))) as client:
        response = await client.get("/healthz")
        body = await response.json()
    assert response.status == 200
    assert body["status"] == "degraded"
    assert body["not_assessed"] == [{"ref": BAD, "problem": NOT_ASSESSED_DATE}]


@pytest.mark.parametrize(
    ("day", "count", "expected"),
    [
        (date(1, 1, 3), -10, date.min),
        (date(1, 1, 1), 0, date.min),
        (date(9999, 12, 30), 10, date.max),
        (date(2027, 1, 5), -1, date(2027, 1, 4)),
    ],
)
def test_working_days_stop_at_the_ends_of_the_calendar_instead_of_raising(day, count, expected):
    assert CouncilCalendar().add_working_days(day, count) == expected


def test_the_sweep_command_names_the_item_it_skipped(bot: Bot, monkeypatch, capsys):
    from bot.cli import main as cli

    break_assessment_of(monkeypatch, BAD)
    monkeypatch.setenv("NOSURPRISES_DATABASE_URL", str(bot.app.engine.url))
    assert cli(["sweep", "--now", "2027-01-05T09:30"]) == 0
    out = capsys.readouterr().out
    assert f"  skipped {BAD}: could not be assessed: {NOT_ASSESSED_DATE}" in out


def test_an_item_that_fails_after_re_opening_a_briefing_takes_its_messages_back(
    bot: Bot, monkeypatch
):
    tick(bot)
    holder = bot.briefing("HBC-2027-003", email("Sarah Whitlock"))
    with bot.app.session() as session:
        row = session.get(Briefing, holder.id)
        assert row is not None
        row.state = BriefingState.ACKNOWLEDGED
        row.briefed_at = row.acknowledged_at = datetime(2027, 1, 5, 11, tzinfo=UTC)
    bot.set(datetime(2027, 1, 7, 10, tzinfo=UTC))
    reimport_decisions(bot.app, {"HBC-2027-003": {"decision_due": date(2027, 1, 28)}})
    real = reconcile._Reconciler.reconcile

    def reopen_then_fail(self, decision, *args):
        real(self, decision, *args)  # re-opens, queues both messages and audits it…
        if decision.ref == "HBC-2027-003":
            raise RuntimeError("boom")  # …then fails: all of that must be taken back

    monkeypatch.setattr(reconcile._Reconciler, "reconcile", reopen_then_fail)
    report = tick(bot)
    assert set(report.sweep.not_assessed) == {"HBC-2027-003"}
    assert bot.get(holder.id).state == BriefingState.ACKNOWLEDGED
    with bot.app.session() as session:
        queued = session.scalars(select(Nudge).where(col(Nudge.briefing_id) == holder.id)).all()
    assert [n for n in queued if n.kind.startswith("changed")] == []
    assert bot.events(action="briefing_reopened") == []
    monkeypatch.undo()
    assert ("reopen", "HBC-2027-003") in {(a.kind, a.ref) for a in tick(bot).sweep.actions}


def day_by_day(calendar: CouncilCalendar, low: date, high: date) -> int:
    return sum(
        calendar.is_working_day(date.fromordinal(n))
        for n in range(low.toordinal() + 1, high.toordinal() + 1)
    )


@pytest.mark.parametrize("nation", ["england-and-wales", "scotland", "northern-ireland"])
def test_long_spans_are_counted_by_arithmetic_with_the_same_answer(nation):
    closures = frozenset({date(2027, 12, 29), date(2028, 1, 1), date(2030, 6, 1)})
    calendar = CouncilCalendar(nation=Nation(nation), closure_days=closures)
    starts = [date(2026, 12, 24), date(2027, 1, 5), date(2027, 3, 27), date(2029, 12, 31)]
    for start in starts:
        for span in (401, 402, 403, 404, 405, 406, 730, 1461):
            end = date.fromordinal(start.toordinal() + span)
            assert calendar.working_days_between(start, end) == day_by_day(calendar, start, end)
            assert calendar.working_days_between(end, start) == -day_by_day(calendar, start, end)


def test_a_span_of_eight_thousand_years_is_quick_and_does_not_raise():
    calendar = CouncilCalendar(clear_days_skip_non_working=True)
    assert calendar.working_days_between(date(2027, 1, 5), date(9999, 12, 30)) > 2_000_000
    assert calendar.clear_days_between(date(1, 1, 1), date(2027, 1, 5)) > 500_000


@pytest.mark.parametrize("nation", ["england-and-wales", "scotland", "northern-ireland"])
def test_short_spans_read_from_running_totals_match_counting_day_by_day(nation):
    # Spans up to LONG_SPAN_DAYS are read off per-year running totals; across year ends, over
    # closure days and bank holidays they must give what counting each day gives.
    closures = frozenset({date(2027, 12, 29), date(2028, 1, 4), date(2027, 6, 1)})
    calendar = CouncilCalendar(nation=Nation(nation), closure_days=closures)
    starts = [date(2026, 12, 24), date(2027, 1, 1), date(2027, 5, 28), date(2027, 12, 31)]
    for start in starts:
        for span in (0, 1, 2, 3, 6, 7, 8, 13, 29, 90, 183, 365, 366, 399, 400):
            end = date.fromordinal(start.toordinal() + span)
            assert calendar.working_days_between(start, end) == day_by_day(calendar, start, end)
            assert calendar.working_days_between(end, start) == -day_by_day(calendar, start, end)
    # The last year of the calendar has no running totals (its last day has no successor).
    skipping = CouncilCalendar(clear_days_skip_non_working=True)
    last_days = day_by_day(skipping, date(9999, 12, 1), date(9999, 12, 30))
    assert skipping.clear_days_between(date(9999, 12, 1), date(9999, 12, 31)) == last_days
