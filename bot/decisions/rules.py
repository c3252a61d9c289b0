"""The rules engine: (decision, directory, calendar, config, now) → who must brief whom by when.

Pure: no I/O and no clock reads, so the same code explains why every reminder exists.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import NamedTuple, Protocol

from bot.config import BriefingRule, RulesSettings
from bot.decisions.calendar import CouncilCalendar
from bot.decisions.facts import DecisionFacts
from bot.decisions.flags import Flag, RiskFlag
from bot.decisions.kinds import DecisionStatus, Restriction
from bot.decisions.statutory import rule_set, statutory_flags
from bot.store.directory import Directory, PortfolioView
from bot.timeutil import long_date, short_date


class Requirement(NamedTuple):
    """This member must be briefed on this decision by this officer before `due_at`.

    A named tuple, not a frozen dataclass: made in a third of the time, and a sweep makes one
    for every member of a hundred thousand decisions."""

    member_email: str
    briefer_email: str
    due_date: date
    due_at: datetime
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Assessment:
    ref: str
    requirements: tuple[Requirement, ...]
    flags: tuple[RiskFlag, ...]
    creates_briefings: bool
    why_no_new_briefings: str = ""
    portfolio: PortfolioView | None = None
    briefer_email: str = ""
    director_email: str = ""

    def flag_codes(self) -> set[Flag]:
        return {f.code for f in self.flags}


@dataclass
class _Owed:
    due: date
    reasons: list[str] = field(default_factory=list)


# Why a member is owed a briefing: kept as words on the briefing and shown on every card.
PORTFOLIO_HOLDER_REASON = "Portfolio holder for {portfolio}"
LEADER_REASON = "Leader of the Council (key decision)"
WARD_REASON = "Ward councillor for {ward}"
_PORTFOLIO_HOLDER_PREFIX = PORTFOLIO_HOLDER_REASON.split("{")[0]


def is_portfolio_holder_or_leader(reasons: list[str] | tuple[str, ...]) -> bool:
    """Whether a briefing is owed to the portfolio holder or the leader (not only a ward)."""
    return any(r.startswith(_PORTFOLIO_HOLDER_PREFIX) or r == LEADER_REASON for r in reasons)


def member_rank(reasons: list[str] | tuple[str, ...]) -> int:
    """Who is listed first: the portfolio holder, then the leader, then ward councillors."""
    if any(r.startswith(_PORTFOLIO_HOLDER_PREFIX) for r in reasons):
        return 0
    return 1 if LEADER_REASON in reasons else 2


class _Scheduling(Protocol):
    @property
    def decision_due_text(self) -> str: ...

    @property
    def meeting_date(self) -> date | None: ...


def is_scheduled(decision: _Scheduling) -> bool:
    """Whether the item has a real date: a meeting, or a decision date without "not before"
    (which is the earliest date, not a deadline)."""
    if decision.meeting_date is not None:
        return True
    return not decision.decision_due_text.strip().lower().startswith("not before")


def paragraph_text(paragraphs: tuple[str, ...] | list[str]) -> str:
    """'paragraph 3' or 'paragraphs 3, 5'."""
    if not paragraphs:
        return "paragraph not given"
    word = "paragraph" if len(paragraphs) == 1 else "paragraphs"
    return f"{word} {', '.join(paragraphs)}"


def exempt_label(paragraphs: tuple[str, ...] | list[str]) -> str:
    """'Exempt item (paragraph 3)' — what people not entitled to the details see."""
    return f"Exempt item ({paragraph_text(paragraphs)})" if paragraphs else "Exempt item"


# Memoised calendar sums: a sweep asks them for every member of thousands of items that share
# a few hundred dates.
@lru_cache(maxsize=4096)
def _working_days_before(calendar: CouncilCalendar, day: date, count: int) -> date:
    return calendar.add_working_days(day, -count)


@lru_cache(maxsize=4096)
def _close_of_business(calendar: CouncilCalendar, day: date) -> datetime:
    return calendar.close_of_business(day)


# Every item of a sweep is assessed at the same moment.
@lru_cache(maxsize=64)
def _local_date(calendar: CouncilCalendar, now: datetime) -> date:
    return calendar.local_date(now)


def assess(
    decision: DecisionFacts,
    *,
    directory: Directory,
    calendar: CouncilCalendar,
    rules: RulesSettings,
    now: datetime,
    nation: str = "england",
) -> Assessment:
    """Work out the briefings a decision needs and the risks that stand beside it."""
    today = _local_date(calendar, now)
    statute = rule_set(nation)
    flags: list[RiskFlag] = []

    portfolio = directory.portfolio(decision.portfolio) or directory.portfolio_of_holder(
        decision.portfolio_holder
    )
    if portfolio is None:
        named = decision.portfolio or decision.portfolio_holder or "(none given)"
        flags.append(
            RiskFlag(
                Flag.NO_PORTFOLIO,
                f"Portfolio {named!r} matches no portfolio in "
                "the directory, so no portfolio holder can be asked.",
            )
        )

    lead = directory.person(decision.lead_officer_email) if decision.lead_officer_email else None
    lead = lead or (
        directory.person_by_name(decision.lead_officer) if decision.lead_officer else None
    )
    director = directory.director_of(lead.email) if lead else ""
    if not director and portfolio is not None:
        director = portfolio.director_email
    briefer = lead.email if lead else ""
    if lead is None:
        named = decision.lead_officer_email or decision.lead_officer or "(none given)"
        stand_in = directory.person(director) if director else None
        fallback = (
            f"; the portfolio's director ({stand_in.name}) is asked instead" if stand_in else ""
        )
        flags.append(
            RiskFlag(
                Flag.NO_LEAD_OFFICER, f"Lead officer {named} is not in the directory{fallback}."
            )
        )
        briefer = director

    owed: dict[str, _Owed] = {}
    # Each rule's due date, worked out once for the item, not once for each member owed.
    dues: dict[int, date] = {}

    def owe(email: str, rule: BriefingRule, reason: str) -> None:
        days = rule.due_working_days
        due = dues.get(days)
        if due is None:
            due = dues[days] = _working_days_before(calendar, decision.decision_due, days)
        entry = owed.get(email)
        if entry is None:
            owed[email] = _Owed(due, [reason])
        else:
            entry.due = min(entry.due, due)
            entry.reasons.append(reason)

    if rules.portfolio_holder.enabled and portfolio is not None:
        owe(
            portfolio.holder_email,
            rules.portfolio_holder,
            PORTFOLIO_HOLDER_REASON.format(portfolio=portfolio.name),
        )
    if rules.ward_councillors.enabled and not decision.all_wards:
        for ward in decision.wards:
            councillors = directory.ward_councillors(ward)
            if not councillors:
                flags.append(
                    RiskFlag(
                        Flag.UNKNOWN_WARD, f"No councillor for ward {ward!r} is in the directory."
                    )
                )
            for email in councillors:
                owe(email, rules.ward_councillors, WARD_REASON.format(ward=ward))
    if rules.leader_key_decisions.enabled and decision.key_decision:
        for email in directory.leaders:
            owe(email, rules.leader_key_decisions, LEADER_REASON)

    closing: dict[date, datetime] = {}  # an item's briefings share one or two due dates
    requirements: list[Requirement] = []
    for email, entry in sorted(owed.items()) if briefer else ():
        if email == briefer:
            continue  # an officer is never asked to brief themself
        due = entry.due
        due_at = closing.get(due)
        if due_at is None:
            due_at = closing[due] = _close_of_business(calendar, due)
        requirements.append(Requirement(email, briefer, due, due_at, tuple(entry.reasons)))

    flags += _timing_flags(decision, today)
    flags += statutory_flags(
        decision,
        calendar=calendar,
        rules=rules,
        today=today,
        rule_set=statute,
        name_of=directory.name_of,
    )
    if decision.restriction != Restriction.OPEN:
        flags.append(
            RiskFlag(
                Flag.EXEMPT,
                f"{decision.restriction} under {statute.exempt_schedule} "
                f"({paragraph_text(decision.exempt_paragraphs)}): details go only "
                "to people entitled to see them.",
            )
        )
    if decision.status == DecisionStatus.WITHDRAWN:
        flags.append(
            RiskFlag(Flag.WITHDRAWN, "Withdrawn from the forward plan; open briefings are closed.")
        )
    if not decision.on_forward_plan:
        flags.append(
            RiskFlag(
                Flag.NOT_ON_FORWARD_PLAN,
                f"On the agenda for {long_date(decision.decision_due)} but not on the forward "
                "plan: the member may first hear of it when the agenda is published.",
            )
        )
    if decision.missing_since is not None:
        flags.append(
            RiskFlag(
                Flag.MISSING_FROM_SOURCE,
                "No longer listed by its source since "
                f"{long_date(calendar.local_date(decision.missing_since))}; "
                "check whether it was withdrawn or renamed.",
            )
        )

    horizon_end = today + timedelta(days=rules.horizon_days)
    why = ""
    if decision.status != DecisionStatus.FOR_DETERMINATION:
        why = f"status is {decision.status}"
    elif decision.missing_since is not None:
        why = "it is missing from its source"
    elif decision.decision_due < today - timedelta(days=rules.horizon_days):
        # Pending items stay live, but one whose date passed this long ago is stale data.
        why = f"the decision date passed more than {rules.horizon_days} days ago"
    elif decision.decision_due > horizon_end:
        why = f"the decision is more than {rules.horizon_days} days away"
    elif not briefer:
        why = "nobody in the directory can brief for it"
    return Assessment(
        ref=decision.ref,
        requirements=tuple(requirements),
        flags=tuple(flags),
        creates_briefings=not why,
        why_no_new_briefings=why,
        portfolio=portfolio,
        briefer_email=briefer,
        director_email=director,
    )


def _timing_flags(decision: DecisionFacts, today: date) -> list[RiskFlag]:
    flags: list[RiskFlag] = []
    brought_forward = [(old, new) for old, new in decision.date_changes if new < old]
    if brought_forward:
        old, new = brought_forward[-1]
        flags.append(
            RiskFlag(
                Flag.DATE_BROUGHT_FORWARD,
                f"Decision date brought forward from {short_date(old)} to {short_date(new)}.",
            )
        )
    if decision.decision_due < today and decision.status == DecisionStatus.FOR_DETERMINATION:
        flags.append(
            RiskFlag(
                Flag.DATE_PASSED,
                f"The decision date {long_date(decision.decision_due)} "
                "has passed but the item is still For Determination: members still owed a "
                "briefing are owed it, late.",
            )
        )
    return flags
