"""The sweep tick: reconcile briefings, then run each briefing's ladder one step at a time."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import Row, String, cast, or_, select
from sqlmodel import Session, col

from bot.briefings.ladder import StepDecision, due_steps
from bot.briefings.notices import notify_oversight
from bot.briefings.reconcile import DecisionRef, SweepReport, sweep
from bot.briefings.states import LIVE, move
from bot.decisions.calendar import CouncilCalendar
from bot.decisions.rules import is_scheduled
from bot.delivery.outbox import OutboxBatch
from bot.delivery.ports import MessageKind
from bot.gc_pause import collection_paused
from bot.store import audit
from bot.store.bulk import update_by_id
from bot.store.db import large_page_cache
from bot.store.directory import Directory
from bot.store.models import Briefing, BriefingState, Decision, table_of
from bot.store.secrets import payload_key
from bot.views.cards import PayloadSigner
from bot.views.renderer import Renderer

if TYPE_CHECKING:
    from bot.app import App

_CHUNK = 500  # ids per IN (...) list


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
    with collection_paused(), large_page_cache(session):
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
    if not report.sweep.unchanged:
        # Otherwise the last sweep today, in the same context, already sent every notice owed:
        # who is owed one changes only with the items, the directory or the day.
        _notify_oversight(app=app, session=session, directory=directory, now=now)
    if dry_run:
        session.rollback()
    return report


def _notify_oversight(*, app: App, session: Session, directory: Directory, now: datetime) -> None:
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


class LadderItem(DecisionRef, Protocol):
    """What running a briefing's ladder reads of its decision."""

    @property
    def portfolio(self) -> str: ...

    @property
    def decision_due_text(self) -> str: ...

    @property
    def meeting_date(self) -> date | None: ...


def held_recipients(decision: LadderItem) -> frozenset[str]:
    """Who waits: a "not before" date is the earliest date, not a deadline, so the chief
    executive is not told until the item is actually scheduled."""
    return frozenset() if is_scheduled(decision) else frozenset({"chief_executive"})


