"""ModernGov: meetings from the XML web service, forward plan items from the HTML pages.

The XML service (GetCommittees → GetMeetings → GetMeeting) has no forward plan, so items are
read from mgListPlans.aspx → mgListPlanItems.aspx → mgIssueHistoryHome.aspx by their labels,
which every council's template shares. An executive agenda item matching no forward plan item
becomes a decision of its own: it is on the agenda but not on the forward plan.

Everything is read before anything is written; a failure names the page and writes nothing.
"""

from __future__ import annotations

import asyncio
import html
import re
import time
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from html.parser import HTMLParser
from urllib.parse import urljoin

import aiohttp

from bot.decisions.facts import DecisionFacts

AGENDA_PREFIX = "AGENDA-"
PROCEDURAL = re.compile(
    r"^(minutes|apologies|declarations? of interest|urgent (business|items?)|"
    r"exclusion of (the )?press|appointment of|chair'?s? announcements|any other business)",
    re.IGNORECASE,
)
MONTHS = {
    m: i + 1
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
    )
}


class SourceError(Exception):
    """The council's site could not be read; the message names the page."""

    def __init__(self, page: str, reason: str) -> None:
        self.page = page
        self.reason = reason
        super().__init__(f"{page}: {reason}")


@dataclass
class Fetcher:
    """Polite HTTP: a few requests a second at most, timeouts, retries with backoff."""

    session: aiohttp.ClientSession
    requests_per_second: float = 3.0
    timeout_seconds: float = 20.0
    retries: int = 2
    backoff_seconds: float = 1.0
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    _last: float = 0.0

    async def get(self, url: str) -> str:
        for attempt in range(self.retries + 1):
            gap = 1.0 / self.requests_per_second - (time.monotonic() - self._last)
            if gap > 0:
                await self.sleep(gap)
            self._last = time.monotonic()
            try:
                timeout = aiohttp.ClientTimeout(total=self.timeout_seconds)
                async with self.session.get(url, timeout=timeout) as response:
                    if response.status in (429, 500, 502, 503, 504) and attempt < self.retries:
                        await self.sleep(self.backoff_seconds * 2**attempt)
                        continue
                    if response.status != 200:
                        raise SourceError(url, f"the site answered HTTP {response.status}")
                    return await response.text()
            except (TimeoutError, aiohttp.ClientError) as exc:
                if attempt == self.retries:
                    reason = "timed out" if isinstance(exc, TimeoutError) else type(exc).__name__
                    raise SourceError(url, f"could not be fetched ({reason})") from None
                await self.sleep(self.backoff_seconds * 2**attempt)
        raise SourceError(url, "could not be fetched")  # pragma: no cover


# --- the XML web service ----------------------------------------------------------------------


def _xml(text: str, page: str) -> ET.Element:
    try:
        return ET.fromstring(text.encode())
    except ET.ParseError as exc:
        raise SourceError(page, f"is not well-formed XML ({exc})") from None


def _text(element: ET.Element | None, tag: str) -> str:
    found = element.find(tag) if element is not None else None
    return (found.text or "").strip() if found is not None else ""


def clean_title(text: str) -> str:
    """Titles can arrive HTML-encoded twice ("&amp;amp;"): decode until stable."""
    for _ in range(3):
        decoded = html.unescape(text)
        if decoded == text:
            break
        text = decoded
    return " ".join(text.split())


def uk_date(text: str, page: str) -> date:
    try:
        return datetime.strptime(text.strip(), "%d/%m/%Y").date()
    except ValueError:
        raise SourceError(page, f"{text.strip()!r} is not a dd/mm/yyyy date") from None


@dataclass(frozen=True)
class AgendaItem:
    meeting_id: str
    item_id: str
    title: str
    committee: str
    meeting_date: date
    restricted: bool


def committees(text: str, page: str) -> list[tuple[str, str]]:
    root = _xml(text, page)
    return [
        (_text(c, "committeeid"), clean_title(_text(c, "committeetitle")))
        for c in root.iter("committee")
    ]


def meetings(text: str, page: str) -> list[tuple[str, date]]:
    """(meeting id, date) of each meeting that is not cancelled."""
    root = _xml(text, page)
    found = []
    for meeting in root.iter("meeting"):
        if _text(meeting, "meetingstatus").lower() == "cancelled":
            continue
        found.append((_text(meeting, "meetingid"), uk_date(_text(meeting, "meetingdate"), page)))
    return found


def agenda_items(text: str, page: str, committee: str) -> list[AgendaItem]:
    root = _xml(text, page)
    meeting_id = _text(root, "meetingid")
    when = uk_date(_text(root, "meetingdate"), page)
    items = []
    for item in root.iter("agendaitem"):
        title = clean_title(_text(item, "agendaitemtitle"))
        if not title or PROCEDURAL.match(title):
            continue
        items.append(
            AgendaItem(
                meeting_id,
                _text(item, "agendaitemid"),
                title,
                committee,
                when,
                _text(item, "isrestricted").lower() == "true",
            )
        )
    return items


