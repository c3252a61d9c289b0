"""Risk flags: what stands beside an item's colour, each with its reason in plain words."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Flag(StrEnum):
    SHORT_NOTICE = "short_notice"
    EXEMPT = "exempt"
    DATE_BROUGHT_FORWARD = "date_brought_forward"
    DATE_PASSED = "date_passed"
    BRIEFING_LATE = "briefing_late"
    NO_PORTFOLIO = "no_portfolio_match"
    NO_LEAD_OFFICER = "no_lead_officer_match"
    UNKNOWN_WARD = "unknown_ward"
    WITHDRAWN = "withdrawn"
    MISSING_FROM_SOURCE = "missing_from_source"
    NOT_ON_FORWARD_PLAN = "not_on_forward_plan"
    # The statutory checks (bot/decisions/statutory.py).
    SCRUTINY_CHAIR = "scrutiny_chair"
    URGENCY_AGREEMENT = "urgency_agreement"
    PRIVATE_MEETING = "private_meeting"
    NO_FIRST_PUBLISHED = "no_first_published"
    NOTICE_AFTER_TODAY = "notice_after_today"
    NON_WORKING_DECISION_DAY = "non_working_decision_day"
    # Set by the briefing lifecycle and delivery, shown beside the rules' own flags.
    DISPUTED = "member_disputed"
    UNREACHABLE = "unreachable_in_chat"
    CHANGED = "changed_since_briefed"
    # Set by the sweep when working an item out raised: the item is skipped, the rest go on.
    NOT_ASSESSED = "not_assessed"


@dataclass(frozen=True)
class RiskFlag:
    code: Flag
    text: str
    severity: str = ""  # "red" when the item cannot lawfully proceed as it stands

    def as_dict(self) -> dict[str, str]:
        data = {"code": self.code.value, "text": self.text}
        if self.severity:
            data["severity"] = self.severity
        return data
