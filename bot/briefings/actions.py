"""The briefing state machine and the actions people take on it.

Every action checks who is acting, is idempotent (a double click changes nothing the second
time), writes an audit event in the same transaction, and queues the messages that follow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlmodel import Session, col

from bot.briefings import approvals
from bot.briefings.approvals import (
    approvers,
    escalation_readers,
    handover_needs_approval,
    may_ask_director,
    needs_not_needed_approval,
    possible_approvers,
)
from bot.briefings.ladder import next_step_at
from bot.briefings.states import LIVE, move, sources_of
from bot.briefings.waiting import escalation_context
from bot.config import Settings
from bot.decisions.calendar import CouncilCalendar
from bot.delivery.outbox import enqueue
from bot.delivery.ports import MessageKind
from bot.store import audit
from bot.store.directory import Directory, PersonView
from bot.store.models import AuditEvent, Briefing, BriefingState, Decision, Role
from bot.timeutil import parse_datetime
from bot.views import phrases
from bot.views.bilingual import language_of, speaking, words
from bot.views.cards import (
    APPROVER_ACTIONS,
    BRIEFING_METHODS,
    ESCALATION_ACTIONS,
    MEMBER_ACTIONS,
    Action,
    ActionKind,
)
from bot.views.phrases import NOT_SET_UP


class AlreadyDone(Exception):
    """A repeat of something already done (a second click): said politely, nothing recorded."""


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
# States that also mean "already done" for an action: asked, and awaiting approval.
PENDING_OF = {ActionKind.NOT_NEEDED: (BriefingState.NOT_NEEDED_PENDING,)}
# Where each action may be taken from: read off the one transition table. Reassigning changes
# the briefer, not the state, so it is open while the officer still owes the briefing.
ACTIONABLE = {kind: sources_of(target) for kind, target in RESULT_STATE.items()} | {
    ActionKind.REASSIGN: LIVE,
    # Awaiting approval, the officer can still log the briefing, but not ask again.
    ActionKind.NOT_NEEDED: sources_of(BriefingState.NOT_NEEDED)
    - {BriefingState.NOT_NEEDED_PENDING},
    ActionKind.REMIND_BRIEFER: LIVE,
    ActionKind.ASK_DIRECTOR: LIVE,
    ActionKind.NOTED: LIVE,
    ActionKind.APPROVE: LIVE | {BriefingState.NOT_NEEDED_PENDING},
    ActionKind.DECLINE: LIVE | {BriefingState.NOT_NEEDED_PENDING},
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
    """Apply one action from any platform, or refuse it politely, in the actor's language."""
    actor = services.directory.person(action.actor_email)
    with speaking(language_of(actor, services.settings)):
        return _perform(session=session, action=action, services=services, now=now)


def _perform(*, session: Session, action: Action, services: Services, now: datetime) -> Outcome:
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
        return _refuse(session, action, now, words(phrases.GONE), reason="unknown")
    decision = session.get(Decision, briefing.decision_id)
    assert decision is not None
    if actor is None:
        return _refuse(
            session,
            action,
            now,
            words(NOT_SET_UP),
            briefing,
            decision,
            reason="actor not in directory",
        )

    if (
        action.kind == ActionKind.REASSIGN
        and briefing.approval_kind == approvals.REASSIGN
        and briefing.approval_requested_by == action.actor_email.lower()
        and action.version + 1 == briefing.version
    ):
        # A double click on a hand-over that is waiting for the director's approval.
        return Outcome(True, words(phrases.HANDOVER_ALREADY_ASKED), briefing.id)
    if action.kind == ActionKind.REASSIGN and _just_reassigned(session, briefing, action, services):
        # A double click: the first press passed it on, so the presser is no longer its briefer.
        name = services.directory.name_of(briefing.briefer_email)
        return Outcome(True, words(phrases.ALREADY_PASSED_ON, name=name), briefing.id)
    if (
        action.kind in APPROVER_ACTIONS
        and not briefing.approval_kind
        and actor.email in possible_approvers(briefing, decision, services.directory)
    ):
        # A second press, or a colleague deciding the same request a moment later.
        return Outcome(True, words(phrases.ALREADY_DECIDED), briefing.id)
    refusal, why, on_behalf = _authorise(action, actor, briefing, decision, services)
    if refusal:
        return _refuse(session, action, now, refusal, briefing, decision, reason=why)

    target = RESULT_STATE.get(action.kind)
    # A repeat of the click that made the state (an older card) is "already"; a press on the
    # current card acts, so a snoozed briefing's fresh Snooze button changes the snooze.
    already = {target, *(PENDING_OF.get(action.kind, ()))}
    if target is not None and briefing.state in already and action.version != briefing.version:
        return Outcome(True, _already(action.kind), briefing.id)
    if action.version != briefing.version:
        return _refuse(
            session,
            action,
            now,
            words(phrases.OUT_OF_DATE),
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
            words(phrases.NO_LONGER_POSSIBLE, state=_state_words(briefing.state)),
            briefing,
            decision,
            reason=f"not allowed when {briefing.state}",
        )

    handler = _HANDLERS[action.kind]
    try:
        message, details = handler(session, briefing, decision, action, services, now)
    except ActionRejected as exc:
        return Outcome(False, str(exc), briefing.id)
    except AlreadyDone as exc:
        return Outcome(True, str(exc), briefing.id)
    if action.kind not in ESCALATION_ACTIONS:
        # Escalation actions change no briefing: every card showing it stays current.
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


