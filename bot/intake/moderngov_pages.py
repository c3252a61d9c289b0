"""ModernGov's forward plan pages, read by meaning rather than by position.

Councils configure their own templates: labels in `<span class="mgLabel">`, table headers,
definition lists or bold text, in any order and wording, with `&nbsp;` and stray whitespace. An
item's title is the page's own title for it (its main heading, or the page title without the
site's name), never a section heading such as "Contact" further down.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from html.parser import HTMLParser
from urllib.parse import urljoin

from bot.decisions.exempt import allowed_text, disallowed, parse_paragraphs
from bot.decisions.facts import DecisionFacts
from bot.decisions.kinds import DecisionStatus, NoticeType, Restriction
from bot.intake.csvfile import EARLIEST_YEAR, LATEST_YEAR
from bot.intake.moderngov_fetch import SourceError

# Each field's label as councils word it, most specific first.
LABELS: dict[str, tuple[str, ...]] = {
    "decision_due": (
        "decision due",
        "date of decision",
        "decision date",
        "date decision due",
        "expected decision date",
        "decision",
    ),
    "decision_maker": ("decision maker", "decision-maker", "decision taker", "decided by"),
    "lead_member": (
        "lead member",
        "portfolio holder",
        "cabinet member",
        "lead cabinet member",
        "executive member",
        "portfolio",
    ),
    "lead_officer": (
        "lead officer",
        "lead officers",
        "contact officer",
        "report author",
        "officer contact",
        "contact",
    ),
    "wards": ("wards affected", "ward(s) affected", "ward(s)", "wards", "ward"),
    "decision_type": ("decision type", "is key decision", "key decision", "type of decision"),
    "key_reason": ("reason key", "reason for key decision"),
    "restriction": ("anticipated restriction", "restriction", "public or private"),
    "restriction_reason": (
        "explanation of anticipated restriction",
        "reason for restriction",
        "exempt paragraphs",
        "exempt paragraph",
        "private/confidential decision with relevant paragraph number",
        "reason no public access",
    ),
    "first_published": (
        "notice of proposed decision first published",
        "first published",
        "date first published",
        "date added to plan",
    ),
    "urgency": ("reason for urgency",),
    "status": ("decision status", "status"),
    "reference": ("reference", "reference number", "forward plan reference", "ref"),
    "summary": ("summary", "purpose", "description", "decision to be taken"),
}
_FIELD_OF = {variant: name for name, variants in LABELS.items() for variant in variants}
# Lines that say a label's name, then its value: "Decision due: 6 Feb 2027".
_LABEL = re.compile(r"^([A-Za-z][A-Za-z /?'()&-]{0,80}?)\s*:\s*(.*)$")
_CELL = "\x1f"  # where a table cell, definition term or bold label ended

# Headings that name a part of the page, never the item.
GENERIC_HEADINGS = frozenset(
    {
        "issue",
        "issue details",
        "issue - items at meetings",
        "items at meetings",
        "decision details",
        "forward plan",
        "forward plan item",
        "forward plan item details",
        "details",
        "item details",
    }
)
SECTION_HEADINGS = frozenset(
    {
        "contact",
        "contacts",
        "decisions",
        "decision",
        "history",
        "documents",
        "background papers",
        "consultees",
        "consultation",
        "items at meetings",
        "meetings",
        "agenda items",
        "reasons restricted",
    }
)
_TITLE_PREFIX = re.compile(
    r"(?i)^(issue|decision|forward plan item|plan item|item)( details)?"
    r"(\s*-\s*items at meetings)?\s*[-–:]\s*"
)
_SITE_WORDS = re.compile(r"(?i)\b(council|moderngov|modern\.gov|democracy|borough|county)\b")
MONTHS = {
    m: i + 1
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
    )
}
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def clean_text(text: str) -> str:
    """Decode entities (some sites encode twice: "&amp;amp;") and collapse whitespace."""
    for _ in range(3):
        decoded = html.unescape(text)
        if decoded == text:
            break
        text = decoded
    return " ".join(text.replace("\x00", "").split())  # no database stores a NUL


class _Page(HTMLParser):
    """Text lines (one per block), links, headings and the page title."""

    BLOCKS = frozenset(
        {"p", "div", "li", "tr", "br", "h1", "h2", "h3", "h4", "h5", "table", "ul", "dl"}
    )
    # A term starts a line and its definition continues it: "Term␟ definition".
    LINE_STARTS = BLOCKS | {"dt"}
    CELL_ENDS = frozenset({"td", "th", "dt", "b", "strong"})
    SKIPPED = frozenset({"script", "style", "title", "head"})
    HEADINGS = frozenset({"h1", "h2", "h3", "h4"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = [""]
        self.links: list[tuple[str, str]] = []
        self.headings: list[tuple[str, str, str]] = []  # (tag, css class, text)
        self.page_title = ""
        self._href: str | None = None
        self._link_text = ""
        self._heading: tuple[str, str] | None = None
        self._heading_text = ""
        self._hidden = 0
        self._skipped = 0
        self._in_title = False
        self._spans: list[str] = []  # what each open span is: hidden, label or plain

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        css = attributes.get("class") or ""
        if tag == "span":
            kind = "hidden" if "mgHide" in css else "label" if "mgLabel" in css else "plain"
            self._spans.append(kind)
            if kind == "hidden":
                self._hidden += 1  # "ref: NNNN" hidden in list links
        if tag == "title":
            self._in_title = True
        elif tag in self.SKIPPED:
            self._skipped += 1
        if tag in self.LINE_STARTS:
            self.lines.append("")
        if tag == "a":
            self._href, self._link_text = attributes.get("href") or "", ""
        if tag in self.HEADINGS:
            self._heading, self._heading_text = (tag, css), ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "span" and self._spans:
            kind = self._spans.pop()
            if kind == "hidden":
                self._hidden -= 1
            elif kind == "label":
                self.lines[-1] += _CELL
        if tag == "title":
            self._in_title = False
        elif tag in self.SKIPPED and self._skipped:
            self._skipped -= 1
        if tag == "a" and self._href is not None:
            self.links.append((self._href, clean_text(self._link_text)))
            self._href = None
        if tag in self.HEADINGS and self._heading is not None:
            text = clean_text(self._heading_text)
            if text:
                self.headings.append((*self._heading, text))
            self._heading = None
        if tag in self.CELL_ENDS:
            self.lines[-1] += _CELL
        if tag in self.BLOCKS:
            self.lines.append("")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.page_title += data
            return
        if self._hidden or self._skipped:
            return
        self.lines[-1] += data
        if self._href is not None:
            self._link_text += data
        if self._heading is not None:
            self._heading_text += data


def _label_of(text: str) -> str:
    return " ".join(text.lower().replace("\xa0", " ").split()).rstrip("?: ").strip()


def _line(raw: str) -> str:
    """One block's text; a known label in its first cell gets its colon ("Ward(s)" → "Ward(s):")."""
    cells = [clean_text(cell) for cell in raw.split(_CELL)]
    cells = [cell for cell in cells if cell]
    if len(cells) >= 2 and not cells[0].endswith(":") and _label_of(cells[0]) in _FIELD_OF:
        return f"{cells[0]}: {' '.join(cells[1:])}"
    return " ".join(cells)


