"""execute_many writes exactly what SQLAlchemy's own executemany writes, on both backends."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from livebot import make_bot
from sqlalchemy import bindparam, insert, select, text, update

from bot.store import bulk
from bot.store.models import Briefing, BriefingState, Decision, table_of

NOW = datetime(2027, 1, 12, 9, 30, tzinfo=UTC)


def _briefing_rows(decision_ids: list[int], member: str) -> list[dict[str, Any]]:
    # One ladder object and one timestamp shared by every row, as the sweep writes them, and
    # values that differ row by row; the columns left out take their defaults.
    ladder = [{"name": "prompt", "recipient": "briefer", "offset_working_days": -10}]
    return [
        {
            "decision_id": decision_id,
            "member_email": member,
            "briefer_email": f"officer{i}@example.org",
            "reasons": [f"Ward councillor for Ward {i}", "Leader of the Council (key decision)"],
            "due_at": NOW + timedelta(days=i),
            "ladder": ladder,
            "next_step_at": None if i % 2 else NOW - timedelta(hours=i),
            "ladder_reset_at": NOW,
            "former_briefers": [],
            "created_at": NOW,
            "updated_at": NOW,
        }
        for i, decision_id in enumerate(decision_ids)
    ]


def _columns(briefing: Briefing) -> dict[str, Any]:
    return {
        column.name: getattr(briefing, column.name)
        for column in table_of(Briefing).columns
        if column.name not in ("id", "member_email")
    }


def test_execute_many_writes_what_sqlalchemy_writes(database_url: str):
    bot = make_bot(database_url, NOW, migrate=True)
    table = table_of(Briefing)
    with bot.app.session() as session:
        ids = list(session.scalars(select(Decision.id).order_by(Decision.id)))[:6]
        session.execute(insert(table), _briefing_rows(ids, "theirs@example.org"))
        bulk.execute_many(session, insert(table), _briefing_rows(ids, "ours@example.org"))
    with bot.app.session() as session:
        found = session.scalars(select(Briefing).order_by(Briefing.decision_id, Briefing.id))
        by_member: dict[str, list[dict[str, Any]]] = {}
        for briefing in found:
            by_member.setdefault(briefing.member_email, []).append(_columns(briefing))
    ours, theirs = by_member["ours@example.org"], by_member["theirs@example.org"]
    assert ours == theirs and len(ours) == 6
    assert ours[0]["state"] == BriefingState.OPEN and ours[0]["ladder"][0]["name"] == "prompt"
    assert ours[1]["next_step_at"] is None and ours[2]["due_at"] == NOW + timedelta(days=2)
    bot.app.engine.dispose()


def test_execute_many_updates_by_a_named_key(database_url: str):
    bot = make_bot(database_url, NOW, migrate=True)
    table = table_of(Decision)
    statement = (
        update(table)
        .where(table.c.id == bindparam("row"))
        .values(flags=bindparam("flags_"), swept_fingerprint=bindparam("fingerprint"))
    )
    with bot.app.session() as session:
        ids = list(session.scalars(select(Decision.id).order_by(Decision.id)))
        flags = [{"code": "exempt", "text": "Part exempt — “quoted” ünïcode"}]
        bulk.execute_many(
            session,
            statement,
            [{"row": i, "flags_": flags, "fingerprint": f"fp{i}"} for i in ids[:3]],
        )
    with bot.app.session() as session:
        decisions = list(session.scalars(select(Decision).order_by(Decision.id)))
        assert [d.flags for d in decisions[:3]] == [flags] * 3
        assert [d.swept_fingerprint for d in decisions[:3]] == [f"fp{i}" for i in ids[:3]]
        assert decisions[3].swept_fingerprint != "fp" + str(ids[3])
        assert decisions[0].decision_due >= date(2027, 1, 1)
    bot.app.engine.dispose()


def test_values_shared_by_rows_are_bound_once():
    bound: list[object] = []

    def processor(value: object) -> str:
        bound.append(value)
        return repr(value)

    shared, other = ["a"], ["a"]
    values = [shared, shared, other, shared]
    assert bulk._bound_once_each(values, processor) == ["['a']"] * 4
    assert bound == [shared, other]  # once per distinct object, equal or not


def test_the_sweep_shares_one_reasons_list_between_briefings_with_the_same_reasons():
    from bot.briefings.reconcile import _Reconciler

    reconciler = _Reconciler.__new__(_Reconciler)
    reconciler.reason_lists = {}
    first = reconciler._reasons(("Ward councillor for Mill",))
    again = reconciler._reasons(("Ward councillor for Mill",))
    other = reconciler._reasons(("Leader of the Council (key decision)",))
    assert first is again and first == ["Ward councillor for Mill"]
    assert other is not first


def test_encoded_columns_reach_the_driver_as_given(database_url: str):
    """A JSON column's value already in stored form is written as that text (PostgreSQL still
    casts it to JSON), reads back as the value; naming a column the rows lack is refused."""
    bot = make_bot(database_url, NOW, migrate=True)
    table = table_of(Briefing)
    with bot.app.session() as session:
        ids = list(session.scalars(select(Decision.id).order_by(Decision.id)))[:2]
        rows = _briefing_rows(ids, "encoded@example.org")
        for row in rows:
            row["reasons"] = json.dumps(row["reasons"], separators=(",", ":"))
        with pytest.raises(ValueError, match="missing"):
            bulk.execute_many(session, insert(table), rows, encoded=("reasons", "nope"))
        bulk.execute_many(session, insert(table), rows, encoded=("reasons",))
    with bot.app.session() as session:
        stored = session.execute(
            text(
                "SELECT CAST(reasons AS TEXT) FROM briefing "
                "WHERE member_email = 'encoded@example.org' ORDER BY decision_id"
            )
        ).scalars()
        assert list(stored) == [row["reasons"] for row in rows]
        read = session.scalars(
            select(Briefing.reasons)
            .where(Briefing.member_email == "encoded@example.org")
            .order_by(Briefing.decision_id)
        )
        assert list(read) == [json.loads(row["reasons"]) for row in rows]
    bot.app.engine.dispose()