def _authorise(
    action: Action, actor: PersonView, b: Briefing, d: Decision, services: Services
) -> tuple[str, str, str]:
    """(refusal, reason for the audit log, on behalf of): no refusal means they may act."""
    directory = services.directory
    if action.kind in MEMBER_ACTIONS:
        if actor.email == b.member_email:
            return "", "", ""
        member = directory.person(b.member_email)
        who = member.name if member else words(phrases.THE_MEMBER)
        return words(phrases.ONLY_MEMBER, who=who), "not the member", ""
    if action.kind in APPROVER_ACTIONS:
        if actor.email in approvers(b, d, directory):
            return "", "", ""
        if actor.email == b.approval_requested_by:
            return words(phrases.NOT_YOUR_OWN_APPROVAL), "asked for it themself", ""
        return words(phrases.ONLY_APPROVERS), "not an approver", ""
    if action.kind in ESCALATION_ACTIONS:
        if action.kind == ActionKind.ASK_DIRECTOR:
            allowed = may_ask_director(actor)
        else:
            allowed = actor.email in escalation_readers({b.briefer_email}, d, directory)
        if allowed:
            return "", "", ""
        return words(phrases.ONLY_ESCALATION_READERS), "not told of the escalation", ""
    if actor.email == b.briefer_email:
        return "", "", ""
    briefer = directory.person(b.briefer_email)
    line = {briefer.manager_email, directory.director_of(briefer.email)} if briefer else set()
    if actor.email in line - {""}:
        return "", "", b.briefer_email
    who = briefer.name if briefer else words(phrases.THE_LEAD_OFFICER)
    return (
        words(phrases.ONLY_BRIEFER, who=who),
        "not the briefer or their line",
        "",
    )


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
    return words(phrases.ALREADY.get(kind.value, phrases.NOTHING_CHANGED))


def _state_words(state: str) -> str:
    return words(phrases.STATE_AS_REFUSAL.get(str(state), phrases.NOTHING_CHANGED))


Handled = tuple[str, dict[str, object]]