def read_page(text: str) -> _Page:
    """The page's lines, links, headings and title."""
    parser = _Page()
    parser.feed(text)
    parser.close()
    parser.lines = [line for line in (_line(raw) for raw in parser.lines) if line]
    parser.page_title = clean_text(parser.page_title)
    return parser


# --- list pages --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanLink:
    """An item on a forward plan's list page: its issue page, issue id and listed title."""

    url: str
    issue_id: str
    title: str


_ISSUE_PAGE = re.compile(r"(?i)(mgIssueHistoryHome|ieIssueDetails)\.aspx\?[^#]*\bIId=(\d+)")


def links_to(text: str, base: str, target: str) -> list[str]:
    """Absolute URLs of the links on a page to `target` (e.g. mgListPlanItems.aspx)."""
    seen: list[str] = []
    for href, _ in read_page(text).links:
        if target.lower() in href.lower():
            url = urljoin(base, html.unescape(href))
            if url not in seen:
                seen.append(url)
    return seen


def plan_links(text: str, base: str) -> list[PlanLink]:
    """Every item a plan's list page links to, once each, with the title it is listed under."""
    found: dict[str, PlanLink] = {}
    for href, label in read_page(text).links:
        href = html.unescape(href)
        match = _ISSUE_PAGE.search(href)
        if not match:
            continue
        issue_id = match.group(2)
        known = found.get(issue_id)
        if known is None or (not known.title and label):
            found[issue_id] = PlanLink(urljoin(base, href), issue_id, label)
    return list(found.values())


