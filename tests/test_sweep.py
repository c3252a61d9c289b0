"""The sweep: creates, updates, closes and re-opens briefings; a no-change sweep writes nothing."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from livebot import Bot, email, make_bot, reimport_decisions, sqlite_url
from sqlalchemy import select, text

from bot.briefings.escalate import run_sweep_tick
from bot.briefings.reconcile import sweep
from bot.cli import main as cli
from bot.store.models import Briefing, BriefingState, Decision, Nudge

NOW = datetime(2027, 1, 5, 9, 30, tzinfo=UTC)
TABLES = ("briefing", "decision", "nudge", "auditevent", "audithead", "decisionchange")


@pytest.fixture
def bot(tmp_path: Path) -> Bot:
    return make_bot(sqlite_url(tmp_path), NOW)


def tick(bot: Bot):
    with bot.app.session() as session:
        return run_sweep_tick(app=bot.app, session=session)


def dump(bot: Bot) -> dict[str, list]:
    with bot.app.engine.connect() as connection:
        return {
            t: [tuple(r) for r in connection.execute(text(f"SELECT * FROM {t} ORDER BY 1"))]
            for t in TABLES
        }


def briefings(bot: Bot) -> list[Briefing]:
    with bot.app.session() as session:
        return list(session.scalars(select(Briefing)))


def test_first_sweep_creates_the_expected_briefings(bot: Bot):
    report = tick(bot)
    per_item = Counter(
        ref
        for (ref,) in bot.app.engine.connect().execute(
            text("SELECT d.ref FROM briefing b JOIN decision d ON d.id = b.decision_id")
        )
    )
    # 002 has five (holder and Quayside, Shah, Carrow, Lind, the leader); withdrawn 012 none.
    assert per_item == {
        "HBC-2027-001": 2,
        "HBC-2027-002": 5,
        "HBC-2027-003": 2,
        "HBC-2027-004": 2,
        "HBC-2027-005": 2,
        "HBC-2027-006": 2,
        "HBC-2027-007": 2,
        "HBC-2027-008": 2,
        "HBC-2027-009": 4,
        "HBC-2027-010": 4,
        "HBC-2027-011": 2,
    }
    assert report.sweep.counts() == {"create": 29}
    assert all(b.state == BriefingState.OPEN for b in briefings(bot))


def test_a_second_sweep_with_no_changes_writes_nothing(bot: Bot):
    tick(bot)
    before = dump(bot)
    report = tick(bot)
    assert report.sweep.actions == [] and report.sweep.assessed == 0
    assert dump(bot) == before


def test_dry_run_reports_the_same_actions_and_writes_nothing(bot: Bot):
    before = dump(bot)
    with bot.app.session() as session:
        dry = run_sweep_tick(app=bot.app, session=session, dry_run=True)
    assert dump(bot) == before
    real = tick(bot)
    assert [a.as_dict() for a in dry.sweep.actions] == [a.as_dict() for a in real.sweep.actions]
    assert {s.recipient for s in dry.steps} == {s.recipient for s in real.steps}


def test_moving_a_decision_date_updates_due_times(bot: Bot):
    tick(bot)
    bot.set(datetime(2027, 1, 6, 10, tzinfo=UTC))
    reimport_decisions(bot.app, {"HBC-2027-008": {"decision_due": date(2027, 3, 25)}})
    report = tick(bot)
    assert {(a.kind, a.ref) for a in report.sweep.actions} == {("update", "HBC-2027-008")}
    with bot.app.session() as session:
        dues = {
            b.due_at
            for b in session.scalars(
                select(Briefing).join(Decision).where(Decision.ref == "HBC-2027-008")
            )
        }
    assert dues == {datetime(2027, 3, 11, 17, 0, tzinfo=UTC)}


def test_withdrawal_closes_open_briefings(bot: Bot):
    tick(bot)
    reimport_decisions(bot.app, {"HBC-2027-006": {"status": "Withdrawn"}})
    report = tick(bot)
    assert Counter(a.kind for a in report.sweep.actions) == {"close": 2}
    with bot.app.session() as session:
        states = set(
            session.scalars(
                select(Briefing.state).join(Decision).where(Decision.ref == "HBC-2027-006")
            )
        )
    assert states == {BriefingState.WITHDRAWN}
    assert len(bot.events(action="briefing_closed")) == 2


def test_date_brought_forward_reopens_an_acknowledged_briefing(bot: Bot):
    tick(bot)
    holder = bot.briefing("HBC-2027-003", email("Sarah Whitlock"))
    with bot.app.session() as session:
        row = session.get(Briefing, holder.id)
        row.state = BriefingState.ACKNOWLEDGED
        row.briefed_at = row.acknowledged_at = datetime(2027, 1, 5, 11, tzinfo=UTC)
    bot.set(datetime(2027, 1, 7, 10, tzinfo=UTC))
    reimport_decisions(bot.app, {"HBC-2027-003": {"decision_due": date(2027, 1, 28)}})
    report = tick(bot)
    assert ("reopen", "HBC-2027-003") in {(a.kind, a.ref) for a in report.sweep.actions}
    reopened = bot.get(holder.id)
    assert reopened.state == BriefingState.OPEN
    assert reopened.changed_since_briefed == "the decision date moved from Thu 11 Feb to Thu 28 Jan"
    with bot.app.session() as session:
        told = {
            (n.recipient_email, n.kind)
            for n in session.scalars(select(Nudge).where(Nudge.briefing_id == holder.id))
        }
    assert {
        (email("Sarah Whitlock"), "changed_member"),
        (email("Imran Qureshi"), "changed_briefer"),
    } <= told


def test_unmatched_items_are_flagged_by_the_sweep(bot: Bot):
    reimport_decisions(bot.app, {"HBC-2027-007": {"portfolio": "Space", "portfolio_holder": ""}})
    tick(bot)
    with bot.app.session() as session:
        flags = session.scalar(select(Decision.flags).where(Decision.ref == "HBC-2027-007"))
    assert "no_portfolio_match" in {f["code"] for f in flags}


def test_sweep_function_alone_is_idempotent(bot: Bot):
    with bot.app.session() as session:
        first = sweep(
            session=session, settings=bot.app.settings, calendar=bot.app.calendar, now=NOW
        )
    with bot.app.session() as session:
        second = sweep(
            session=session, settings=bot.app.settings, calendar=bot.app.calendar, now=NOW
        )
    assert len(first.actions) == 29 and second.actions == []


def test_cli_dry_run_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys):
    monkeypatch.setenv("NOSURPRISES_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("NOSURPRISES_NOW", "2027-01-05T09:30")
    make_bot(f"sqlite:///{tmp_path / 'cli.db'}", NOW)
    capsys.readouterr()
    assert cli(["sweep", "--dry-run", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["counts"] == {"create": 29}
    assert cli(["sweep", "--dry-run", "--json"]) == 0  # still nothing written
    assert json.loads(capsys.readouterr().out)["counts"] == {"create": 29}


def test_the_sweep_does_not_read_the_flags_it_rewrites(bot: Bot):
    from sqlalchemy import event

    statements: list[str] = []
    listener = lambda *a: statements.append(a[2])  # noqa: E731
    event.listen(bot.app.engine, "before_cursor_execute", listener)
    try:
        with bot.app.session() as session:
            sweep(
                session=session,
                settings=bot.app.settings,
                calendar=bot.calendar,
                now=bot.now(),
            )
            session.commit()
    finally:
        event.remove(bot.app.engine, "before_cursor_execute", listener)
    reads = [s for s in statements if s.startswith("SELECT decision.id, decision.ref")]
    # Only their short hash, to know whether they changed.
    assert reads and not any(re.search(r"decision\.flags\b(?!_hash)", s) for s in reads)
    assert all("decision.flags_hash" in s for s in reads)
    # The flags are written all the same.
    with bot.app.session() as session:
        assert any(d.flags for d in session.scalars(select(Decision)))


def test_plain_rows_give_the_rules_the_same_facts_as_model_objects(database_url: str):
    from dataclasses import fields

    from bot.briefings.reconcile import AssessedRows, facts_for
    from bot.decisions.rules import assess

    bot = make_bot(database_url, NOW, migrate=True)
    reimport_decisions(bot.app, {"HBC-2027-007": {"decision_due": date(2027, 2, 25)}})
    with bot.app.session() as session:
        objects = {d.id: d for d in session.scalars(select(Decision))}
        rows = AssessedRows(session).load(sorted(objects))
        directory = bot.app.directory(session)
    assert len(rows) == len(objects) > 10
    assert any(facts_for(values, []).wards for _, values in rows)
    for row, values in rows:
        history = [(date(2027, 2, 11), date(2027, 2, 25))] if row.ref == "HBC-2027-007" else []
        plain, model = facts_for(values, history), facts_for(objects[row.id], history)
        # Every field, those left out of equality too.
        assert [getattr(plain, f.name) for f in fields(plain)] == [
            getattr(model, f.name) for f in fields(model)
        ]
        kwargs = dict(
            directory=directory,
            calendar=bot.calendar,
            rules=bot.app.settings.rules,
            now=NOW,
            nation=bot.app.settings.council.nation,
        )
        assert assess(plain, **kwargs) == assess(model, **kwargs)
    bot.app.engine.dispose()


def test_ladders_climbed_from_plain_rows_write_what_model_objects_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    import bot.briefings.escalate as escalate

    (tmp_path / "rows").mkdir()
    (tmp_path / "objects").mkdir()
    rows = make_bot(sqlite_url(tmp_path / "rows"), NOW)
    objects = make_bot(sqlite_url(tmp_path / "objects"), NOW)
    days = (date(2027, 1, 5), date(2027, 1, 12), date(2027, 1, 26))
    reports = []
    for day in days:
        rows.set(rows.morning(day))
        reports.append(tick(rows))
    assert sum(len(r.steps) for r in reports) > 20

    due_briefings = escalate._due_briefings

    def every_briefing_an_object(session, now):
        found = due_briefings(session, now)
        ids = [b.id for b in found]
        loaded = {b.id: b for b in session.scalars(select(Briefing).where(Briefing.id.in_(ids)))}
        return [loaded[i] for i in ids]

    monkeypatch.setattr(escalate, "_due_briefings", every_briefing_an_object)
    for day, report in zip(days, reports, strict=True):
        objects.set(objects.morning(day))
        assert tick(objects).steps == report.steps
    assert dump(rows) == dump(objects)
    # A briefing the session holds as an object agrees with what was written for its row.
    monkeypatch.undo()
    with rows.app.session() as session:
        held = session.scalars(select(Briefing).order_by(Briefing.id)).all()
        escalate._write_ladder_positions(
            session,
            [
                {
                    "row": held[0].id,
                    "next_step_index": 3,
                    "next_step_at": None,
                    "updated_at": NOW,
                    "last_step_at": NOW,
                }
            ],
        )
        assert (held[0].next_step_index, held[0].next_step_at) == (3, None)
        assert held[0] not in session.dirty


@pytest.mark.parametrize(
    "changed", [("HBC-2027-001", "HBC-2027-003"), ("HBC-2027-001", "HBC-2027-011")]
)
def test_a_sweep_of_a_few_changed_items_reads_only_those(bot: Bot, changed: tuple[str, str]):
    from bot.briefings.reconcile import ids_filter

    tick(bot)
    moved = {ref: {"decision_due": date(2027, 3, 4)} for ref in changed}
    reimport_decisions(bot.app, moved)
    report = tick(bot)
    # Two items a row apart are read as a range (the one between them skipped), two far
    # apart by their ids.
    assert report.sweep.assessed == 2
    assert {a.ref for a in report.sweep.actions} == set(changed)
    assert {a.kind for a in report.sweep.actions} == {"update"}
    assert "BETWEEN" in str(ids_filter(Decision.id, [1, 3])).upper()
    assert "IN" in str(ids_filter(Decision.id, [1, 11])).upper()


def test_a_no_change_sweep_on_the_same_day_does_not_look_for_notices_again(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
):
    import bot.briefings.escalate as escalate

    looked: list[datetime] = []
    real = escalate.notify_oversight

    def spy(**kwargs):
        looked.append(kwargs["now"])
        return real(**kwargs)

    monkeypatch.setattr(escalate, "notify_oversight", spy)
    tick(bot)
    assert tick(bot).sweep.unchanged and len(looked) == 1  # nothing changed: not again
    reimport_decisions(bot.app, {"HBC-2027-005": {"notice_type": "General Exception"}})
    assert not tick(bot).sweep.unchanged and len(looked) == 2  # an item changed
    bot.set(bot.morning(date(2027, 1, 6)))
    assert not tick(bot).sweep.unchanged and len(looked) == 3  # a new day
