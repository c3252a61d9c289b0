"""ModernGov's XML web service: committees, meetings, agenda items and councillors by ward."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import date

from bot.intake.moderngov_fetch import SourceError
from bot.intake.moderngov_pages import clean_text, read_page, uk_date

# An agenda item's comment that names the member presenting it.
MEMBER_COMMENTS = re.compile(
    r"(?i)^(presented by|lead member|portfolio holder|(lead )?cabinet member|executive member)"
)
_ISSUE_LINK = re.compile(
    r"(?i)(?:mgIssueHistoryHome|ieIssueDetails)\.aspx\?[^\"'<>\s]*?\bIId=(\d+)"
)
_WARDS = re.compile(r"(?i)\bwards?(?:\s*\(s\))?(?:\s+affected)?\s*:\s*([^.\n]+)")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def parse_xml(text: str, page: str) -> ET.Element:
    """The document's root, or SourceError naming the page."""
    try:
        return ET.fromstring(text.encode())
    except ET.ParseError as exc:
        raise SourceError(page, f"is not well-formed XML ({exc})") from None


def _text(element: ET.Element | None, tag: str) -> str:
    found = element.find(tag) if element is not None else None
    return (found.text or "").strip() if found is not None else ""


def committees(text: str, page: str) -> list[tuple[str, str]]:
    """(committee id, title) of each committee."""
    root = parse_xml(text, page)
    return [
        (_text(c, "committeeid"), clean_text(_text(c, "committeetitle")))
        for c in root.iter("committee")
    ]


def meetings(text: str, page: str) -> list[tuple[str, date]]:
    """(meeting id, date) of each meeting that is not cancelled."""
    root = parse_xml(text, page)
    found = []
    for meeting in root.iter("meeting"):
        if _text(meeting, "meetingstatus").lower() == "cancelled":
            continue
        found.append((_text(meeting, "meetingid"), uk_date(_text(meeting, "meetingdate"), page)))
    return found


@dataclass(frozen=True)
class AgendaItem:
    """One item on an executive meeting's agenda, with what it says about itself."""

    meeting_id: str
    item_id: str
    title: str
    committee: str
    meeting_date: date
    restricted: bool
    issue_id: str = ""  # the forward plan issue it links to, if any
    presented_by: str = ""
    author: str = ""
    wards: tuple[str, ...] = ()
    all_wards: bool = False


def agenda_items(text: str, page: str, committee: str) -> list[AgendaItem]:
    """Every agenda item of a meeting (procedural ones included: the caller decides)."""
    root = parse_xml(text, page)
    meeting_id = _text(root, "meetingid")
    when = uk_date(_text(root, "meetingdate"), page)
    items = []
    for item in root.iter("agendaitem"):
        title = clean_text(_text(item, "agendaitemtitle"))
        if not title:
            continue
        everything = " ".join(item.itertext())
        link = _ISSUE_LINK.search(everything)
        presented = ""
        for index in range(1, 10):
            label = _text(item, f"commentlabel{index}")
            if label and MEMBER_COMMENTS.match(label) and _text(item, f"commenttext{index}"):
                presented = clean_text(_text(item, f"commenttext{index}"))
                break
        body = "\n".join(read_page(_text(item, "agendatext")).lines)
        wards_match = _WARDS.search(body)
        wards_text = wards_match.group(1).strip() if wards_match else ""
        all_wards = bool(re.search(r"(?i)all wards|borough-?wide", wards_text))
        items.append(
            AgendaItem(
                meeting_id=meeting_id,
                item_id=_text(item, "agendaitemid"),
                title=title,
                committee=committee,
                meeting_date=when,
                restricted=_text(item, "isrestricted").lower() == "true",
                issue_id=link.group(1) if link else "",
                presented_by=presented,
                author=clean_text(_text(item, "authorusername")),
                wards=()
                if all_wards
                else tuple(w.strip() for w in re.split(r"[;,]", wards_text) if w.strip()),
                all_wards=all_wards,
            )
        )
    return items


@dataclass(frozen=True)
class Councillor:
    """A councillor as the council's site lists them."""

    name: str
    wards: tuple[str, ...]
    party: str = ""
    key_posts: tuple[str, ...] = ()
    email: str = ""


_HONORIFIC = re.compile(r"(?i)^(councillor|cllr\.?|the right worshipful|the worshipful)\s+")


def councillor_name(text: str) -> str:
    """'Councillor Jean Calvert' → 'Jean Calvert'."""
    name = clean_text(text)
    while _HONORIFIC.match(name):
        name = _HONORIFIC.sub("", name, count=1)
    return name


def councillors_by_ward(text: str, page: str) -> list[Councillor]:
    """GetCouncillorsByWard: each councillor once, with every ward they sit for."""
    root = parse_xml(text, page)
    found: dict[str, Councillor] = {}
    for ward in root.iter("ward"):
        ward_title = clean_text(_text(ward, "wardtitle"))
        if not ward_title:
            continue  # placeholder wards some feeds carry
        for person in ward.iter("councillor"):
            name = councillor_name(_text(person, "fullusername"))
            if not name:
                continue
            party = clean_text(_text(person, "politicalpartytitle")) or clean_text(
                _text(person, "politicalgrouptitle")
            )
            posts = tuple(
                p.strip() for p in re.split(r"[;\n]", _text(person, "keyposts")) if p.strip()
            )
            addresses = " ".join(
                " ".join(node.itertext())
                for tag in ("workaddress", "homeaddress")
                for node in person.iter(tag)
            )
            email = _EMAIL.search(addresses)
            key = name.lower()
            known = found.get(key)
            wards = (*known.wards, ward_title) if known else (ward_title,)
            found[key] = Councillor(
                name=name,
                party=party or (known.party if known else ""),
                key_posts=posts or (known.key_posts if known else ()),
                email=(email.group(0).lower() if email else "") or (known.email if known else ""),
                wards=wards,
            )
    return list(found.values())


def attendees(text: str, page: str) -> list[tuple[str, str]]:
    """(name, role) of each member listed at a meeting: an executive's portfolios."""
    root = parse_xml(text, page)
    return [
        (councillor_name(a.get("name", "")), clean_text(a.get("roledescription", "")))
        for a in root.iter("attendee")
        if a.get("name")
    ]
