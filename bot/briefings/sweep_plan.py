"""The pure part of sweeping a chunk of decisions: their facts, the rules' assessment, the
briefings to open and the audit details of each, worked out from plain values.

It runs in the sweep's worker process (bot/briefings/sweep_worker.py) or, when there is none,
in the sweep's own; it reads no database and returns plain tuples, so what crosses between the
processes is cheap to pickle. Decisions that already have briefings are reconciled by the sweep
itself (it holds their rows): for them the plan carries the requirements only.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import date, datetime, timedelta
from functools import cache, lru_cache
from json.encoder import encode_basestring  # type: ignore[attr-defined]
from typing import Any, NamedTuple

from bot.briefings.isolation import not_assessed_reason
from bot.briefings.ladder import next_step_at
from bot.config import RulesSettings
from bot.decisions.calendar import CouncilCalendar
from bot.decisions.facts import SOURCE_FIELDS, DecisionFacts
from bot.decisions.flags import RiskFlag
from bot.decisions.kinds import AGENDA_PREFIX, DecisionStatus
from bot.decisions.rules import Assessment, Requirement
from bot.store.directory import Directory
from bot.store.flags_hash import flags_hash

# The values of a decision the sweep reads (AssessedRows), in order: its id, the source
# fields, the three recorded ones, then the stored flags' hash (not a fact); and when the plan
# works out the fingerprints too (`Planner.plan`), what the stored fingerprint is checked by.
ASSESSED_NAMES = (
    "id",
    *SOURCE_FIELDS,
    "missing_since",
    "scrutiny_acknowledged_by",
    "urgency_agreed_by",
    "flags_hash",
)
FINGERPRINTED_NAMES = (*ASSESSED_NAMES, "content_hash", "swept_fingerprint")
_FACTS_END = len(ASSESSED_NAMES) - 1
_DUE, _STATUS, _PUBLISHED, _MISSING = (
    ASSESSED_NAMES.index(name)
    for name in ("decision_due", "status", "first_published", "missing_since")
)

# What a plan says of each decision (the first item of its outcome).
PLANNED = 0  # assessed; the briefings to open, if any, are in the outcome
RECONCILE = 1  # assessed; it has briefings already, so the sweep reconciles it itself
FAILED = 2  # working it out raised: the outcome says why, in words and as raised
CLEAN = 3  # its fingerprint has not changed: nothing to do (only when the plan works them out)

# A planned outcome: (PLANNED, flag set, new briefings as (member, briefer, reason set,
# due_at, first step at, audit details)); RECONCILE: (RECONCILE, flag set, requirements as
# (member, briefer, due date, due_at, reasons), whether it may open briefings); FAILED:
# (FAILED, why in words, the exception's kind, its text).
Outcome = tuple[Any, ...]


class ChunkPlan(NamedTuple):
    """One chunk's outcomes, in the order of its decisions, with the flag sets and reason
    sets first seen in it (each numbered in the order seen, across the whole sweep)."""

    outcomes: list[Outcome]
    flag_sets: list[tuple[list[dict[str, str]], str]]
    reason_sets: list[tuple[str, ...]]
    fingerprints: list[str] | None  # each decision's new one, when the plan worked them out


class PlanSetup(NamedTuple):
    """What every chunk of one sweep is planned with: sent to the worker once."""

    directory: Directory
    calendar: CouncilCalendar
    rules: RulesSettings
    ladder: list[dict[str, Any]]
    now: datetime
    nation: str
    # What a decision's fingerprint is taken with besides its own values (`fingerprint`).
    today: date
    context: str
    horizon_days: int
    # The rules engine's entry point (bot.decisions.rules.assess): a module-level function,
    # so it pickles by name.
    assess: Callable[..., Assessment]


class NewBriefing(NamedTuple):
    """A briefing the sweep opens, and what its audit event says."""

    decision_id: int
    ref: str
    member_email: str
    briefer_email: str
    reasons: list[str]  # one list per distinct set of reasons in a sweep: encoded once
    due_at: datetime
    next_step_at: datetime | None
    why: str  # the reasons in one line: the action's and the audit event's reason
    details: str  # the audit event's details, in stored form


def fingerprint(
    content_hash: str,
    due: date,
    status: str,
    missing: object,
    today: date,
    context: str,
    horizon_days: int,
    first_published: date | None = None,
) -> str:
    """What a decision is swept for: its content, the directory and rules, and where its
    dates stand today. A decision whose fingerprint has not changed is not swept again."""
    in_horizon = today - timedelta(days=horizon_days) <= due <= today + timedelta(days=horizon_days)
    passed = due < today
    # A notice dated after today is flagged until that day comes.
    ahead = first_published is not None and first_published > today
    text = f"{content_hash}|{context}|{in_horizon}|{passed}|{status}|{missing is not None}|{ahead}"
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def facts_from_values(values: list[Any], date_changes: list[tuple[date, date]]) -> DecisionFacts:
    """The facts the rules read, from a decision's values in `ASSESSED_NAMES` order."""
    *source, missing_since, scrutiny, urgency = values[1:_FACTS_END]
    return DecisionFacts.from_source_values(
        source,
        missing_since=missing_since,
        scrutiny_acknowledged_by=scrutiny,
        urgency_agreed_by=urgency,
        on_forward_plan=not values[1].startswith(AGENDA_PREFIX),
        date_changes=tuple(date_changes),
    )


