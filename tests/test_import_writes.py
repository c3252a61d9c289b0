"""The forward plan is written with plain table inserts and updates (issue 15): what lands in
the database is what the model objects used to write, and a session that already holds a
decision sees the new values."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from livebot import SAMPLE_COUNCIL
from sqlalchemy import select
from sqlmodel import col

from bot.app import App
from bot.clock import SettableClock
from bot.config import Settings
from bot.intake.forward_plan_csv import parse_forward_plan
from bot.intake.store import store_decisions
from bot.store.models import Decision, DecisionChange

NOW = datetime(2027, 1, 5, 9, 30, tzinfo=UTC)


@pytest.fixture
def app(tmp_path: Path) -> App:
    settings = Settings().with_overrides(database_url=f"sqlite:///{tmp_path / 'db.sqlite'}")
    return App.open(settings, clock=SettableClock(NOW))


def test_a_new_item_gets_every_column_the_model_would_have_given_it(app: App) -> None:
    records, _ = parse_forward_plan(SAMPLE_COUNCIL / "forward_plan.csv")
    with app.session() as session:
        store_decisions(session, records, source="csv", now=NOW)
    with app.session() as session:
        stored = {d.ref: d for d in session.scalars(select(Decision))}
    assert set(stored) == {r.ref for r in records}
    for record in records:
        row = stored[record.ref]
        # Every source field, as the model object would have stored it (lists as lists).
        for name, value in record.comparable().items():
            assert getattr(row, name) == value, (record.ref, name)
        assert row.content_hash == record.content_hash()
        assert (row.source, row.first_seen_at, row.updated_at) == ("csv", NOW, NOW)
        assert (row.flags, row.swept_fingerprint, row.missing_since) == ([], "", None)


def test_a_session_holding_a_decision_sees_the_import_change_it(app: App) -> None:
    records, _ = parse_forward_plan(SAMPLE_COUNCIL / "forward_plan.csv")
    first = records[0]
    with app.session() as session:
        store_decisions(session, records, source="csv", now=NOW)
    later = NOW + timedelta(days=1)
    moved = dataclasses.replace(first, title="A new title", wards=("Quayside",))
    with app.session() as session:
        held = session.scalars(select(Decision).where(col(Decision.ref) == first.ref)).one()
        assert held.title == first.title
        result = store_decisions(session, [moved, *records[1:]], source="csv", now=later)
        assert held.title == "A new title" and held.wards == ["Quayside"]
        assert held.updated_at == later
        changes = session.scalars(
            select(DecisionChange).where(col(DecisionChange.decision_id) == held.id)
        ).all()
    assert {c.field for c in changes} >= {"title", "wards"}
    assert result.changed[first.ref][0][0] in {"title", "wards"}
    # Dropped from a complete list, then listed again: both recorded, the row back in use.
    with app.session() as session:
        gone = store_decisions(session, records[1:], source="csv", now=later)
        back = store_decisions(session, records, source="csv", now=later + timedelta(hours=1))
        row = session.scalars(select(Decision).where(col(Decision.ref) == first.ref)).one()
    assert gone.disappeared == [first.ref]
    assert ("presence", "missing from source", "listed") in back.changed[first.ref]
    assert row.missing_since is None and row.title == first.title


def test_equal_ward_lists_are_one_object_in_the_rows_written(app: App, monkeypatch) -> None:
    import bot.intake.store as store_module

    written: list[dict] = []
    real = store_module.execute_many

    def spy(session, statement, rows):
        written.extend(rows)
        return real(session, statement, rows)

    monkeypatch.setattr(store_module, "execute_many", spy)
    first = parse_forward_plan(SAMPLE_COUNCIL / "forward_plan.csv")[0][0]
    records = [
        dataclasses.replace(first, ref=f"HBC-2099-{n:03d}", wards=("Mill",)) for n in range(3)
    ]
    with app.session() as session:
        store_module.store_decisions(session, records, source="csv", now=NOW)
    wards = [row["wards"] for row in written if "wards" in row]
    assert len(wards) == 3 and wards[0] == ["Mill"]
    assert all(w is wards[0] for w in wards)