def issue_id_of(url: str) -> str:
    """The IId in an issue page's address, or ""."""
    match = re.search(r"(?i)\bIId=(\d+)", url)
    return match.group(1) if match else ""


# --- one item's page ---------------------------------------------------------------------------


def page_item_title(page: _Page) -> str:
    """The item's title: the main heading, a subtitle under a generic heading, or the page title.

    Never a section heading ("Contact", "History") and never the site's own name in a banner."""
    h1s = [text for tag, _css, text in page.headings if tag == "h1"]
    for text in h1s:  # "Issue - items at meetings - TITLE"
        if _TITLE_PREFIX.match(text) and _TITLE_PREFIX.sub("", text).strip():
            return _TITLE_PREFIX.sub("", text).strip()
    for text in h1s:
        if text.lower() not in GENERIC_HEADINGS and not _is_site_name(text):
            return text
    for _tag, css, text in page.headings:
        if "mgSubTitleTxt" in css.split() and text.lower() not in SECTION_HEADINGS:
            return _TITLE_PREFIX.sub("", text).strip()
    title = _title_from_page_title(page.page_title)
    if title and not _is_site_name(title):
        return title
    # A plain subtitle straight after a generic main heading, before any section heading.
    headings = page.headings
    for index, (tag, _css, _text) in enumerate(headings[:-1]):
        following = headings[index + 1]
        if tag == "h1" and following[0] == "h2" and following[2].lower() not in SECTION_HEADINGS:
            return following[2]
    return ""


def _is_site_name(text: str) -> bool:
    """ "Eastmoor City Council", "Cyngor Sir Ynys Môn - Moderngov": a banner, not an item."""
    return bool(re.search(r"(?i)(\bcouncil|moderngov|democracy)\s*$|^cyngor\b", text.strip()))


def _title_from_page_title(text: str) -> str:
    parts = [part.strip() for part in re.split(r"\s+\|\s+", text) if part.strip()]
    while len(parts) > 1 and _SITE_WORDS.search(parts[-1]):
        parts.pop()
    title = " | ".join(parts)
    segments = title.split(" - ")
    if len(segments) > 1 and _SITE_WORDS.search(segments[-1]):
        title = " - ".join(segments[:-1])
    title = _TITLE_PREFIX.sub("", title).strip()
    return "" if title.lower() in GENERIC_HEADINGS else title


def labelled_values(page: _Page) -> tuple[dict[str, list[str]], list[str]]:
    """({field: [values in page order]}, lines that carry no label)."""
    values: dict[str, list[str]] = {}
    unlabelled: list[str] = []
    lines = page.lines
    taken: set[int] = set()
    for index, line in enumerate(lines):
        if index in taken:
            continue
        match = _LABEL.match(line)
        label = _label_of(match.group(1)) if match else ""
        if match and label in _FIELD_OF:
            value = match.group(2).strip()
            if not value and index + 1 < len(lines) and not _LABEL.match(lines[index + 1]):
                value = lines[index + 1]  # "Decision due:" with its value in the next block
                taken.add(index + 1)
            values.setdefault(label, []).append(value.strip().rstrip(";").strip())
        elif not match:
            unlabelled.append(line)
    return values, unlabelled


def _first(values: dict[str, list[str]], name: str) -> str:
    for variant in LABELS[name]:
        for value in values.get(variant, []):
            if value:
                return value
    return ""


