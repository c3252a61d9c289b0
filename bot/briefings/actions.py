"""The briefing state machine and the actions people take on it.

Every action checks who is acting, is idempotent (a double click changes nothing the second
time), writes an audit event in the same transaction, and queues the messages that follow.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlmodel import Session, col

from bot.briefings.ladder import next_step_at
from bot.briefings.states import LIVE, move, sources_of
from bot.config import Settings
from bot.decisions.calendar import CouncilCalendar
from bot.delivery.outbox import enqueue
from bot.delivery.ports import MessageKind
from bot.i18n.catalogue import Translator
from bot.store import audit
from bot.store.directory import Directory
from bot.store.models import AuditEvent, Briefing, BriefingState, Decision, Role
from bot.timeutil import parse_datetime
from bot.views.bilingual import language_of, say
from bot.views.cards import BRIEFING_METHODS, MEMBER_ACTIONS, Action, ActionKind
from bot.views.phrases import (
    ALREADY,
    ALREADY_BRIEFER,
    ALREADY_DUE,
    ALREADY_PASSED_ON,
    ASKED_TO_ACKNOWLEDGE,
    CHOOSE_METHOD,
    DISPUTE_MORE_INFO,
    DISPUTE_NOT_BRIEFED,
    GIVE_A_REASON,
    GONE,
    IN_THE_FUTURE,
    MARKED_NOT_NEEDED,
    NAME_AN_OFFICER,
    NO_LONGER_POSSIBLE,
    NOT_SET_UP,
    NOT_THE_MEMBER,
    NOT_YET_HAPPENED,
    NOTHING_CHANGED,
    OFFICER_WILL_FOLLOW_UP,
    ONLY_BRIEFER,
    ONLY_MEMBER,
    OUT_OF_DATE,
    REASSIGNED_TO,
    SNOOZE_UNTIL_WHEN,
    SNOOZED_UNTIL,
    SNOOZED_UNTIL_CAPPED,
    STATE_AS_REFUSAL,
    THANKS_FOR_ACKNOWLEDGING,
    THE_LEAD_OFFICER,
    THE_MEMBER,
    THE_MEMBER_CAPITAL,
    WHEN_WAS_IT,
)

# Words drawn later in the actor's language (and in both, Welsh first, on a bilingual council).
Said = Callable[[Translator], str]


def _said(message: str, **values: object) -> Said:
    return lambda tr: tr(message, **values)


class ActionRejected(Exception):
    """A value the person must correct (no reason given, a time in the future): said to them
    politely. Deliberately not a ValueError, so a bug is never shown as a polite refusal."""

    def __init__(self, said: Said) -> None:
        super().__init__("a value to correct")
        self.said = said


# The state each action leads to: repeating an action already in that state is a no-op.
RESULT_STATE = {
    ActionKind.LOG_BRIEFING: BriefingState.BRIEFED,
    ActionKind.SNOOZE: BriefingState.SNOOZED,
    ActionKind.NOT_NEEDED: BriefingState.NOT_NEEDED,
    ActionKind.ACKNOWLEDGE: BriefingState.ACKNOWLEDGED,
    ActionKind.NOT_YET_BRIEFED: BriefingState.DISPUTED,
    ActionKind.NEED_MORE_INFO: BriefingState.DISPUTED,
}
# Where each action may be taken from: read off the one transition table. Reassigning changes
# the briefer, not the state, so it is open while the officer still owes the briefing.
ACTIONABLE = {kind: sources_of(target) for kind, target in RESULT_STATE.items()} | {
    ActionKind.REASSIGN: LIVE
}


@dataclass
class Outcome:
    """What happened, in words for the person who acted."""

    ok: bool
    message: str
    briefing_id: int | None = None
    changed: bool = False
    refused: bool = False
    stale: bool = False
    notify: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Services:
    """What every action needs besides the session."""

    settings: Settings
    calendar: CouncilCalendar
    directory: Directory


def perform(*, session: Session, action: Action, services: Services, now: datetime) -> Outcome:
    """Apply one action from any platform, or refuse it politely."""
    if session.get_bind().dialect.name == "sqlite":
        # SQLite has no row locks (FOR UPDATE is ignored): a no-op write takes the database's
        # write lock first, so a racing double click waits here, then reads what the first left.
        session.execute(
            update(Briefing)
            .where(col(Briefing.id) == action.briefing_id)
            .values(version=Briefing.version)
        )
    briefing = session.get(Briefing, action.briefing_id, with_for_update=True)
    actor = services.directory.person(action.actor_email)
    language = language_of(actor, services.settings)

    def words(said: Said) -> str:
        return say(language, said)

    if briefing is None:
        return _refuse(session, action, now, words(_said(GONE)), reason="unknown")
    decision = session.get(Decision, briefing.decision_id)
    assert decision is not None
    if actor is None:
        return _refuse(
            session,
            action,
            now,
            words(_said(NOT_SET_UP)),
            briefing,
            decision,
            reason="actor not in directory",
        )

    if action.kind == ActionKind.REASSIGN and _just_reassigned(session, briefing, action, services):
        # A double click: the first press passed it on, so the presser is no longer its briefer.
        briefer_now = services.directory.person(briefing.briefer_email)
        name = briefer_now.name if briefer_now else briefing.briefer_email
        return Outcome(True, words(_said(ALREADY_PASSED_ON, name=name)), briefing.id)
    on_behalf = ""
    if action.kind in MEMBER_ACTIONS:
        if actor.email != briefing.member_email:
            member = services.directory.person(briefing.member_email)
            return _refuse(
                session,
                action,
                now,
                words(lambda tr: tr(ONLY_MEMBER, who=member.name if member else tr(THE_MEMBER))),
                briefing,
                decision,
                reason="not the member",
            )
    else:
        briefer = services.directory.person(briefing.briefer_email)
        if actor.email != briefing.briefer_email:
            line = (
                {briefer.manager_email, services.directory.director_of(briefer.email)}
                if briefer
                else set()
            )
            if actor.email not in line - {""}:
                return _refuse(
                    session,
                    action,
                    now,
                    words(
                        lambda tr: tr(
                            ONLY_BRIEFER, who=briefer.name if briefer else tr(THE_LEAD_OFFICER)
                        )
                    ),
                    briefing,
                    decision,
                    reason="not the briefer or their line",
                )
            on_behalf = briefing.briefer_email

    target = RESULT_STATE.get(action.kind)
    # A repeat of the click that made the state (an older card) is "already"; a press on the
    # current card acts, so a snoozed briefing's fresh Snooze button changes the snooze.
    if target is not None and briefing.state == target and action.version != briefing.version:
        return Outcome(
            True, words(_said(ALREADY.get(action.kind.value, NOTHING_CHANGED))), briefing.id
        )
    if action.version != briefing.version:
        return _refuse(
            session,
            action,
            now,
            words(_said(OUT_OF_DATE)),
            briefing,
            decision,
            reason="stale card",
            stale=True,
        )
    state = str(briefing.state)
    if briefing.state not in ACTIONABLE[action.kind]:
        return _refuse(
            session,
            action,
            now,
            words(
                lambda tr: tr(
                    NO_LONGER_POSSIBLE, state=tr(STATE_AS_REFUSAL.get(state, NOTHING_CHANGED))
                )
            ),
            briefing,
            decision,
            reason=f"not allowed when {briefing.state}",
        )

    handler = _HANDLERS[action.kind]
    try:
        said, details = handler(session, briefing, decision, action, services, now)
    except ActionRejected as exc:
        return Outcome(False, words(exc.said), briefing.id)
    message = words(said)
    briefing.version += 1
    briefing.updated_at = now
    audit.record(
        session,
        action=action.kind.value,
        at=now,
        actor_email=actor.email,
        on_behalf_of=on_behalf,
        platform=action.platform,
        decision_ref=decision.ref,
        briefing_id=briefing.id,
        reason=details.pop("reason", ""),
        details=details,
    )
    return Outcome(True, message, briefing.id, changed=True)


def _refuse(
    session: Session,
    action: Action,
    now: datetime,
    message: str,
    briefing: Briefing | None = None,
    decision: Decision | None = None,
    *,
    reason: str,
    stale: bool = False,
) -> Outcome:
    audit.record(
        session,
        action=action.kind.value,
        at=now,
        actor_email=action.actor_email,
        platform=action.platform,
        outcome="refused",
        decision_ref=decision.ref if decision else "",
        briefing_id=briefing.id if briefing else action.briefing_id,
        reason=reason,
    )
    return Outcome(False, message, briefing.id if briefing else None, refused=True, stale=stale)


def _just_reassigned(
    session: Session, briefing: Briefing, action: Action, services: Services
) -> bool:
    """Whether the last change to the briefing was this very reassignment, by this person."""
    target = services.directory.find(action.inputs.get("to", ""))
    if target is None or target.email != briefing.briefer_email:
        return False
    if action.version + 1 != briefing.version:
        return False
    last = session.scalar(
        select(AuditEvent)
        .where(col(AuditEvent.briefing_id) == briefing.id, col(AuditEvent.outcome) == "done")
        .order_by(col(AuditEvent.seq).desc())
        .limit(1)
    )
    return (
        last is not None
        and last.action == ActionKind.REASSIGN.value
        and last.actor_email == action.actor_email.lower()
        and last.details.get("to") == target.email
    )


Handled = tuple[Said, dict[str, object]]


def _log_briefing(
    session: Session, b: Briefing, d: Decision, action: Action, s: Services, now: datetime
) -> Handled:
    how = (action.inputs.get("how") or "meeting").strip().lower()
    if how not in BRIEFING_METHODS:
        raise ActionRejected(_said(CHOOSE_METHOD, methods=", ".join(BRIEFING_METHODS)))
    when = now
    if action.inputs.get("when"):
        try:
            when = parse_datetime(action.inputs["when"], s.settings.council.timezone)
        except ValueError:
            raise ActionRejected(_said(WHEN_WAS_IT, text=action.inputs["when"])) from None
    if when > now + timedelta(minutes=5):
        raise ActionRejected(_said(NOT_YET_HAPPENED))
    move(b, BriefingState.BRIEFED)
    b.briefed_at = when
    b.briefed_how = how
    b.briefing_note = action.inputs.get("note", "").strip()
    b.dispute = ""
    b.changed_since_briefed = ""
    b.snoozed_until = None
    b.next_step_at = None
    reminder_day = s.calendar.add_working_days(
        s.calendar.local_date(now), s.settings.escalation.member_reminder_after_working_days
    )
    b.member_reminder_at = s.calendar.start_of_day(reminder_day)
    enqueue(
        session,
        recipient=b.member_email,
        briefing=b,
        kind=MessageKind.ACK_REQUEST,
        key=f"ack_request:v{b.version + 1}",
        send_at=now,
        calendar=s.calendar,
    )
    member = s.directory.person(b.member_email)
    return (
        lambda tr: tr(ASKED_TO_ACKNOWLEDGE, name=member.name if member else tr(THE_MEMBER_CAPITAL)),
        {"how": how, "when": when.isoformat(), "note": b.briefing_note},
    )


def _snooze(
    session: Session, b: Briefing, d: Decision, action: Action, s: Services, now: datetime
) -> Handled:
    text = (action.inputs.get("until") or "1").strip()
    if text.isdigit():
        day = s.calendar.add_working_days(s.calendar.local_date(now), int(text))
        until = s.calendar.start_of_day(day)
    else:
        try:
            until = parse_datetime(text, s.settings.council.timezone)
        except ValueError:
            raise ActionRejected(_said(SNOOZE_UNTIL_WHEN, text=text)) from None
    if until <= now:
        raise ActionRejected(_said(IN_THE_FUTURE))
    capped = until > b.due_at
    until = min(until, b.due_at)
    if until <= now:
        raise ActionRejected(_said(ALREADY_DUE))
    move(b, BriefingState.SNOOZED)
    b.snoozed_until = until
    local = s.calendar.local(until)
    snoozed = SNOOZED_UNTIL_CAPPED if capped else SNOOZED_UNTIL
    return (
        lambda tr: tr(snoozed, day=tr.short_date(local.date()), time=f"{local:%H:%M}"),
        {"until": until.isoformat(), "capped": capped},
    )


def _not_needed(
    session: Session, b: Briefing, d: Decision, action: Action, s: Services, now: datetime
) -> Handled:
    reason = action.inputs.get("reason", "").strip()
    if not reason:
        raise ActionRejected(_said(GIVE_A_REASON))
    move(b, BriefingState.NOT_NEEDED)
    b.not_needed_reason = reason
    b.next_step_at = None
    b.member_reminder_at = None
    return _said(MARKED_NOT_NEEDED), {"reason": reason}


def _reassign(
    session: Session, b: Briefing, d: Decision, action: Action, s: Services, now: datetime
) -> Handled:
    target = s.directory.find(action.inputs.get("to", ""))
    if target is None or not target.has(Role.OFFICER):
        raise ActionRejected(_said(NAME_AN_OFFICER))
    if target.email == b.member_email:
        raise ActionRejected(_said(NOT_THE_MEMBER))
    if target.email == b.briefer_email:
        raise ActionRejected(_said(ALREADY_BRIEFER, name=target.name))
    previous = b.briefer_email
    b.briefer_email = target.email
    b.briefer_overridden = True
    enqueue(
        session,
        recipient=target.email,
        briefing=b,
        kind=MessageKind.REASSIGNED,
        key=f"reassigned:v{b.version + 1}",
        send_at=now,
        calendar=s.calendar,
    )
    return (
        _said(REASSIGNED_TO, name=target.name),
        {"from": previous, "to": target.email, "reason": f"reassigned to {target.email}"},
    )


def _acknowledge(
    session: Session, b: Briefing, d: Decision, action: Action, s: Services, now: datetime
) -> Handled:
    move(b, BriefingState.ACKNOWLEDGED)
    b.acknowledged_at = now
    b.next_step_at = None
    b.member_reminder_at = None
    b.snoozed_until = None
    b.changed_since_briefed = ""
    enqueue(
        session,
        recipient=b.briefer_email,
        briefing=b,
        kind=MessageKind.ACKNOWLEDGED,
        key=f"acknowledged:v{b.version + 1}",
        send_at=now,
        calendar=s.calendar,
    )
    return _said(THANKS_FOR_ACKNOWLEDGING), {}


def _dispute(
    session: Session, b: Briefing, d: Decision, action: Action, s: Services, now: datetime
) -> Handled:
    words = DISPUTE_NOT_BRIEFED if action.kind == ActionKind.NOT_YET_BRIEFED else DISPUTE_MORE_INFO
    note = action.inputs.get("note", "").strip()
    move(b, BriefingState.DISPUTED)
    b.dispute = words + (f": {note}" if note else "")
    b.member_reminder_at = None
    # Back to the officer: the ladder resumes where it left off.
    b.next_step_at = next_step_at(
        b.ladder, b.next_step_index, s.calendar.local_date(b.due_at), s.calendar
    )
    enqueue(
        session,
        recipient=b.briefer_email,
        briefing=b,
        kind=MessageKind.DISPUTED,
        key=f"disputed:v{b.version + 1}",
        send_at=now,
        calendar=s.calendar,
    )
    return _said(OFFICER_WILL_FOLLOW_UP), {"note": note}


_HANDLERS = {
    ActionKind.LOG_BRIEFING: _log_briefing,
    ActionKind.SNOOZE: _snooze,
    ActionKind.NOT_NEEDED: _not_needed,
    ActionKind.REASSIGN: _reassign,
    ActionKind.ACKNOWLEDGE: _acknowledge,
    ActionKind.NOT_YET_BRIEFED: _dispute,
    ActionKind.NEED_MORE_INFO: _dispute,
}


def reopen_after_change(
    *,
    session: Session,
    briefing: Briefing,
    decision: Decision,
    changes: str,
    calendar: CouncilCalendar,
    now: datetime,
) -> None:
    """A material change re-opens a briefed or acknowledged briefing and tells both people."""
    move(briefing, BriefingState.OPEN)
    briefing.cycle += 1
    briefing.changed_since_briefed = changes
    briefing.next_step_index = 0
    briefing.member_reminder_at = None
    briefing.acknowledged_at = None
    briefing.version += 1
    briefing.updated_at = now
    briefing.next_step_at = next_step_at(
        briefing.ladder, 0, calendar.local_date(briefing.due_at), calendar
    )
    for recipient, kind in (
        (briefing.briefer_email, MessageKind.CHANGED_BRIEFER),
        (briefing.member_email, MessageKind.CHANGED_MEMBER),
    ):
        enqueue(
            session,
            recipient=recipient,
            briefing=briefing,
            kind=kind,
            key=f"{kind}:c{briefing.cycle}",
            send_at=now,
            calendar=calendar,
        )
    audit.record(
        session,
        action="briefing_reopened",
        at=now,
        platform="sweep",
        decision_ref=decision.ref,
        briefing_id=briefing.id,
        reason=f"changed since the member was briefed: {changes}",
    )
