"""ModernGov: forward plan items from the HTML pages, meetings from the XML web service.

The XML service (GetCommittees → GetMeetings → GetMeeting) has no forward plan, so items are
read from mgListPlans.aspx → mgListPlanItems.aspx → each issue page, by meaning
(bot.intake.moderngov_pages). An executive agenda item matching no forward plan item becomes a
decision of its own: it is on the agenda but not on the forward plan.

Everything is read before anything is written; a failure names the page and writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, timedelta
from urllib.parse import urljoin

from bot.decisions.facts import DecisionFacts
from bot.intake.moderngov_agenda import (
    AGENDA_PREFIX,
    is_procedural,
    match_plan_item,
    normalised,
    unplanned_decision,
)
from bot.intake.moderngov_fetch import Fetcher, SourceError
from bot.intake.moderngov_pages import decision_due, issue_record, links_to, plan_links
from bot.intake.moderngov_xml import agenda_items, attendees, committees, meetings

__all__ = [
    "AGENDA_PREFIX",
    "Fetcher",
    "SourceError",
    "decision_due",
    "issue_record",
    "read_source",
]
DEFAULT_PROCEDURAL = (
    "minutes",
    "to approve the minutes",
    "apologies",
    "declarations of interest",
    "declaration of interest",
    "declarations of interests",
    "disclosures of interest",
    "announcements",
    "chairs announcements",
    "chairmans announcements",
    "leaders announcements",
    "mayors announcements",
    "questions",
    "public questions",
    "members questions",
    "petitions",
    "deputations",
    "urgent business",
    "urgent items",
    "any other business",
    "exclusion of the press",
    "exclusion of press",
    "appointments",
    "appointment of representatives",
    "forward plan",
    "cabinet forward plan",
    "key decision forward plan",
    "date of next meeting",
)


async def read_source(
    *,
    base_url: str,
    executive_committees: tuple[str, ...],
    fetcher: Fetcher,
    today: date,
    horizon_days: int = 90,
    progress: Callable[[str], None] | None = None,
    nation: str = "england",
    council_name: str = "",
    procedural: Iterable[str] = DEFAULT_PROCEDURAL,
    find_person: Callable[[str], str] | None = None,
    find_portfolio: Callable[[str], str] | None = None,
) -> list[DecisionFacts]:
    """Every forward plan item, plus executive agenda items missing from the plan."""
    base = base_url.rstrip("/") + "/"
    say = progress or (lambda _message: None)
    service = urljoin(base, "mgWebService.asmx/")
    procedural = tuple(procedural)

    records: list[DecisionFacts] = []
    plans_page = urljoin(base, "mgListPlans.aspx")
    plan_pages = links_to(await fetcher.get(plans_page), base, "mgListPlanItems.aspx")
    if not plan_pages:
        raise SourceError(plans_page, "lists no forward plans (no links to mgListPlanItems.aspx)")
    issues: dict[str, tuple[str, str]] = {}
    for plan_page in plan_pages:
        for link in plan_links(await fetcher.get(plan_page), base):
            issues.setdefault(link.issue_id, (link.url, link.title))
    for index, (url, listed) in enumerate(issues.values(), 1):
        say(f"forward plan item {index} of {len(issues)}")
        records.append(
            issue_record(
                await fetcher.get(url),
                url,
                nation=nation,
                find_person=find_person,
                listed_title=listed,
            )
        )

    plan = list(records)
    wanted = {normalised(c) for c in executive_committees}
    page = urljoin(service, "GetCommittees")
    for committee_id, title in committees(await fetcher.get(page), page):
        if wanted and normalised(title) not in wanted:
            continue
        until = today + timedelta(days=horizon_days)
        page = urljoin(
            service,
            f"GetMeetings?lCommitteeId={committee_id}"
            f"&sFromDate={today:%d/%m/%Y}&sToDate={until:%d/%m/%Y}",
        )
        for meeting_id, _when in meetings(await fetcher.get(page), page):
            say(f"{title}: meeting {meeting_id}")
            page = urljoin(service, f"GetMeeting?lMeetingId={meeting_id}")
            for item in agenda_items(await fetcher.get(page), page, title):
                if is_procedural(item.title, procedural):
                    continue
                if match_plan_item(item, plan, council_name=council_name) is not None:
                    continue
                records.append(
                    unplanned_decision(
                        item, base_url=base, find_portfolio=find_portfolio, find_person=find_person
                    )
                )
    return records


async def executive_roles(
    *,
    base_url: str,
    executive_committees: tuple[str, ...],
    fetcher: Fetcher,
    today: date,
    window_days: int = 90,
) -> dict[str, str]:
    """Each executive member's role ("Cabinet Member for Housing") as listed at the most recent
    executive meeting within the window, by name."""
    if not executive_committees:
        return {}
    service = urljoin(base_url.rstrip("/") + "/", "mgWebService.asmx/")
    wanted = {normalised(c) for c in executive_committees}
    roles: dict[str, str] = {}
    page = urljoin(service, "GetCommittees")
    for committee_id, title in committees(await fetcher.get(page), page):
        if normalised(title) not in wanted:
            continue
        since, until = today - timedelta(days=window_days), today + timedelta(days=window_days)
        page = urljoin(
            service,
            f"GetMeetings?lCommitteeId={committee_id}"
            f"&sFromDate={since:%d/%m/%Y}&sToDate={until:%d/%m/%Y}",
        )
        held = [(when, mid) for mid, when in meetings(await fetcher.get(page), page)]
        past = [m for m in held if m[0] <= today] or held
        if not past:
            continue
        _when, meeting_id = max(past)
        page = urljoin(service, f"GetMeeting?lMeetingId={meeting_id}")
        for name, role in attendees(await fetcher.get(page), page):
            if role:
                roles.setdefault(name.lower(), role)
    return roles