def read_date(text: str) -> date | None:
    """ "6 Feb 2027", "Tuesday 6th February 2027", "06/02/2027", "2027-02-06", "March 2027"."""
    body = re.sub(r"(?i)^(not before|on or after|by|after)\s+", "", text.strip())
    body = re.sub(r"(?i)^(mon|tues?|wed(nes)?|thu(rs)?|fri|sat(ur)?|sun)[a-z]*,?\s+", "", body)
    body = body.split(" by ")[0].strip()
    found: date | None = None
    match = re.match(r"(\d{1,2})(?:st|nd|rd|th)?\s+([A-Za-z]{3})[a-z]*\.?,?\s+(\d{4})", body)
    if match and match.group(2).lower() in MONTHS:
        found = _date(int(match.group(3)), MONTHS[match.group(2).lower()], int(match.group(1)))
    elif match := re.match(r"(\d{1,2})/(\d{1,2})/(\d{4})", body):
        found = _date(int(match.group(3)), int(match.group(2)), int(match.group(1)))
    elif match := re.match(r"(\d{4})-(\d{2})-(\d{2})", body):
        found = _date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    elif (match := re.match(r"([A-Za-z]{3})[a-z]*\s+(\d{4})\b", body)) and match.group(
        1
    ).lower() in MONTHS:
        found = _date(int(match.group(2)), MONTHS[match.group(1).lower()], 1)
    return found


def _date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def sane(value: date, page: str, label: str, text: str) -> date:
    """The date, or SourceError when its year is outside 1990-2100 (a typing mistake)."""
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise SourceError(
            page, f"{label} {text!r} is outside {EARLIEST_YEAR}-{LATEST_YEAR}; check the year"
        )
    return value


def decision_due(text: str, page: str) -> tuple[date, bool]:
    """'6 Feb 2027 by Cabinet', 'Not before 2nd Nov 2027 by …', 'March 2027' → (date, not
    before)."""
    found = read_date(text)
    if found is None:
        raise SourceError(page, f"the decision due date {text.strip()!r} could not be read")
    return sane(found, page, "the decision due date", text), text.strip().lower().startswith(
        "not before"
    )


def uk_date(text: str, page: str) -> date:
    """A dd/mm/yyyy date from the XML service."""
    try:
        parsed = datetime.strptime(text.strip(), "%d/%m/%Y").date()
    except ValueError:
        raise SourceError(page, f"{text.strip()!r} is not a dd/mm/yyyy date") from None
    return sane(parsed, page, "the date", text.strip())


def status_of(text: str) -> str:
    """A council's status wording as the product's: decided, withdrawn or still pending."""
    lowered = text.lower()
    if re.search(r"withdrawn|abandoned|cancelled|removed|no longer required", lowered):
        return DecisionStatus.WITHDRAWN
    if re.search(r"determination|deferred|postponed|pending|proposed|to be\b|not yet", lowered):
        return DecisionStatus.FOR_DETERMINATION
    if re.search(r"\bmade\b|approved|agreed|decided|implemented|taken", lowered):
        return DecisionStatus.DECISION_MADE
    return DecisionStatus.FOR_DETERMINATION


def _restriction(text: str, paragraphs: tuple[int, ...]) -> str:
    lowered = text.lower()
    if re.search(r"fully|part ii\b|private|confidential", lowered):
        return Restriction.FULLY_EXEMPT
    if "exempt" in lowered:
        return Restriction.PART_EXEMPT
    if not text and paragraphs:
        return Restriction.PART_EXEMPT
    return Restriction.OPEN


_NOT_A_NAME = re.compile(
    r"(?i)\b(head|manager|director|officer|assistant|chief|service|services|team|lead|"
    r"executive|senior|principal|interim|strategic|corporate|tel|telephone|phone)\b"
)


def officer_names(text: str) -> list[str]:
    """The people a lead officer field names: "Howard Anthony, Jon-James Martin" → two."""
    before_email = re.split(r"(?i)\b(e-?mail|tel(ephone)?|phone)\b\s*:?", text)[0]
    bare = re.sub(r"\(\s*\)", "", _EMAIL.sub("", before_email))
    parts = [p.strip(" .") for p in re.split(r",|;|\band\b|&|/", bare) if p.strip(" .")]
    names = [p for p in parts if not _NOT_A_NAME.search(p)]
    return names or parts[:1]


