"""The sweep: reconcile what the rules require with the briefings the database holds.

Creates briefings, moves due times when a decision moves, closes briefings on withdrawal and
re-opens acknowledged ones after a material change. A decision whose inputs have not changed
since the last sweep (content, directory, rules, horizon) is skipped, so a second sweep with no
changes reads little and writes nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict, deque
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from functools import cache, partial
from itertools import chain
from typing import Any, NamedTuple, Protocol, cast

from sqlalchemy import (
    ColumnElement,
    Insert,
    Row,
    String,
    func,
    insert,
    select,
    type_coerce,
)
from sqlmodel import Session, col

from bot.briefings.actions import reopen_after_change
from bot.briefings.isolation import NotAssessed, isolated, skipped
from bot.briefings.ladder import frozen_ladder, next_step_at
from bot.briefings.states import ACTIVE, LIVE, move
from bot.briefings.sweep_plan import (
    ASSESSED_NAMES,
    CLEAN,
    FINGERPRINTED_NAMES,
    PLANNED,
    RECONCILE,
    NewBriefing,
    PlanSetup,
    created_details,
    facts_from_values,
    requirement_of,
)
from bot.briefings.sweep_plan import fingerprint as _fingerprint
from bot.briefings.sweep_worker import WORKER_THRESHOLD, Pending, Planning
from bot.config import Settings
from bot.decisions.calendar import CouncilCalendar
from bot.decisions.facts import MATERIAL_FIELDS, DecisionFacts
from bot.decisions.flags import RiskFlag
from bot.decisions.rules import Assessment, Requirement, assess
from bot.delivery.outbox import enqueue
from bot.delivery.ports import MessageKind
from bot.intake.moderngov import AGENDA_PREFIX
from bot.store import audit
from bot.store.bulk import execute_columns, update_columns_by_id
from bot.store.changes import SweepScope, remember_sweep, sweep_scope
from bot.store.directory import Directory, load_directory
from bot.store.flags_hash import flags_hash
from bot.store.models import (
    Briefing,
    BriefingState,
    Decision,
    DecisionChange,
    DecisionStatus,
    SweepState,
    table_of,
)
from bot.timeutil import short_date

CHUNK = 2_000
# Chunks read ahead of the one whose plan is written, while the worker plans them.
AHEAD = 2
# Rows fetched from the driver at a time when a sweep reads every decision.
FETCH = 2_000


class DecisionRef(Protocol):
    """A decision as a plain row or a model object: its id and reference."""

    @property
    def id(self) -> int | None: ...

    @property
    def ref(self) -> str: ...


class SweptItem(DecisionRef, Protocol):
    """What reconciling needs of a decision besides its facts."""

    @property
    def status(self) -> str: ...


# Read as the driver gives them and decoded once per distinct value (AssessedRows): a few
# hundred dates and ward lists repeat across the whole council.
_DECODED_ONCE = frozenset(
    {
        "decision_due",
        "meeting_date",
        "first_published",
        "wards",
        "exempt_paragraphs",
        "missing_since",
    }
)


@cache
def _assessed_columns(fingerprinted: bool = False) -> tuple[ColumnElement[Any], ...]:
    """The decision's columns the rules read (its facts) and reconciling needs (its id), and
    no others: its flags are only rewritten, so decoding them would be wasted. `fingerprinted`:
    and what its fingerprint is worked out and checked with (FINGERPRINTED_NAMES)."""
    table = table_of(Decision)
    return tuple(
        type_coerce(table.c[name], String) if name in _DECODED_ONCE else table.c[name]
        for name in (FINGERPRINTED_NAMES if fingerprinted else ASSESSED_NAMES)
    )


class AssessedRows:
    """Decisions as plain rows, with the values the rules read, for one sweep.

    Building model objects for every decision (and keeping them in step with the writes)
    cost more than assessing them; so did decoding the same few hundred dates and ward lists
    a hundred thousand times, so each distinct stored value is decoded once."""

    def __init__(self, session: Session) -> None:
        self.session = session
        dialect = session.connection().dialect
        table = table_of(Decision)
        self.decoders: list[tuple[int, Callable[[Any], Any], dict[Any, Any]]] = []
        self.by_name: dict[str, tuple[Callable[[Any], Any], dict[Any, Any]]] = {}
        for name in sorted(_DECODED_ONCE):
            processor = table.c[name].type.dialect_impl(dialect).result_processor(dialect, None)
            if processor is not None:  # None: the driver already gives Python values
                seen: dict[Any, Any] = {}
                self.decoders.append((ASSESSED_NAMES.index(name), processor, seen))
                self.by_name[name] = (processor, seen)

    def decoded(self, name: str, stored: Any) -> Any:
        """A value of a column of `_DECODED_ONCE` as read uncoerced (`type_coerce` to String)."""
        entry = self.by_name.get(name)
        if entry is None or stored is None:
            return stored
        processor, seen = entry
        value = seen.get(stored, _UNSEEN)
        if value is _UNSEEN:
            value = seen[stored] = processor(stored)
        return value

    def load(
        self, ids: list[int], *, fingerprinted: bool = False
    ) -> list[tuple[Row[Any], list[Any]]]:
        """Each decision of `ids` (in id order) with its values, in `ASSESSED_NAMES` order (or
        `FINGERPRINTED_NAMES`, if `fingerprinted`)."""
        wanted = set(ids)
        found: list[tuple[Row[Any], list[Any]]] = []
        for row in self.session.execute(
            select(*_assessed_columns(fingerprinted)).where(
                ids_filter(table_of(Decision).c.id, ids)
            )
        ).all():
            if row.id not in wanted:
                continue
            values = list(row)
            for position, processor, seen in self.decoders:
                stored = values[position]
                if stored is not None:
                    decoded = seen.get(stored, _UNSEEN)
                    if decoded is _UNSEEN:
                        decoded = seen[stored] = processor(stored)
                    values[position] = decoded
            found.append((row, values))
        return found


_UNSEEN = object()


class SweepAction(NamedTuple):
    """One change the sweep made (a named tuple: a first sweep reports a hundred thousand)."""

    kind: str  # create | update | close | reopen
    ref: str
    member_email: str
    briefer_email: str
    due_at: datetime | None
    why: str

    def as_dict(self) -> dict[str, Any]:
        data = self._asdict()
        data["due_at"] = self.due_at.isoformat() if self.due_at else None
        return data


@dataclass
class SweepReport:
    now: datetime
    decisions: int = 0
    assessed: int = 0
    actions: list[SweepAction] = field(default_factory=list)
    reopened_ids: list[int] = field(default_factory=list)
    # Items skipped because working them out raised: ref → why, in words.
    not_assessed: dict[str, str] = field(default_factory=dict)
    # Nothing changed since the last sweep on this day, in this context (directory, rules):
    # whatever that sweep worked out still holds.
    unchanged: bool = False

    def counts(self) -> dict[str, int]:
        totals: dict[str, int] = defaultdict(int)
        for action in self.actions:
            totals[action.kind] += 1
        return dict(totals)

    def as_dict(self) -> dict[str, Any]:
        return {
            "now": self.now.isoformat(),
            "decisions": self.decisions,
            "assessed": self.assessed,
            "counts": self.counts(),
            "actions": [a.as_dict() for a in self.actions],
            "not_assessed": dict(self.not_assessed),
        }


def settings_fingerprint(settings: Settings) -> str:
    payload = json.dumps(
        [asdict(settings.rules), asdict(settings.escalation), asdict(settings.council)],
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def facts_for(
    decision: Decision | list[Any], date_changes: list[tuple[date, date]]
) -> DecisionFacts:
    """The facts the rules read, from a Decision or the values of `AssessedRows.load`."""
    if isinstance(decision, list):
        return facts_from_values(decision, date_changes)
    return DecisionFacts.from_row(
        decision,
        on_forward_plan=not decision.ref.startswith(AGENDA_PREFIX),
        date_changes=tuple(date_changes),
    )


def ids_filter(column: Any, ids: list[int]) -> ColumnElement[bool]:
    """`column IN (ids)`; or, for ids that nearly fill their range (a full sweep's, in table
    order), `column BETWEEN first AND last`, the caller skipping the few rows in between:
    binding hundreds of ids into every query cost more than those rows."""
    first, last = min(ids), max(ids)
    if last - first < 2 * len(ids):
        return cast("ColumnElement[bool]", column.between(first, last))
    return cast("ColumnElement[bool]", column.in_(ids))


def date_history(session: Session, decision_ids: list[int]) -> dict[int, list[tuple[date, date]]]:
    history: dict[int, list[tuple[date, date]]] = defaultdict(list)
    for start in range(0, len(decision_ids), CHUNK):
        chunk = decision_ids[start : start + CHUNK]
        rows = session.execute(
            select(
                col(DecisionChange.decision_id),
                col(DecisionChange.old_value),
                col(DecisionChange.new_value),
            )
            .where(
                ids_filter(col(DecisionChange.decision_id), chunk),
                col(DecisionChange.field) == "decision_due",
            )
            .order_by(col(DecisionChange.id))
        )
        wanted = set(chunk)
        for decision_id, old, new in rows:
            if old and new and decision_id in wanted:
                history[decision_id].append((date.fromisoformat(old), date.fromisoformat(new)))
    return history


def sweep(
    *,
    session: Session,
    settings: Settings,
    calendar: CouncilCalendar,
    now: datetime,
    dry_run: bool = False,
    directory: Directory | None = None,
    worker_threshold: int | None = None,
) -> SweepReport:
    """Reconcile requirements with briefings. With dry_run, report and change nothing. With
    `worker_threshold` (default WORKER_THRESHOLD) dirty decisions or more, a worker process
    plans them (bot/briefings/sweep_worker.py)."""
    threshold = WORKER_THRESHOLD if worker_threshold is None else worker_threshold
    report = SweepReport(now=now)
    directory = directory or load_directory(session)
    context = f"{directory.fingerprint}|{settings_fingerprint(settings)}"
    today = calendar.local_date(now)
    horizon = settings.rules.horizon_days
    # On the same day, only rows changed since the last sweep can have a new fingerprint
    # (bot/store/changes.py); a new day, directory or rules means every row.
    scope = sweep_scope(session, context=context, today=today)
    report.decisions = session.scalar(select(func.count()).select_from(Decision)) or 0
    planning = Planning(
        PlanSetup(
            directory=directory,
            calendar=calendar,
            rules=settings.rules,
            ladder=frozen_ladder(settings.escalation),
            now=now,
            nation=settings.council.nation,
            today=today,
            context=context,
            horizon_days=horizon,
            # Whatever the rules' entry point is now (a test may stand in a failing one).
            assess=assess,
        )
    )
    try:
        last = session.get(SweepState, 1)
        assessed = AssessedRows(session)
        reconciler = _Reconciler(session, settings, calendar, now, report)
        swept = _Swept(report)
        read = _ChunkReader(session, assessed)
        if report.decisions >= threshold and (last is None or last.context != context):
            # A new directory or new rules change every decision's fingerprint, so each is
            # read in full anyway: the worker works the fingerprints out with the rest.
            planning.start()
        if planning.in_worker:
            table = table_of(Decision)
            ids = list(session.scalars(select(table.c.id).order_by(table.c.id)).all())
            _sweep_planned(
                ((ids[start : start + CHUNK], None) for start in range(0, len(ids), CHUNK)),
                read,
                planning,
                reconciler,
                swept,
            )
        else:
            dirty = _dirty(session, assessed, scope, context=context, today=today, horizon=horizon)
            if not dirty:
                report.unchanged = not scope.everything
                if not dry_run:
                    remember_sweep(session, scope)
                return report
            if len(dirty) >= threshold:
                planning.start()
            chunks = (
                (list(fingerprints), fingerprints)
                for fingerprints in (
                    dict(dirty[start : start + CHUNK]) for start in range(0, len(dirty), CHUNK)
                )
            )
            if planning.in_worker:
                _sweep_planned(chunks, read, planning, reconciler, swept)
            else:
                for ids, fingerprints in chunks:
                    chunk = read(ids, fingerprints)
                    _sweep_in_process(chunk, reconciler, swept, directory=directory)
                    reconciler.flush()
                    swept.store(session)
    except BaseException:
        planning.close(abandon=True)
        raise
    planning.close()
    if dry_run:
        session.rollback()
    else:
        remember_sweep(session, scope, swept.retry)
    return report


def _dirty(
    session: Session,
    assessed: AssessedRows,
    scope: SweepScope,
    *,
    context: str,
    today: date,
    horizon: int,
) -> list[tuple[int, str]]:
    """The decisions in scope whose fingerprint changed, each with its new one."""
    decoded = assessed.decoded
    dirty: list[tuple[int, str]] = []
    table = table_of(Decision)
    candidates = session.execute(
        select(
            table.c.id,
            table.c.content_hash,
            type_coerce(table.c.decision_due, String),
            table.c.status,
            table.c.missing_since,
            table.c.swept_fingerprint,
            type_coerce(table.c.first_published, String),
        ).where(*scope.where)
    )
    # Fetched thousands at a time (the driver's fetchmany), not row by row through the result.
    for row in chain.from_iterable(candidates.partitions(FETCH)):
        fp = _fingerprint(
            row.content_hash,
            decoded("decision_due", row.decision_due),
            row.status,
            row.missing_since,
            today,
            context,
            horizon,
            decoded("first_published", row.first_published),
        )
        if fp != row.swept_fingerprint:
            dirty.append((row.id, fp))
    return dirty


class _Chunk(NamedTuple):
    """One chunk of dirty decisions and what the database holds for them."""

    # id → its new fingerprint (None: the plan works them out, from values read for it)
    fingerprints: dict[int, str] | None
    decisions: list[tuple[Row[Any], list[Any]]]
    history: dict[int, list[tuple[date, date]]]
    material: dict[int, list[DecisionChange]]
    briefings: dict[int, list[Briefing]]


class _ChunkReader:
    def __init__(self, session: Session, assessed: AssessedRows) -> None:
        self.session = session
        self.assessed = assessed

    def __call__(self, ids: list[int], fingerprints: dict[int, str] | None) -> _Chunk:
        session = self.session
        # Plain rows of only what the rules read: building model objects for every decision
        # (and keeping them in step with the writes below) cost more than assessing them.
        decisions = self.assessed.load(ids, fingerprinted=fingerprints is None)
        briefings: dict[int, list[Briefing]] = defaultdict(list)
        wanted = set(ids)
        for briefing in session.scalars(
            select(Briefing).where(ids_filter(col(Briefing.decision_id), ids))
        ):
            if briefing.decision_id in wanted:
                briefings[briefing.decision_id].append(briefing)
        return _Chunk(
            fingerprints,
            decisions,
            date_history(session, ids),
            _material_changes(session, ids),
            briefings,
        )


def _sweep_in_process(
    chunk: _Chunk, reconciler: _Reconciler, swept: _Swept, *, directory: Directory
) -> None:
    """Assess and reconcile each decision of a chunk here, one at a time."""
    settings, briefings, fingerprints = reconciler.settings, chunk.briefings, chunk.fingerprints
    if fingerprints is None:
        raise ValueError("a chunk swept in process has its fingerprints worked out already")
    for decision, values in chunk.decisions:
        try:
            with isolated(
                reconciler.session,
                reconciler,
                ref=decision.ref,
                loaded=briefings[decision.id],
                writes_at_once=bool(chunk.material.get(decision.id)),
            ):
                facts = facts_for(values, chunk.history.get(decision.id, []))
                assessment = assess(
                    facts,
                    directory=directory,
                    calendar=reconciler.calendar,
                    rules=settings.rules,
                    now=reconciler.now,
                    nation=settings.council.nation,
                )
                reconciler.reconcile(
                    decision,
                    assessment,
                    briefings[decision.id],
                    chunk.material.get(decision.id, []),
                )
        except NotAssessed as failure:
            swept.failed(decision, failure.why)
            continue
        swept.assessed(decision, swept.flag_set(assessment.flags), fingerprints[decision.id])


def _sweep_planned(
    chunks: Iterator[tuple[list[int], dict[int, str] | None]],
    read: _ChunkReader,
    planning: Planning,
    reconciler: _Reconciler,
    swept: _Swept,
) -> None:
    """Chunks planned by the worker while this process reads the next and writes the last."""
    pending: deque[tuple[_Chunk, Pending]] = deque()
    for ids, fingerprints in chunks:
        chunk = read(ids, fingerprints)
        handed = planning.submit(
            [values for _, values in chunk.decisions], chunk.history, frozenset(chunk.briefings)
        )
        pending.append((chunk, handed))
        if len(pending) > AHEAD:
            _apply_plan(*pending.popleft(), planning, reconciler, swept)
    while pending:
        _apply_plan(*pending.popleft(), planning, reconciler, swept)


def _apply_plan(
    chunk: _Chunk, handed: Pending, planning: Planning, reconciler: _Reconciler, swept: _Swept
) -> None:
    """What a chunk's plan says, done: new briefings collected, decisions with briefings
    reconciled here (each in isolation), the rest recorded; then the chunk written."""
    plan, tables = planning.result(handed)
    flag_sets, reason_sets = tables
    fingerprints = plan.fingerprints
    if fingerprints is None and chunk.fingerprints is not None:
        fingerprints = [chunk.fingerprints[decision.id] for decision, _ in chunk.decisions]
    if fingerprints is None:
        raise ValueError("a chunk's plan came back without the fingerprints it was asked for")
    for (decision, _), outcome, fingerprint in zip(
        chunk.decisions, plan.outcomes, fingerprints, strict=True
    ):
        kind = outcome[0]
        if kind == CLEAN:
            continue
        if kind == PLANNED:
            if outcome[2]:
                reconciler.opened(decision.id, decision.ref, outcome[2], reason_sets)
        elif kind == RECONCILE:
            requirements = tuple(map(requirement_of, outcome[2]))
            try:
                with isolated(
                    reconciler.session,
                    reconciler,
                    ref=decision.ref,
                    loaded=chunk.briefings[decision.id],
                    writes_at_once=bool(chunk.material.get(decision.id)),
                ):
                    reconciler.reconcile(
                        decision,
                        Assessment(decision.ref, requirements, (), outcome[3]),
                        chunk.briefings[decision.id],
                        chunk.material.get(decision.id, []),
                    )
            except NotAssessed as failure:
                swept.failed(decision, failure.why)
                continue
        else:
            _, why, raised, text = outcome
            skipped(decision.ref, raised, text)
            swept.failed(decision, why)
            continue
        swept.assessed(decision, flag_sets[outcome[1]], fingerprint)
    reconciler.flush()
    swept.store(reconciler.session)


class _Swept:
    """What the sweep records on each decision it looked at: its fingerprint, its flags
    (only where they changed) and why it could not be assessed; written chunk by chunk."""

    def __init__(self, report: SweepReport) -> None:
        self.report = report
        # (id, fingerprint, error), and with the flags and their hash where those changed.
        self.same: list[tuple[int, str, str]] = []
        self.changed: list[tuple[int, str, str, list[dict[str, str]], str]] = []
        self.retry: list[int] = []  # not assessed: read again by the next sweep
        self.flag_sets: dict[tuple[RiskFlag, ...], tuple[list[dict[str, str]], str]] = {}

    def flag_set(self, flags: tuple[RiskFlag, ...]) -> tuple[list[dict[str, str]], str]:
        """A hundred or so distinct sets of flags across a council: each is turned into
        stored form and hashed once, and one list is shared, so it is encoded once."""
        stored = self.flag_sets.get(flags)
        if stored is None:
            stored_flags = [f.as_dict() for f in flags]
            stored = self.flag_sets[flags] = (stored_flags, flags_hash(stored_flags))
        return stored

    def assessed(
        self, decision: Row[Any], flag_set: tuple[list[dict[str, str]], str], fingerprint: str
    ) -> None:
        self.report.assessed += 1
        flags, new_hash = flag_set
        if new_hash == decision.flags_hash:
            self.same.append((decision.id, fingerprint, ""))
        else:
            self.changed.append((decision.id, fingerprint, "", flags, new_hash))

    def failed(self, decision: Row[Any], why: str) -> None:
        self.report.not_assessed[decision.ref] = why
        self.retry.append(decision.id)
        # An empty fingerprint keeps it dirty, so the next sweep tries it again.
        flags = NotAssessed(decision.ref, why).flags()
        new_hash = flags_hash(flags)
        if new_hash == decision.flags_hash:
            self.same.append((decision.id, "", why))
        else:
            self.changed.append((decision.id, "", why, flags, new_hash))

    def store(self, session: Session) -> None:
        """Every decision's fingerprint in one executemany, and its flags only where their
        hash changed (most items' flags do not): the ORM's flush of thousands of changed
        objects costs several times more."""
        if self.same:
            ids, fingerprints, errors = zip(*self.same, strict=True)
            update_columns_by_id(
                session,
                Decision,
                ids,
                {"swept_fingerprint": fingerprints, "assess_error": errors},
            )
        if self.changed:
            ids, fingerprints, errors, flags, hashes = zip(*self.changed, strict=True)
            update_columns_by_id(
                session,
                Decision,
                ids,
                {
                    "swept_fingerprint": fingerprints,
                    "assess_error": errors,
                    "flags": flags,
                    "flags_hash": hashes,
                },
            )
        self.same, self.changed = [], []


def _material_changes(session: Session, decision_ids: list[int]) -> dict[int, list[DecisionChange]]:
    found: dict[int, list[DecisionChange]] = defaultdict(list)
    wanted = set(decision_ids)
    for change in session.scalars(
        select(DecisionChange)
        .where(
            ids_filter(col(DecisionChange.decision_id), decision_ids),
            col(DecisionChange.field).in_(sorted(MATERIAL_FIELDS)),
        )
        .order_by(col(DecisionChange.id))
    ):
        if change.decision_id in wanted:
            found[change.decision_id].append(change)
    return found


_new_briefing = partial(tuple.__new__, NewBriefing)
_new_action = partial(tuple.__new__, SweepAction)


class _Reconciler:
    """Collects creations for one bulk insert; updates go through the ORM session."""

    def __init__(
        self,
        session: Session,
        settings: Settings,
        calendar: CouncilCalendar,
        now: datetime,
        report: SweepReport,
    ) -> None:
        self.session = session
        self.settings = settings
        self.calendar = calendar
        self.now = now
        self.report = report
        self.ladder = frozen_ladder(settings.escalation)
        # When a new briefing's first step fires depends only on its due date: work each out once.
        ladder = self.ladder
        self.first_step_at = cache(lambda due: next_step_at(ladder, 0, due, calendar))
        self.created: list[NewBriefing] = []
        # One object for every new row, so it is encoded once (bot/store/bulk.py).
        self.no_briefers: list[str] = []
        self.reason_lists: dict[tuple[str, ...], list[str]] = {}
        self.events: list[audit.EventData] = []

    def _reasons(self, reasons: tuple[str, ...]) -> list[str]:
        """One list object per distinct set of reasons (thousands of briefings share a few
        hundred), so each is encoded once when the new rows are written."""
        found = self.reason_lists.get(reasons)
        if found is None:
            found = self.reason_lists[reasons] = list(reasons)
        return found

    def mark(self) -> tuple[int, int, int, int]:
        """Where the collected work stands, so one item's half-done work can be undone."""
        return (
            len(self.created),
            len(self.events),
            len(self.report.actions),
            len(self.report.reopened_ids),
        )

    def undo_to(self, mark: tuple[int, int, int, int], objects: list[Any]) -> None:
        """Forget what one failed item added, and its unflushed changes to loaded rows."""
        created, events, actions, reopened = mark
        del self.created[created:]
        del self.events[events:]
        del self.report.actions[actions:]
        del self.report.reopened_ids[reopened:]
        for obj in objects:
            # Expiring discards pending attribute changes; the next read reloads the stored row.
            self.session.expire(obj)

    def _event(
        self, action: str, ref: str, briefing_id: int | None, reason: str, **details: Any
    ) -> None:
        self.events.append(
            audit.EventData(
                action=action,
                at=self.now,
                platform="sweep",
                decision_ref=ref,
                briefing_id=briefing_id,
                reason=reason,
                details=details,
            )
        )

    def reconcile(
        self,
        decision: SweptItem,
        assessment: Assessment,
        existing: list[Briefing],
        material: list[DecisionChange],
    ) -> None:
        by_member = {b.member_email: b for b in existing}
        required = {r.member_email: r for r in assessment.requirements}
        withdrawn = decision.status == DecisionStatus.WITHDRAWN
        for member, requirement in required.items():
            briefing = by_member.get(member)
            if withdrawn:
                continue
            if briefing is None:
                if assessment.creates_briefings:
                    self._create(decision, requirement)
                continue
            if briefing.state == BriefingState.WITHDRAWN:
                if assessment.creates_briefings:
                    self._revive(decision, briefing, requirement)
                continue
            self._update(decision, briefing, requirement)
            self._reopen_if_changed(decision, briefing, material)
        if withdrawn:
            self._announce_withdrawal(decision, existing)
        for member, briefing in by_member.items():
            if briefing.state not in ACTIVE:
                continue
            if withdrawn:
                self._close(decision, briefing, "the decision was withdrawn from the forward plan")
            elif member not in required:
                self._close(
                    decision,
                    briefing,
                    "no longer required by the rules (portfolio, wards or directory changed)",
                )

    def _create(self, decision: SweptItem, requirement: Requirement) -> None:
        self._open(
            NewBriefing(
                cast(int, decision.id),
                decision.ref,
                requirement.member_email,
                requirement.briefer_email,
                self._reasons(requirement.reasons),
                requirement.due_at,
                self.first_step_at(requirement.due_date),
                "; ".join(requirement.reasons),
                created_details(requirement),
            )
        )

    def opened(
        self,
        decision_id: int,
        ref: str,
        planned: tuple[tuple[Any, ...], ...],
        reason_sets: list[tuple[list[str], str]],
    ) -> None:
        """Open the briefings a plan worked out for a decision that had none
        (bot/briefings/sweep_plan.py: what `_create` opens for each required member)."""
        created, actions = self.created, self.report.actions
        for member, briefer, reasons, due_at, step_at, details in planned:
            shared, why = reason_sets[reasons]
            # As `_open` does, without a Python-level constructor call per tuple: a first sweep
            # opens a hundred thousand.
            created.append(
                _new_briefing(
                    (decision_id, ref, member, briefer, shared, due_at, step_at, why, details)
                )
            )
            actions.append(_new_action(("create", ref, member, briefer, due_at, why)))

    def _open(self, new: NewBriefing) -> None:
        self.created.append(new)
        self.report.actions.append(
            SweepAction("create", new.ref, new.member_email, new.briefer_email, new.due_at, new.why)
        )

    def _revive(self, decision: SweptItem, briefing: Briefing, requirement: Requirement) -> None:
        move(briefing, BriefingState.OPEN)
        briefing.cycle += 1
        self._apply_requirement(briefing, requirement, restart_ladder=True)
        self.report.actions.append(
            SweepAction(
                "reopen",
                decision.ref,
                briefing.member_email,
                briefing.briefer_email,
                briefing.due_at,
                "the decision is back on the forward plan",
            )
        )
        self._event(
            "briefing_reopened",
            decision.ref,
            briefing.id,
            "the decision is back on the forward plan",
        )

    def _apply_requirement(
        self, briefing: Briefing, requirement: Requirement, *, restart_ladder: bool
    ) -> None:
        if restart_ladder or briefing.due_at != requirement.due_at:
            briefing.ladder_reset_at = self.now
        briefing.due_at = requirement.due_at
        if not briefing.briefer_overridden:
            briefing.briefer_email = requirement.briefer_email
        briefing.reasons = list(requirement.reasons)
        if restart_ladder:
            briefing.next_step_index = 0
            briefing.snoozed_until = None
        if briefing.state in LIVE:
            briefing.next_step_at = next_step_at(
                briefing.ladder, briefing.next_step_index, requirement.due_date, self.calendar
            )
        if briefing.snoozed_until and briefing.snoozed_until > briefing.due_at:
            briefing.snoozed_until = briefing.due_at
        briefing.version += 1
        briefing.updated_at = self.now

    def _update(self, decision: SweptItem, briefing: Briefing, requirement: Requirement) -> None:
        changes: dict[str, Any] = {}
        if briefing.due_at != requirement.due_at:
            changes["due_at"] = [briefing.due_at.isoformat(), requirement.due_at.isoformat()]
        if briefing.briefer_email != requirement.briefer_email and not briefing.briefer_overridden:
            changes["briefer_email"] = [briefing.briefer_email, requirement.briefer_email]
        if list(briefing.reasons) != list(requirement.reasons):
            changes["reasons"] = [briefing.reasons, list(requirement.reasons)]
        if not changes:
            return
        self._apply_requirement(briefing, requirement, restart_ladder=False)
        why = ", ".join(sorted(changes))
        self.report.actions.append(
            SweepAction(
                "update",
                decision.ref,
                briefing.member_email,
                briefing.briefer_email,
                briefing.due_at,
                f"changed: {why}",
            )
        )
        self._event(
            "briefing_updated", decision.ref, briefing.id, f"changed: {why}", changes=changes
        )

    def _reopen_if_changed(
        self, decision: SweptItem, briefing: Briefing, material: list[DecisionChange]
    ) -> None:
        if briefing.state not in (BriefingState.BRIEFED, BriefingState.ACKNOWLEDGED):
            return
        since = briefing.briefed_at or briefing.acknowledged_at or briefing.created_at
        newer = [c for c in material if c.changed_at > since]
        if not newer:
            return
        described = describe_changes(newer)
        reopen_after_change(
            session=self.session,
            briefing=briefing,
            # Rare: the model object is loaded only for the item being re-opened.
            decision=self.session.get_one(Decision, decision.id),
            changes=described,
            calendar=self.calendar,
            now=self.now,
        )
        self.report.reopened_ids.append(briefing.id or 0)
        self.report.actions.append(
            SweepAction(
                "reopen",
                decision.ref,
                briefing.member_email,
                briefing.briefer_email,
                briefing.due_at,
                f"changed since the member was briefed: {described}",
            )
        )

    def _announce_withdrawal(self, decision: SweptItem, briefings: list[Briefing]) -> None:
        """One short message to each briefer, and to each member who had been briefed."""
        for briefing in briefings:
            if briefing.state not in ACTIVE and briefing.state != BriefingState.ACKNOWLEDGED:
                continue
            told = [briefing.briefer_email]
            if briefing.briefed_at is not None:
                told.append(briefing.member_email)
            for email in told:
                enqueue(
                    self.session,
                    recipient=email,
                    briefing=briefing,
                    kind=MessageKind.WITHDRAWN,
                    key=f"withdrawn:d{decision.id}:{email}",
                    send_at=self.now,
                    calendar=self.calendar,
                    per_briefing=False,
                )

    def _close(self, decision: SweptItem, briefing: Briefing, why: str) -> None:
        move(briefing, BriefingState.WITHDRAWN)
        briefing.next_step_at = None
        briefing.version += 1
        briefing.updated_at = self.now
        self.report.actions.append(
            SweepAction(
                "close",
                decision.ref,
                briefing.member_email,
                briefing.briefer_email,
                briefing.due_at,
                why,
            )
        )
        self._event("briefing_closed", decision.ref, briefing.id, why)

    def flush(self) -> None:
        """Write what the items so far collected: new briefings in one insert, the loaded
        rows' changes, and the audit events (the new briefings' last, as they were opened)."""
        session, created = self.session, self.created
        if created:
            count, now = len(created), self.now
            decision_ids, refs, members, briefers, reasons, due_ats, step_ats, whys, details = zip(
                *created, strict=True
            )
            # One plain executemany, then the new ids: much cheaper than the ORM's bulk path or
            # INSERT … RETURNING in multi-row batches (which psycopg re-parses, thousands of
            # parameters at a time, on PostgreSQL).
            before = session.execute(select(func.max(col(Briefing.id)))).scalar() or 0
            execute_columns(
                session,
                _insert_briefings(),
                {
                    "decision_id": decision_ids,
                    "member_email": members,
                    "briefer_email": briefers,
                    "briefer_overridden": [False] * count,
                    "reasons": reasons,
                    "due_at": due_ats,
                    "state": [BriefingState.OPEN.value] * count,
                    "version": [1] * count,
                    "cycle": [1] * count,
                    "ladder": [self.ladder] * count,
                    "next_step_index": [0] * count,
                    "next_step_at": step_ats,
                    "ladder_reset_at": [now] * count,
                    "former_briefers": [self.no_briefers] * count,
                    "created_at": [now] * count,
                    "updated_at": [now] * count,
                },
            )
            in_order = self._ids_in_order(before, count)
            if in_order is not None:
                briefing_ids = in_order
            else:
                by_key = self._ids_of_new_rows(sorted(set(decision_ids)))
                briefing_ids = list(
                    map(by_key.__getitem__, zip(decision_ids, members, strict=True))
                )
        session.flush()
        audit.append(session, self.events)
        if created:
            audit.append_alike(
                session,
                action="briefing_created",
                at=self.now,
                platform="sweep",
                refs=refs,
                briefing_ids=briefing_ids,
                reasons=whys,
                details=details,
            )
        self.created = []
        self.events = []

    def _ids_in_order(self, before: int, count: int) -> list[int] | None:
        """The ids of the `count` rows just inserted, in their order, when they are exactly the
        ids after `before` (the largest before the insert): SQLite gives each new row the next
        id, and so does a PostgreSQL sequence, unless another writer took some meanwhile or
        ids were skipped. Otherwise None, and the caller looks them up by their unique key."""
        first, last, seen = self.session.execute(
            select(func.min(col(Briefing.id)), func.max(col(Briefing.id)), func.count()).where(
                col(Briefing.id) > before
            )
        ).one()
        if seen == count and first == before + 1 and last == before + count:
            return list(range(first, last + 1))
        return None

    def _ids_of_new_rows(self, decision_ids: list[int]) -> dict[tuple[int, str], int]:
        ids: dict[tuple[int, str], int] = {}
        for start in range(0, len(decision_ids), CHUNK):
            for briefing_id, decision_id, member in self.session.execute(
                select(
                    col(Briefing.id), col(Briefing.decision_id), col(Briefing.member_email)
                ).where(ids_filter(col(Briefing.decision_id), decision_ids[start : start + CHUNK]))
            ).all():
                ids[decision_id, member] = briefing_id
        return ids


@cache
def _insert_briefings() -> Insert:
    """One statement object, so its compiled form is reused (bot/store/bulk.py)."""
    return insert(table_of(Briefing))


def describe_changes(changes: list[DecisionChange]) -> str:
    """'the decision date moved from Thu 11 Feb to Thu 28 Jan; the title changed'."""
    labels = {
        "decision_due": "decision date",
        "title": "title",
        "summary": "summary",
        "restriction": "restriction",
        "exempt_paragraphs": "exempt paragraphs",
        "key_decision": "key decision",
    }
    latest: dict[str, DecisionChange] = {}
    first_old: dict[str, str] = {}
    for change in changes:
        first_old.setdefault(change.field, change.old_value)
        latest[change.field] = change
    parts = []
    for name, change in latest.items():
        label = labels.get(name, name)
        old, new = first_old[name] or "(none)", change.new_value or "(none)"
        if name == "decision_due" and first_old[name] and change.new_value:
            old = short_date(date.fromisoformat(first_old[name]))
            new = short_date(date.fromisoformat(change.new_value))
        if name == "decision_due":
            parts.append(f"the {label} moved from {old} to {new}")
        elif name in ("restriction", "key_decision", "exempt_paragraphs"):
            parts.append(f"the {label} changed from {old} to {new}")
        else:
            parts.append(f"the {label} changed")
    return "; ".join(parts)
