"""The oversight notices' cards are drawn once per item, kind and language, not once a person.

A general exception goes to every scrutiny chair and a special urgency item to everyone in
democratic services; the card is the same for each of them in one language. Here each queued
card is compared with the card drawn for that person alone, with the chairs and clerks in two
languages, and the drawings are counted.
"""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from livebot import make_bot
from sqlalchemy import select
from sqlmodel import col

from bot.delivery.ports import MessageKind
from bot.intake.directory_csv import parse_directory
from bot.intake.forward_plan_csv import parse_forward_plan
from bot.intake.store import store_decisions, store_directory
from bot.store.models import Decision, Nudge, Role
from bot.store.secrets import payload_key
from bot.ticks import sweep_and_refresh
from bot.views.cards import PayloadSigner
from bot.views.renderer import Renderer

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import synthetic

NOTICES = (MessageKind.SCRUTINY_NOTICE, MessageKind.URGENCY_RECORD)


def test_each_notice_card_is_drawn_once_per_item_kind_and_language(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = synthetic.generate(tmp_path / "csv", decisions=400, people=200, wards=24)
    now = datetime.combine(made.start, datetime.min.time(), UTC) + timedelta(hours=9)
    bot = make_bot(f"sqlite:///{tmp_path / 'store.db'}", now, seed=False)
    people, portfolios, _ = parse_directory(made.people_csv, made.portfolios_csv)
    overseers = sorted(
        p.email for p in people if {Role.SCRUTINY_CHAIR, Role.DEMOCRATIC_SERVICES} & set(p.roles)
    )
    welsh = set(overseers[::2])
    people = [replace(p, language="cy") if p.email in welsh else p for p in people]
    records, _ = parse_forward_plan(made.forward_plan_csv)
    with bot.app.session() as session:
        store_directory(session, people, portfolios, now=now)
        store_decisions(session, records, source="csv", now=now)

    drawn: list[tuple[int, str, str]] = []
    real = Renderer.notice_card

    def counted(self: Renderer, decision: Decision, *, viewer: str, kind: str) -> Any:
        drawn.append((decision.id or 0, kind, self.language(viewer)))
        return real(self, decision, viewer=viewer, kind=kind)

    monkeypatch.setattr(Renderer, "notice_card", counted)
    with bot.app.session() as session:
        sweep_and_refresh(app=bot.app, session=session)
    monkeypatch.undo()

    with bot.app.session() as session:
        queued = list(
            session.scalars(
                select(Nudge).where(col(Nudge.kind).in_(NOTICES)).order_by(col(Nudge.id))
            )
        )
        renderer = Renderer(
            settings=bot.app.settings,
            calendar=bot.calendar,
            directory=bot.app.directory(session),
            signer=PayloadSigner(payload_key(session)),
        )
        for nudge in queued:
            decision_id = int(nudge.dedupe_key.split(":d")[1].split(":")[0])
            decision = session.get(Decision, decision_id)
            assert decision is not None
            alone = renderer.notice_card(decision, viewer=nudge.recipient_email, kind=nudge.kind)
            # As stored: JSON gives tuples back as lists.
            assert nudge.card == json.loads(json.dumps(alone.to_dict())), nudge.dedupe_key
    languages = {nudge.card["language"] for nudge in queued}
    assert {"cy", "en"} <= languages
    # Once for each shape, and fewer drawings than cards: several people share each shape.
    assert len(drawn) == len(set(drawn)) < len(queued)
    assert {(d, str(k)) for d, k, _ in drawn} == {
        (int(n.dedupe_key.split(":d")[1].split(":")[0]), n.kind) for n in queued
    }