def issue_record(
    text: str,
    page: str,
    *,
    nation: str = "england",
    find_person: Callable[[str], str] | None = None,
    listed_title: str = "",
) -> DecisionFacts:
    """One forward plan item from its issue page, or a SourceError naming the page and label.

    `find_person` maps a name or email to a directory email ("" if unknown): of several lead
    officers, the first it knows briefs; every one named is recorded."""
    parsed = read_page(text)
    values, unlabelled = labelled_values(parsed)
    due_texts = [v for variant in LABELS["decision_due"] for v in values.get(variant, []) if v]
    if not due_texts:
        raise SourceError(
            page,
            "has no 'Decision due' label (nor 'Decision', 'Date of decision'): "
            "it does not look like a forward plan item",
        )
    title = clean_text(page_item_title(parsed) or "")
    if not title:
        raise SourceError(
            page, "has no title for the item (no main heading and no page title naming it)"
        )
    due_text = next((t for t in due_texts if read_date(t) is not None), due_texts[0])
    due, _not_before = decision_due(due_text, page)
    status_text = _first(values, "status")
    status = status_of(status_text)
    if status == DecisionStatus.FOR_DETERMINATION and re.search(r"(?i)deferred", status_text):
        moved = read_date(re.sub(r"(?i)^.*?deferred\s*(to|until)?\s*", "", status_text))
        if moved is not None:
            due = sane(moved, page, "the deferred date", status_text)

    ref = _first(values, "reference") or (f"MG-{issue_id_of(page)}" if issue_id_of(page) else "")
    if not ref:
        raise SourceError(page, "has no 'Reference' label and no IId in its address")

    restriction_text = _first(values, "restriction")
    reason_text = _first(values, "restriction_reason")
    paragraphs = parse_paragraphs(f"{reason_text} {restriction_text}")
    restriction = _restriction(restriction_text, paragraphs)
    if restriction == Restriction.OPEN:
        paragraphs = ()
    wrong = disallowed(paragraphs, nation)
    if wrong:
        raise SourceError(
            page,
            f"the restriction cites paragraph {', '.join(map(str, wrong))}, which is not one "
            f"of {allowed_text(nation)} for this council",
        )

    urgency = _first(values, "urgency")
    notice = NoticeType.FORWARD_PLAN
    under_urgency = any("urgency procedures" in line.lower() for line in unlabelled)
    if urgency or under_urgency:
        special = "special" in urgency.lower()
        notice = NoticeType.SPECIAL_URGENCY if special else NoticeType.GENERAL_EXCEPTION

    wards_text = _first(values, "wards")
    all_wards = bool(re.search(r"(?i)all wards|borough-?wide|^all$|district-?wide", wards_text))
    wards = tuple(
        w.strip(" ()") for w in re.split(r"[;,]", wards_text) if w.strip(" ()") and not all_wards
    )

    officer_text = _first(values, "lead_officer")
    names = officer_names(officer_text) if officer_text else []
    on_page_email = _EMAIL.search(officer_text)
    lookup = find_person or (lambda _name: "")
    known = [(name, lookup(name)) for name in names]
    briefer = next(((n, e) for n, e in known if e), None)
    if briefer is not None:
        others = [n for n, _ in known if n != briefer[0]]
        lead_officer = ", ".join([briefer[0], *others])
        lead_email = briefer[1]
    else:
        lead_officer = ", ".join(names)
        lead_email = on_page_email.group(0).lower() if on_page_email else ""

    member = _first(values, "lead_member")
    maker = _first(values, "decision_maker")
    if not maker and " by " in due_text:
        maker = due_text.split(" by ", 1)[1].strip()
    first = _first(values, "first_published")
    first_date = read_date(first) if first else None
    if first and first_date is None:
        raise SourceError(page, f"the first published date {first!r} could not be read")
    headings = {text for _tag, _css, text in parsed.headings}
    summary = _first(values, "summary") or next(
        (
            line
            for line in unlabelled
            if len(line) > 20
            and line not in {title, listed_title}
            and line not in headings
            and title not in line
            and "urgency procedures" not in line.lower()
        ),
        "",
    )
    return DecisionFacts(
        ref=ref,
        title=title,
        decision_due=due,
        summary=summary,
        decision_maker=maker,
        portfolio=member,
        portfolio_holder=member,
        lead_officer=lead_officer,
        lead_officer_email=lead_email,
        decision_due_text=due_text,
        key_decision=bool(re.match(r"(?i)\s*(key|yes|y\b)", _first(values, "decision_type"))),
        key_reason=_first(values, "key_reason"),
        all_wards=all_wards,
        wards=wards,
        restriction=restriction,
        exempt_paragraphs=tuple(str(p) for p in paragraphs),
        first_published=sane(first_date, page, "the first published date", first)
        if first_date
        else None,
        notice_type=notice,
        status=status,
        source_url=page,
    )
