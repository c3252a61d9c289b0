"""Escalation works out each ladder's choice once for all the briefings that share it.

A first tick at scale runs tens of thousands of ladders that share a few ladders, due dates and
reset times; `escalate` decodes each stored ladder once and asks `due_steps` once per distinct
question. Here two copies of one council are ticked over several days with the same actions in
between, one with that sharing and one working out every briefing alone: every message, audit
event (hashes included), ladder position and reported step must be the same.
"""

from __future__ import annotations

import json
import shutil
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from livebot import Bot, make_bot
from sqlalchemy import select, text
from sqlmodel import col

import bot.briefings.escalate as escalate
from bot.briefings.states import move
from bot.intake.directory_csv import parse_directory
from bot.intake.forward_plan_csv import parse_forward_plan
from bot.intake.store import store_decisions, store_directory
from bot.store import audit
from bot.store.models import Briefing, BriefingState
from bot.ticks import sweep_and_refresh

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import synthetic

TABLES = {
    "nudge": "id",
    "auditevent": "seq",
    "briefing": "id",
}


def _imported(folder: Path) -> tuple[Path, datetime]:
    made = synthetic.generate(folder / "csv", decisions=300, people=160, wards=12, portfolios=6)
    now = datetime.combine(made.start, datetime.min.time(), UTC) + timedelta(hours=9, minutes=30)
    path = folder / "imported.db"
    bot = make_bot(f"sqlite:///{path}", now, seed=False)
    people, portfolios, _ = parse_directory(made.people_csv, made.portfolios_csv)
    records, _ = parse_forward_plan(made.forward_plan_csv)
    with bot.app.session() as session:
        store_directory(session, people, portfolios, now=now)
        store_decisions(session, records, source="csv", now=now)
    bot.app.engine.dispose()
    return path, now


def _act(bot: Bot, day: int) -> None:
    """The same actions on either copy: some briefings logged, some snoozed, and some set going
    again, differing only in when they were reset or last sent a step (neighbouring briefings
    are mostly on one decision, so share a due date)."""
    now = bot.now()
    reset = now - timedelta(hours=1)
    with bot.app.session() as session:
        briefings = list(session.scalars(select(Briefing).order_by(col(Briefing.id))))
        for i, briefing in enumerate(b for b in briefings[day:] if b.state == BriefingState.OPEN):
            variant = i % 7
            if variant == 0:
                move(briefing, BriefingState.BRIEFED)
                briefing.member_reminder_at = now + timedelta(days=1)
            elif variant == 1:
                move(briefing, BriefingState.SNOOZED)
                briefing.snoozed_until = now + timedelta(days=2)
            else:
                # Set going again by a change (2-4), at the start or at the director's rung
                # (the example ladder's fourth), already prompted or not: the catch-up path;
                # or (5, 6) never reset: a late tick's path.
                briefing.ladder_reset_at = reset if variant <= 4 else None
                briefing.last_step_at = now - timedelta(minutes=30) if variant == 3 else None
                briefing.next_step_index = 0 if variant in (4, 5) else 3
                briefing.next_step_at = now


def _run(path: Path, now: datetime) -> list[str]:
    bot = make_bot(f"sqlite:///{path}", now, seed=False)
    written: list[str] = []
    for day in (0, 1, 2, 5, 9):
        bot.set(now + timedelta(days=day))
        with bot.app.session() as session:
            report = sweep_and_refresh(app=bot.app, session=session)
        written.append(json.dumps([step.as_dict() for step in report.steps]))
        _act(bot, day)
    with bot.app.engine.connect() as connection:
        for table, order in TABLES.items():
            for row in connection.execute(text(f"SELECT * FROM {table} ORDER BY {order}")):
                written.append(f"{table} {[str(v) for v in row]}")
    bot.app.engine.dispose()
    return written


def test_shared_ladder_choices_write_what_working_each_out_alone_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    imported, now = _imported(tmp_path)
    shutil.copyfile(imported, tmp_path / "alone.db")
    shutil.copyfile(imported, tmp_path / "shared.db")

    asked: dict[int, list[int]] = {}  # per tick: how many were worked out before each ask
    real_choose = escalate._Ladders.choose

    def counted(self: Any, *args: Any) -> Any:
        asked.setdefault(id(self), []).append(len(self.choices))
        found = real_choose(self, *args)
        asked[id(self)].append(len(self.choices))
        return found

    monkeypatch.setattr(escalate._Ladders, "choose", counted)
    shared = _run(tmp_path / "shared.db", now)
    first_tick = next(iter(asked.values()))

    def alone(self: Any, ladder: Any, briefing: Any, held: Any, _text: Any) -> Any:
        return real_choose(self, ladder, briefing, held, None)

    monkeypatch.setattr(escalate._Ladders, "choose", alone)
    monkeypatch.setattr(escalate._Ladders, "ladder", lambda self, text: json.loads(text))
    assert _run(tmp_path / "alone.db", now) == shared

    steps = [json.loads(line) for line in shared[:5]]
    assert len(steps[0]) > 30  # the first tick escalates a good deal
    kinds = {step["step"] for day in steps for step in day}
    assert {"member_reminder", "prompt"} <= kinds
    events = [line for line in shared if line.startswith("auditevent")]
    for action in ("escalation_step", "snooze_ended", "member_reminder", "briefer_prompted"):
        assert any(f"'{action}'" in line for line in events), action
    assert any("skipped_as_stale" in line for line in events)
    # Far fewer questions worked out than briefings asked about on the first tick.
    assert 0 < first_tick[-1] < len(first_tick) / 2 / 4, (first_tick[-1], len(first_tick) / 2)


def test_details_with_lists_of_text_are_encoded_without_a_round_trip(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    details = {"skipped_as_stale": ["prompt", "reminder"], "to": "x@y.gov.uk", "n": 2}
    expected = json.dumps(details, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    def no_round_trip(*_: Any, **__: Any) -> Any:
        raise AssertionError("round trip")

    monkeypatch.setattr(audit.json, "loads", no_round_trip)
    assert audit.details_text(details) == expected
    # Anything else still goes through JSON and back (a tuple as a list, a list of numbers).
    monkeypatch.undo()
    assert audit.details_text({"refs": ("A", "B")}) == '{"refs":["A","B"]}'
    assert audit.details_text({"nested": [["a"]]}) == '{"nested":[["a"]]}'