def _log_briefing(
    session: Session, b: Briefing, d: Decision, action: Action, s: Services, now: datetime
) -> Handled:
    how = (action.inputs.get("how") or "meeting").strip().lower()
    if how not in BRIEFING_METHODS:
        raise ActionRejected(words(phrases.CHOOSE_METHOD, methods=", ".join(BRIEFING_METHODS)))
    when = now
    if action.inputs.get("when"):
        try:
            when = parse_datetime(action.inputs["when"], s.settings.council.timezone)
        except ValueError:
            raise ActionRejected(words(phrases.WHEN_WAS_IT, text=action.inputs["when"])) from None
    if when > now + timedelta(minutes=5):
        raise ActionRejected(words(phrases.NOT_YET_HAPPENED))
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
    _queue(session, b, s, now, b.member_email, MessageKind.ACK_REQUEST, "ack_request")
    member = s.directory.person(b.member_email)
    return (
        words(
            phrases.ASKED_TO_ACKNOWLEDGE,
            name=member.name if member else words(phrases.THE_MEMBER_CAPITAL),
        ),
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
            raise ActionRejected(words(phrases.SNOOZE_UNTIL_WHEN, text=text)) from None
    if until <= now:
        raise ActionRejected(words(phrases.IN_THE_FUTURE))
    capped = until > b.due_at
    until = min(until, b.due_at)
    if until <= now:
        raise ActionRejected(words(phrases.ALREADY_DUE))
    move(b, BriefingState.SNOOZED)
    b.snoozed_until = until
    local = s.calendar.local(until)
    snoozed = phrases.SNOOZED_UNTIL_CAPPED if capped else phrases.SNOOZED_UNTIL
    return (
        words(snoozed, day=local.date(), time=f"{local:%H:%M}"),
        {"until": until.isoformat(), "capped": capped},
    )


def _not_needed(
    session: Session, b: Briefing, d: Decision, action: Action, s: Services, now: datetime
) -> Handled:
    reason = action.inputs.get("reason", "").strip()
    if not reason:
        raise ActionRejected(words(phrases.GIVE_A_REASON))
    b.not_needed_reason = reason
    b.next_step_at = None
    b.member_reminder_at = None
    if not needs_not_needed_approval(b.reasons):
        move(b, BriefingState.NOT_NEEDED)
        return words(phrases.NOT_NEEDED_DONE), {"reason": reason}
    # A portfolio holder's or the leader's briefing: a second pair of eyes first.
    move(b, BriefingState.NOT_NEEDED_PENDING)
    _ask_for_approval(session, b, d, action, s, now, approvals.NOT_NEEDED, reason=reason)
    names = _names(s.directory, approvers(b, d, s.directory))
    return words(phrases.NOT_NEEDED_AWAITING, approvers=names), {"reason": reason}


def _ask_for_approval(
    session: Session,
    b: Briefing,
    d: Decision,
    action: Action,
    s: Services,
    now: datetime,
    kind: str,
    *,
    reason: str,
    to: str = "",
) -> None:
    b.approval_kind = kind
    b.approval_requested_by = action.actor_email.lower()
    b.approval_to = to
    b.approval_reason = reason
    for email in sorted(approvers(b, d, s.directory)):
        _queue(
            session, b, s, now, email, MessageKind.APPROVAL_REQUEST, f"approval:{kind}", each=True
        )


def _clear_approval(b: Briefing) -> None:
    b.approval_kind = b.approval_requested_by = b.approval_to = b.approval_reason = ""


def _names(directory: Directory, emails: set[str]) -> str:
    """'Simon Reeve, David Osei and Claire Dunn'."""
    names = sorted((p.name for e in emails if (p := directory.person(e))), key=str.lower)
    if len(names) <= 1:
        return "".join(names) or words(phrases.THE_DIRECTOR)
    return words(phrases.LIST_AND, first=", ".join(names[:-1]), last=names[-1])


def _reassign(
    session: Session, b: Briefing, d: Decision, action: Action, s: Services, now: datetime
) -> Handled:
    target = s.directory.find(action.inputs.get("to", ""))
    if target is None or not target.has(Role.OFFICER):
        raise ActionRejected(words(phrases.NAME_AN_OFFICER))
    if target.email == b.member_email:
        raise ActionRejected(words(phrases.NOT_THE_MEMBER))
    if target.email == b.briefer_email:
        raise ActionRejected(words(phrases.ALREADY_BRIEFER, name=target.name))
    why = action.inputs.get("why", "").strip()
    actor = action.actor_email.lower()
    if handover_needs_approval(d, target, actor, b.briefer_email, s.directory):
        # An exempt item leaving its directorate: the director approves first.
        _ask_for_approval(
            session, b, d, action, s, now, approvals.REASSIGN, reason=why, to=target.email
        )
        names = _names(s.directory, approvers(b, d, s.directory))
        return (
            words(phrases.HANDOVER_AWAITING, target=target.name, approvers=names),
            {
                "to": target.email,
                "awaiting": True,
                "reason": f"approval asked to reassign to {target.email}",
            },
        )
    previous = _hand_over(session, b, target.email, by=actor, why=why, s=s, now=now)
    return (
        words(phrases.REASSIGNED_TO, name=target.name),
        {"from": previous, "to": target.email, "reason": f"reassigned to {target.email}"},
    )


def reassign_candidates(directory: Directory, b: Briefing) -> list[PersonView]:
    """The officers a briefing may be passed to (as _reassign allows), by name: never the
    member, nor the officer who has it now."""
    return sorted(
        (
            p
            for p in directory.people.values()
            if p.has(Role.OFFICER) and p.email not in (b.member_email, b.briefer_email)
        ),
        key=lambda p: (p.name.lower(), p.email),
    )


def may_reassign(actor: PersonView, b: Briefing, d: Decision, services: Services) -> bool:
    """Whether `actor` may pass this briefing on now, as perform() would decide: its briefer,
    or their manager or director, while it is live."""
    if b.state not in ACTIONABLE[ActionKind.REASSIGN]:
        return False
    asked = Action(ActionKind.REASSIGN, actor.email, "", b.id or 0, b.version)
    refusal, _why, _on_behalf = _authorise(asked, actor, b, d, services)
    return not refusal


def matching(people: list[PersonView], text: str) -> list[PersonView]:
    """Those whose name or email holds every word typed (in any case), in the list's order."""
    typed = text.lower().split()
    return [p for p in people if all(w in f"{p.name.lower()} {p.email.lower()}" for w in typed)]


def _hand_over(
    session: Session, b: Briefing, to: str, *, by: str, why: str, s: Services, now: datetime
) -> str:
    """Pass the briefing to another officer and tell them; the old briefer keeps sight."""
    previous = b.briefer_email
    b.briefer_email = to
    b.briefer_overridden = True
    if previous not in b.former_briefers:
        b.former_briefers = [*b.former_briefers, previous]
    b.handed_over_by = by
    b.handover_reason = why
    _clear_approval(b)
    _queue(session, b, s, now, to, MessageKind.REASSIGNED, "reassigned")
    return previous


def _approve(
    session: Session, b: Briefing, d: Decision, action: Action, s: Services, now: datetime
) -> Handled:
    kind, requester, reason = b.approval_kind, b.approval_requested_by, b.approval_reason
    told = {requester, b.briefer_email}  # before any hand-over changes the briefer
    if kind == approvals.NOT_NEEDED and b.state == BriefingState.NOT_NEEDED_PENDING:
        move(b, BriefingState.NOT_NEEDED)
        _clear_approval(b)
        message = words(phrases.APPROVED_NOT_NEEDED)
    elif kind == approvals.REASSIGN and b.state in LIVE:
        target = b.approval_to
        _hand_over(session, b, target, by=requester, why=reason, s=s, now=now)
        message = words(phrases.APPROVED_HANDOVER, target=_names(s.directory, {target}))
    else:
        raise AlreadyDone(words(phrases.NOTHING_AWAITING_APPROVAL))
    _tell_requester(session, b, s, now, told)
    return message, {"approved": kind, "requested_by": requester}


def _decline(
    session: Session, b: Briefing, d: Decision, action: Action, s: Services, now: datetime
) -> Handled:
    kind, requester = b.approval_kind, b.approval_requested_by
    if not kind:
        raise AlreadyDone(words(phrases.NOTHING_AWAITING_APPROVAL))
    if b.state == BriefingState.NOT_NEEDED_PENDING:
        # Back to the officer: the ladder resumes, and the message below is their prompt.
        move(b, BriefingState.OPEN)
        b.not_needed_reason = ""
        b.ladder_reset_at = now
        b.last_step_at = now
        b.next_step_at = next_step_at(
            b.ladder, b.next_step_index, s.calendar.local_date(b.due_at), s.calendar
        )
    _clear_approval(b)
    _tell_requester(session, b, s, now, {requester, b.briefer_email})
    return words(phrases.DECLINED), {"declined": kind, "requested_by": requester}


def _tell_requester(
    session: Session, b: Briefing, s: Services, now: datetime, who: set[str]
) -> None:
    """The person who asked (and the briefer) hear what was decided."""
    for email in sorted(who - {""}):
        _queue(
            session, b, s, now, email, MessageKind.APPROVAL_DECIDED, "approval_decided", each=True
        )


def _queue(
    session: Session,
    b: Briefing,
    s: Services,
    now: datetime,
    to: str,
    kind: str,
    key: str,
    *,
    each: bool = False,
) -> None:
    """One message about this briefing to one person, once for this version of it.

    `each`: several people get this kind for one version, so the key names the recipient."""
    suffix = f":{to}" if each else ""
    enqueue(
        session,
        recipient=to,
        briefing=b,
        kind=kind,
        key=f"{key}:v{b.version + 1}{suffix}",
        send_at=now,
        calendar=s.calendar,
    )


def _asked(action: Action, s: Services, now: datetime) -> tuple[str, str]:
    """Who is asking (by name), and today's date as a key: such a request counts once a day."""
    return s.directory.name_of(action.actor_email), s.calendar.local_date(now).isoformat()


def _remind_briefer(
    session: Session, b: Briefing, d: Decision, action: Action, s: Services, now: datetime
) -> Handled:
    """A director or the chief executive asks for every waiting briefer to be reminded now."""
    asked_by, day = _asked(action, s, now)
    queued = []
    for waiting in escalation_context(session, d.id or 0).waiting:
        nudge = enqueue(
            session,
            recipient=waiting.briefer_email,
            briefing=waiting,
            kind=MessageKind.CHASE,
            key=f"chase:{action.actor_email.lower()}:{day}",
            send_at=now,
            calendar=s.calendar,
            card={"note": phrases.CHASED_BY.format(name=asked_by)},
        )
        if nudge is not None:
            queued.append(waiting.briefer_email)
    if not queued:
        raise AlreadyDone(words(phrases.ALREADY_REMINDED))
    names = _names(s.directory, set(queued))
    return words(phrases.REMINDED, names=names), {"reminded": sorted(set(queued))}


def _ask_director(
    session: Session, b: Briefing, d: Decision, action: Action, s: Services, now: datetime
) -> Handled:
    """The chief executive asks each waiting briefer's director to chase them."""
    asked_by, day = _asked(action, s, now)
    asked: set[str] = set()
    for waiting in escalation_context(session, d.id or 0).waiting:
        director = s.directory.director_of(waiting.briefer_email)
        if not director or director == action.actor_email.lower():
            continue
        nudge = enqueue(
            session,
            recipient=director,
            briefing=waiting,
            kind=MessageKind.CHASE,
            key=f"ask_director:d{d.id}:{action.actor_email.lower()}:{day}:{director}",
            send_at=now,
            calendar=s.calendar,
            per_briefing=False,  # one request to each director for the whole decision
            card={
                "note": phrases.ASKED_TO_CHASE.format(
                    name=asked_by, briefer=s.directory.name_of(waiting.briefer_email)
                )
            },
        )
        if nudge is not None:
            asked.add(director)
    if not asked:
        raise AlreadyDone(words(phrases.ALREADY_ASKED_DIRECTOR))
    names = _names(s.directory, asked)
    return words(phrases.ASKED_DIRECTOR, names=names), {"asked": sorted(asked)}


def _noted(
    session: Session, b: Briefing, d: Decision, action: Action, s: Services, now: datetime
) -> Handled:
    already = session.scalar(
        select(col(AuditEvent.id)).where(
            col(AuditEvent.decision_ref) == d.ref,
            col(AuditEvent.action) == ActionKind.NOTED.value,
            col(AuditEvent.actor_email) == action.actor_email.lower(),
            col(AuditEvent.at) >= s.calendar.start_of_day(s.calendar.local_date(now)),
        )
    )
    if already is not None:
        raise AlreadyDone(words(phrases.NOTED))
    return words(phrases.NOTED), {}


def _acknowledge(
    session: Session, b: Briefing, d: Decision, action: Action, s: Services, now: datetime
) -> Handled:
    move(b, BriefingState.ACKNOWLEDGED)
    b.acknowledged_at = now
    b.next_step_at = None
    b.member_reminder_at = None
    b.snoozed_until = None
    b.changed_since_briefed = ""
    _queue(session, b, s, now, b.briefer_email, MessageKind.ACKNOWLEDGED, "acknowledged")
    return words(phrases.THANKS_FOR_ACKNOWLEDGING), {}


def _dispute(
    session: Session, b: Briefing, d: Decision, action: Action, s: Services, now: datetime
) -> Handled:
    answer = (
        phrases.DISPUTE_NOT_BRIEFED
        if action.kind == ActionKind.NOT_YET_BRIEFED
        else phrases.DISPUTE_MORE_INFO
    )
    note = action.inputs.get("note", "").strip()
    move(b, BriefingState.DISPUTED)
    # The member's own words are kept apart, to be shown on their own line, quoted.
    b.dispute = answer + (f"\n{note}" if note else "")
    b.member_reminder_at = None
    # Back to the officer: the ladder resumes where it left off, and the message below is
    # their prompt, so nobody above them hears before the next working day.
    b.ladder_reset_at = now
    b.last_step_at = now
    b.next_step_at = next_step_at(
        b.ladder, b.next_step_index, s.calendar.local_date(b.due_at), s.calendar
    )
    _queue(session, b, s, now, b.briefer_email, MessageKind.DISPUTED, "disputed")
    return words(phrases.OFFICER_WILL_FOLLOW_UP), {"note": note}


_HANDLERS = {
    ActionKind.LOG_BRIEFING: _log_briefing,
    ActionKind.SNOOZE: _snooze,
    ActionKind.NOT_NEEDED: _not_needed,
    ActionKind.REASSIGN: _reassign,
    ActionKind.ACKNOWLEDGE: _acknowledge,
    ActionKind.NOT_YET_BRIEFED: _dispute,
    ActionKind.NEED_MORE_INFO: _dispute,
    ActionKind.REMIND_BRIEFER: _remind_briefer,
    ActionKind.ASK_DIRECTOR: _ask_director,
    ActionKind.NOTED: _noted,
    ActionKind.APPROVE: _approve,
    ActionKind.DECLINE: _decline,
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
    briefing.ladder_reset_at = now
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
