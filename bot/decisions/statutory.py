"""The statutory notice rules, as a rule set chosen by the council's nation.

Pure. Each rule cites its own instrument; where the product does not know a nation's rule, the
flag says that the council's own standing orders apply, and never cites another nation's law.
England: The Local Authorities (Executive Arrangements) (Meetings and Access to Information)
(England) Regulations 2012 (SI 2012/2089). Northern Ireland: SR 2015/44 (private meetings).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from bot.config import RulesSettings
from bot.decisions.calendar import CouncilCalendar
from bot.decisions.facts import DecisionFacts
from bot.decisions.flags import Flag, RiskFlag
from bot.decisions.kinds import NoticeType, Restriction
from bot.timeutil import long_date

RED = "red"
STANDING_ORDERS = "the council's own standing orders apply"


@dataclass(frozen=True)
class RuleSet:
    """One nation's notice rules: each a citation, or "" where the product knows none."""

    nation: str
    label: str  # "councils in Wales"
    key_decision_notice: str = ""  # 28 clear days on the forward plan
    general_exception: str = ""  # 5 clear days, scrutiny chair told in writing
    special_urgency: str = ""  # scrutiny chair's (or council chair's) agreement
    private_meeting: str = ""  # 28 days' notice of a private meeting, then 5 more
    private_meeting_clear: bool = True  # "clear days" (England) or plain days (NI)
    exempt_schedule: str = "the council's exempt information rules"


ENGLAND_2012 = "SI 2012/2089"
RULE_SETS = {
    "england": RuleSet(
        "england",
        "councils in England",
        key_decision_notice=f"reg 9, {ENGLAND_2012}",
        general_exception=f"reg 10, {ENGLAND_2012}",
        special_urgency=f"reg 11, {ENGLAND_2012}",
        private_meeting=f"reg 5, {ENGLAND_2012}",
        exempt_schedule="Schedule 12A to the Local Government Act 1972",
    ),
    "wales": RuleSet(
        "wales",
        "councils in Wales",
        exempt_schedule="Schedule 12A to the Local Government Act 1972 as varied for Wales",
    ),
    "scotland": RuleSet(
        "scotland",
        "councils in Scotland",
        exempt_schedule="Schedule 7A to the Local Government (Scotland) Act 1973",
    ),
    "northern-ireland": RuleSet(
        "northern-ireland",
        "councils in Northern Ireland",
        private_meeting="reg 20, SR 2015/44",
        private_meeting_clear=False,
    ),
}
GENERAL_EXCEPTION_CLEAR_DAYS = 5
PRIVATE_FURTHER_NOTICE_DAYS = 5


def rule_set(nation: str) -> RuleSet:
    """The rule set for a nation ("england-and-wales" is England's, as the config reads it)."""
    nation = "england" if nation == "england-and-wales" else nation
    return RULE_SETS.get(nation) or RuleSet(nation, f"councils in {nation}")


def statutory_flags(
    decision: DecisionFacts,
    *,
    calendar: CouncilCalendar,
    rules: RulesSettings,
    today: date,
    rule_set: RuleSet,
    name_of: Callable[[str], str],
) -> list[RiskFlag]:
    """The notice rules checked against the item's dates, and its data checked for sense."""
    flags: list[RiskFlag] = []
    published = decision.first_published
    clear = calendar.clear_days_between(published, decision.decision_due) if published else None
    if decision.notice_type == NoticeType.GENERAL_EXCEPTION:
        flags += _general_exception(decision, clear, rule_set, name_of)
    elif decision.notice_type == NoticeType.SPECIAL_URGENCY:
        flags += _special_urgency(decision, rule_set, name_of)
    elif decision.key_decision and published is not None and clear is not None:
        required = rules.statutory_notice_clear_days
        if clear < required:
            where = (
                f"{required} are required ({rule_set.key_decision_notice})."
                if rule_set.key_decision_notice
                else f"The product knows no statutory notice period for {rule_set.label}: "
                f"{STANDING_ORDERS}."
            )
            flags.append(
                RiskFlag(
                    Flag.SHORT_NOTICE,
                    f"Key decision first published {long_date(published)}, {clear} clear days "
                    f"before its date; {where}",
                )
            )
    if decision.restriction != Restriction.OPEN and published is not None:
        flags += _private_meeting(decision, calendar, published, rule_set)
    flags += _data_quality(decision, calendar, today)
    return flags


