"""The statutory notices the product follows up, about a decision rather than one briefing.

A general exception (reg 10 in England) needs the scrutiny chair told in writing: the chair is
sent a card and asked to acknowledge it. Special urgency (reg 11) needs the agreement of the
scrutiny chair (or the chair or vice-chair of the council): the product cannot know it was
given, so democratic services record it with a button. These buttons carry the decision's id.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from bot.briefings.actions import Outcome, Services
from bot.delivery.outbox import OutboxBatch
from bot.delivery.ports import MessageKind
from bot.store import audit
from bot.store.directory import Directory
from bot.store.models import Decision, DecisionStatus, NoticeType, Nudge, Role, table_of
from bot.views import phrases
from bot.views.bilingual import words
from bot.views.cards import ActionKind
from bot.views.renderer import Renderer


def _with_role(directory: Directory, role: Role) -> list[str]:
    return sorted(p.email for p in directory.people.values() if p.has(role))


def notify_oversight(
    *, session: Session, renderer: Renderer, now: datetime, horizon_days: int
) -> int:
    """Send each pending general exception to the scrutiny chair, and each special urgency
    item to democratic services, once. Returns how many messages were queued.

    Runs on every sweep, so what was sent before is looked up in bulk and only new cards drawn.
    """
    calendar = renderer.calendar
    today = calendar.local_date(now)
    chairs = _with_role(renderer.directory, Role.SCRUTINY_CHAIR)
    clerks = _with_role(renderer.directory, Role.DEMOCRATIC_SERVICES)
    # (decision id, kind, recipient, dedupe key)
    wanted: list[tuple[int, MessageKind, str, str]] = []
    table = table_of(Decision)
    # Plain rows of the few columns that say who is still owed a notice: every sweep asks,
    # and most of the time everyone has been sent theirs, so no model object is needed.
    for row in session.execute(
        select(
            table.c.id,
            table.c.notice_type,
            table.c.scrutiny_acknowledged_by,
            table.c.urgency_agreed_by,
        ).where(
            table.c.status == DecisionStatus.FOR_DETERMINATION,
            table.c.decision_due >= today,
            table.c.decision_due <= today + timedelta(days=horizon_days),
            table.c.notice_type.in_([NoticeType.GENERAL_EXCEPTION, NoticeType.SPECIAL_URGENCY]),
        )
    ):
        if row.notice_type == NoticeType.GENERAL_EXCEPTION:
            if row.scrutiny_acknowledged_by:
                continue
            kind: MessageKind = MessageKind.SCRUTINY_NOTICE
            people = chairs
        else:
            if row.urgency_agreed_by:
                continue
            kind, people = MessageKind.URGENCY_RECORD, clerks
        wanted += [(row.id, kind, email, f"{kind}:d{row.id}:{email}") for email in people]
    keys = [key for *_, key in wanted]
    sent: set[str] = set()
    for start in range(0, len(keys), 500):
        sent.update(
            session.scalars(
                select(col(Nudge.dedupe_key)).where(
                    col(Nudge.dedupe_key).in_(keys[start : start + 500])
                )
            )
        )
    unsent = [item for item in wanted if item[3] not in sent]
    # Only the items someone is still owed a notice about are drawn, from model objects.
    owed = sorted({decision_id for decision_id, *_ in unsent})
    decisions = {
        d.id: d
        for start in range(0, len(owed), 500)
        for d in session.scalars(
            select(Decision).where(col(Decision.id).in_(owed[start : start + 500]))
        )
    }
    outbox = OutboxBatch(session, calendar)
    told: dict[tuple[str, MessageKind], list[str]] = {}
    # A notice reads the same for everyone told of it in one language: drawn once for each
    # (and the one card is encoded once when the batch is written).
    drawn: dict[tuple[int, MessageKind, str], dict[str, Any]] = {}
    for decision_id, kind, email, key in unsent:
        decision = decisions[decision_id]
        shape = (decision_id, kind, renderer.language(email))
        card = drawn.get(shape)
        if card is None:
            card = drawn[shape] = renderer.notice_card(decision, viewer=email, kind=kind).to_dict()
        outbox.add(recipient=email, kind=kind, key=key, send_at=now, card=card)
        told.setdefault((decision.ref, kind), []).append(email)
    queued = outbox.flush()
    audit.append(
        session,
        [
            audit.EventData(
                action=_TOLD[kind],
                at=now,
                platform="sweep",
                decision_ref=ref,
                details={"to": emails},
            )
            for (ref, kind), emails in told.items()
        ],
    )
    return queued


_TOLD = {
    MessageKind.SCRUTINY_NOTICE: "scrutiny_chair_told",
    MessageKind.URGENCY_RECORD: "urgency_record_asked",
}


def perform_decision_action(
    *,
    session: Session,
    kind: ActionKind,
    decision_id: int,
    actor_email: str,
    platform: str,
    inputs: dict[str, str],
    services: Services,
    now: datetime,
) -> Outcome:
    """The scrutiny chair's acknowledgement, or democratic services' record of agreement; the
    answer is in the language being spoken (the caller sets the actor's)."""
    decision = session.get(Decision, decision_id)
    actor = services.directory.person(actor_email)
    if decision is None or actor is None:
        message = words(phrases.NOT_SET_UP) if actor is None else words(phrases.NO_SUCH_ITEM)
        _record(session, kind, actor_email, platform, now, decision, "refused", "unknown")
        return Outcome(False, message, refused=True)
    if kind == ActionKind.SCRUTINY_ACKNOWLEDGE:
        if not actor.has(Role.SCRUTINY_CHAIR):
            _record(session, kind, actor.email, platform, now, decision, "refused", "not chair")
            return Outcome(False, words(phrases.ONLY_SCRUTINY_CHAIR), refused=True)
        if decision.scrutiny_acknowledged_by:
            return Outcome(True, words(phrases.ALREADY_ACKNOWLEDGED_NOTICE))
        decision.scrutiny_acknowledged_by = actor.email
        decision.scrutiny_acknowledged_at = now
        message = words(phrases.ACKNOWLEDGED_NOTICE)
        details: dict[str, object] = {}
    else:
        if not (actor.has(Role.DEMOCRATIC_SERVICES) or actor.has(Role.MONITORING_OFFICER)):
            _record(
                session, kind, actor.email, platform, now, decision, "refused", "not dem services"
            )
            return Outcome(False, words(phrases.ONLY_DEMOCRATIC_SERVICES), refused=True)
        if decision.urgency_agreed_by:
            return Outcome(True, words(phrases.ALREADY_RECORDED_URGENCY))
        who = inputs.get("who", "").strip()
        if who not in phrases.URGENCY_AGREED_BY:
            return Outcome(
                False, words(phrases.WHO_AGREED, options=", ".join(phrases.URGENCY_AGREED_BY))
            )
        decision.urgency_agreed_by = who
        decision.urgency_recorded_by = actor.email
        decision.urgency_recorded_at = now
        message = words(phrases.RECORDED_URGENCY)
        details = {"agreed_by": who}
    # The flags are worked out again at the next sweep.
    decision.swept_fingerprint = ""
    _record(session, kind, actor.email, platform, now, decision, "done", "", details)
    return Outcome(True, message, changed=True)


def _record(
    session: Session,
    kind: ActionKind,
    actor_email: str,
    platform: str,
    now: datetime,
    decision: Decision | None,
    outcome: str,
    reason: str,
    details: dict[str, object] | None = None,
) -> None:
    audit.record(
        session,
        action=kind.value,
        at=now,
        actor_email=actor_email,
        platform=platform,
        outcome=outcome,
        decision_ref=decision.ref if decision else "",
        reason=reason,
        details=details or {},
    )
