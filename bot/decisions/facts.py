"""One description of a forward plan item, used by every part that handles one.

Intake produces DecisionFacts (whatever the source), the store keeps them (a Decision row has
a column of the same name for each source field) and the rules read them. The three fields at
the end are what the database knows besides the source: when the item went missing from it,
whether it is on the forward plan at all, and how its date has moved.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from operator import attrgetter
from typing import Any

from bot.decisions.kinds import DecisionStatus, NoticeType, Restriction

# Changes that re-open an acknowledged briefing: the member was briefed on something else.
MATERIAL_FIELDS = frozenset(
    {"title", "summary", "decision_due", "restriction", "exempt_paragraphs", "key_decision"}
)
# Not from the source: what the database has learnt about the item over time.
_HISTORY_FIELDS = frozenset(
    {
        "missing_since",
        "on_forward_plan",
        "date_changes",
        "extra",
        "scrutiny_acknowledged_by",
        "urgency_agreed_by",
    }
)
_LIST_FIELDS = frozenset({"wards", "exempt_paragraphs"})
# What `content_hash` digests, as json.dumps(sort_keys=True, default=str) writes it: one encoder
# for every record (json.dumps with options builds a new one per call).
_HASHED = json.JSONEncoder(sort_keys=True, default=str)


@dataclass(frozen=True, slots=True)
class DecisionFacts:
    """One forward plan item: its reference, title, date, who decides and who leads."""

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
    restriction: str = Restriction.OPEN
    exempt_paragraphs: tuple[str, ...] = ()
    first_published: date | None = None
    notice_type: str = NoticeType.FORWARD_PLAN
    status: str = DecisionStatus.FOR_DETERMINATION
    call_in_applies: str = ""
    consultation: str = ""
    documents: str = ""
    source_url: str = ""
    # A source's columns the product does not know, kept for the record only.
    extra: tuple[tuple[str, str], ...] = field(default=(), compare=False)
    missing_since: datetime | None = field(default=None, compare=False)
    # False for an executive agenda item that matches no forward plan item.
    on_forward_plan: bool = field(default=True, compare=False)
    # History of the decision date: (old, new) pairs, oldest first.
    date_changes: tuple[tuple[date, date], ...] = field(default=(), compare=False)
    # Recorded in the product: who acknowledged a general exception notice (email), and who
    # agreed a special urgency decision (in words, as democratic services recorded it).
    scrutiny_acknowledged_by: str = field(default="", compare=False)
    urgency_agreed_by: str = field(default="", compare=False)

    def comparable(self) -> dict[str, Any]:
        """The source's fields, as stored and as recorded in a decision's history."""
        values = dict(zip(SOURCE_FIELDS, _source_values(self), strict=True))
        for name in _LIST_FIELDS:
            values[name] = list(values[name])
        return values

    def content_hash(self, comparable: dict[str, Any] | None = None) -> str:
        """A digest of the source's fields; pass `comparable()` if it is already at hand."""
        payload = _HASHED.encode(self.comparable() if comparable is None else comparable)
        return hashlib.sha256(payload.encode()).hexdigest()[:32]

    @classmethod
    def from_row(
        cls,
        row: Any,
        *,
        on_forward_plan: bool = True,
        date_changes: tuple[tuple[date, date], ...] = (),
    ) -> DecisionFacts:
        """The facts a stored Decision holds (it has a column for every source field)."""
        return cls.from_source_values(
            [getattr(row, name) for name in SOURCE_FIELDS],
            missing_since=row.missing_since,
            scrutiny_acknowledged_by=getattr(row, "scrutiny_acknowledged_by", ""),
            urgency_agreed_by=getattr(row, "urgency_agreed_by", ""),
            on_forward_plan=on_forward_plan,
            date_changes=date_changes,
        )

    @classmethod
    def from_source_values(
        cls,
        source: Sequence[Any],
        *,
        missing_since: datetime | None,
        scrutiny_acknowledged_by: str | None = "",
        urgency_agreed_by: str | None = "",
        on_forward_plan: bool = True,
        date_changes: tuple[tuple[date, date], ...] = (),
    ) -> DecisionFacts:
        """The same from the source fields' values in `SOURCE_FIELDS` order (a plain row's),
        built by position: a sweep builds a hundred thousand."""
        values = list(source)
        for position in _LIST_POSITIONS:
            values[position] = tuple(values[position])
        values += [
            (),
            missing_since,
            on_forward_plan,
            date_changes,
            scrutiny_acknowledged_by or "",
            urgency_agreed_by or "",
        ]
        return cls(*values)


SOURCE_FIELDS: tuple[str, ...] = tuple(
    f.name for f in fields(DecisionFacts) if f.name not in _HISTORY_FIELDS
)
# `from_source_values` builds facts positionally: the source fields come first, then these.
_TAIL_FIELDS = (
    "extra",
    "missing_since",
    "on_forward_plan",
    "date_changes",
    "scrutiny_acknowledged_by",
    "urgency_agreed_by",
)
if tuple(f.name for f in fields(DecisionFacts)) != (*SOURCE_FIELDS, *_TAIL_FIELDS):
    raise AssertionError("DecisionFacts' fields are not in the order from_source_values reads")
_LIST_POSITIONS = tuple(SOURCE_FIELDS.index(name) for name in sorted(_LIST_FIELDS))
# The source fields' values at once (C code, not an attribute look-up a field in Python).
_source_values = attrgetter(*SOURCE_FIELDS)
