"""Executive agenda items against the forward plan: procedural items set aside, the rest matched
to plan items by the issue they link to, else by title, meeting date and decision maker."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import date
from urllib.parse import urljoin

from bot.decisions.facts import DecisionFacts
from bot.decisions.kinds import AGENDA_PREFIX, Restriction
from bot.intake.moderngov_pages import issue_id_of
from bot.intake.moderngov_xml import AgendaItem

_COUNCIL_KINDS = re.compile(
    r"\b(metropolitan |royal )?(borough|city|county|district|town)?\s*council\b"
)


def normalised(text: str) -> str:
    """Lower case, '&' as 'and', no punctuation or item numbers, single spaces."""
    text = text.lower().replace("&", " and ").replace("'", "").replace("\u2019", "")
    text = re.sub(r"[^a-z0-9]+", " ", text)
    text = re.sub(r"^(item\s+)?\d+[a-z]?\s+", "", text.strip())
    return " ".join(text.split())


def title_key(title: str, council_name: str = "") -> str:
    """A title as compared across sources: normalised, without a leading council name."""
    key = normalised(title)
    for name in _council_names(council_name):
        if key.startswith(name + " "):
            key = key[len(name) + 1 :]
            break
    return key


def _council_names(council_name: str) -> list[str]:
    full = normalised(council_name)
    if not full:
        return []
    stem = " ".join(_COUNCIL_KINDS.sub(" ", full).split())
    return [n for n in dict.fromkeys([full, stem]) if n]


def is_procedural(title: str, procedural: Iterable[str]) -> bool:
    """Whether an agenda item is business of the meeting rather than a decision."""
    key = normalised(title)
    return any(key.startswith(normalised(phrase)) for phrase in procedural if phrase.strip())


def _same_occasion(plan: DecisionFacts, item: AgendaItem) -> bool:
    """The plan's date and decision maker fit this meeting."""
    due_text = plan.decision_due_text.strip().lower()
    if re.fullmatch(r"[a-z]+ \d{4}", due_text):  # "March 2027": any meeting that month
        fits = (plan.decision_due.year, plan.decision_due.month) == (
            item.meeting_date.year,
            item.meeting_date.month,
        )
    elif due_text.startswith("not before"):
        fits = item.meeting_date >= plan.decision_due
    else:
        fits = plan.decision_due == item.meeting_date
    maker, committee = normalised(plan.decision_maker), normalised(item.committee)
    return fits and (not maker or maker in committee or committee in maker)


def match_plan_item(
    item: AgendaItem, plan: list[DecisionFacts], *, council_name: str = ""
) -> DecisionFacts | None:
    """The plan item this agenda item is, by issue link first, then by title on the day."""
    if item.issue_id:
        for record in plan:
            if issue_id_of(record.source_url) == item.issue_id:
                return record
    key = title_key(item.title, council_name)
    for record in plan:
        if title_key(record.title, council_name) == key and _same_occasion(record, item):
            return record
    return None


def unplanned_decision(
    item: AgendaItem,
    *,
    base_url: str,
    find_portfolio: Callable[[str], str] | None = None,
    find_person: Callable[[str], str] | None = None,
) -> DecisionFacts:
    """An agenda item on no forward plan, as a decision of its own: it still briefs the member
    presenting it (resolved to their portfolio) and the councillors of the wards it names."""
    portfolio = (
        (find_portfolio or (lambda _text: ""))(item.presented_by) if item.presented_by else ""
    )
    author_email = (find_person or (lambda _text: ""))(item.author) if item.author else ""
    day: date = item.meeting_date
    return DecisionFacts(
        ref=f"{AGENDA_PREFIX}{item.meeting_id}-{item.item_id}",
        title=item.title,
        decision_due=day,
        decision_maker=item.committee,
        portfolio=portfolio or item.presented_by,
        portfolio_holder=item.presented_by,
        lead_officer=item.author,
        lead_officer_email=author_email,
        decision_due_text=f"{day:%d %b %Y} by {item.committee}",
        meeting_date=day,
        all_wards=item.all_wards,
        wards=item.wards,
        restriction=Restriction.PART_EXEMPT if item.restricted else Restriction.OPEN,
        source_url=urljoin(base_url, f"ieListDocuments.aspx?MId={item.meeting_id}"),
    )
