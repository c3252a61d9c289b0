"""Source-neutral records: every source (CSV, ModernGov) produces these."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import date


@dataclass(frozen=True)
class PersonRecord:
    email: str
    name: str
    roles: tuple[str, ...]
    job_title: str = ""
    directorate: str = ""
    wards: tuple[str, ...] = ()
    manager_email: str = ""


@dataclass(frozen=True)
class PortfolioRecord:
    name: str
    holder_email: str
    director_email: str = ""
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class DecisionRecord:
    """One forward plan item as a source describes it."""

    ref: str
    title: str
    decision_due: date
    summary: str = ""
    decision_maker_type: str = ""
    decision_maker: str = ""
    portfolio: str = ""
    portfolio_holder: str = ""
    lead_officer: str = ""
    lead_officer_email: str = ""
    directorate: str = ""
    decision_due_text: str = ""
    meeting_date: date | None = None
    key_decision: bool = False
    key_reason: str = ""
    all_wards: bool = False
    wards: tuple[str, ...] = ()
    restriction: str = "Open"
    exempt_paragraphs: tuple[str, ...] = ()
    first_published: date | None = None
    notice_type: str = "Forward Plan"
    status: str = "For Determination"
    call_in_applies: str = ""
    consultation: str = ""
    documents: str = ""
    source_url: str = ""
    extra: tuple[tuple[str, str], ...] = field(default=(), compare=False)

    def comparable(self) -> dict[str, object]:
        """The fields whose change is recorded in a decision's history."""
        values = asdict(self)
        values.pop("extra")
        values["wards"] = list(self.wards)
        values["exempt_paragraphs"] = list(self.exempt_paragraphs)
        return values

    def content_hash(self) -> str:
        payload = json.dumps(self.comparable(), sort_keys=True, default=str)
        return hashlib.sha256(payload.encode()).hexdigest()[:32]


# Changes that re-open an acknowledged briefing: the member was briefed on something else.
MATERIAL_FIELDS = frozenset(
    {"title", "summary", "decision_due", "restriction", "exempt_paragraphs", "key_decision"}
)