def _step_recipients(
    step: dict[str, Any],
    briefing: Briefing | Row[Any],
    directory: Directory,
    decision: LadderItem,
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


def _ladder_items(session: Session, decision_ids: list[int]) -> dict[int, LadderItem]:
    """Plain rows of the few columns the ladder reads, by decision id: loading whole model
    objects (every JSON column decoded) for thousands of due briefings cost more."""
    table = table_of(Decision)
    columns = (
        table.c.id,
        table.c.ref,
        table.c.portfolio,
        table.c.decision_due_text,
        table.c.meeting_date,
    )
    found: dict[int, LadderItem] = {}
    for start in range(0, len(decision_ids), _CHUNK):
        chunk = decision_ids[start : start + _CHUNK]
        for row in session.execute(select(*columns).where(table.c.id.in_(chunk))):
            found[row.id] = row
    return found


class _Ladders:
    """What one tick works out for many briefings that share it: each distinct ladder decoded
    once, each due date's local day once, and each ladder's choice once for all the briefings
    that would get the same one (`due_steps` depends on nothing else, and `now` is the tick's)."""

    def __init__(self, calendar: CouncilCalendar, now: datetime) -> None:
        self.calendar = calendar
        self.now = now
        self.decoded: dict[str, list[dict[str, Any]]] = {}
        self.days: dict[datetime, date] = {}
        self.choices: dict[tuple[Any, ...], StepDecision] = {}

    def ladder(self, text: str) -> list[dict[str, Any]]:
        found = self.decoded.get(text)
        if found is None:
            found = self.decoded[text] = json.loads(text)
        return found

    def day(self, moment: datetime) -> date:
        found = self.days.get(moment)
        if found is None:
            found = self.days[moment] = self.calendar.local_date(moment)
        return found

    def choose(
        self,
        ladder: list[dict[str, Any]],
        briefing: Briefing | Row[Any],
        held: frozenset[str],
        text: str | None,
    ) -> StepDecision:
        """`due_steps` for this briefing; `text`: its ladder as stored, when the answer may be
        shared (None: worked out for it alone)."""
        due_date = self.day(briefing.due_at)
        key = (
            text,
            briefing.next_step_index,
            due_date,
            briefing.ladder_reset_at,
            briefing.last_step_at,
            held,
        )
        found = self.choices.get(key) if text is not None else None
        if found is None:
            found = due_steps(
                ladder,
                briefing.next_step_index,
                due_date,
                self.now,
                self.calendar,
                reset_at=briefing.ladder_reset_at,
                last_step_at=briefing.last_step_at,
                held=held,
            )
            if text is not None:
                self.choices[key] = found
        return found


def escalate(
    *, session: Session, app: App, directory: Directory, now: datetime
) -> list[StepQueued]:
    """Run every due ladder step; a late tick sends only the latest due step per briefing."""
    queued: list[StepQueued] = []
    calendar = app.calendar
    due = _due_briefings(session, now)
    decisions = _ladder_items(session, sorted({b.decision_id for b in due}))
    held_by_decision = {id_: held_recipients(item) for id_, item in decisions.items()}
    ladders = _Ladders(calendar, now)
    # Where plain rows' ladders now stand: written in one executemany below.
    climbed: list[dict[str, Any]] = []
    events: list[audit.EventData] = []
    outbox = OutboxBatch(session, calendar)
    # Why a step was sent: the same few words for every briefing at that step.
    whys: dict[tuple[str, int], str] = {}
    # Messages are one per decision, step, recipient and day: a member found waiting later
    # (a new councillor, a re-opened briefing) is escalated again, with everyone listed.
    today = calendar.local_date(now).isoformat()
    for briefing in due:
        decision = decisions[briefing.decision_id]
        if briefing.state == BriefingState.BRIEFED:
            assert isinstance(briefing, Briefing)  # loaded as a model object: its reminder changes
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
            assert isinstance(briefing, Briefing)  # loaded as a model object: its state may move
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
        held = held_by_decision[briefing.decision_id]
        if isinstance(briefing, Briefing):
            ladder = briefing.ladder
            choice = ladders.choose(ladder, briefing, held, None)
            briefing.next_step_index = choice.next_index
            briefing.next_step_at = choice.next_at
            briefing.updated_at = now
            if choice.acted:
                briefing.last_step_at = now
        else:
            ladder = ladders.ladder(briefing.ladder_text)
            choice = ladders.choose(ladder, briefing, held, briefing.ladder_text)
            climbed.append(
                {
                    "row": briefing.id,
                    "next_step_index": choice.next_index,
                    "next_step_at": choice.next_at,
                    "updated_at": now,
                    "last_step_at": now if choice.acted else briefing.last_step_at,
                }
            )
        if not choice.acted:
            continue
        if choice.prompt_briefer:
            # A catch-up prompt with buttons: the briefer hears before anyone above them.
            key = f"d{decision.id}:prompt:{briefing.briefer_email}:{today}"
            if key not in outbox.rows:  # the first briefing on the decision queued it
                outbox.add(
                    recipient=briefing.briefer_email,
                    briefing=briefing,
                    kind=MessageKind.PROMPT,
                    key=key,
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
        skipped = [ladder[i]["name"] for i in choice.skipped]
        for position, index in enumerate(choice.send):
            step = ladder[index]
            name = step["name"]
            why = whys.get((name, step["offset_working_days"]))
            if why is None:
                offset = step["offset_working_days"]
                why = whys[(name, offset)] = f"step {name} ({offset:+d} working days from due)"
            for recipient in _step_recipients(step, briefing, directory, decision):
                # Everyone hears once per decision, step and day, however many members are
                # waiting on it: the officer's one card lists each member they are to brief.
                key = f"d{decision.id}:{name}:{recipient}:{today}"
                if key not in outbox.rows:  # the first briefing on the decision queued it
                    outbox.add(
                        recipient=recipient,
                        briefing=briefing,
                        kind=name,
                        key=key,
                        send_at=now,
                        per_briefing=False,
                    )
                queued.append(StepQueued(decision.ref, briefing.id or 0, name, recipient, why))
            last = position == len(choice.send) - 1
            events.append(
                audit.EventData(
                    action="escalation_step",
                    at=now,
                    platform="scheduler",
                    decision_ref=decision.ref,
                    briefing_id=briefing.id,
                    reason=name,
                    details={"skipped_as_stale": skipped} if skipped and last else {},
                )
            )
    _write_ladder_positions(session, climbed)
    outbox.flush()
    audit.append(session, events)
    return queued


# What running a ladder reads of a briefing whose state does not change here.
_LADDER_COLUMNS = (
    "id",
    "decision_id",
    "state",
    "cycle",
    "next_step_index",
    "due_at",
    "ladder_reset_at",
    "last_step_at",
    "briefer_email",
    "member_email",
)


def _due_briefings(session: Session, now: datetime) -> list[Briefing | Row[Any]]:
    """Every briefing with a ladder step or member reminder due, in id order: plain rows for
    the many whose ladder only climbs (building and flushing thousands of model objects cost
    more than running their ladders), model objects for those whose state or reminder
    changes (a snooze ends, a member is reminded), which `move` and the session write."""
    table = table_of(Briefing)
    rows = session.execute(
        select(
            *(table.c[name] for name in _LADDER_COLUMNS),
            # As stored: thousands of briefings share a few ladders, each decoded once.
            cast(table.c.ladder, String).label("ladder_text"),
        )
        .where(
            or_(
                (table.c.next_step_at <= now) & table.c.state.in_(list(LIVE)),
                (table.c.member_reminder_at <= now) & (table.c.state == BriefingState.BRIEFED),
            )
        )
        .order_by(table.c.id)
    ).all()
    changing = [r.id for r in rows if r.state in (BriefingState.BRIEFED, BriefingState.SNOOZED)]
    objects: dict[int, Briefing] = {}
    for start in range(0, len(changing), _CHUNK):
        chunk = changing[start : start + _CHUNK]
        for briefing in session.scalars(select(Briefing).where(col(Briefing.id).in_(chunk))):
            objects[briefing.id or 0] = briefing
    return [objects.get(row.id, row) for row in rows]


def _write_ladder_positions(session: Session, climbed: list[dict[str, Any]]) -> None:
    """The plain rows' new ladder positions in one executemany (a model object the session
    already holds for one of them takes the values too)."""
    names = ("next_step_index", "next_step_at", "updated_at", "last_step_at")
    update_by_id(session, Briefing, climbed, {name: name for name in names})