# --- the forward plan pages -------------------------------------------------------------------


class _Page(HTMLParser):
    """Text lines (one per block element) plus every link on a page."""

    BLOCKS = frozenset({"p", "div", "li", "tr", "br", "h1", "h2", "h3", "h4", "td", "dt", "dd"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = [""]
        self.links: list[tuple[str, str]] = []
        self.headings: list[str] = []
        self._href: str | None = None
        self._link_text = ""
        self._heading: str | None = None
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "span" and "mgHide" in (attributes.get("class") or ""):
            self._hidden += 1  # "ref: NNNN" hidden in list links
        if tag in self.BLOCKS:
            self.lines.append("")
        if tag == "a":
            self._href, self._link_text = attributes.get("href") or "", ""
        if tag in ("h1", "h2"):
            self._heading = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "span" and self._hidden:
            self._hidden -= 1
        if tag == "a" and self._href is not None:
            self.links.append((self._href, " ".join(self._link_text.split())))
            self._href = None
        if tag in ("h1", "h2") and self._heading is not None:
            if self._heading.strip():
                self.headings.append(" ".join(self._heading.split()))
            self._heading = None
        if tag in self.BLOCKS:
            self.lines.append("")

    def handle_data(self, data: str) -> None:
        if self._hidden:
            return
        self.lines[-1] += data
        if self._href is not None:
            self._link_text += data
        if self._heading is not None:
            self._heading += data


def _page(text: str) -> _Page:
    parser = _Page()
    parser.feed(text)
    parser.lines = [" ".join(line.split()) for line in parser.lines if line.strip()]
    return parser


def links_to(text: str, base: str, target: str) -> list[str]:
    """Absolute URLs of the links on a page to `target` (e.g. mgListPlanItems.aspx)."""
    seen: list[str] = []
    for href, _ in _page(text).links:
        if target.lower() in href.lower():
            url = urljoin(base, html.unescape(href))
            if url not in seen:
                seen.append(url)
    return seen


LABELS = {
    "decision maker": "decision_maker",
    "decision due": "decision_due",
    "lead member": "lead_member",
    "lead officer": "lead_officer",
    "wards affected": "wards",
    "decision type": "decision_type",
    "anticipated restriction": "restriction",
    "explanation of anticipated restriction": "restriction_reason",
    "notice of proposed decision first published": "first_published",
    "reason for urgency": "urgency",
    "decision status": "status",
    "reference": "reference",
    "reason key": "key_reason",
}
_LABEL = re.compile(r"^([A-Za-z][A-Za-z /?'-]{2,60}?)\s*:\s*(.*)$")


def labelled(text: str) -> tuple[str, dict[str, str], str]:
    """(title, {field: value}, summary) from an issue page, read by its labels."""
    page = _page(text)
    values: dict[str, str] = {}
    unlabelled: list[str] = []
    for line in page.lines:
        match = _LABEL.match(line)
        key = LABELS.get(match.group(1).strip().lower().rstrip("?")) if match else None
        if key and key not in values:
            values[key] = match.group(2).strip().rstrip(";").strip()  # type: ignore[union-attr]
        elif not match:
            unlabelled.append(line)
    title = clean_title(page.headings[-1]) if page.headings else ""
    summary = next((line for line in unlabelled if line != title and len(line) > 20), "")
    return title, values, summary


def decision_due(text: str, page: str) -> tuple[date, bool]:
    """'6 Feb 2027 by Cabinet', 'Not before 2nd Nov 2027 by …', 'March 2027' → date."""
    cleaned = text.strip()
    not_before = cleaned.lower().startswith("not before")
    body = re.sub(r"(?i)^not before\s+", "", cleaned).split(" by ")[0].strip()
    match = re.match(r"(\d{1,2})(?:st|nd|rd|th)?\s+([A-Za-z]{3})[a-z]*\.?\s+(\d{4})", body)
    if match:
        day, month, year = (
            int(match.group(1)),
            MONTHS.get(match.group(2).lower()),
            int(match.group(3)),
        )
        if month:
            return date(year, month, day), not_before
    match = re.match(r"([A-Za-z]{3})[a-z]*\s+(\d{4})$", body)
    if match and MONTHS.get(match.group(1).lower()):
        return date(int(match.group(2)), MONTHS[match.group(1).lower()], 1), not_before
    match = re.match(r"(\d{2}/\d{2}/\d{4})", body)
    if match:
        return uk_date(match.group(1), page), not_before
    raise SourceError(page, f"the decision due date {cleaned!r} could not be read")


def issue_record(text: str, page: str) -> DecisionFacts:
    """One forward plan item from its issue page, or a SourceError naming the page."""
    title, values, summary = labelled(text)
    if not title or "decision_due" not in values:
        raise SourceError(
            page, "has no forward plan item on it (no title or no 'Decision due:' label)"
        )
    due, _ = decision_due(values["decision_due"], page)
    iid = re.search(r"IId=(\d+)", page, re.IGNORECASE)
    ref = values.get("reference") or (f"MG-{iid.group(1)}" if iid else "")
    if not ref:
        raise SourceError(page, "has no reference and no IId in its address")
    restriction_text = values.get("restriction", "Open").lower()
    if "fully" in restriction_text or "part ii" in restriction_text:
        restriction = "Fully exempt"
    elif "exempt" in restriction_text:
        restriction = "Part exempt"
    else:
        restriction = "Open"
    paragraphs = tuple(
        re.findall(r"paragraph\s+(\d)", values.get("restriction_reason", ""), re.IGNORECASE)
    )
    urgency = values.get("urgency", "")
    notice = "Forward Plan"
    if urgency:
        notice = "Special Urgency" if "special" in urgency.lower() else "General Exception"
    wards_text = values.get("wards", "")
    all_wards = "all wards" in wards_text.lower()
    status_text = values.get("status", "For Determination").lower()
    status = (
        "Withdrawn"
        if "withdrawn" in status_text
        else "Decision Made"
        if ("made" in status_text or "approved" in status_text)
        else "For Determination"
    )
    officer = values.get("lead_officer", "")
    email = re.search(r"[\w.+-]+@[\w-]+(\.[\w-]+)+", officer)
    member = values.get("lead_member", "")
    first = values.get("first_published", "")
    return DecisionFacts(
        ref=ref,
        title=title,
        decision_due=due,
        summary=summary,
        decision_maker=values.get("decision_maker", ""),
        portfolio=member,
        portfolio_holder=member,
        lead_officer=officer.split(",")[0].strip(),
        lead_officer_email=email.group(0).lower() if email else "",
        decision_due_text=values["decision_due"],
        key_decision=values.get("decision_type", "").lower().startswith("key"),
        key_reason=values.get("key_reason", ""),
        all_wards=all_wards,
        wards=() if all_wards else tuple(w.strip() for w in wards_text.split(";") if w.strip()),
        restriction=restriction,
        exempt_paragraphs=paragraphs,
        first_published=uk_date(first, page) if first else None,
        notice_type=notice,
        status=status,
        source_url=page,
    )


# --- the whole source ---------------------------------------------------------------------------


def _key(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", title.lower()).strip()


async def read_source(
    *,
    base_url: str,
    executive_committees: tuple[str, ...],
    fetcher: Fetcher,
    today: date,
    horizon_days: int = 90,
    progress: Callable[[str], None] | None = None,
) -> list[DecisionFacts]:
    """Every forward plan item, plus executive agenda items missing from the plan."""
    base = base_url.rstrip("/") + "/"
    say = progress or (lambda _message: None)
    service = urljoin(base, "mgWebService.asmx/")

    records: list[DecisionFacts] = []
    plans_page = urljoin(base, "mgListPlans.aspx")
    plan_pages = links_to(await fetcher.get(plans_page), base, "mgListPlanItems.aspx")
    if not plan_pages:
        raise SourceError(plans_page, "lists no forward plans (no links to mgListPlanItems.aspx)")
    issue_pages: list[str] = []
    for plan in plan_pages:
        for issue in links_to(await fetcher.get(plan), base, "mgIssueHistoryHome.aspx"):
            if issue not in issue_pages:
                issue_pages.append(issue)
    for index, issue in enumerate(issue_pages, 1):
        say(f"forward plan item {index} of {len(issue_pages)}")
        records.append(issue_record(await fetcher.get(issue), issue))

    on_plan = {_key(r.title) for r in records}
    wanted = {_key(c) for c in executive_committees}
    page = urljoin(service, "GetCommittees")
    for committee_id, title in committees(await fetcher.get(page), page):
        if wanted and _key(title) not in wanted:
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
                if _key(item.title) in on_plan:
                    continue
                records.append(
                    DecisionFacts(
                        ref=f"{AGENDA_PREFIX}{item.meeting_id}-{item.item_id}",
                        title=item.title,
                        decision_due=item.meeting_date,
                        decision_maker=item.committee,
                        decision_due_text=f"{item.meeting_date:%d %b %Y} by {item.committee}",
                        meeting_date=item.meeting_date,
                        restriction="Part exempt" if item.restricted else "Open",
                        source_url=urljoin(base, f"ieListDocuments.aspx?MId={item.meeting_id}"),
                    )
                )
    return records
