"""The sweep tick: reconcile briefings, then run each briefing's ladder one step at a time."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import or_, select
from sqlmodel import Session, col

from bot.briefings.ladder import due_steps
from bot.briefings.notices import notify_oversight
from bot.briefings.reconcile import SweepReport, sweep
from bot.briefings.states import LIVE, move
from bot.decisions.rules import is_scheduled
from bot.delivery.outbox import OutboxBatch
from bot.delivery.ports import MessageKind
from bot.gc_pause import collection_paused
from bot.store import audit
from bot.store.directory import Directory
from bot.store.models import Briefing, BriefingState, Decision
from bot.store.secrets import payload_key
from bot.views.cards import PayloadSigner
from bot.views.renderer import Renderer

if TYPE_CHECKING:
    from bot.app import App


@dataclass(frozen=True)
class StepQueued:
    ref: str
    briefing_id: int
    step: str
    recipient: str
    why: str

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


@dataclass
class TickReport:
    sweep: SweepReport
    steps: list[StepQueued] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        data = self.sweep.as_dict()
        data["messages_queued"] = [s.as_dict() for s in self.steps]
        return data


def run_sweep_tick(*, app: App, session: Session, dry_run: bool = False) -> TickReport:
    """Reconcile, then queue the escalation steps and member reminders that are due."""
    with collection_paused():
        return _sweep_tick(app=app, session=session, dry_run=dry_run)


def _sweep_tick(*, app: App, session: Session, dry_run: bool) -> TickReport:
    now = app.now()
    directory = app.directory(session)
    report = TickReport(
        sweep(
            session=session,
            settings=app.settings,
            calendar=app.calendar,
            now=now,
            directory=directory,
        )
    )
    report.steps = escalate(session=session, app=app, directory=directory, now=now)
    notify_oversight(
        session=session,
        renderer=Renderer(
            settings=app.settings,
            calendar=app.calendar,
            directory=directory,
            signer=PayloadSigner(payload_key(session)),
        ),
        now=now,
        horizon_days=app.settings.rules.horizon_days,
    )
    if dry_run:
        session.rollback()
    return report


def held_recipients(decision: Decision) -> frozenset[str]:
    """Who waits: a "not before" date is the earliest date, not a deadline, so the chief
    executive is not told until the item is actually scheduled."""
    return frozenset() if is_scheduled(decision) else frozenset({"chief_executive"})


def _step_recipients(
    step: dict[str, Any], briefing: Briefing, directory: Directory, decision: Decision
) -> list[str]:
    who = step["recipient"]
    if who == "briefer":
        return [briefing.briefer_email]
    if who == "director":
        director = directory.director_of(briefing.briefer_email)
        if not director:
            portfolio = directory.portfolio(decision.portfolio)
            director = portfolio.director_email if portfolio else ""
        return [director] if director else list(directory.chief_executives)
    if who == "chief_executive":
        return list(directory.chief_executives)
    return []


def escalate(
    *, session: Session, app: App, directory: Directory, now: datetime
) -> list[StepQueued]:
    """Run every due ladder step; a late tick sends only the latest due step per briefing."""
    queued: list[StepQueued] = []
    calendar = app.calendar
    due = session.scalars(
        select(Briefing)
        .where(
            or_(
                (col(Briefing.next_step_at) <= now) & col(Briefing.state).in_(list(LIVE)),
                (col(Briefing.member_reminder_at) <= now)
                & (col(Briefing.state) == BriefingState.BRIEFED),
            )
        )
        .order_by(col(Briefing.id))
    ).all()
    decisions = {
        d.id: d
        for d in session.scalars(
            select(Decision).where(col(Decision.id).in_({b.decision_id for b in due}))
        )
    }
    events: list[audit.EventData] = []
    outbox = OutboxBatch(session, calendar)
    # Messages are one per decision, step, recipient and day: a member found waiting later
    # (a new councillor, a re-opened briefing) is escalated again, with everyone listed.
    today = calendar.local_date(now).isoformat()
    for briefing in due:
        decision = decisions[briefing.decision_id]
        if briefing.state == BriefingState.BRIEFED:
            outbox.add(
                recipient=briefing.member_email,
                briefing=briefing,
                kind=MessageKind.MEMBER_REMINDER,
                key=f"member_reminder:c{briefing.cycle}",
                send_at=now,
            )
            briefing.member_reminder_at = None
            queued.append(
                StepQueued(
                    decision.ref,
                    briefing.id or 0,
                    "member_reminder",
                    briefing.member_email,
                    "briefing logged but not yet acknowledged",
                )
            )
            events.append(
                audit.EventData(
                    action="member_reminder",
                    at=now,
                    platform="scheduler",
                    decision_ref=decision.ref,
                    briefing_id=briefing.id,
                    reason="briefing not yet acknowledged",
                )
            )
            continue
        if briefing.state == BriefingState.SNOOZED:
            if briefing.snoozed_until and briefing.snoozed_until > now:
                continue
            move(briefing, BriefingState.OPEN)
            briefing.snoozed_until = None
            briefing.version += 1
            events.append(
                audit.EventData(
                    action="snooze_ended",
                    at=now,
                    platform="scheduler",
                    decision_ref=decision.ref,
                    briefing_id=briefing.id,
                )
            )
        choice = due_steps(
            briefing.ladder,
            briefing.next_step_index,
            calendar.local_date(briefing.due_at),
            now,
            calendar,
            reset_at=briefing.ladder_reset_at,
            last_step_at=briefing.last_step_at,
            held=held_recipients(decision),
        )
        briefing.next_step_index = choice.next_index
        briefing.next_step_at = choice.next_at
        briefing.updated_at = now
        if not choice.acted:
            continue
        briefing.last_step_at = now
        if choice.prompt_briefer:
            # A catch-up prompt with buttons: the briefer hears before anyone above them.
            outbox.add(
                recipient=briefing.briefer_email,
                briefing=briefing,
                kind=MessageKind.PROMPT,
                key=f"d{decision.id}:prompt:{briefing.briefer_email}:{today}",
                send_at=now,
                per_briefing=False,
            )
            queued.append(
                StepQueued(
                    decision.ref,
                    briefing.id or 0,
                    MessageKind.PROMPT.value,
                    briefing.briefer_email,
                    "prompted before anyone above them is told",
                )
            )
            events.append(
                audit.EventData(
                    action="briefer_prompted",
                    at=now,
                    platform="scheduler",
                    decision_ref=decision.ref,
                    briefing_id=briefing.id,
                    reason="several ladder steps fell due at once",
                )
            )
        skipped = [briefing.ladder[i]["name"] for i in choice.skipped]
        for position, index in enumerate(choice.send):
            step = briefing.ladder[index]
            for recipient in _step_recipients(step, briefing, directory, decision):
                # Everyone hears once per decision, step and day, however many members are
                # waiting on it: the officer's one card lists each member they are to brief.
                outbox.add(
                    recipient=recipient,
                    briefing=briefing,
                    kind=step["name"],
                    key=f"d{decision.id}:{step['name']}:{recipient}:{today}",
                    send_at=now,
                    per_briefing=False,
                )
                why = (
                    f"step {step['name']} ({step['offset_working_days']:+d} working days from due)"
                )
                queued.append(
                    StepQueued(decision.ref, briefing.id or 0, step["name"], recipient, why)
                )
            last = position == len(choice.send) - 1
            events.append(
                audit.EventData(
                    action="escalation_step",
                    at=now,
                    platform="scheduler",
                    decision_ref=decision.ref,
                    briefing_id=briefing.id,
                    reason=step["name"],
                    details={"skipped_as_stale": skipped} if skipped and last else {},
                )
            )
    outbox.flush()
    audit.append(session, events)
    return queued
