"""The briefing state machine and the actions people take on it.

Every action checks who is acting, is idempotent (a double click changes nothing the second
time), writes an audit event in the same transaction, and queues the messages that follow.
"""

from __future__ import annotations

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
from bot.store import audit
from bot.store.directory import Directory
from bot.store.models import AuditEvent, Briefing, BriefingState, Decision, Role
from bot.timeutil import parse_datetime
from bot.views.cards import BRIEFING_METHODS, MEMBER_ACTIONS, Action, ActionKind
from bot.views.phrases import NOT_SET_UP


class ActionRejected(Exception):
    """A value the person must correct (no reason given, a time in the future): said to them
    politely. Deliberately not a ValueError, so a bug is never shown as a polite refusal."""


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
    if briefing is None:
        return _refuse(session, action, now, "That briefing no longer exists.", reason="unknown")
    decision = session.get(Decision, briefing.decision_id)
    assert decision is not None
    if actor is None:
        return _refuse(
            session,
            action,
            now,
            NOT_SET_UP,
            briefing,
            decision,
            reason="actor not in directory",
        )

    if action.kind == ActionKind.REASSIGN and _just_reassigned(session, briefing, action, services):
        # A double click: the first press passed it on, so the presser is no longer its briefer.
        briefer_now = services.directory.person(briefing.briefer_email)
        name = briefer_now.name if briefer_now else briefing.briefer_email
        return Outcome(
            True, f"Thank you: this briefing has already been passed to {name}.", briefing.id
        )
    on_behalf = ""
    if action.kind in MEMBER_ACTIONS:
        if actor.email != briefing.member_email:
            member = services.directory.person(briefing.member_email)
            who = member.name if member else "the member"
            return _refuse(
                session,
                action,
                now,
                f"Sorry, only {who} can answer for this briefing.",
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
                who = briefer.name if briefer else "the lead officer"
                return _refuse(
                    session,
                    action,
                    now,
                    f"Sorry, only {who}, or their manager or director, can update this briefing.",
                    briefing,
                    decision,
                    reason="not the briefer or their line",
                )
            on_behalf = briefing.briefer_email

    target = RESULT_STATE.get(action.kind)
    # A repeat of the click that made the state (an older card) is "already"; a press on the
    # current card acts, so a snoozed briefing's fresh Snooze button changes the snooze.
    if target is not None and briefing.state == target and action.version != briefing.version:
        return Outcome(True, _already(action.kind), briefing.id)
    if action.version != briefing.version:
        return _refuse(
            session,
            action,
            now,
            "This message is out of date: the briefing has "
            "changed since it was sent. Here is where it stands now.",
            briefing,
            decision,
            reason="stale card",
            stale=True,
        )
    if briefing.state not in ACTIONABLE[action.kind]:
        return _refuse(
            session,
            action,
            now,
            f"This briefing is {_state_words(briefing.state)}, so that is no longer possible.",
            briefing,
            decision,
            reason=f"not allowed when {briefing.state}",
        )

    handler = _HANDLERS[action.kind]
    try:
        message, details = handler(session, briefing, decision, action, services, now)
    except ActionRejected as exc:
        return Outcome(False, str(exc), briefing.id)
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


def _already(kind: ActionKind) -> str:
    return {
        ActionKind.LOG_BRIEFING: "Thank you: this briefing is already logged.",
        ActionKind.NOT_NEEDED: "This briefing is already marked as not needed.",
        ActionKind.ACKNOWLEDGE: "Thank you: you have already acknowledged this briefing.",
        ActionKind.NOT_YET_BRIEFED: "The officer has already been told.",
        ActionKind.NEED_MORE_INFO: "The officer has already been told.",
        ActionKind.SNOOZE: "This briefing is already snoozed; you will be reminded in time.",
    }.get(kind, "Nothing has changed.")


def _state_words(state: str) -> str:
    return {
        BriefingState.ACKNOWLEDGED: "already acknowledged",
        BriefingState.WITHDRAWN: "closed because the decision left the forward plan",
        BriefingState.NOT_NEEDED: "marked as not needed",
        BriefingState.BRIEFED: "logged and awaiting the member's acknowledgement",
        BriefingState.OPEN: "still waiting for the briefing",
        BriefingState.DISPUTED: "back with the officer",
        BriefingState.SNOOZED: "snoozed",
    }.get(BriefingState(state), str(state))


Handled = tuple[str, dict[str, object]]


def _log_briefing(
    session: Session, b: Briefing, d: Decision, action: Action, s: Services, now: datetime
) -> Handled:
    how = (action.inputs.get("how") or "meeting").strip().lower()
    if how not in BRIEFING_METHODS:
        raise ActionRejected(
            f"How was the briefing given? Choose one of: {', '.join(BRIEFING_METHODS)}."
        )
    when = now
    if action.inputs.get("when"):
        try:
            when = parse_datetime(action.inputs["when"], s.settings.council.timezone)
        except ValueError as exc:
            raise ActionRejected(f"When was the briefing? {exc}") from None
    if when > now + timedelta(minutes=5):
        raise ActionRejected("A briefing can only be logged once it has happened.")
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
        f"Thank you. {member.name if member else 'The member'} has been asked to acknowledge "
        "the briefing.",
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
        except ValueError as exc:
            raise ActionRejected(f"Snooze until when? {exc}") from None
    if until <= now:
        raise ActionRejected("Please choose a time in the future.")
    capped = until > b.due_at
    until = min(until, b.due_at)
    if until <= now:
        raise ActionRejected("This briefing is already due, so it cannot be snoozed.")
    move(b, BriefingState.SNOOZED)
    b.snoozed_until = until
    local = s.calendar.local(until)
    note = " (the briefing's due time; a snooze cannot go past it)" if capped else ""
    return (
        f"Snoozed until {local:%a} {local.day} {local:%b %H:%M}{note}.",
        {"until": until.isoformat(), "capped": capped},
    )


def _not_needed(
    session: Session, b: Briefing, d: Decision, action: Action, s: Services, now: datetime
) -> Handled:
    reason = action.inputs.get("reason", "").strip()
    if not reason:
        raise ActionRejected("Please give a reason why this briefing is not needed.")
    move(b, BriefingState.NOT_NEEDED)
    b.not_needed_reason = reason
    b.next_step_at = None
    b.member_reminder_at = None
    return "Marked as not needed. The reason is shown in status.", {"reason": reason}


def _reassign(
    session: Session, b: Briefing, d: Decision, action: Action, s: Services, now: datetime
) -> Handled:
    target = s.directory.find(action.inputs.get("to", ""))
    if target is None or not target.has(Role.OFFICER):
        raise ActionRejected("Please name an officer in the directory (email or full name).")
    if target.email == b.member_email:
        raise ActionRejected("The member cannot be asked to brief themself.")
    if target.email == b.briefer_email:
        raise ActionRejected(f"{target.name} is already the briefer.")
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
        f"Reassigned to {target.name}, who has been told.",
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
    return "Thank you for acknowledging the briefing.", {}


def _dispute(
    session: Session, b: Briefing, d: Decision, action: Action, s: Services, now: datetime
) -> Handled:
    words = (
        "says they have not yet been briefed"
        if action.kind == ActionKind.NOT_YET_BRIEFED
        else "would like more information"
    )
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
    return "Thank you. The officer has been asked to follow up with you.", {"note": note}


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