# A new briefing's audit details as `details_text` writes them (canonical JSON: sorted keys,
# compact, text as it is), by one format: a first sweep writes a hundred thousand.
_CREATED_DETAILS = '{"briefer":%s,"due_at":%s,"member":%s}'


def created_details(requirement: Requirement) -> str:
    """The details of a new briefing's audit event, as stored (`details_text` of
    {"member", "briefer", "due_at"})."""
    text = encode_basestring
    return _CREATED_DETAILS % (
        text(requirement.briefer_email),
        text(_iso(requirement.due_at)),
        text(requirement.member_email),
    )


# Thousands of briefings share a few hundred due times.
@lru_cache(maxsize=4096)
def _iso(moment: datetime) -> str:
    return moment.isoformat()


class Planner:
    """Plans chunk after chunk of one sweep (in the worker, or in process as a fallback)."""

    def __init__(self, setup: PlanSetup) -> None:
        self.setup = setup
        ladder, calendar = setup.ladder, setup.calendar
        # When a new briefing's first step fires depends only on its due date.
        self.first_step_at = cache(lambda due: next_step_at(ladder, 0, due, calendar))
        # Each distinct set of reasons, numbered in the order seen (thousands of briefings
        # share a few hundred): sent once, and one list of each is written.
        self.reason_sets: dict[tuple[str, ...], int] = {}
        self.flag_sets: dict[tuple[RiskFlag, ...], int] = {}
        self.reasons_sent = 0

    def plan(
        self,
        rows: list[list[Any]],
        history: dict[int, list[tuple[date, date]]],
        reconciled: frozenset[int],
    ) -> ChunkPlan:
        """Each decision of `rows` (the sweep's values); those in `reconciled` have briefings.
        Rows in `FINGERPRINTED_NAMES` order have their fingerprints worked out, and those
        whose fingerprint has not changed are left alone (CLEAN)."""
        setup = self.setup
        outcomes: list[Outcome] = []
        new_flag_sets: list[tuple[list[dict[str, str]], str]] = []
        fingerprints: list[str] | None = None
        if rows and len(rows[0]) == len(FINGERPRINTED_NAMES):
            fingerprints = [
                fingerprint(
                    values[-2],
                    values[_DUE],
                    values[_STATUS],
                    values[_MISSING],
                    setup.today,
                    setup.context,
                    setup.horizon_days,
                    values[_PUBLISHED],
                )
                for values in rows
            ]
        for position, values in enumerate(rows):
            decision_id = values[0]
            if fingerprints is not None and fingerprints[position] == values[-1]:
                outcomes.append((CLEAN,))
                continue
            try:
                facts = facts_from_values(values, history.get(decision_id, []))
                assessment = setup.assess(
                    facts,
                    directory=setup.directory,
                    calendar=setup.calendar,
                    rules=setup.rules,
                    now=setup.now,
                    nation=setup.nation,
                )
                flag_set = self.flag_sets.get(assessment.flags)
                if flag_set is None:
                    flag_set = self.flag_sets[assessment.flags] = len(self.flag_sets)
                    flags = [f.as_dict() for f in assessment.flags]
                    new_flag_sets.append((flags, flags_hash(flags)))
                if decision_id in reconciled:
                    outcomes.append(
                        (
                            RECONCILE,
                            flag_set,
                            tuple(
                                (r.member_email, r.briefer_email, r.due_date, r.due_at, r.reasons)
                                for r in assessment.requirements
                            ),
                            assessment.creates_briefings,
                        )
                    )
                else:
                    outcomes.append((PLANNED, flag_set, self._opened(facts, assessment)))
            except Exception as exc:  # one bad item never stops the council (isolation.py)
                outcomes.append((FAILED, not_assessed_reason(exc), type(exc).__name__, str(exc)))
        reasons = list(self.reason_sets)[self.reasons_sent :]
        self.reasons_sent += len(reasons)
        return ChunkPlan(outcomes, new_flag_sets, reasons, fingerprints)

    def _opened(self, facts: DecisionFacts, assessment: Assessment) -> tuple[Any, ...]:
        """What reconciling a decision without briefings opens (as `_Reconciler.reconcile`
        does: every required member's, unless withdrawn or it may not open any)."""
        if facts.status == DecisionStatus.WITHDRAWN or not assessment.creates_briefings:
            return ()
        required = {r.member_email: r for r in assessment.requirements}
        sets = self.reason_sets
        return tuple(
            (
                r.member_email,
                r.briefer_email,
                sets.setdefault(r.reasons, len(sets)),
                r.due_at,
                self.first_step_at(r.due_date),
                created_details(r),
            )
            for r in required.values()
        )


def requirement_of(planned: tuple[Any, ...]) -> Requirement:
    """A requirement from a RECONCILE outcome's tuple."""
    member, briefer, due_date, due_at, reasons = planned
    return Requirement(member, briefer, due_date, due_at, reasons)