def _general_exception(
    decision: DecisionFacts, clear: int | None, rule_set: RuleSet, name_of: Callable[[str], str]
) -> list[RiskFlag]:
    flags: list[RiskFlag] = []
    need = GENERAL_EXCEPTION_CLEAR_DAYS
    if rule_set.general_exception:
        text = (
            f"General exception notice ({rule_set.general_exception}): the decision may be "
            f"taken only {need} clear days after the notice, and the scrutiny chair must be "
            "told in writing."
        )
        short = clear is not None and clear < need
        if short and decision.first_published is not None:
            text += (
                f" This notice was published {long_date(decision.first_published)}, only "
                f"{clear} clear days before the decision."
            )
        flags.append(RiskFlag(Flag.SHORT_NOTICE, text, RED if short else ""))
    else:
        flags.append(
            RiskFlag(
                Flag.SHORT_NOTICE,
                "General exception notice: the product knows no statutory rule for "
                f"{rule_set.label}, so {STANDING_ORDERS}.",
            )
        )
    if decision.scrutiny_acknowledged_by:
        said = (
            f"{name_of(decision.scrutiny_acknowledged_by)}, the scrutiny chair, has "
            "acknowledged the notice."
        )
        flags.append(RiskFlag(Flag.SCRUTINY_CHAIR, said))
    else:
        flags.append(
            RiskFlag(
                Flag.SCRUTINY_CHAIR,
                "The scrutiny chair has been sent the notice and has not yet acknowledged it.",
            )
        )
    return flags


def _special_urgency(
    decision: DecisionFacts, rule_set: RuleSet, name_of: Callable[[str], str]
) -> list[RiskFlag]:
    if rule_set.special_urgency:
        rule = (
            f"Special urgency ({rule_set.special_urgency}): the decision needs the agreement of "
            "the scrutiny chair (or, failing them, the chair or vice-chair of the council) that "
            "it is urgent and cannot reasonably be deferred."
        )
    else:
        rule = (
            f"Special urgency: the product knows no statutory rule for {rule_set.label}, so "
            f"{STANDING_ORDERS}."
        )
    flags = [RiskFlag(Flag.SHORT_NOTICE, rule)]
    if decision.urgency_agreed_by:
        flags.append(
            RiskFlag(
                Flag.URGENCY_AGREEMENT,
                f"Agreed by the {decision.urgency_agreed_by.lower()}, as recorded by democratic "
                "services.",
            )
        )
    else:
        flags.append(
            RiskFlag(
                Flag.URGENCY_AGREEMENT,
                "That agreement has not been recorded: democratic services can record it.",
                RED if rule_set.special_urgency else "",
            )
        )
    return flags


def _private_meeting(
    decision: DecisionFacts, calendar: CouncilCalendar, published: date, rule_set: RuleSet
) -> list[RiskFlag]:
    if rule_set.private_meeting_clear:
        days = calendar.clear_days_between(published, decision.decision_due)
        unit = "clear days"
    else:
        days = (decision.decision_due - published).days
        unit = "days"
    if days >= 28:
        return []
    opening = (
        f"Exempt item first published {long_date(published)}, {days} {unit} before the decision."
    )
    if rule_set.private_meeting:
        rule = (
            f" Meeting in private needs 28 {unit}' notice of the intention and a further notice "
            f"{PRIVATE_FURTHER_NOTICE_DAYS} {unit} before ({rule_set.private_meeting}); with "
            "less, the urgency agreement that rule provides for is needed."
        )
    else:
        rule = (
            f" The product knows no statutory notice rule for {rule_set.label}: {STANDING_ORDERS}."
        )
    return [RiskFlag(Flag.PRIVATE_MEETING, opening + rule)]


def _data_quality(
    decision: DecisionFacts, calendar: CouncilCalendar, today: date
) -> list[RiskFlag]:
    flags: list[RiskFlag] = []
    if decision.key_decision and decision.first_published is None:
        flags.append(
            RiskFlag(
                Flag.NO_FIRST_PUBLISHED,
                "A key decision with no first-published date, so its notice cannot be checked.",
            )
        )
    if decision.first_published is not None and decision.first_published > today:
        flags.append(
            RiskFlag(
                Flag.NOTICE_AFTER_TODAY,
                f"The notice is dated {long_date(decision.first_published)}, after today: "
                "please check the first-published date.",
            )
        )
    day = decision.decision_due
    if not calendar.is_working_day(day):
        why = calendar.holiday_name(day) or f"a {day:%A}"
        flags.append(
            RiskFlag(
                Flag.NON_WORKING_DECISION_DAY,
                f"The decision date {long_date(day)} falls on {why}: please check it.",
            )
        )
    return flags
